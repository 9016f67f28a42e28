"""Correlation analyser: how AI tokens move with BTC, ETH, each other and outside series, and
how that changes around events.

The analyses work on plain wide DataFrames (index = UTC period, one column per series):
compute returns with :func:`to_returns`, then

* :func:`rolling_correlation`, :func:`rolling_beta` - trailing-window Pearson/Spearman and beta;
* :func:`correlation_matrix` - all pairs over pairwise overlaps, in cluster order;
* :func:`correlation_change` - pre- vs post-event correlations with Fisher's z test;
* :func:`cross_correlation`, :func:`lead_lag_summary`, :func:`move_timing` - who moved first;
* :func:`granger_causality` - Granger F tests with the lag order chosen by AIC/BIC;
* :func:`index_returns` - a cap- or equal-weighted AI index.

Every result is a tidy frame with the number of observations ``n`` behind each figure; the
plain-frame functions return plain frames (no ``attrs``: their settings are the arguments
given). :mod:`.service` runs the same analyses on data from the database (and outside series
from CSV) and returns :class:`CorrelationResults` (frames plus frozen settings);
:mod:`.correlation_charts` draws them.
See docs/correlation.md.
"""
from .event_change import all_pairs, bh_adjust, correlation_change, event_windows, fisher_z_test, pairs_against
from .external import SeriesFile, read_series_csv, read_series_file, to_grid
from .granger import granger_causality, granger_test, select_lag_order
from .index import index_returns
from .leadlag import cross_correlation, lead_lag_summary, move_timing
from .matrix import MatrixResult, correlation_matrix, matrix_from
from .pairwise import correlation_p_value, pairwise_correlation
from .results import CorrelationResults, to_json
from .returns import calendar_points, infer_frequency, to_returns
from .rolling import rolling_beta, rolling_correlation

__all__ = [
    "CorrelationResults",
    "MatrixResult",
    "SeriesFile",
    "all_pairs",
    "bh_adjust",
    "calendar_points",
    "correlation_change",
    "correlation_matrix",
    "correlation_p_value",
    "cross_correlation",
    "event_windows",
    "fisher_z_test",
    "granger_causality",
    "granger_test",
    "index_returns",
    "infer_frequency",
    "lead_lag_summary",
    "matrix_from",
    "move_timing",
    "pairs_against",
    "pairwise_correlation",
    "read_series_csv",
    "read_series_file",
    "rolling_beta",
    "rolling_correlation",
    "select_lag_order",
    "to_grid",
    "to_json",
    "to_returns",
]
