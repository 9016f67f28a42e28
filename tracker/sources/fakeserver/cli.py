"""The ``python -m`` entry both fakes share: an ISO date-time option and serving until a signal."""
from __future__ import annotations

import argparse
import signal
import threading
from datetime import datetime
from typing import Any, Callable


def iso_time(example: str) -> Callable[[str], datetime]:
    """An argparse type for ``--now``: an ISO date-time (a trailing Z allowed); ``example`` for the error."""

    def _when(text: str) -> datetime:
        try:
            return datetime.fromisoformat(text.replace("Z", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date-time such as {example}") from None

    return _when


def serve(fake: Any) -> int:
    """Start ``fake``, print its base URL as the first line on stdout, serve until SIGINT or SIGTERM."""
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


__all__ = ["iso_time", "serve"]
