"""Results as tidy frames, and their JSON form.

Every analysis returns a long ("tidy") DataFrame: one row per figure, with the series it is
about, the method, the number of observations ``n`` behind it, and the figure. The analyses
run on a panel (:mod:`.service`) return :class:`CorrelationResults`: those frames with the
settings that produced them (return kind, grid, window, min_overlap, ...) as a frozen
``settings``, in the common results interface of :mod:`tracker.analysis.results`. The
plain-frame functions still note their settings in ``frame.attrs`` for the next step, and
:func:`to_json` writes them next to the rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import pandas as pd

from .. import output
from ..results import AnalysisResults, SettingsMap

__all__ = ["CorrelationResults", "settings_of", "to_json"]


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
        """Results whose frames no longer carry the settings in ``attrs``."""
        for frame in frames.values():
            frame.attrs = {}
        return cls(analysis, dict(frames), SettingsMap(settings))

    @property
    def frame(self) -> pd.DataFrame:
        """The main tidy frame."""
        return next(iter(self.frames.values()))

    def to_frames(self) -> dict[str, pd.DataFrame]:
        return dict(self.frames)


def settings_of(frame: pd.DataFrame) -> dict:
    """The return settings :func:`tracker.analysis.correlation.to_returns` recorded on ``frame``."""
    return {key: frame.attrs[key] for key in ("kind", "freq", "max_span") if key in frame.attrs}


def to_json(result: Any) -> str:
    """JSON text for a tidy frame (``{"settings": attrs, "rows": [...]}``), a result object with
    its own ``to_json``, or a mapping of frames and plain values."""
    if hasattr(result, "to_json") and not isinstance(result, pd.DataFrame):
        return result.to_json()
    if isinstance(result, pd.DataFrame):
        return output.to_json({"settings": dict(result.attrs), "rows": result})
    if isinstance(result, Mapping):
        return output.to_json(result)
    return output.to_json(result)
