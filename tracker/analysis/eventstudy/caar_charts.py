"""Charts of a fitted study: CAAR over the event span with a confidence band, CAR per token.

Both return a matplotlib (figure, axes) pair drawn with :func:`tracker.analysis.plotting.new_figure`;
pass the figure to :func:`tracker.analysis.plotting.to_svg` or :func:`tracker.analysis.plotting.save`.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

from ...errors import InputError
from ..plotting import new_figure
from .results import EventStudyResults
from .windows import as_window

BANDS = ("auto", "crude-dependence", "cross-sectional")


def caar_band(results: EventStudyResults, band: str = "auto", confidence: float = 0.95):
    """CAAR cumulated over the event span, with its lower and upper confidence limits.

    ``crude-dependence`` uses sd(AAR over the estimation window) * sqrt(periods cumulated),
    which carries the cross-correlation of clustered events; ``cross-sectional`` uses the
    cross-sectional sd of the cumulated CARs / sqrt(N). ``auto`` picks the first when the
    study is clustered.

    Returns
    -------
    (days, caar, lower, upper, band_used)
    """
    if band not in BANDS:
        raise InputError(f"band {band!r} must be one of {', '.join(BANDS)}")
    if band == "auto":
        band = "crude-dependence" if results.clustered else "cross-sectional"
    a = results.arrays
    cumulative = np.cumsum(a.ar, axis=1)
    caar = cumulative.mean(axis=0)
    periods = np.arange(1, len(a.days) + 1)
    if band == "crude-dependence":
        sd = results.diagnostics["estimation_aar_sd"] * np.sqrt(periods)
    else:
        sd = cumulative.std(axis=0, ddof=1) / np.sqrt(cumulative.shape[0]) if cumulative.shape[0] > 1 else np.full(len(caar), np.nan)
    z = stats.norm.ppf(0.5 + confidence / 2)
    return a.days, caar, caar - z * sd, caar + z * sd, band


def caar_chart(results: EventStudyResults, band: str = "auto", confidence: float = 0.95, title: str | None = None):
    """CAAR over the event span (cumulated from its first period) with a confidence band."""
    days, caar, lower, upper, used = caar_band(results, band, confidence)
    fig, ax = new_figure()
    ax.fill_between(days, lower * 100, upper * 100, alpha=0.25, color="tab:blue", label=f"{confidence:.0%} band ({used})")
    ax.plot(days, caar * 100, marker="o", color="tab:blue", label=f"CAAR (N = {results.n})")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.axvline(0, color="tab:red", linestyle="--", linewidth=0.8, label="day 0")
    unit = "day" if results.settings["frequency"] == "daily" else "hour"
    ax.set_xlabel(f"relative {unit}")
    ax.set_ylabel("cumulative average abnormal return (%)")
    ax.set_title(title or f"CAAR, {', '.join(results.settings['event_ids'][:3])} ({results.settings['model']} model)")
    ax.legend(loc="best", fontsize=8)
    return fig, ax


def car_bar_chart(results: EventStudyResults, window: object | None = None, confidence: float = 0.95, title: str | None = None):
    """CAR per security-event over one window (default: the last event window), with error bars."""
    a = results.arrays
    if window is None:
        position = len(a.windows) - 1
    else:
        wanted = as_window(window, "window")
        if wanted not in a.windows:
            raise InputError(f"window {wanted.label} is not one of the study's event windows ({', '.join(w.label for w in a.windows)})")
        position = a.windows.index(wanted)
    car = a.car[:, position] * 100
    sd = np.sqrt(a.car_variance[:, position]) * 100
    several_events = len(set(a.event_id.tolist())) > 1
    labels = np.array([f"{s} ({e})" if several_events else s for s, e in zip(a.security, a.event_id)])
    order = np.argsort(-car)
    z = stats.norm.ppf(0.5 + confidence / 2)
    height = max(3.0, 0.28 * len(car) + 1.2)
    fig, ax = new_figure(8, height)
    colors = np.where(car[order] >= 0, "tab:green", "tab:red")
    ax.barh(np.arange(len(car)), car[order], xerr=z * sd[order], color=colors, alpha=0.8, error_kw={"elinewidth": 0.8})
    ax.set_yticks(np.arange(len(car)), labels[order])
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(f"CAR over {a.windows[position].label} (%), bars = {confidence:.0%} interval from the estimation variance")
    ax.set_title(title or f"CAR per security, window {a.windows[position].label}")
    return fig, ax
