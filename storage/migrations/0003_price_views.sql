-- Views over the raw tables: closes, returns, a category index, the category's size, the
-- latest price, event windows and coverage. docs/sql.md documents every column.
--
-- Rules every view keeps:
-- * price_history.ts is the INSTANT a price was observed, so a period's close is the last price
--   observed before the period ends. Timestamps jitter by seconds (CoinGecko's 00:00:04 point
--   closes the day before), so buckets are shifted back 5 minutes.
-- * A return is only ever a one-period return: across a gap it is NULL and gap_days/gap_hours
--   says how far back the previous close is.
-- * Membership is point in time: a coin counts for a category from valid_from (inclusive) to
--   valid_to (exclusive), never earlier or later.
-- * Every view is plain SQL that the stock duckdb 1.5.x CLI reads too (no 2.x-only syntax: e.g.
--   1.5 raises on ln(0), so every logarithm is guarded).

-- One close per coin, currency and UTC day. History wins over snapshots; among history
-- sources CoinGecko wins, then the alphabetically first source; within the chosen source the
-- close is the day's last observation, and market_cap / total_volume are the ones observed with
-- it. `complete` is false when that observation is a partial "now" point or comes before
-- 22:55 UTC.
-- The choice is one aggregate keyed by a number (source rank, then lateness within the day)
-- rather than a window over sources: about 3x faster on millions of rows, and a filter on
-- coin_id still reaches the table scans.
CREATE VIEW daily_prices AS
WITH observations AS (
    SELECT coin_id, vs_currency, ts, price, market_cap, total_volume, is_partial, source
    FROM price_history
    WHERE price IS NOT NULL
    UNION ALL
    SELECT coin_id, vs_currency, observed_at, price, market_cap, total_volume, false, 'snapshot:' || source
    FROM market_snapshots
    WHERE price IS NOT NULL
),
source_ranks AS (
    SELECT source,
           row_number() OVER (ORDER BY starts_with(source, 'snapshot:'), source <> 'coingecko', source) AS source_rank
    FROM (SELECT DISTINCT source FROM price_history
          UNION
          SELECT DISTINCT 'snapshot:' || source FROM market_snapshots)
),
keyed AS (
    SELECT o.*,
           date_trunc('day', o.ts - INTERVAL 5 MINUTE) AS bucket,
           -- smaller is better: a better source first, then a later observation in the day
           r.source_rank * 1000000000000
             - (epoch_us(o.ts - INTERVAL 5 MINUTE) - epoch_us(date_trunc('day', o.ts - INTERVAL 5 MINUTE))) AS pick
    FROM observations o
    JOIN source_ranks r USING (source)
),
closes AS (
    SELECT coin_id, vs_currency, CAST(bucket AS DATE) AS day,
           arg_min(price, pick) AS close,
           arg_min_null(market_cap, pick) AS market_cap,
           arg_min_null(total_volume, pick) AS total_volume,
           arg_min(ts, pick) AS close_ts,
           arg_min(source, pick) AS source,
           arg_min(is_partial, pick) AS last_is_partial
    FROM keyed
    GROUP BY coin_id, vs_currency, bucket
)
SELECT coin_id, vs_currency, day, close, market_cap, total_volume, close_ts, source,
       (NOT last_is_partial AND close_ts >= CAST(day AS TIMESTAMP) + INTERVAL '22 hours 55 minutes') AS complete
FROM closes;

-- One close per coin, currency and UTC hour (`hour` is the hour's start; the close is observed
-- at its end), from hourly or finer history, else from snapshots. Same source rule as above.
CREATE VIEW hourly_prices AS
WITH observations AS (
    SELECT coin_id, vs_currency, ts, price, market_cap, source
    FROM price_history
    WHERE price IS NOT NULL AND granularity IN ('hourly', '5m') AND NOT is_partial
    UNION ALL
    SELECT coin_id, vs_currency, observed_at, price, market_cap, 'snapshot:' || source
    FROM market_snapshots
    WHERE price IS NOT NULL
),
source_ranks AS (
    SELECT source,
           row_number() OVER (ORDER BY starts_with(source, 'snapshot:'), source <> 'coingecko', source) AS source_rank
    FROM (SELECT DISTINCT source FROM price_history WHERE granularity IN ('hourly', '5m')
          UNION
          SELECT DISTINCT 'snapshot:' || source FROM market_snapshots)
),
keyed AS (
    SELECT o.*,
           date_trunc('hour', o.ts - INTERVAL 5 MINUTE) AS hour,
           r.source_rank * 1000000000000
             - (epoch_us(o.ts - INTERVAL 5 MINUTE) - epoch_us(date_trunc('hour', o.ts - INTERVAL 5 MINUTE))) AS pick
    FROM observations o
    JOIN source_ranks r USING (source)
)
SELECT coin_id, vs_currency, hour,
       arg_min(price, pick) AS close,
       arg_min_null(market_cap, pick) AS market_cap,
       arg_min(ts, pick) AS close_ts,
       arg_min(source, pick) AS source
