"""GPU-demand estimator: the Factorial Funds Sora compute model with every assumption a parameter.

Typical use::

    from tracker.analysis.gpu import load_assumptions, estimate
    result = estimate(load_assumptions(overrides={"denoising_steps": 50}))
    result.value("peak_h100"), result.outputs_frame(), result.notes

See docs/gpu.md for the model step by step.
"""
from .assumptions import NAMES, AssumptionInfo, Assumptions, AssumptionSet, load_assumptions, parse_set, parse_value
from .model import ARITHMETIC, ARTICLE, EXACT, METRICS, Outputs, compute
from .published import PUBLISHED, reproduction
from .results import Estimate, SensitivityResult, estimate
from .sensitivity import grid, sensitivity, tornado
from .sensitivity_charts import check_chart_path, grid_figure, tornado_figure

__all__ = [
    "ARITHMETIC",
    "ARTICLE",
    "AssumptionInfo",
    "AssumptionSet",
    "Assumptions",
    "EXACT",
    "Estimate",
    "METRICS",
    "NAMES",
    "Outputs",
    "PUBLISHED",
    "SensitivityResult",
    "check_chart_path",
    "compute",
    "estimate",
    "grid",
    "grid_figure",
    "load_assumptions",
    "parse_set",
    "parse_value",
    "reproduction",
    "sensitivity",
    "tornado",
    "tornado_figure",
]
