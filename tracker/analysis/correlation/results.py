"""Results as tidy frames, and their JSON form.

Every analysis returns a long ("tidy") DataFrame: one row per figure, with the series it is
about, the method, the number of observations ``n`` behind it, and the figure. The
plain-frame functions return just that frame (no ``attrs``: their settings are the arguments
given). The analyses run on a panel (:mod:`.service`) return :class:`CorrelationResults`:
those frames with the settings that produced them (return kind, grid, window, min_overlap,
...) as a frozen ``settings``, in the common results interface of
:mod:`tracker.analysis.results`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import pandas as pd

from .. import output
from ..results import AnalysisResults, SettingsMap

__all__ = ["CorrelationResults", "to_json"]


@dataclass
class CorrelationResults(AnalysisResults):
    """One correlation analysis of a panel: its tidy frames (the main one first) and settings.

    Attributes
    ----------
    analysis : str
        rolling, change, leadlag, timing or granger.
    frames : dict of str -> DataFrame
    settings : SettingsMap
        The panel's settings, then the analysis' own (frozen; read by name).
    """

    analysis: str
    frames: dict[str, pd.DataFrame]
    settings: SettingsMap

    @classmethod
    def of(cls, analysis: str, frames: Mapping[str, pd.DataFrame], settings: Mapping[str, Any]) -> "CorrelationResults":
        """Results of ``analysis``: its frames, main one first, and the settings it ran with."""
        return cls(analysis, dict(frames), SettingsMap(settings))

    @property
    def frame(self) -> pd.DataFrame:
        """The main tidy frame."""
        return next(iter(self.frames.values()))

    def to_frames(self) -> dict[str, pd.DataFrame]:
        return dict(self.frames)


def to_json(result: Any, settings: Mapping[str, Any] | None = None) -> str:
    """JSON text for a tidy frame (``{"settings": settings, "rows": [...]}``, with the settings
    given), a result object with its own ``to_json``, or a mapping of frames and plain values."""
    if hasattr(result, "to_json") and not isinstance(result, pd.DataFrame):
        return result.to_json()
    if isinstance(result, pd.DataFrame):
        return output.to_json({"settings": dict(settings or {}), "rows": result})
    return output.to_json(result)
