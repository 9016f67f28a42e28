"""``python -m tracker.sources.fakeexchange --port 0``: serve a fake Binance/OKX until interrupted.

The first line on stdout is the REST root (``http://127.0.0.1:PORT``), so a parent process can
read it and point ``TRACKER_EXCHANGE_BASE_URL`` at it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..fakeserver.cli import iso_time, serve
from .server import FakeExchange


def _folder(text: str) -> Path:
    path = Path(text).expanduser()
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is not a folder")
    return path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tracker.sources.fakeexchange", description="Serve a fake Binance/OKX REST API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port; default)")
    parser.add_argument("--data-dir", type=_folder, default=None,
                        help="folder of <SYM>USDT_1h_close.csv real hourly closes (default: synthetic markets)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic data")
    parser.add_argument("--now", type=iso_time("2024-03-01T12:00:00"), default=None, help="freeze the fake's clock at this UTC time")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    fake = FakeExchange(port=args.port, data_dir=args.data_dir, seed=args.seed, now=args.now)
    return serve(fake)


if __name__ == "__main__":
    sys.exit(main())