FROM keyed
GROUP BY coin_id, vs_currency, hour;

-- Daily simple and log returns. gap_days is how many days back the previous close is; the
-- returns are NULL unless it is exactly 1 (a return across a gap is not a one-day return).
-- `complete` is true only when both closes are full-day closes.
CREATE VIEW daily_returns AS
WITH lagged AS (
    SELECT *,
           lag(day) OVER w AS prev_day,
           lag(close) OVER w AS prev_close,
           lag(market_cap) OVER w AS prev_market_cap,
           lag(complete) OVER w AS prev_complete
    FROM daily_prices
    WINDOW w AS (PARTITION BY coin_id, vs_currency ORDER BY day)
)
SELECT coin_id, vs_currency, day, close, market_cap, total_volume, source,
       prev_day, prev_close, prev_market_cap,
       CAST(day - prev_day AS INTEGER) AS gap_days,
       CASE WHEN day - prev_day = 1 AND prev_close > 0 THEN close / prev_close - 1 END AS simple_return,
       CASE WHEN day - prev_day = 1 AND prev_close > 0 AND close > 0 THEN ln(close / prev_close) END AS log_return,
       (complete AND coalesce(prev_complete, true)) AS complete
FROM lagged;

-- Hourly simple and log returns; NULL unless the previous close is exactly one hour earlier.
CREATE VIEW hourly_returns AS
WITH lagged AS (
    SELECT *,
           lag(hour) OVER w AS prev_hour,
           lag(close) OVER w AS prev_close
    FROM hourly_prices
    WINDOW w AS (PARTITION BY coin_id, vs_currency ORDER BY hour)
)
SELECT coin_id, vs_currency, hour, close, market_cap, source, prev_hour, prev_close,
       CAST(datediff('hour', prev_hour, hour) AS INTEGER) AS gap_hours,
       CASE WHEN datediff('hour', prev_hour, hour) = 1 AND prev_close > 0 THEN close / prev_close - 1 END AS simple_return,
       CASE WHEN datediff('hour', prev_hour, hour) = 1 AND prev_close > 0 AND close > 0 THEN ln(close / prev_close) END AS log_return
FROM lagged;

-- A category's members on each day, with their index weights. The return of `day` runs from
-- the previous day's close to this day's close, so the constituents are the coins that were
-- members at the previous close (the instant `day` 00:00 UTC), weighted by their market cap at
-- that close (cap weighting) or equally. A member takes part only with a one-day return
-- (gap_days = 1); cap weighting also needs its previous-day market cap.
CREATE VIEW index_constituents AS
WITH members AS (
    SELECT r.*, c.category_id
    FROM daily_returns r
    JOIN (SELECT DISTINCT category_id, coin_id FROM category_members) c USING (coin_id)
    WHERE EXISTS (
        SELECT 1 FROM category_members m
        WHERE m.category_id = c.category_id AND m.coin_id = r.coin_id
          AND m.valid_from <= CAST(r.day AS TIMESTAMP)
          AND (m.valid_to IS NULL OR m.valid_to > CAST(r.day AS TIMESTAMP)))
),
eligible AS (
    SELECT *,
           simple_return IS NOT NULL AS in_equal,
           simple_return IS NOT NULL AND prev_market_cap > 0 AS in_cap
    FROM members
)
SELECT category_id, vs_currency, day, coin_id, close, prev_close, simple_return, market_cap, prev_market_cap,
       CASE WHEN in_cap THEN prev_market_cap / sum(CASE WHEN in_cap THEN prev_market_cap END) OVER d END AS cap_weight,
       CASE WHEN in_equal THEN 1.0 / count(CASE WHEN in_equal THEN 1 END) OVER d END AS equal_weight
FROM eligible
WINDOW d AS (PARTITION BY category_id, vs_currency, day);

