"""Event studies on plain DataFrames: models, the test battery, results, charts, and the
database loader that feeds them.

See docs/eventstudy.md for every formula and convention.
"""
from .battery import ROBUST_TESTS, TESTS
from .calendar import align_benchmark, returns_from_prices
from .models import MODELS, canonical_model
from .placebo import PlaceboResults
from .results import EventStudyResults, EventStudySettings
from .study import EventStudy
from .windows import Window, as_window, parse_windows

__all__ = [
    "MODELS",
    "ROBUST_TESTS",
    "TESTS",
    "EventStudy",
    "EventStudyResults",
    "EventStudySettings",
    "PlaceboResults",
    "Window",
    "align_benchmark",
    "as_window",
    "canonical_model",
    "parse_windows",
    "returns_from_prices",
]
