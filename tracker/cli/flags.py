"""Library errors name parameters (`tokens` is empty); the command line shows its flags (--tokens is empty).

A parameter's flag is its name with dashes, unless listed in FLAGS.
"""
from __future__ import annotations

# Library parameter -> the flag that sets it, where the two names differ.
FLAGS = {
    "benchmarks": "--against",
    "coin_id": "--coin",
    "events": "--event",
    "exchange_id": "--exchange",
    "event_ids": "--event",
    "mapping": "--map",
    "overrides": "--set",
    "markets": "--market",
    "pairing": "--pairs",
}


def flag(parameter: str) -> str:
    return FLAGS.get(parameter, "--" + parameter.replace("_", "-"))


def with_flags(exc: BaseException) -> str:
    """The error's message with each parameter it names written as the CLI flag."""
    message = str(exc)
    for parameter in getattr(exc, "parameters", ()):
        message = message.replace(f"`{parameter}`", flag(parameter))
    return message