-- Market-cap-weighted and equal-weighted index of a category: a chain-linked daily index with
-- base 100 at the close of the first day any member has a price. Each later day's index
-- return is the weighted mean of the constituents' one-day returns (weights above). On a day
-- with no eligible constituent the return is NULL and the level carries over unchanged.
CREATE VIEW ai_index AS
WITH daily AS (
    SELECT category_id, vs_currency, day,
           count(*) AS members_priced,
           count(equal_weight) AS constituents,
           count(cap_weight) AS cap_constituents,
           sum(cap_weight * simple_return) AS cap_return,
           sum(equal_weight * simple_return) AS equal_return,
           sum(market_cap) AS members_market_cap
    FROM index_constituents
    GROUP BY category_id, vs_currency, day
),
numbered AS (
    SELECT *, row_number() OVER (PARTITION BY category_id, vs_currency ORDER BY day) AS n
    FROM daily
),
based AS (
    SELECT category_id, vs_currency, day, members_priced, constituents, cap_constituents, members_market_cap,
           CASE WHEN n > 1 THEN cap_return END AS cap_return,
           CASE WHEN n > 1 THEN equal_return END AS equal_return
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

-- A category's total market cap per UTC day (USD): CoinGecko's own figure from the day's last
-- category snapshot, and, as a cross-check and for days before the tracker took snapshots, the
-- sum of the members' market caps at the day's close (members at the close instant, the end
-- of the day). market_cap is the snapshot figure when there is one, else the members' sum.
CREATE VIEW category_market_cap AS
WITH snapshot_days AS (
    SELECT category_id, CAST(date_trunc('day', observed_at - INTERVAL 5 MINUTE) AS DATE) AS day,
           arg_max(market_cap, observed_at) AS snapshot_market_cap,
           arg_max(volume_24h, observed_at) AS snapshot_volume_24h,
           max(observed_at) AS snapshot_observed_at,
           count(*) AS snapshots
    FROM category_snapshots
    WHERE market_cap IS NOT NULL
    GROUP BY ALL
),
member_days AS (
    SELECT c.category_id, p.day,
           sum(p.market_cap) AS members_market_cap,
           count(*) AS members_priced,
           count(p.market_cap) AS members_with_cap
    FROM daily_prices p
    JOIN (SELECT DISTINCT category_id, coin_id FROM category_members) c USING (coin_id)
    WHERE p.vs_currency = 'usd'
      AND EXISTS (
        SELECT 1 FROM category_members m
        WHERE m.category_id = c.category_id AND m.coin_id = p.coin_id
          AND m.valid_from <= CAST(p.day AS TIMESTAMP) + INTERVAL 1 DAY
          AND (m.valid_to IS NULL OR m.valid_to > CAST(p.day AS TIMESTAMP) + INTERVAL 1 DAY))
    GROUP BY ALL
)
SELECT category_id, day,
       coalesce(s.snapshot_market_cap, m.members_market_cap) AS market_cap,
       CASE WHEN s.snapshot_market_cap IS NOT NULL THEN 'snapshot' ELSE 'members' END AS market_cap_source,
       s.snapshot_market_cap, s.snapshot_volume_24h, s.snapshot_observed_at, coalesce(s.snapshots, 0) AS snapshots,
       m.members_market_cap, coalesce(m.members_priced, 0) AS members_priced,
       coalesce(m.members_with_cap, 0) AS members_with_cap,
       m.members_market_cap / s.snapshot_market_cap AS members_share_of_snapshot
FROM snapshot_days s
FULL OUTER JOIN member_days m USING (category_id, day);

-- The newest price per coin and currency, from history or a snapshot (a snapshot wins a tie),
-- with the coin's name and the ranking fields of its newest market snapshot.
CREATE VIEW coin_latest AS
WITH observations AS (
    SELECT coin_id, vs_currency, ts AS observed_at, price, market_cap, total_volume, source, 0 AS snapshot
    FROM price_history
    WHERE price IS NOT NULL
    UNION ALL
    SELECT coin_id, vs_currency, observed_at, price, market_cap, total_volume, 'snapshot:' || source, 1
    FROM market_snapshots
    WHERE price IS NOT NULL
),
latest AS (
    SELECT coin_id, vs_currency,
           arg_max(price, epoch_us(observed_at) * 2 + snapshot) AS price,
           arg_max_null(market_cap, epoch_us(observed_at) * 2 + snapshot) AS market_cap,
           arg_max_null(total_volume, epoch_us(observed_at) * 2 + snapshot) AS total_volume,
           max(observed_at) AS observed_at,
           arg_max(source, epoch_us(observed_at) * 2 + snapshot) AS source
    FROM observations
    GROUP BY coin_id, vs_currency
),
latest_snapshot AS (
    SELECT coin_id, vs_currency,
           arg_max_null(market_cap_rank, observed_at) AS market_cap_rank,
           arg_max_null(price_change_pct_24h, observed_at) AS price_change_pct_24h,
           arg_max_null(circulating_supply, observed_at) AS circulating_supply,
           max(observed_at) AS snapshot_observed_at
    FROM market_snapshots
    WHERE price IS NOT NULL
    GROUP BY coin_id, vs_currency
)
SELECT l.coin_id, c.symbol, c.name, coalesce(c.active, true) AS active, l.vs_currency,
       l.price, l.market_cap, l.total_volume, l.observed_at, l.source,
       s.market_cap_rank, s.price_change_pct_24h, s.circulating_supply, s.snapshot_observed_at
FROM latest l
LEFT JOIN latest_snapshot s USING (coin_id, vs_currency)
LEFT JOIN coins c USING (coin_id);

-- Daily returns around each event, rel_day -30..+30. Day 0 is the UTC day containing the
-- event's timestamp; cum_return runs from the close of day -1 (the last close before day 0
-- began) to the close of rel_day.
CREATE VIEW event_windows AS
WITH windows AS (
    SELECT e.event_id, e.ts AS event_ts, CAST(rel.rel_day AS INTEGER) AS rel_day,
           CAST(e.ts AS DATE) + CAST(rel.rel_day AS INTEGER) AS day
    FROM events e
    CROSS JOIN range(-30, 31) AS rel(rel_day)
),
joined AS (
    SELECT w.event_id, w.event_ts, r.coin_id, r.vs_currency, w.rel_day, w.day,
           r.close, r.gap_days, r.simple_return, r.log_return, r.complete
    FROM windows w
    JOIN daily_returns r ON r.day = w.day
)
SELECT *,
       close / max(CASE WHEN rel_day = -1 THEN close END) OVER e - 1 AS cum_return
