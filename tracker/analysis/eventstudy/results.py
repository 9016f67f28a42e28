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
from .evidence import lead_names
from .models import DESCRIPTIONS
from .placebo import PlaceboResults
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
    alpha: float = 0.05
    primary_window: str | None = None
    placebo_range: str | None = None
    calendar_time: bool = False
    portfolio_weights: str | None = None


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
    verdicts : DataFrame
        One row per window, the primary first: ``verdict`` (robust, mixed, none), the CAAR,
        the largest p-value it rests on and the findings sentence.
    evidence : DataFrame
        The p-values behind each verdict (lead tests, placebo), raw and Holm-adjusted across windows.
    placebo : PlaceboResults or None
        Placebo inference, when it was asked for.
    calendar_time : DataFrame or None
        The calendar-time portfolio regression per window, when it was asked for.
    diagnostics_table : DataFrame
        Event-induced variance, pre-event drift, residual checks, overlapping events, the
        benchmark's day-0 move.
    """

    arrays: StudyArrays
    tests: pd.DataFrame
    excluded: pd.DataFrame
    clustering: dict
    settings: EventStudySettings
    diagnostics: dict = field(default_factory=dict)
    verdicts: pd.DataFrame | None = None
    evidence: pd.DataFrame | None = None
    placebo: PlaceboResults | None = None
    calendar_time: pd.DataFrame | None = None
    diagnostics_table: pd.DataFrame | None = None

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
    @property
    def lead_test_names(self) -> tuple[str, str]:
        """The tests the verdict rests on: KP-BMP and GRANK when clustered, else BMP and GRANK."""
        return lead_names(self.clustered)

    @property
    def primary_window(self) -> str:
        return self.arrays.windows[0].label

    def lead_tests(self, scope: str = "window") -> pd.DataFrame:
        """Tests of one scope: the lead tests first, then the dependence-robust ones when events
        are clustered, then the rest; windows in the study's order (the primary first)."""
        table = self.tests[self.tests["scope"] == scope].copy()
        order = {name: i for i, name in enumerate(TESTS)}
        lead = {name: i for i, name in enumerate(self.lead_test_names)}
        table["_lead"] = table["test"].map(lead).fillna(len(lead))
        table["_robust_first"] = ~table["robust_to_cross_correlation"] if self.clustered else False
        table["_order"] = table["test"].map(order)
        table = table.sort_values(["_lead", "_robust_first", "_order"], kind="stable")
        return table.drop(columns=["_lead", "_robust_first", "_order"]).reset_index(drop=True)

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
        return {"study": self.study_frame(), "verdicts": self.verdicts, "caar": self.caar, "tests": self.lead_tests("window")}

    def evidence_frames(self) -> dict[str, pd.DataFrame]:
        """The verdicts, the p-values behind them, placebo, calendar-time and diagnostics frames."""
        frames = {"verdicts": self.verdicts, "evidence": self.evidence, "diagnostics": self.diagnostics_table}
        if self.placebo is not None:
            frames.update({"placebo": self.placebo.table, "placebo_pseudo": self.placebo.pseudo,
                           "placebo_excluded": self.placebo.excluded})
        if self.calendar_time is not None:
            frames["calendar_time"] = self.calendar_time
        return frames

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
                f"share dates; lead with the dependence-robust tests ({names}), and of those with the ones "
                "robust to event-induced variance too (KP-adjusted BMP and GRANK)."
            )
        if len(self.excluded):
            reasons = self.excluded["reason"].value_counts()
            lines.append("  excluded: " + "; ".join(f"{count} x {reason}" for reason, count in reasons.items()))
        caar = self.caar[["window", "caar", "median_car", "sd_car", "share_positive", "n"]]
        tests = self.lead_tests("window")
        shown = tests[["test", "window", "estimate", "statistic", "p_value", "distribution", "robust_to_cross_correlation"]]
        shown = shown.rename(columns={"robust_to_cross_correlation": "robust", "estimate": "caar"})
        shown = shown.assign(flag=tests["flag"]) if "flag" in tests else shown
        heading = "Window tests (lead tests, then dependence-robust)" if self.clustered else "Window tests (lead tests first)"
        return "\n".join(lines + self._verdict_lines()) + "\n\nCAAR per window\n" + to_table(caar) + "\n\n" + "\n\n".join(
            self._evidence_blocks()) + f"\n\n{heading}\n" + to_table(shown)

    def _verdict_lines(self) -> list[str]:
        if self.verdicts is None:
            return []
        v = self.verdicts.iloc[0]
        names = " and ".join(TESTS[t].title for t in self.lead_test_names)
        return [f"  verdict over the primary window {v['window']}: {v['finding']} (alpha {self.settings['alpha']:g}; "
                f"lead tests {names}{' and the placebo' if self.placebo is not None else ''})"]

    def _evidence_blocks(self) -> list[str]:
        blocks = []
        if self.verdicts is not None:
            table = self.evidence.pivot(index="window", columns="component", values=["p_value", "p_holm"])
            components = list(dict.fromkeys(self.evidence["component"]))
            table = table.reindex(columns=[(k, c) for k in ("p_value", "p_holm") for c in components])
            table.columns = [f"{c}_{'p' if k == 'p_value' else 'p_holm'}" for k, c in table.columns]
            shown = self.verdicts[["window", "verdict", "caar"]].merge(table.reset_index(), on="window", how="left")
            blocks.append("Verdict per window (primary first; Holm-adjusted across windows)\n" + to_table(shown))
        if self.placebo is not None:
            blocks.append(f"Placebo: pseudo-events {self.placebo.range.label}\n" + to_table(self.placebo.table))
        if self.calendar_time is not None:
            blocks.append("Calendar-time portfolio regression (OLS, Newey-West errors)\n" + to_table(self.calendar_time))
        if self.diagnostics_table is not None:
            blocks.append("Diagnostics\n" + to_table(self.diagnostics_table))
        return blocks

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
            **{k: v for k, v in self.evidence_frames().items() if v is not None},
        }

    def to_dict(self) -> dict[str, Any]:
        return {"settings": self.settings.as_dict(), "clustering": self.clustering, "diagnostics": self.diagnostics, **self.to_frames()}

    def to_json(self) -> str:
        """Every number of the study as JSON (NaN becomes null)."""
        return _to_json(self.to_dict())
