"""``python -m tracker.sources.fakegecko --port 0``: serve a fake CoinGecko until interrupted.

The first line on stdout is the API base URL (``http://127.0.0.1:PORT/api/v3``), so a parent
process can read it and point ``COINGECKO_BASE_URL`` at it.
"""
from __future__ import annotations

import argparse
import sys

from ..fakeserver.cli import iso_time, serve
from .server import HOST_TYPES, FakeGecko


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tracker.sources.fakegecko", description="Serve a fake CoinGecko API v3 on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port; default)")
    parser.add_argument("--host-type", choices=HOST_TYPES, default="public", help="public (keyless/Demo keys) or pro (Pro keys)")
    parser.add_argument("--rate-limit", type=float, default=0, metavar="N", help="requests allowed per window (0: no limit)")
    parser.add_argument("--rate-window", type=float, default=60.0, metavar="SECONDS", help="the rate-limit window (default 60)")
    parser.add_argument("--history-limit-days", type=int, default=365, help="history window for keyless/Demo callers")
    parser.add_argument("--require-key", action="store_true", help="refuse keyless callers (error 10002)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the deterministic data")
    parser.add_argument("--ai-coins", type=int, default=300, help="coins in the artificial-intelligence category")
    parser.add_argument("--other-coins", type=int, default=150, help="coins in other categories")
    parser.add_argument("--now", type=iso_time("2026-01-15T12:00:00"), default=None, help="freeze the data clock at this UTC time")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    fake = FakeGecko(
        port=args.port,
        host_type=args.host_type,
        seed=args.seed,
        ai_coins=args.ai_coins,
        other_coins=args.other_coins,
        rate_limit_per_minute=args.rate_limit or None,
        rate_window_seconds=args.rate_window,
        history_limit_days=args.history_limit_days,
        require_key=args.require_key,
        now=args.now,
    )
    return serve(fake)


if __name__ == "__main__":
    sys.exit(main())
