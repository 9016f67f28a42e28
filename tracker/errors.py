"""Errors raised by the tracker's services (the storage layer has its own, in storage.errors).

Hierarchy::

    TrackerError
    ├── ConfigError         a config file, environment variable or option has a bad value
    ├── EventsError         an event is malformed or its id is taken
    ├── InputError          a file or argument given by the user cannot be used
    └── AnalysisError       a study cannot be computed from the data given

The CoinGecko client's errors (tracker.sources.coingecko.errors) also derive from TrackerError.
Messages are one line and never contain an API key. A message names the library's own
parameters, in backticks (`tokens` is empty), and lists them in ``parameters``; the CLI shows
each as its flag (--tokens is empty), see ``tracker.cli.flags``.
"""
from __future__ import annotations

from typing import Iterable

__all__ = ["AnalysisError", "ConfigError", "EventsError", "InputError", "TrackerError", "describe", "first_line"]


class TrackerError(Exception):
    """Base class for every failure the CLI reports as one line."""

    def __init__(self, *args: object, parameters: Iterable[str] = ()):
        super().__init__(*args)
        self.parameters = tuple(parameters)  # named in the message as `name`


class ConfigError(TrackerError):
    pass


class EventsError(TrackerError):
    pass


class InputError(TrackerError):
    pass


class AnalysisError(TrackerError):
    pass


def first_line(exc: BaseException | str, default: str = "") -> str:
    """The first line of an error's message (``default`` when it has none), for one-line errors.

    storage.errors has the same helper for its layer. This one is not imported from there
    because importing ``storage`` loads DuckDB, and the CoinGecko client must not depend on it.
    """
    text = str(exc).strip()
    return text.splitlines()[0] if text else default


def describe(exc: BaseException) -> str:
    """``"Kind: first line of the message"`` for an exception nobody expected, on one line."""
    text = first_line(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
