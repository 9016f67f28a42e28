-- No view gives a non-finite return (issue 12). Older versions of the importers let through
-- prices such as inf, 0, -5, 1e308 and the subnormal 1e-320, and daily_returns then showed inf;
-- the importers now refuse them (tracker/values.py), but such rows may already be stored. So:
-- * price_observations keeps only positive, finite prices: a stored 0, negative or non-finite
--   price is not an observation (the period has no close, and the next return is across a gap);
--   a negative or non-finite market cap or volume reads as NULL;
-- * every ratio of two closes is also checked: two finite prices far apart (1e300 / 1e-300) can
--   still overflow to inf or underflow to 0, so the return is NULL unless the ratio is finite
--   and positive (which also keeps ln() away from 0: the duckdb 1.5 CLI raises on ln(0));
-- * external_daily / external_hourly keep only positive, finite values, for the same reason.
-- The views are otherwise exactly those of 0003 and 0004 (docs/sql.md documents their columns).

CREATE OR REPLACE VIEW price_observations AS
WITH observations AS (
    SELECT coin_id, vs_currency, ts, price,
           CASE WHEN isfinite(market_cap) AND market_cap >= 0 THEN market_cap END AS market_cap,
           CASE WHEN isfinite(total_volume) AND total_volume >= 0 THEN total_volume END AS total_volume,
           granularity, is_partial, source
    FROM price_history
    WHERE price > 0 AND isfinite(price)
    UNION ALL
    SELECT coin_id, vs_currency, observed_at, price,
           CASE WHEN isfinite(market_cap) AND market_cap >= 0 THEN market_cap END,
           CASE WHEN isfinite(total_volume) AND total_volume >= 0 THEN total_volume END,
           'snapshot', false, 'snapshot:' || source
    FROM market_snapshots
    WHERE price > 0 AND isfinite(price)
),
source_ranks AS (
    SELECT source,
           row_number() OVER (ORDER BY starts_with(source, 'snapshot:'), source <> 'coingecko', source) AS source_rank
    FROM (SELECT DISTINCT source FROM price_history
          UNION
          SELECT DISTINCT 'snapshot:' || source FROM market_snapshots)
),
labelled AS (
    SELECT o.*, r.source_rank,
           CAST(date_trunc('day', o.ts - INTERVAL 5 MINUTE) AS DATE) AS day,
           date_trunc('hour', o.ts - INTERVAL 5 MINUTE) AS hour
    FROM observations o
    JOIN source_ranks r USING (source)
)
SELECT coin_id, vs_currency, ts, price, market_cap, total_volume, granularity, is_partial, source, source_rank,
       day, hour,
       source_rank * 1000000000000 - (epoch_us(ts) - epoch_us(CAST(day AS TIMESTAMP))) AS day_pick
FROM labelled;

CREATE OR REPLACE VIEW daily_returns AS
WITH lagged AS (
    SELECT *,
           lag(day) OVER w AS prev_day,
           lag(close) OVER w AS prev_close,
           lag(market_cap) OVER w AS prev_market_cap,
           lag(complete) OVER w AS prev_complete
    FROM daily_prices
    WINDOW w AS (PARTITION BY coin_id, vs_currency ORDER BY day)
),
ratios AS (
    SELECT *,
           CASE WHEN day - prev_day = 1 AND prev_close > 0 AND isfinite(close / prev_close) AND close / prev_close > 0
                THEN close / prev_close END AS ratio
    FROM lagged
)
SELECT coin_id, vs_currency, day, close, market_cap, total_volume, source,
       prev_day, prev_close, prev_market_cap,
       CAST(day - prev_day AS INTEGER) AS gap_days,
       ratio - 1 AS simple_return,
       CASE WHEN ratio > 0 THEN ln(ratio) END AS log_return,
       (complete AND coalesce(prev_complete, true)) AS complete
FROM ratios;

CREATE OR REPLACE VIEW hourly_returns AS
WITH lagged AS (
    SELECT *,
           lag(hour) OVER w AS prev_hour,
           lag(close) OVER w AS prev_close
    FROM hourly_prices
    WINDOW w AS (PARTITION BY coin_id, vs_currency ORDER BY hour)
),
ratios AS (
    SELECT *,
           CASE WHEN datediff('hour', prev_hour, hour) = 1 AND prev_close > 0 AND isfinite(close / prev_close)
                     AND close / prev_close > 0
                THEN close / prev_close END AS ratio
    FROM lagged
)
SELECT coin_id, vs_currency, hour, close, market_cap, source, prev_hour, prev_close,
       CAST(datediff('hour', prev_hour, hour) AS INTEGER) AS gap_hours,
       ratio - 1 AS simple_return,
       CASE WHEN ratio > 0 THEN ln(ratio) END AS log_return
FROM ratios;

CREATE OR REPLACE VIEW category_member_returns AS
WITH closes AS MATERIALIZED (
    SELECT * FROM member_daily_closes
),
returns AS (
    SELECT c.coin_id, c.vs_currency, c.day, c.close, p.close AS prev_close, c.market_cap,
           p.market_cap AS prev_market_cap,
           CASE WHEN p.close > 0 AND isfinite(c.close / p.close) AND c.close / p.close > 0
                THEN c.close / p.close - 1 END AS simple_return
    FROM closes c
    LEFT JOIN closes p
           ON p.coin_id = c.coin_id AND p.vs_currency = c.vs_currency AND p.day = c.day - 1
)
SELECT m.category_id, r.vs_currency, r.day, r.coin_id, r.close, r.prev_close, r.simple_return,
       r.market_cap, r.prev_market_cap
