"""The correlation matrix of a set of series, in cluster order, with overlaps and p-values."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..results import AnalysisResults, SettingsMap
from .clustering import cluster_order
from .pairwise import correlation_p_value, pairwise_correlation
from .results import to_json

__all__ = ["MatrixResult", "correlation_matrix", "matrix_from"]


@dataclass
class MatrixResult(AnalysisResults):
    """A correlation matrix and everything needed to read it honestly.

    Attributes
    ----------
    corr : DataFrame
        Square correlations, rows and columns in ``order``; NaN where the overlap is short.
    n : DataFrame
        Shared periods behind each correlation (same order).
    p_value : DataFrame
        Two-sided p-value of "no correlation" per pair (no correction for the many pairs).
    order : list
        Series labels in hierarchical-clustering order (or as given when not clustered).
    tree : ndarray or None
        scipy linkage matrix, for a dendrogram.
    settings : SettingsMap
        method, min_overlap, clustered, linkage (frozen); from a panel
        (:func:`.service.matrix_result`) also its grid, return kind, range and series.
    """

    corr: pd.DataFrame
    n: pd.DataFrame
    p_value: pd.DataFrame
    order: list
    tree: np.ndarray | None = None
    settings: SettingsMap = field(default_factory=SettingsMap)

    def __post_init__(self) -> None:
        if not isinstance(self.settings, SettingsMap):
            self.settings = SettingsMap(self.settings)

    def tidy(self) -> pd.DataFrame:
        """One row per pair (upper triangle in matrix order): x, y, method, n, corr, p_value."""
        rows = []
        labels = self.order
        for i, x in enumerate(labels):
            for y in labels[i + 1:]:
                rows.append((x, y, int(self.n.at[x, y]), self.corr.at[x, y], self.p_value.at[x, y]))
        frame = pd.DataFrame(rows, columns=["x", "y", "n", "corr", "p_value"])
        frame.insert(2, "method", self.settings.get("method"))
        return frame

    def wide(self) -> pd.DataFrame:
        """The matrix as a frame with a leading ``series`` column (for tables and CSV)."""
        frame = self.corr.copy()
        frame.insert(0, "series", frame.index)
        return frame.reset_index(drop=True)

    def to_frames(self) -> dict[str, pd.DataFrame]:
        """The pairs (tidy), the matrix (wide) and the overlaps behind it, in matrix order."""
        overlaps = self.n.copy()
        overlaps.insert(0, "series", overlaps.index)
        return {"pairs": self.tidy(), "correlation": self.wide(), "observations": overlaps.reset_index(drop=True)}

    def to_json(self) -> str:
        """Settings, order, and the pairs as records."""
        return to_json({"settings": self.settings, "order": list(self.order), "pairs": self.tidy()})


def correlation_matrix(
    returns: pd.DataFrame,
    method: str = "pearson",
    min_overlap: int = 20,
    *,
    cluster: bool = True,
    linkage: str = "average",
) -> MatrixResult:
    """Correlations of all pairs of series over pairwise overlaps, ordered by clustering.

    Parameters
    ----------
    returns : DataFrame
        Wide returns (see :func:`tracker.analysis.correlation.to_returns`).
    method : {"pearson", "spearman"}
    min_overlap : int
        Fewer shared periods than this gives NaN; the count is in ``n`` either way.
    cluster : bool
        Order rows and columns by hierarchical clustering (average linkage on
        ``sqrt((1 - r) / 2)``); otherwise keep the given column order.
    linkage : str
        scipy linkage method.

    Returns
    -------
    MatrixResult
    """
    corr, n = pairwise_correlation(returns, method, min_overlap)
    return matrix_from(corr, n, {"method": method, "min_overlap": int(min_overlap)}, cluster=cluster, linkage=linkage)


def matrix_from(corr: pd.DataFrame, n: pd.DataFrame, settings: dict, *, cluster: bool = True,
                linkage: str = "average") -> MatrixResult:
    """A :class:`MatrixResult` from square correlation and overlap frames already computed
    (e.g. assembled from pairs measured on different calendars)."""
    order, tree = cluster_order(corr, linkage) if cluster and len(corr) else (list(corr.columns), None)
    corr, n = corr.loc[order, order], n.loc[order, order]
    p = pd.DataFrame(correlation_p_value(corr.to_numpy(), n.to_numpy()), index=order, columns=order)
    settings = dict(settings) | {"clustered": bool(cluster), "linkage": linkage if cluster else None}
    return MatrixResult(corr, n, p, order, tree, settings)
