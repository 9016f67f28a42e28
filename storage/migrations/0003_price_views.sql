-- Price views. price_history.ts is the instant a price was observed, so a period's close is
-- the last price observed before the period ends. Timestamps jitter by seconds (CoinGecko's
-- 00:00:04 point closes the day before), so buckets are shifted back 5 minutes.

-- One close per coin, currency and UTC day. History wins over snapshots; among history
-- sources CoinGecko wins, then the alphabetically first source. `complete` is false when the
-- day's last observation is a partial "now" point or comes before 22:55 UTC.
CREATE VIEW daily_prices AS
WITH history AS (
    SELECT coin_id, vs_currency, source,
           CAST(date_trunc('day', ts - INTERVAL 5 MINUTE) AS DATE) AS day,
           arg_max(price, ts) AS close,
           arg_max(market_cap, ts) AS market_cap,
           arg_max(total_volume, ts) AS total_volume,
           max(ts) AS close_ts,
           arg_max(is_partial, ts) AS last_is_partial
    FROM price_history
    WHERE price IS NOT NULL
    GROUP BY ALL
),
preferred AS (
    SELECT * FROM history
    QUALIFY row_number() OVER (
        PARTITION BY coin_id, vs_currency, day ORDER BY (source = 'coingecko') DESC, source) = 1
),
snapshots AS (
    SELECT coin_id, vs_currency, 'snapshot:' || arg_max(source, observed_at) AS source,
           CAST(date_trunc('day', observed_at - INTERVAL 5 MINUTE) AS DATE) AS day,
           arg_max(price, observed_at) AS close,
           arg_max(market_cap, observed_at) AS market_cap,
           arg_max(total_volume, observed_at) AS total_volume,
           max(observed_at) AS close_ts,
           false AS last_is_partial
    FROM market_snapshots
    WHERE price IS NOT NULL
    GROUP BY coin_id, vs_currency, day
),
combined AS (
    SELECT * FROM preferred
    UNION ALL BY NAME
    SELECT s.* FROM snapshots s
    ANTI JOIN preferred p USING (coin_id, vs_currency, day)
)
SELECT coin_id, vs_currency, day, close, market_cap, total_volume, close_ts, source,
       (NOT last_is_partial AND close_ts >= CAST(day AS TIMESTAMP) + INTERVAL '22 hours 55 minutes') AS complete
FROM combined;

-- One close per coin, currency and UTC hour (`hour` is the hour's start; the close is observed
-- at its end), from hourly or finer history, else from snapshots.
CREATE VIEW hourly_prices AS
WITH history AS (
    SELECT coin_id, vs_currency, source,
           date_trunc('hour', ts - INTERVAL 5 MINUTE) AS hour,
           arg_max(price, ts) AS close,
           arg_max(market_cap, ts) AS market_cap,
           max(ts) AS close_ts
    FROM price_history
    WHERE price IS NOT NULL AND granularity IN ('hourly', '5m') AND NOT is_partial
    GROUP BY ALL
),
preferred AS (
    SELECT * FROM history
    QUALIFY row_number() OVER (
        PARTITION BY coin_id, vs_currency, hour ORDER BY (source = 'coingecko') DESC, source) = 1
),
snapshots AS (
    SELECT coin_id, vs_currency, 'snapshot:' || arg_max(source, observed_at) AS source,
           date_trunc('hour', observed_at - INTERVAL 5 MINUTE) AS hour,
           arg_max(price, observed_at) AS close,
           arg_max(market_cap, observed_at) AS market_cap,
           max(observed_at) AS close_ts
    FROM market_snapshots
    WHERE price IS NOT NULL
    GROUP BY coin_id, vs_currency, hour
)
SELECT coin_id, vs_currency, hour, close, market_cap, close_ts, source FROM preferred
UNION ALL BY NAME
SELECT s.coin_id, s.vs_currency, s.hour, s.close, s.market_cap, s.close_ts, s.source FROM snapshots s
ANTI JOIN preferred p USING (coin_id, vs_currency, hour);
