-- Core data tables. Every timestamp is UTC, stored as TIMESTAMP without a time zone so that
-- day boundaries (date_trunc('day', ts)) never depend on a reader's session time zone.
-- Natural keys are kept unique by storage.writes.upsert; there are no PRIMARY KEY constraints.

CREATE TABLE coins (
    coin_id          VARCHAR NOT NULL,   -- CoinGecko id, e.g. 'fetch-ai' (symbols are not unique)
    symbol           VARCHAR,
    name             VARCHAR,
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    inactive_reason  VARCHAR,            -- e.g. 'HTTP 404 coin not found' for a delisted coin
    updated_at       TIMESTAMP NOT NULL
);

CREATE TABLE categories (
    category_id  VARCHAR NOT NULL,       -- e.g. 'artificial-intelligence'
    name         VARCHAR,
    updated_at   TIMESTAMP NOT NULL
);

-- One row per category per observation of /coins/categories.
CREATE TABLE category_snapshots (
    category_id                VARCHAR NOT NULL,
    observed_at                TIMESTAMP NOT NULL,  -- when the tracker fetched it
    market_cap                 DOUBLE,
    volume_24h                 DOUBLE,
    market_cap_change_24h_pct  DOUBLE,              -- a percentage, as CoinGecko reports it
    top_3_coins                VARCHAR[],
    source_updated_at          TIMESTAMP,           -- CoinGecko's own updated_at
    source                     VARCHAR NOT NULL
);

-- Point-in-time membership: a coin was in the category from valid_from (inclusive) until
-- valid_to (exclusive), or is still in it when valid_to is NULL.
CREATE TABLE category_members (
    category_id  VARCHAR NOT NULL,
    coin_id      VARCHAR NOT NULL,
    valid_from   TIMESTAMP NOT NULL,
    valid_to     TIMESTAMP,
    source       VARCHAR NOT NULL
);

-- One row per coin per observation of /coins/markets.
CREATE TABLE market_snapshots (
    coin_id                  VARCHAR NOT NULL,
    vs_currency              VARCHAR NOT NULL,
    observed_at              TIMESTAMP NOT NULL,
    price                    DOUBLE,
    market_cap               DOUBLE,          -- NULL when CoinGecko reports 0 or null (supply unknown)
    total_volume             DOUBLE,
    market_cap_rank          INTEGER,
    circulating_supply       DOUBLE,
    total_supply             DOUBLE,
    max_supply               DOUBLE,
    fully_diluted_valuation  DOUBLE,
    price_change_pct_24h     DOUBLE,
    source_updated_at        TIMESTAMP,       -- CoinGecko's last_updated
    source                   VARCHAR NOT NULL
);

-- Price history from /coins/{id}/market_chart/range, CSV imports and other sources.
CREATE TABLE price_history (
    coin_id       VARCHAR NOT NULL,
    vs_currency   VARCHAR NOT NULL,
    ts            TIMESTAMP NOT NULL,
    price         DOUBLE,
    market_cap    DOUBLE,                  -- NULL when the source has 0 or nothing
    total_volume  DOUBLE,
    granularity   VARCHAR NOT NULL,        -- '5m', 'hourly' or 'daily'
    is_partial    BOOLEAN NOT NULL DEFAULT FALSE,  -- the live "now" point at a chart's end, not a close
    source        VARCHAR NOT NULL,        -- 'coingecko', 'csv:<file name>', ...
    ingested_at   TIMESTAMP NOT NULL
);

-- AI announcements and other events studied. ts is the announcement time in UTC; when the
-- time of day is unknown, ts is midnight and time_known is false.
CREATE TABLE events (
    event_id    VARCHAR NOT NULL,          -- a slug, e.g. 'sora-demo'
    name        VARCHAR NOT NULL,
    ts          TIMESTAMP NOT NULL,
    time_known  BOOLEAN NOT NULL,
    kind        VARCHAR NOT NULL,          -- 'product-launch', 'earnings', 'keynote', ...
    source_url  VARCHAR,
    notes       VARCHAR,
    added_at    TIMESTAMP NOT NULL
);
