"""``python -m tracker.sources.fakeexchange --port 0``: serve a fake Binance/OKX until interrupted.

The first line on stdout is the REST root (``http://127.0.0.1:PORT``), so a parent process can
read it and point ``TRACKER_EXCHANGE_BASE_URL`` at it.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path

from .server import FakeExchange


def _when(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date-time such as 2024-03-01T12:00:00") from None


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
    parser.add_argument("--now", type=_when, default=None, help="freeze the fake's clock at this UTC time")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    fake = FakeExchange(port=args.port, data_dir=args.data_dir, seed=args.seed, now=args.now)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    fake.start()
    print(fake.base_url, flush=True)
    try:
        while not done.wait(0.5):
            pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
