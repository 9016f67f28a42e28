"""Order series so that those that move together sit together (hierarchical clustering).

Distance between two series is ``sqrt((1 - r) / 2)``: 0 for r = 1, about 0.71 for r = 0, 1 for
r = -1 (a proper metric for correlations, as in Mantegna 1999). Clusters are joined by average
linkage and the leaves put in the optimal order (scipy's ``optimal_ordering``), so neighbours in
the heatmap are as similar as the tree allows.

A pair without enough overlap has no correlation; it is given r = 0 (no information, distance
0.71) for the clustering only, and stays NaN in every figure reported.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.cluster import hierarchy
from scipy.spatial.distance import squareform

__all__ = ["LINKAGES", "correlation_distance", "cluster_order"]

LINKAGES = ("average", "complete", "single", "weighted")


def correlation_distance(corr: pd.DataFrame) -> pd.DataFrame:
    """``sqrt((1 - r) / 2)`` with unknown correlations treated as 0 and a zero diagonal."""
    values = corr.to_numpy(dtype=float, copy=True)
    values = np.where(np.isnan(values), 0.0, values)
    distance = np.sqrt(np.clip((1.0 - values) / 2.0, 0.0, 1.0))
    distance = (distance + distance.T) / 2.0  # exact symmetry for squareform
    np.fill_diagonal(distance, 0.0)
    return pd.DataFrame(distance, index=corr.index, columns=corr.columns)


def cluster_order(corr: pd.DataFrame, linkage: str = "average") -> tuple[list, np.ndarray | None]:
    """Leaf order of a hierarchical clustering of a correlation matrix.

    Parameters
    ----------
    corr : DataFrame
        Square correlation matrix (NaN allowed).
    linkage : {"average", "complete", "single", "weighted"}

    Returns
    -------
    (order, tree) : tuple
        The column labels in cluster order, and scipy's linkage matrix (None for fewer than
        three series, where any order is the same). Series with no correlation to any other
        are placed last, in their original order.
    """
    if linkage not in LINKAGES:
        raise ValueError(f"linkage must be one of {', '.join(LINKAGES)}")
    labels = list(corr.columns)
    off_diagonal = corr.to_numpy(dtype=float, copy=True)
    np.fill_diagonal(off_diagonal, np.nan)
    isolated = [label for label, row in zip(labels, off_diagonal) if np.isnan(row).all()] if len(labels) > 1 else []
    linked = [label for label in labels if label not in isolated]
    if len(linked) < 3:
        return linked + isolated, None
    distance = correlation_distance(corr.loc[linked, linked])
    tree = hierarchy.linkage(squareform(distance.to_numpy(), checks=False), method=linkage, optimal_ordering=True)
    return [linked[i] for i in hierarchy.leaves_list(tree)] + isolated, tree
