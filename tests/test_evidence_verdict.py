"""The verdict, Holm-adjusted p-values, the event-variance flag and the diagnostics table."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.diagnostic import acorr_ljungbox
from statsmodels.stats.multitest import multipletests

from tracker.analysis.eventstudy import EventStudy, evidence
from tracker.analysis.eventstudy import diagnostics as diag
from tracker.errors import InputError

from .test_placebo import panel


def test_holm_equals_statsmodels():
    p = np.array([0.01, 0.04, 0.03, 0.2, 0.005])
    assert evidence.holm(p) == pytest.approx(multipletests(p, method="holm")[1])
    with_nan = evidence.holm([0.02, np.nan, 0.03])
    assert np.isnan(with_nan[1]) and with_nan[[0, 2]] == pytest.approx(multipletests([0.02, 0.03], method="holm")[1])


def _tests(p_kp_bmp: float, p_grank: float, window: str = "[0, 5]") -> pd.DataFrame:
    return pd.DataFrame({"test": ["kp_bmp", "grank", "bw1985"], "scope": "window", "window": window,
                         "p_value": [p_kp_bmp, p_grank, 0.0001]})


@pytest.mark.parametrize("p, placebo, verdict", [
    ((0.01, 0.02), 0.03, "robust"),
    ((0.01, 0.10), 0.03, "mixed"),
    ((0.20, 0.10), 0.30, "none"),
    ((0.20, 0.10), 0.01, "mixed"),
    ((0.01, np.nan), 0.01, "mixed"),  # an undefined p counts as not below alpha
])
def test_verdict_rule(p, placebo, verdict):
    table, detail = evidence.verdicts(_tests(*p), pd.Series({"[0, 5]": 0.2}), ["[0, 5]"], True, 0.05, {"[0, 5]": placebo})
    assert table["verdict"].iloc[0] == verdict
    assert set(detail["component"]) == {"placebo", "kp_bmp", "grank"}


def test_verdict_without_placebo_and_unclustered_leads_with_bmp():
    tests = pd.DataFrame({"test": ["bmp", "grank", "kp_bmp"], "scope": "window", "window": "[0, 0]", "p_value": [0.01, 0.02, 0.5]})
    table, _ = evidence.verdicts(tests, pd.Series({"[0, 0]": 0.1}), ["[0, 0]"], False, 0.05)
    assert table["verdict"].iloc[0] == "robust" and table["components"].iloc[0] == "BMP, GRANK"


def test_findings_sentence_format():
    tests = _tests(0.0997, 0.1003)
    table, _ = evidence.verdicts(tests, pd.Series({"[0, 5]": 0.2}), ["[0, 5]"], True, 0.05, {"[0, 5]": 0.04})
    assert table["finding"].iloc[0] == "mixed evidence: placebo p = 0.04, KP-BMP p = 0.10, GRANK p = 0.10"
    assert table["largest_p"].iloc[0] == pytest.approx(0.1003)
    assert evidence.finding("none", [("grank", 0.0004)]) == "no evidence: GRANK p < 0.001"


def test_alpha_changes_the_verdict_and_holm_goes_across_windows():
    tests = pd.concat([_tests(0.03, 0.04, "[0, 0]"), _tests(0.02, 0.01, "[0, 5]")])
    caar = pd.Series({"[0, 0]": 0.1, "[0, 5]": 0.2})
    at_5, detail = evidence.verdicts(tests, caar, ["[0, 5]", "[0, 0]"], True, 0.05)
    at_1, _ = evidence.verdicts(tests, caar, ["[0, 5]", "[0, 0]"], True, 0.01)
    assert list(at_5["verdict"]) == ["robust", "robust"] and list(at_1["verdict"]) == ["none", "none"]
    assert list(at_5["primary"]) == [True, False]
    kp = detail[detail["component"] == "kp_bmp"].set_index("window")
    assert kp.loc["[0, 5]", "p_holm"] == pytest.approx(0.04) and kp.loc["[0, 0]", "p_holm"] == pytest.approx(0.04)


def test_variance_ratio_is_the_chi_square_test():
    rng = np.random.default_rng(1)
    scar = rng.normal(0, 1.8, (30, 2))
    ratio, p = evidence.variance_ratio(scar)
    assert ratio[0] == pytest.approx(np.var(scar[:, 0], ddof=1))
    assert p[0] == pytest.approx(stats.chi2.sf(29 * ratio[0], 29)) and p[0] < 0.01


def _volatile_study(scale: float, seed: int = 11):
    returns, market = panel(seed=seed, n=20, effect=0.0)
    noise = np.random.default_rng(seed + 1).normal(0, 0.04 * (scale - 1), (6, 20))
    returns.loc["2024-02-15":"2024-02-20"] += noise
    return EventStudy(returns, market, {"e": "2024-02-15"}, event_windows=[(0, 5), (0, 0)], diagnostics=False).fit()


def test_flag_follows_the_variance_diagnostic():
    calm, wild = _volatile_study(1.0), _volatile_study(4.0)
    wild_rows = wild.tests[(wild.tests["scope"] == "window") & (wild.tests["window"] == "[0, 5]")].set_index("test")
    assert (wild_rows.loc[["bw1985", "kp_patell", "corrado_rank"], "flag"] == evidence.FLAG).all()
    assert (wild_rows.loc[["kp_bmp", "grank", "bmp"], "flag"] == "").all()
    assert (calm.tests["flag"] == "").mean() > 0.9
    variance = wild.diagnostics_table.set_index(["diagnostic", "window"]).loc[("event-induced variance ratio", "[0, 5]")]
    assert variance["value"] > 3 and variance["p_value"] < 0.05 and variance["flag"]


def test_residual_diagnostics_equal_statsmodels_and_scipy():
    rng = np.random.default_rng(5)
    residuals = rng.standard_t(4, (3, 120))
    residuals[1, 10:20] = np.nan
    lb, jb = diag.ljung_box_p(residuals), diag.jarque_bera_p(residuals)
    for k in range(3):
        x = residuals[k][np.isfinite(residuals[k])]
        assert lb[k] == pytest.approx(float(acorr_ljungbox(x, lags=[10])["lb_pvalue"].iloc[0]), rel=1e-9)
        assert jb[k] == pytest.approx(stats.jarque_bera(x).pvalue, rel=1e-9)


def test_diagnostics_table_on_a_study():
    returns, market = panel(effect=0.0)
    market.loc["2024-02-15"] = -0.15  # a crash of the benchmark on day 0
    calendar = pd.DataFrame({"event_id": ["e", "other", "far"], "timestamp": ["2024-02-15", "2024-02-17T12:00", "2023-06-01"]})
    results = EventStudy(returns, market, {"e": "2024-02-15"}, calendar=calendar).fit()
    table = results.diagnostics_table.set_index("diagnostic")
    assert table.loc["benchmark move on day 0", "flag"] and "the market, not the event" in table.loc["benchmark move on day 0", "detail"]
    assert table.loc["other calendar events in the event span", "detail"] == "other (2024-02-17 12:00)"
    drift = table.loc["pre-event drift"]
    manual = EventStudy(returns, market, {"e": "2024-02-15"}, event_windows=[(-10, -2)], diagnostics=False).fit()
    assert drift["value"] == pytest.approx(manual.caar["caar"].iloc[0])
    # Computed from the study's own fit, it equals a second study with [-10, -2] as its window.
    lead = manual.tests[manual.tests["scope"] == "window"].set_index("test")["p_value"]
    assert drift["p_value"] == pytest.approx(max(lead["kp_bmp"], lead["grank"]), rel=1e-9)
    assert f"KP-BMP p = {lead['kp_bmp']:.3g}" in drift["detail"] and f"GRANK p = {lead['grank']:.3g}" in drift["detail"]
    assert 0 <= table.loc["estimation residuals: Jarque-Bera rejection share", "value"] <= 1
    assert "the benchmark moved -15.0%" in results.summary()
    ether = pd.DataFrame({"ETH": np.where(returns.index == pd.Timestamp("2024-02-15"), -0.2, 0.001 * np.sin(np.arange(len(returns))))},
                         index=returns.index)
    with_ether = EventStudy(returns, market, {"e": "2024-02-15"}, references=ether).fit().diagnostics_table.set_index("diagnostic")
    assert with_ether.loc["market move on day 0: ETH", "flag"] and with_ether.loc["market move on day 0: ETH", "value"] == -0.2


def test_primary_window_comes_first_and_alpha_is_checked():
    returns, market = panel(n=3)
    results = EventStudy(returns, market, {"e": "2024-02-15"}, event_windows=[(0, 0), (0, 5)], primary_window="0:5",
                         diagnostics=False).fit()
    assert list(results.caar["window"]) == ["[0, 5]", "[0, 0]"] and results.primary_window == "[0, 5]"
    assert results.verdicts["window"].iloc[0] == "[0, 5]" and results.verdicts["primary"].iloc[0]
    assert results.settings["primary_window"] == "[0, 5]"
    with pytest.raises(InputError, match="alpha"):
        EventStudy(returns, market, {"e": "2024-02-15"}, alpha=1.5)


def test_results_carry_the_evidence_in_frames_and_json():
    returns, market = panel(n=4)
    results = EventStudy(returns, market, {"e": "2024-02-15"}, placebo="-40:-20", calendar_time=True).fit()
    frames = results.to_frames()
    for name in ("verdicts", "evidence", "diagnostics", "placebo", "placebo_pseudo", "calendar_time"):
        assert name in frames and len(frames[name])
    import json
    data = json.loads(results.to_json())
    assert {"window", "verdict"} <= set(data["verdicts"][0])
    text = results.summary()
    assert "verdict over the primary window [0, 0]" in text and "Placebo: pseudo-events [-40, -20]" in text
