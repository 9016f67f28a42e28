"""One results interface for every analysis (event study, correlation, GPU estimate).

Each result carries the settings it ran with as a frozen dataclass ``settings`` and offers
``summary()`` (plain text), ``to_frames()`` (named tidy frames) and ``to_json()``, in the
statsmodels style of :class:`tracker.analysis.eventstudy.EventStudyResults`. Settings read like a
read-only mapping too (``results.settings["model"]``), so code that looked them up by name
keeps working; ``as_dict()`` gives a plain copy.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Iterator

import pandas as pd

from .output import to_json

__all__ = ["AnalysisResults", "Settings", "SettingsMap"]


@dataclasses.dataclass(frozen=True)
class Settings(Mapping):
    """Base of the frozen settings dataclasses; a field set to None is still a setting."""

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def __getitem__(self, key: str) -> Any:
        if key not in self._names():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def _names(self) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(self))

    __hash__ = None  # list-valued settings: compare, never hash


@dataclasses.dataclass(frozen=True, eq=False)
class SettingsMap(Settings):
    """Frozen settings whose names vary by analysis (the correlation analyses)."""

    entries: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries", MappingProxyType(dict(self.entries)))

    def as_dict(self) -> dict[str, Any]:
        return dict(self.entries)

    def _names(self) -> tuple[str, ...]:
        return tuple(self.entries)

    def __getitem__(self, key: str) -> Any:
        return self.entries[key]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())


class AnalysisResults:
    """What every analysis result offers; subclasses set ``settings`` and ``to_frames``."""

    settings: Settings

    def to_frames(self) -> dict[str, pd.DataFrame]:
        raise NotImplementedError

    def summary(self) -> str:
        """The settings, then each frame as a headed table."""
        from .output import render_sections

        settings = pd.DataFrame({"setting": list(self.settings), "value": [str(v) for v in self.settings.values()]})
        return render_sections({"settings": settings, **self.to_frames()}, "table")

    def to_json(self) -> str:
        return to_json({"settings": self.settings.as_dict(), **self.to_frames()})
