"""The control methods both fakes have, and the client that sends them over ``/__fake/...``.

A fake's ``ControlMethods`` subclasses :class:`CommonControl` with its own operations; the
server runs ``_control`` directly, a :class:`ControlClient` sends it over HTTP.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

import requests


class CommonControl:
    """Faults, stats and the clock: the operations every fake answers the same way."""

    def _control(self, method: str, op: str, payload: Any = None, query: Mapping[str, str] | None = None) -> Any:
        raise NotImplementedError

    def clear_faults(self) -> None:
        self._control("DELETE", "faults")

    def faults(self) -> list[dict[str, Any]]:
        return self._control("GET", "faults")["rules"]

    def stats(self) -> dict[str, Any]:
        """Calls in total, per endpoint and per status; faults fired; the request log."""
        return self._control("GET", "stats")

    def reset_stats(self) -> None:
        self._control("DELETE", "stats")

    def data_now(self) -> datetime:
        return datetime.fromisoformat(self._control("GET", "clock")["now"])

    def set_now(self, now: datetime | None, *, frozen: bool = True) -> datetime:
        """Set the fake's clock (None: back to real time)."""
        payload = {"now": now.isoformat() if now is not None else None, "frozen": frozen}
        return datetime.fromisoformat(self._control("POST", "clock", payload)["now"])

    def advance(self, seconds: float) -> datetime:
        return datetime.fromisoformat(self._control("POST", "clock", {"advance_seconds": seconds})["now"])


class ControlClient:
    """Sends control operations to a fake running elsewhere; mixed in before its ``ControlMethods``.

    ``NAME`` says which fake in errors; ``API_PREFIX`` is the path under the root its API
    answers at, stripped from ``url`` if given (``base_url`` has it, ``root_url`` not).
    """

    NAME = "fake server"
    API_PREFIX = ""

    def __init__(self, url: str, *, timeout: float = 10.0):
        root = url.rstrip("/")
        if self.API_PREFIX and root.endswith(self.API_PREFIX):
            root = root[: -len(self.API_PREFIX)]
        self.root_url = root
        self.base_url = root + self.API_PREFIX
        self.timeout = timeout
        self._session = requests.Session()

    def _control(self, method: str, op: str, payload: Any = None, query: Mapping[str, str] | None = None) -> Any:
        response = self._session.request(method, f"{self.root_url}/__fake/{op}", json=payload, params=query, timeout=self.timeout)
        if response.status_code != 200:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            raise ValueError(f"{self.NAME} refused {method} /__fake/{op}: {message}")
        return response.json()

    def close(self) -> None:
        self._session.close()


__all__ = ["CommonControl", "ControlClient"]
