"""Fault rules as plain data, and the book that matches and consumes them.

Each fake subclasses :class:`BaseFaultRule` with its kinds (``KINDS``), any extra fields, the
counters ``matched`` and ``fired`` last (so ``to_dict`` keeps its order) and ``matches``, which
says what a request is to it (a path, or a path and its endpoint template).
"""
from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Mapping


@dataclass
class BaseFaultRule:
    """Which requests to spoil, and how: the fields every fake's rules have."""

    KINDS: ClassVar[tuple[str, ...]] = ()

    kind: str
    endpoint: str = "*"
    params: dict[str, str] = field(default_factory=dict)
    times: int | None = 1
    skip: int = 0
    status: int | None = None
    retry_after: float | str | None = None
    delay: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; kinds: {', '.join(self.KINDS)}")
        if self.times is not None and self.times < 0:
            raise ValueError("times must be at least 0 (or null for every request)")
        if self.skip < 0:
            raise ValueError("skip must be at least 0")
        if self.kind == "server_error" and self.status is not None and not 500 <= int(self.status) <= 599:
            raise ValueError("server_error status must be 5xx")
        self.params = {str(k): str(v) for k, v in (self.params or {}).items()}

    def matches(self, *request: Any) -> bool:
        raise NotImplementedError

    def params_match(self, params: Mapping[str, str]) -> bool:
        return all(params.get(k) == v for k, v in self.params.items())

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def _check_shape(cls, data: Any) -> None:
        if not isinstance(data, Mapping):
            raise ValueError("a fault rule must be a JSON object")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "BaseFaultRule":
        cls._check_shape(data)
        known = {f for f in cls.__dataclass_fields__ if f not in ("matched", "fired")}
        unknown = sorted(set(data) - known - {"matched", "fired"})
        if unknown:
            raise ValueError(f"unknown fault rule field(s): {', '.join(unknown)}")
        if "kind" not in data:
            raise ValueError("a fault rule needs a kind")
        return cls(**{k: v for k, v in data.items() if k in known})


class FaultBook:
    """The active rules, consulted for every API request (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Any] = []

    def add(self, rule: Any) -> Any:
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.to_dict() for r in self._rules]

    def pick(self, *request: Any) -> Any:
        """The first live rule matching this request (counting it), or None; ``request`` goes to ``matches``."""
        with self._lock:
            for rule in self._rules:
                if rule.exhausted or not rule.matches(*request):
                    continue
                rule.matched += 1
                if rule.matched <= rule.skip:
                    continue
                rule.fired += 1
                return rule
        return None


__all__ = ["BaseFaultRule", "FaultBook"]