FROM returns r
JOIN category_membership m
  ON m.coin_id = r.coin_id
 AND m.valid_from <= CAST(r.day AS TIMESTAMP)
 AND (m.valid_to IS NULL OR m.valid_to > CAST(r.day AS TIMESTAMP));

-- As in 0003, plus: a day's index return that overflows (sums of absurd caps or returns) is
-- NULL, so the level carries over rather than turning into NaN.
CREATE OR REPLACE VIEW ai_index AS
WITH daily AS (
    SELECT category_id, vs_currency, day,
           count(*) AS members_priced,
           count(simple_return) AS constituents,
           count(*) FILTER (WHERE simple_return IS NOT NULL AND prev_market_cap > 0) AS cap_constituents,
           sum(market_cap) AS members_market_cap,
           sum(simple_return * prev_market_cap) FILTER (WHERE simple_return IS NOT NULL AND prev_market_cap > 0)
             / sum(prev_market_cap) FILTER (WHERE simple_return IS NOT NULL AND prev_market_cap > 0) AS cap_return,
           avg(simple_return) AS equal_return
    FROM category_member_returns
    GROUP BY category_id, vs_currency, day
),
numbered AS (
    SELECT *, row_number() OVER (PARTITION BY category_id, vs_currency ORDER BY day) AS n
    FROM daily
),
based AS (
    SELECT category_id, vs_currency, day, members_priced, constituents, cap_constituents, members_market_cap,
           CASE WHEN n > 1 AND isfinite(cap_return) THEN cap_return END AS cap_return,
           CASE WHEN n > 1 AND isfinite(equal_return) THEN equal_return END AS equal_return
    FROM numbered
)
SELECT category_id, vs_currency, day, members_priced, constituents, cap_constituents, members_market_cap,
       cap_return, equal_return,
       100 * exp(sum(CASE WHEN cap_return IS NULL THEN 0 WHEN cap_return > -1 THEN ln(1 + cap_return)
                          ELSE CAST('-inf' AS DOUBLE) END) OVER w) AS cap_index,
       100 * exp(sum(CASE WHEN equal_return IS NULL THEN 0 WHEN equal_return > -1 THEN ln(1 + equal_return)
                          ELSE CAST('-inf' AS DOUBLE) END) OVER w) AS equal_index
FROM based
WINDOW w AS (PARTITION BY category_id, vs_currency ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW);

CREATE OR REPLACE VIEW event_windows AS
WITH windows AS (
    SELECT e.event_id, e.ts AS event_ts, CAST(rel.rel_day AS INTEGER) AS rel_day,
           CAST(e.ts AS DATE) + CAST(rel.rel_day AS INTEGER) AS day
    FROM events e
    CROSS JOIN range(-91, 31) AS rel(rel_day)
),
closes AS (
    SELECT w.event_id, w.event_ts, w.rel_day, o.coin_id, o.vs_currency, o.day,
           arg_min(o.price, o.day_pick) AS close,
           (NOT arg_min(o.is_partial, o.day_pick)
            AND arg_min(o.ts, o.day_pick) >= CAST(o.day AS TIMESTAMP) + INTERVAL '22 hours 55 minutes') AS complete
    FROM windows w
    JOIN price_observations o ON o.day = w.day
    GROUP BY w.event_id, w.event_ts, w.rel_day, o.coin_id, o.vs_currency, o.day
),
lagged AS (
    SELECT *,
           lag(day) OVER w AS prev_day,
           lag(close) OVER w AS prev_close,
           lag(complete) OVER w AS prev_complete
    FROM closes
    WINDOW w AS (PARTITION BY event_id, coin_id, vs_currency ORDER BY day)
),
returns AS (
    SELECT event_id, event_ts, coin_id, vs_currency, rel_day, day, close,
           CAST(day - prev_day AS INTEGER) AS gap_days,
           CASE WHEN day - prev_day = 1 AND prev_close > 0 AND isfinite(close / prev_close) AND close / prev_close > 0
                THEN close / prev_close END AS ratio,
           (complete AND coalesce(prev_complete, true)) AS complete
    FROM lagged
    WHERE rel_day >= -60
),
based AS (
    SELECT *, close / max(CASE WHEN rel_day = -1 THEN close END) OVER e AS cum_ratio
    FROM returns
    WINDOW e AS (PARTITION BY event_id, coin_id, vs_currency)
)
SELECT event_id, event_ts, coin_id, vs_currency, rel_day, day, close, gap_days,
       ratio - 1 AS simple_return,
       CASE WHEN ratio > 0 THEN ln(ratio) END AS log_return,
       complete,
       CASE WHEN isfinite(cum_ratio) AND cum_ratio > 0 THEN cum_ratio - 1 END AS cum_return
FROM based;

CREATE OR REPLACE VIEW external_daily AS
SELECT series_id,
       CAST(date_trunc('day', ts - INTERVAL 5 MINUTE) AS DATE) AS day,
       arg_max(value, ts) AS value,
       max(ts) AS close_ts
FROM external_series
WHERE value > 0 AND isfinite(value)
GROUP BY ALL;

CREATE OR REPLACE VIEW external_hourly AS
SELECT series_id,
       date_trunc('hour', ts - INTERVAL 5 MINUTE) AS hour,
       arg_max(value, ts) AS value,
       max(ts) AS close_ts
FROM external_series
WHERE value > 0 AND isfinite(value)
GROUP BY ALL;
