-- Which exchange market carries which coin (issue 15: exchange candles beside CoinGecko).
-- One row per (exchange, symbol), kept unique by storage.markets.upsert_coin_markets. A coin
-- may have several markets on one exchange: a rename (RNDR/USDT became RENDER/USDT in July
-- 2024) or a second quote; their candles all land under the same coin_id in price_history.
-- first_seen / last_seen: the close instants of the first and the last candle stored from the
-- market (NULL until one is), so a delisted market shows where its history stops.

CREATE TABLE coin_markets (
    coin_id          VARCHAR NOT NULL,
    exchange         VARCHAR NOT NULL,     -- the ccxt exchange id, e.g. 'binance', 'okx'
    symbol           VARCHAR NOT NULL,     -- the unified symbol, e.g. 'FET/USDT'
    exchange_symbol  VARCHAR,              -- the exchange's own id, e.g. 'FETUSDT'
    base             VARCHAR NOT NULL,     -- e.g. 'FET'
    quote            VARCHAR NOT NULL,     -- e.g. 'USDT'
    mapped_by        VARCHAR NOT NULL,     -- 'flag' | 'coingecko-tickers' | 'exchange-list'
    active           BOOLEAN,              -- trading on the exchange when last looked at
    first_seen       TIMESTAMP,
    last_seen        TIMESTAMP,
    updated_at       TIMESTAMP NOT NULL
);
