"""The demo's cookbook queries: examples from docs/sql.md that `tracker demo` runs and shows.

They are meant to be read and copied into `tracker sql`, so they are written as a user would
write them (values inline) and run like user SQL, on the locked-down read-only connection of
:func:`storage.run_user_sql`.
"""
from __future__ import annotations

# Adapted to a database whose history starts with the demo's run: membership is only known
# from the first sync, so "AI tokens" here are today's members. (title, sql) pairs.
DEMO_QUERIES: tuple[tuple[str, str], ...] = (
    ("latest prices (coin_latest view)",
     "SELECT coin_id, symbol, round(price, 4) AS price, round(market_cap / 1e9, 3) AS market_cap_bn, market_cap_rank "
     "FROM coin_latest WHERE vs_currency = 'usd' ORDER BY market_cap_rank LIMIT 8"),
    ("seven-day move of today's AI members after the Sora demo (event_windows view)",
     "SELECT w.coin_id, round(100 * w.cum_return, 1) AS pct_7d, w.day AS through_day FROM event_windows w "
     "WHERE w.event_id = 'sora-demo' AND w.rel_day = 7 AND w.vs_currency = 'usd' "
     "AND w.coin_id IN (SELECT coin_id FROM category_members WHERE category_id = 'artificial-intelligence' AND valid_to IS NULL) "
     "ORDER BY pct_7d DESC"),
    ("history coverage (coverage view)",
     "SELECT coin_id, granularity, first_point, last_point, points, missing FROM coverage "
     "WHERE vs_currency = 'usd' AND coin_id IN ('bitcoin', 'fetch-ai', 'worldcoin-wld') ORDER BY granularity, coin_id"),
)
