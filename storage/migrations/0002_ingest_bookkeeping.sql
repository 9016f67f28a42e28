-- What the ingestion jobs did, and where each one got to.

CREATE TABLE ingest_runs (
    run_id       VARCHAR NOT NULL,         -- a UUID made by the job
    job          VARCHAR NOT NULL,         -- 'markets', 'categories', 'members', 'history', 'import', ...
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP,
    status       VARCHAR NOT NULL,         -- 'running', 'ok', 'partial', 'failed', 'abandoned', 'spooled'
    calls        INTEGER NOT NULL DEFAULT 0,  -- HTTP calls made, retries included
    rows         BIGINT NOT NULL DEFAULT 0,   -- rows written
    error        VARCHAR,                  -- one line; never contains the API key
    details      VARCHAR                   -- JSON text: per-job extras (skipped coins, lock time, ...)
);

-- Watermarks: scope '*' is the job as a whole, otherwise a coin id (or category id).
CREATE TABLE ingest_state (
    job         VARCHAR NOT NULL,
    scope       VARCHAR NOT NULL,
    watermark   TIMESTAMP,                 -- everything up to here is stored
    detail      VARCHAR,                   -- JSON text, e.g. a backfill cursor
    updated_at  TIMESTAMP NOT NULL
);