FROM joined
WINDOW e AS (PARTITION BY event_id, coin_id, vs_currency);

-- The periods (UTC days or hours) each coin has a close for, and the holes between them.
CREATE VIEW coverage_gaps AS
WITH periods AS (
    SELECT coin_id, vs_currency, 'daily' AS granularity, CAST(prev_day AS TIMESTAMP) AS prev_period,
           CAST(day AS TIMESTAMP) AS period, gap_days AS step
    FROM daily_returns
    UNION ALL
    SELECT coin_id, vs_currency, 'hourly', prev_hour, hour, gap_hours
    FROM hourly_returns
)
SELECT coin_id, vs_currency, granularity,
       CASE granularity WHEN 'daily' THEN prev_period + INTERVAL 1 DAY ELSE prev_period + INTERVAL 1 HOUR END AS gap_start,
       CASE granularity WHEN 'daily' THEN period - INTERVAL 1 DAY ELSE period - INTERVAL 1 HOUR END AS gap_end,
       step - 1 AS missing
FROM periods
WHERE step > 1;

-- First and last point, counts and gaps per coin, currency and granularity ('daily' from
-- daily_prices, 'hourly' from hourly_prices). expected counts every day (hour) from the first
-- point to the last.
CREATE VIEW coverage AS
WITH periods AS (
    SELECT coin_id, vs_currency, 'daily' AS granularity, CAST(day AS TIMESTAMP) AS period, gap_days AS step, source
    FROM daily_returns
    UNION ALL
    SELECT coin_id, vs_currency, 'hourly', hour, gap_hours, source
    FROM hourly_returns
),
summary AS (
    SELECT coin_id, vs_currency, granularity,
           min(period) AS first_point, max(period) AS last_point, count(*) AS points,
           count(*) FILTER (WHERE step > 1) AS gaps,
           coalesce(max(step) FILTER (WHERE step > 1) - 1, 0) AS longest_gap,
           string_agg(DISTINCT source, ',' ORDER BY source) AS sources
    FROM periods
    GROUP BY coin_id, vs_currency, granularity
)
SELECT coin_id, vs_currency, granularity, first_point, last_point, points,
       CASE granularity WHEN 'daily' THEN datediff('day', first_point, last_point)
                        ELSE datediff('hour', first_point, last_point) END + 1 AS expected,
       CASE granularity WHEN 'daily' THEN datediff('day', first_point, last_point)
                        ELSE datediff('hour', first_point, last_point) END + 1 - points AS missing,
       gaps, longest_gap, sources
FROM summary;
