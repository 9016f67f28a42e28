"""Sources: where rows come from before ingestion stores them.

A source reads data from outside the database (the CoinGecko API and its fake server, exchange
candles through ccxt and the fake exchange, CSV files) and turns it into rows that pass the value
rule in :mod:`tracker.ingest.values`. It holds no SQL and knows nothing of the CLI; the ingest
jobs and CSV import write what it yields through storage.
"""
