"""Charts of the correlation results, drawn with the tracker's shared chart style.

Each function takes a result of this package and returns a matplotlib figure; save it with
``tracker.analysis.plotting.save(fig, path)`` or embed it with ``tracker.analysis.plotting.to_svg(fig)`` (the
event-study report reuses :func:`heatmap` and :func:`change_chart` this way).
"""
from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd

from .. import plotting
from .matrix import MatrixResult

__all__ = ["heatmap", "rolling_chart", "change_chart", "cross_correlation_chart"]

_CMAP = "RdBu_r"  # red = moves together, blue = opposite, white = unrelated


def heatmap(result: MatrixResult | pd.DataFrame, title: str | None = None, *, annotate: bool | None = None):
    """Correlation heatmap in the matrix's (cluster) order; grey cells have too little overlap."""
    corr = result.corr if isinstance(result, MatrixResult) else result
    size = len(corr)
    side = min(14.0, max(4.5, 0.45 * size + 2.5))
    fig, ax = plotting.new_figure(side + 1.2, side)
    cmap = matplotlib.colormaps[_CMAP].with_extremes(bad="#d9d9d9")
    image = ax.imshow(np.ma.masked_invalid(corr.to_numpy(dtype=float)), cmap=cmap, vmin=-1, vmax=1)
    ax.grid(False)
    labels = [str(c) for c in corr.columns]
    ax.set_xticks(range(size), labels, rotation=90, fontsize=8 if size > 20 else 9)
    ax.set_yticks(range(size), labels, fontsize=8 if size > 20 else 9)
    if annotate is None:
        annotate = size <= 15
    if annotate:
        for i in range(size):
            for j in range(size):
                value = corr.iat[i, j]
                if np.isfinite(value):
                    ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7,
                            color="white" if abs(value) > 0.6 else "black")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="correlation")
    if title is None and isinstance(result, MatrixResult):
        s = result.settings
        kind, grid = s.get("kind"), s.get("grid")
        title = f"{s.get('method', '')} correlation of {f'{kind} ' if kind else ''}returns{f' ({grid})' if grid else ''}, clustered"
    if title:
        ax.set_title(title)
    return fig


def rolling_chart(frame: pd.DataFrame, value: str = "pearson", title: str | None = None, *, max_legend: int = 12,
                  window: int | None = None):
    """One line per (series, benchmark) of a rolling result (``rolling_table``'s frame, with its
    ``window`` setting, or the tidy frames of ``rolling_correlation`` / ``rolling_beta``)."""
    column = value if value in frame.columns else ("corr" if "corr" in frame.columns else "beta")
    fig, ax = plotting.new_figure(9, 4.8)
    groups = list(frame.groupby(["series", "benchmark"], sort=False))
    for (series, benchmark), group in groups:
        ax.plot(pd.to_datetime(group["ts"]), group[column], linewidth=1.1 if len(groups) <= max_legend else 0.6,
                label=f"{series} vs {benchmark}")
    if column != "beta":
        ax.set_ylim(-1.05, 1.05)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_ylabel("beta" if column == "beta" else f"{column} correlation")
    window = window or (int(frame["window"].iloc[0]) if "window" in frame and len(frame) else "")
    ax.set_title(title or f"rolling {window}-period {column}")
    if len(groups) <= max_legend:
        ax.legend(fontsize=8, loc="lower left", ncol=2)
    fig.autofmt_xdate()
    return fig


def change_chart(frame: pd.DataFrame, title: str | None = None, *, alpha: float = 0.05, event_ts=None):
    """Pre (open circle) and post (dot) correlation per pair; pairs whose change is
    significant at ``alpha`` (adjusted p) are drawn in red. Without a ``title``, the default
    one names ``event_ts`` when given."""
    rows = frame.reset_index(drop=True)
    height = max(3.0, 0.35 * len(rows) + 1.5)
    fig, ax = plotting.new_figure(8, height)
    labels = [f"{x} ~ {y}" for x, y in zip(rows["x"], rows["y"])]
    positions = np.arange(len(rows))[::-1]
    p_column = "p_adj" if "p_adj" in rows else "p_value"
    for y, (_, row) in zip(positions, rows.iterrows()):
        significant = bool(np.isfinite(row[p_column]) and row[p_column] < alpha)
        color = "#c0392b" if significant else "#34495e"
        ax.plot([row["r_pre"], row["r_post"]], [y, y], color=color, linewidth=1.2)
        ax.scatter([row["r_pre"]], [y], facecolors="white", edgecolors=color, zorder=3, s=30)
        ax.scatter([row["r_post"]], [y], color=color, zorder=3, s=30)
    ax.set_yticks(positions, labels, fontsize=8)
    ax.set_xlim(-1.05, 1.05)
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set_xlabel("correlation: pre (open) -> post (filled); red = change significant")
    if title is None:
        title = f"correlation before and after {pd.Timestamp(event_ts):%Y-%m-%d %H:%M} UTC" if event_ts is not None else "correlation change"
    ax.set_title(title)
    return fig


def cross_correlation_chart(ccf: pd.DataFrame, title: str | None = None, *, max_pairs: int = 8):
    """Cross-correlation against lag per pair, with the ±1.96/sqrt(n) band of no correlation.

    A peak right of zero means x moved first."""
    fig, ax = plotting.new_figure(9, 4.5)
    groups = list(ccf.groupby(["x", "y"], sort=False))[:max_pairs]
    for (x, y), group in groups:
        ax.plot(group["lag"], group["corr"], marker="o", markersize=3, linewidth=1, label=f"{x} -> {y}")
    if groups:
        n = ccf["n"].replace(0, np.nan).median()
        if np.isfinite(n):
            band = 1.96 / np.sqrt(n)
            ax.axhspan(-band, band, color="grey", alpha=0.15, label="|r| < 1.96/sqrt(n)")
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set_xlabel("lag k (periods): corr(x_t, y_t+k); k > 0 means x leads")
    ax.set_ylabel("correlation")
    ax.set_title(title or "cross-correlation of returns")
    ax.legend(fontsize=8)
    return fig
