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

-- Every price observation, from history and from the tracker's market snapshots, labelled
-- with the UTC day and hour it closes and its source's rank. History wins over snapshots;
-- among history sources CoinGecko wins, then the alphabetically first source: source_rank 1
-- is the most preferred. day_pick orders a day's observations: smaller is better (a better
-- source first, then a later observation). The close views aggregate this with arg_min
-- rather than a window over sources: about 3x faster on millions of rows, and a filter on
-- coin_id still reaches the table scans.
CREATE VIEW price_observations AS
WITH observations AS (
    SELECT coin_id, vs_currency, ts, price, market_cap, total_volume, granularity, is_partial, source
    FROM price_history
    WHERE price IS NOT NULL
    UNION ALL
    SELECT coin_id, vs_currency, observed_at, price, market_cap, total_volume, 'snapshot', false, 'snapshot:' || source
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

-- One close per coin, currency and UTC day: the day's best-ranked observation (see above);
-- market_cap / total_volume are the ones observed with it. `complete` is false when that
-- observation is a partial "now" point or comes before 22:55 UTC.
-- member_daily_returns and event_windows repeat this aggregate on fewer rows (a test checks
-- that they agree).
CREATE VIEW daily_prices AS
SELECT coin_id, vs_currency, day,
       arg_min(price, day_pick) AS close,
       arg_min_null(market_cap, day_pick) AS market_cap,
       arg_min_null(total_volume, day_pick) AS total_volume,
       arg_min(ts, day_pick) AS close_ts,
       arg_min(source, day_pick) AS source,
       (NOT arg_min(is_partial, day_pick)
        AND arg_min(ts, day_pick) >= CAST(day AS TIMESTAMP) + INTERVAL '22 hours 55 minutes') AS complete
FROM price_observations
GROUP BY coin_id, vs_currency, day;

-- One close per coin, currency and UTC hour (`hour` is the hour's start; the close is observed
-- at its end), from hourly or finer history, else from snapshots. Same source rule.
CREATE VIEW hourly_prices AS
WITH keyed AS (
    SELECT *, source_rank * 1000000000000 - (epoch_us(ts) - epoch_us(hour)) AS hour_pick
    FROM price_observations
    WHERE granularity <> 'daily' AND NOT is_partial  -- hourly, 15m, 5m and snapshots
)
SELECT coin_id, vs_currency, hour,
       arg_min(price, hour_pick) AS close,
       arg_min_null(market_cap, hour_pick) AS market_cap,
       arg_min(ts, hour_pick) AS close_ts,
       arg_min(source, hour_pick) AS source
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

-- Category membership with overlapping or touching stretches of the same coin merged: one row
-- per continuous membership, valid_to NULL while it lasts. The category views join on this
-- rather than on category_members so a coin listed twice for the same instant counts once.
CREATE VIEW category_membership AS
WITH ordered AS (
    SELECT category_id, coin_id, valid_from, coalesce(valid_to, TIMESTAMP '9999-12-31') AS valid_until,
           max(coalesce(valid_to, TIMESTAMP '9999-12-31')) OVER (
               PARTITION BY category_id, coin_id ORDER BY valid_from, valid_until
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
    FROM category_members
),
islands AS (
    SELECT *,
           sum(CASE WHEN reach IS NULL OR valid_from > reach THEN 1 ELSE 0 END) OVER (
               PARTITION BY category_id, coin_id ORDER BY valid_from, valid_until ROWS UNBOUNDED PRECEDING) AS island
    FROM ordered
)
SELECT category_id, coin_id, min(valid_from) AS valid_from,
       nullif(max(valid_until), TIMESTAMP '9999-12-31') AS valid_to
FROM islands
GROUP BY category_id, coin_id, island;

-- Daily closes and market caps (the daily_prices rule) of the coins that are or were in any
-- category, computed from those coins' observations only: DuckDB does not push a semi-join
-- down into an aggregate, so filtering daily_prices by membership would aggregate the whole
-- history table first. A test checks that it agrees with daily_prices.
CREATE VIEW member_daily_closes AS
SELECT coin_id, vs_currency, day,
       arg_min(price, day_pick) AS close,
       arg_min_null(market_cap, day_pick) AS market_cap
FROM price_observations
WHERE coin_id IN (SELECT coin_id FROM category_members)
GROUP BY coin_id, vs_currency, day;

-- Each category's members on each day with their one-day return. The return of `day` runs
-- from the previous day's close to this day's close, so the members are the coins that were
-- in the category at the previous close (the instant `day` 00:00 UTC). simple_return is NULL
-- when the previous day has no close: never a return across a gap.
CREATE VIEW category_member_returns AS
WITH closes AS MATERIALIZED (
    SELECT * FROM member_daily_closes
),
returns AS (
    SELECT c.coin_id, c.vs_currency, c.day, c.close, p.close AS prev_close, c.market_cap,
           p.market_cap AS prev_market_cap,
           CASE WHEN p.close > 0 THEN c.close / p.close - 1 END AS simple_return
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

-- The index weights of each member on each day: by its market cap at the previous close (cap
-- weighting) or equally. A member takes part only with a one-day return; cap weighting also
-- needs its previous-day market cap. Weights come from per-day totals joined back (cheaper
-- than a window on hundreds of thousands of rows).
CREATE VIEW index_constituents AS
WITH flagged AS (
    SELECT *,
           simple_return IS NOT NULL AS in_equal,
           simple_return IS NOT NULL AND prev_market_cap > 0 AS in_cap
    FROM category_member_returns
),
totals AS (
    SELECT category_id, vs_currency, day,
           sum(prev_market_cap) FILTER (WHERE in_cap) AS cap_total,
           count(*) FILTER (WHERE in_equal) AS equal_count
    FROM flagged
    GROUP BY category_id, vs_currency, day
)
SELECT f.category_id, f.vs_currency, f.day, f.coin_id, f.close, f.prev_close, f.simple_return,
       f.market_cap, f.prev_market_cap,
       CASE WHEN f.in_cap THEN f.prev_market_cap / t.cap_total END AS cap_weight,
       CASE WHEN f.in_equal THEN 1.0 / t.equal_count END AS equal_weight
FROM flagged f
JOIN totals t USING (category_id, vs_currency, day);

-- Market-cap-weighted and equal-weighted index of a category: a chain-linked daily index with
-- base 100 at the close of the first day any member has a price. Each later day's index
-- return is the weighted mean of the constituents' one-day returns (weights as in
-- index_constituents, summed here directly). On a day with no eligible constituent the return
-- is NULL and the level carries over unchanged.
CREATE VIEW ai_index AS
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
           arg_max_null(volume_24h, observed_at) AS snapshot_volume_24h,
           max(observed_at) AS snapshot_observed_at,
           count(*) AS snapshots
    FROM category_snapshots
    WHERE market_cap IS NOT NULL
    GROUP BY ALL
),
member_days AS (
    SELECT m.category_id, p.day,
           sum(p.market_cap) AS members_market_cap,
           count(*) AS members_priced,
           count(p.market_cap) AS members_with_cap
    FROM member_daily_closes p
    JOIN category_membership m
      ON m.coin_id = p.coin_id
     AND m.valid_from <= CAST(p.day AS TIMESTAMP) + INTERVAL 1 DAY
     AND (m.valid_to IS NULL OR m.valid_to > CAST(p.day AS TIMESTAMP) + INTERVAL 1 DAY)
    WHERE p.vs_currency = 'usd'
    GROUP BY m.category_id, p.day
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
WITH latest AS (
    SELECT coin_id, vs_currency,
           arg_max(price, epoch_us(ts) * 2 + CAST(granularity = 'snapshot' AS INTEGER)) AS price,
           arg_max_null(market_cap, epoch_us(ts) * 2 + CAST(granularity = 'snapshot' AS INTEGER)) AS market_cap,
           arg_max_null(total_volume, epoch_us(ts) * 2 + CAST(granularity = 'snapshot' AS INTEGER)) AS total_volume,
           max(ts) AS observed_at,
           arg_max(source, epoch_us(ts) * 2 + CAST(granularity = 'snapshot' AS INTEGER)) AS source
    FROM price_observations
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

-- Daily returns around each event, rel_day -60..+30. Day 0 is the UTC day containing the
-- event's timestamp; cum_return runs from the close of day -1 (the last close before day 0
-- began) to the close of rel_day. Built from the observations of the window's days only
-- (an equi-join on the day, so one event costs a few thousand rows, not the whole table);
-- 31 more days are read before rel_day -60 to find each row's previous close, so gap_days is
-- NULL only when that close is more than 31 days before rel_day -60.
CREATE VIEW event_windows AS
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
           CASE WHEN day - prev_day = 1 AND prev_close > 0 THEN close / prev_close - 1 END AS simple_return,
           CASE WHEN day - prev_day = 1 AND prev_close > 0 AND close > 0 THEN ln(close / prev_close) END AS log_return,
           (complete AND coalesce(prev_complete, true)) AS complete
    FROM lagged
    WHERE rel_day >= -60
)
SELECT *,
       close / max(CASE WHEN rel_day = -1 THEN close END) OVER e - 1 AS cum_return
FROM returns
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
