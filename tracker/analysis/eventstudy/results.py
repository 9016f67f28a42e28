"""The fitted study: abnormal returns, CARs, AAR/CAAR, estimation figures, the test table.

Frames are built on first access from the arrays the engine keeps, so a study used only for
its test table (a Monte Carlo, a benchmark) never pays for the long frames.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..output import to_json as _to_json
from ..output import to_table
from ..results import AnalysisResults, Settings
from .battery import ROBUST_TESTS, TESTS
from .models import DESCRIPTIONS
from .windows import Window


@dataclass
class StudyArrays:
    """What the engine computed, for the N included security-events."""

    event_id: np.ndarray        # (N,) str
    security: np.ndarray        # (N,) str
    benchmark: np.ndarray       # (N,) str
    event_time: np.ndarray      # (N,) datetime64: the announcement
    day0: np.ndarray            # (N,) row position of day 0 in the returns index
    index: pd.DatetimeIndex     # the returns index the positions refer to
    days: np.ndarray            # (D,) relative periods of the event span
    returns: np.ndarray         # (N, D)
    market: np.ndarray          # (N, D)
    expected: np.ndarray        # (N, D)
    ar: np.ndarray              # (N, D)
    ar_variance: np.ndarray     # (N, D)
    windows: list[Window]
    car: np.ndarray             # (N, W)
    car_variance: np.ndarray    # (N, W)
    alpha: np.ndarray
    beta: np.ndarray
    sigma: np.ndarray
    r_squared: np.ndarray
    n_obs: np.ndarray
    df: np.ndarray


@dataclass(frozen=True)
class EventStudySettings(Settings):
    """The conventions a study ran with (read by name too: ``settings["model"]``)."""

    model: str
    model_description: str
    benchmark: str
    return_kind: str
    frequency: str
    day_boundary: str | None
    benchmark_gaps: str | None
    estimation_window: str
    estimation_length: int
    event_windows: list
    min_estimation_obs: int
    max_zero_share: float
    exclude_other_events: bool
    n_events: int
    event_ids: list
    first_period: Any
    last_period: Any
    # Where the prices came from (database studies): {"rule": ..., "coins": {coin_id: "source (quote)"}}
    sources: Any = None


@dataclass
class EventStudyResults(AnalysisResults):
    """Results of :meth:`EventStudy.fit`.

    Attributes
    ----------
    abnormal_returns : DataFrame
        AR per relative period (rows) and security-event (columns ``(event_id, security)``).
    car : DataFrame
        One row per security-event and window: CAR, its standard deviation and SCAR.
    aar : DataFrame
        AAR per relative period of the event span, its cumulative sum and cross-sectional sd.
    caar : DataFrame
        CAAR per event window.
    estimation : DataFrame
        alpha, beta, sigma, R^2, observations and degrees of freedom per security-event.
    tests : DataFrame
        The test battery: test, scope (window or day), window, estimate, statistic, two-sided
        p-value, distribution, df, n, and whether the test is robust to cross-correlation.
    excluded : DataFrame
        Security-events left out, with the reason.
    clustering : dict
        How many security-events share day 0 with another security, and the mean residual
        correlation.
    settings : EventStudySettings
        The conventions the study ran with.
    """

    arrays: StudyArrays
    tests: pd.DataFrame
    excluded: pd.DataFrame
    clustering: dict
    settings: EventStudySettings
    diagnostics: dict = field(default_factory=dict)

    # ---- frames -------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return len(self.arrays.security)

    @property
    def clustered(self) -> bool:
        return bool(self.clustering.get("clustered"))

    @cached_property
    def _columns(self) -> pd.MultiIndex:
        return pd.MultiIndex.from_arrays([self.arrays.event_id, self.arrays.security], names=["event_id", "security"])

    @cached_property
    def abnormal_returns(self) -> pd.DataFrame:
        a = self.arrays
        return pd.DataFrame(a.ar.T, index=pd.Index(a.days, name="relative_period"), columns=self._columns)

    @cached_property
    def estimation(self) -> pd.DataFrame:
        a = self.arrays
        return pd.DataFrame(
            {
                "event_id": a.event_id,
                "security": a.security,
                "benchmark": a.benchmark,
                "event_time": pd.DatetimeIndex(a.event_time),
                "day0": a.index[a.day0],
                "alpha": a.alpha,
                "beta": a.beta,
                "sigma": a.sigma,
                "r_squared": a.r_squared,
                "n_obs": a.n_obs.astype("int64"),
                "df": a.df.astype("int64"),
            }
        )

    @cached_property
    def car(self) -> pd.DataFrame:
        a = self.arrays
        n, w = a.car.shape
        sd = np.sqrt(a.car_variance)
        return pd.DataFrame(
            {
                "event_id": np.repeat(a.event_id, w),
                "security": np.repeat(a.security, w),
                "window": np.tile([x.label for x in a.windows], n),
                "start": np.tile([x.start for x in a.windows], n),
                "end": np.tile([x.end for x in a.windows], n),
                "car": a.car.ravel(),
                "sd_car": sd.ravel(),
                "scar": (a.car / sd).ravel(),
            }
        )

    @cached_property
    def aar(self) -> pd.DataFrame:
        a = self.arrays
        aar = a.ar.mean(axis=0)
        sd = a.ar.std(axis=0, ddof=1) if self.n > 1 else np.full(len(a.days), np.nan)
        return pd.DataFrame(
            {
                "relative_period": a.days,
                "aar": aar,
                "caar": np.cumsum(aar),
                "sd_ar": sd,
                "share_positive": (a.ar > 0).mean(axis=0),
                "n": self.n,
            }
        )

    @cached_property
    def caar(self) -> pd.DataFrame:
        a = self.arrays
        sd = a.car.std(axis=0, ddof=1) if self.n > 1 else np.full(len(a.windows), np.nan)
        return pd.DataFrame(
            {
                "window": [w.label for w in a.windows],
                "start": [w.start for w in a.windows],
                "end": [w.end for w in a.windows],
                "caar": a.car.mean(axis=0),
                "median_car": np.median(a.car, axis=0),
                "sd_car": sd,
                "share_positive": (a.car > 0).mean(axis=0),
                "n": self.n,
            }
        )

    @cached_property
    def abnormal_returns_long(self) -> pd.DataFrame:
        """One row per security-event and relative period: returns, benchmark, normal return, AR, its sd, SAR."""
        a = self.arrays
        n, d = a.ar.shape
        positions = (a.day0[:, None] + a.days[None, :]).ravel()
        return pd.DataFrame(
            {
                "event_id": np.repeat(a.event_id, d),
                "security": np.repeat(a.security, d),
                "relative_period": np.tile(a.days, n),
                "period": a.index[positions],
                "return": a.returns.ravel(),
                "benchmark_return": a.market.ravel(),
                "expected_return": a.expected.ravel(),
                "abnormal_return": a.ar.ravel(),
                "sd_abnormal_return": np.sqrt(a.ar_variance).ravel(),
                "standardized_ar": (a.ar / np.sqrt(a.ar_variance)).ravel(),
            }
        )

    # ---- summaries ----------------------------------------------------------------------
    def lead_tests(self, scope: str = "window") -> pd.DataFrame:
        """Tests of one scope, the dependence-robust ones first when events are clustered."""
        table = self.tests[self.tests["scope"] == scope].copy()
        order = {name: i for i, name in enumerate(TESTS)}
        table["_robust_first"] = ~table["robust_to_cross_correlation"] if self.clustered else False
        table["_order"] = table["test"].map(order)
        table = table.sort_values(["_robust_first", "_order"], kind="stable")
        return table.drop(columns=["_robust_first", "_order"]).reset_index(drop=True)

    def study_frame(self) -> pd.DataFrame:
        """One row describing the study: sample, model, windows, clustering."""
        s, c = self.settings, self.clustering
        return pd.DataFrame(
            [
                {
                    "events": s["n_events"],
                    "security_events": self.n,
                    "excluded": len(self.excluded),
                    "model": s["model"],
                    "benchmark": s["benchmark"],
                    "frequency": s["frequency"],
                    "estimation_window": s["estimation_window"],
                    "event_windows": ", ".join(s["event_windows"]),
                    "share_same_period": c["share_same_period"],
                    "event_periods": c["event_periods"],
                    "largest_cluster": c["largest_cluster"],
                    "mean_residual_correlation": c["mean_residual_correlation"],
                    "clustered": c["clustered"],
                }
            ]
        )

    def summary_frames(self) -> dict[str, pd.DataFrame]:
        """The summary as frames: the study, CAAR per window, the window tests (robust first if clustered)."""
        return {"study": self.study_frame(), "caar": self.caar, "tests": self.lead_tests("window")}

    def summary(self) -> str:
        """A plain-text report: sample, conventions, clustering, CAARs and the window tests."""
        s, c = self.settings, self.clustering
        lines = [
            f"Event study: {DESCRIPTIONS[s['model']]}",
            f"  events: {s['n_events']} ({', '.join(s['event_ids'][:6])}{', ...' if s['n_events'] > 6 else ''})"
            f"   security-events used: {self.n}, excluded: {len(self.excluded)}",
            f"  benchmark: {s['benchmark']}   returns: {s['return_kind']}, {s['frequency']} periods"
            + (f" ending {s['day_boundary']} UTC" if s["frequency"] == "daily" else ""),
            f"  estimation window {s['estimation_window']} ({s['estimation_length']} periods, at least "
            f"{s['min_estimation_obs']} observations)   event windows {', '.join(s['event_windows'])}",
            f"  clustering: {c['share_same_period']:.0%} of security-events share day 0 with another security "
            f"({c['event_periods']} event period(s), up to {c['largest_cluster']} securities); "
            f"mean residual correlation {c['mean_residual_correlation']:.3f}",
        ]
        if s["sources"]:
            coins = "; ".join(f"{coin} from {where}" for coin, where in s["sources"]["coins"].items())
            lines.append(f"  prices: {s['sources']['rule']}: {coins}")
        if self.clustered:
            names = ", ".join(TESTS[t].title for t in ROBUST_TESTS)
            lines.append(
                "  -> clustered events: tests that treat security-events as independent over-reject when they "
                f"share dates; lead with the dependence-robust tests ({names})."
            )
        if len(self.excluded):
            reasons = self.excluded["reason"].value_counts()
            lines.append("  excluded: " + "; ".join(f"{count} x {reason}" for reason, count in reasons.items()))
        caar = self.caar[["window", "caar", "median_car", "sd_car", "share_positive", "n"]]
        tests = self.lead_tests("window")
        shown = tests[["test", "window", "estimate", "statistic", "p_value", "distribution", "robust_to_cross_correlation"]]
        shown = shown.rename(columns={"robust_to_cross_correlation": "robust", "estimate": "caar"})
        heading = "Window tests (dependence-robust first)" if self.clustered else "Window tests"
        return "\n".join(lines) + "\n\nCAAR per window\n" + to_table(caar) + f"\n\n{heading}\n" + to_table(shown)

    def __str__(self) -> str:  # pragma: no cover - convenience
        return self.summary()

    # ---- export -------------------------------------------------------------------------
    def to_frames(self) -> dict[str, pd.DataFrame]:
        """Every result as a tidy frame (the long AR frame has one row per security-event and period)."""
        return {
            "abnormal_returns": self.abnormal_returns_long,
            "car": self.car,
            "aar": self.aar,
            "caar": self.caar,
            "estimation": self.estimation,
            "tests": self.tests,
            "excluded": self.excluded,
            "study": self.study_frame(),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"settings": self.settings.as_dict(), "clustering": self.clustering, "diagnostics": self.diagnostics, **self.to_frames()}

    def to_json(self) -> str:
        """Every number of the study as JSON (NaN becomes null)."""
        return _to_json(self.to_dict())
