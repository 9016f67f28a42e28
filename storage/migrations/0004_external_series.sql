-- Outside series to correlate tokens against: an equity close (NVDA), a GPU rental price
-- index, anything with one number per instant. Same instant semantics as price_history: ts is
-- the UTC instant the value was observed, so a value labelled with a date (a daily close) is
-- stored at the next midnight, the end of its day. Natural key (series_id, ts), kept unique by
-- storage.writes.upsert.

CREATE TABLE external_series (
    series_id    VARCHAR NOT NULL,        -- a slug chosen by the importer, e.g. 'nvda'
    ts           TIMESTAMP NOT NULL,      -- UTC instant the value was observed
    value        DOUBLE,
    unit         VARCHAR,                 -- e.g. 'usd', 'usd/gpu-hour', 'index'
    source       VARCHAR NOT NULL,        -- e.g. 'csv:nvda_daily.csv'
    ingested_at  TIMESTAMP NOT NULL
);

-- One value per series and UTC day / hour, with the price views' rule: the last value observed
-- before the period ends, timestamps shifted back 5 minutes for jitter. Days a market is closed
-- (weekends for an equity) simply have no row: nothing is carried forward.
CREATE VIEW external_daily AS
SELECT series_id,
       CAST(date_trunc('day', ts - INTERVAL 5 MINUTE) AS DATE) AS day,
       arg_max(value, ts) AS value,
       max(ts) AS close_ts
FROM external_series
WHERE value IS NOT NULL
GROUP BY ALL;

CREATE VIEW external_hourly AS
SELECT series_id,
       date_trunc('hour', ts - INTERVAL 5 MINUTE) AS hour,
       arg_max(value, ts) AS value,
       max(ts) AS close_ts
FROM external_series
WHERE value IS NOT NULL
GROUP BY ALL;
