"""ai-token-tracker: AI-token prices from CoinGecko in DuckDB, event studies, GPU-demand context."""

__version__ = "0.1.0"
