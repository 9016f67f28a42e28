"""Building a report from the deterministic fixture database: the numbers it holds are the
event-study engine's, the raw moves are the closes' own ratios, samples are point in time,
windows that overlap are flagged, and provenance says where everything came from."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from tracker.analysis import panels
from tracker.analysis.eventstudy import EventStudy
from tracker.analysis.eventstudy.data import load_study_data
from tracker.config import load_config
from tracker.errors import AnalysisError, EventsError, InputError
from tracker.ingest.runs import RunRecord, record_run
from tracker.report import ReportOptions, build_report
from tracker.report.studies import mask_other_events

from .report_helpers import fixture_database

AI = "artificial-intelligence"
SORA, NVIDIA = "sora-demo", "nvidia-earnings-2024-02"


@pytest.fixture(scope="module")
def fixture_db(tmp_path_factory):
    db = fixture_database(tmp_path_factory.mktemp("report-db"))
    run = RunRecord(job="history", calls=12, rows=3456).finish("ok")
    with db.transaction() as con:
        record_run(con, run)
    return db


@pytest.fixture(scope="module")
def two_events(fixture_db):
    return build_report(fixture_db, load_config(None), ReportOptions(events=(SORA, NVIDIA), category=AI))


def _study(report, study_id):
    return next(s for s in report.doc["studies"] if s["id"] == study_id)


@pytest.mark.slow
def test_each_event_and_the_pooled_study_equal_the_engine_run_directly(fixture_db, two_events):
    options = ReportOptions(events=(SORA, NVIDIA), category=AI)
    data = load_study_data(fixture_db, [SORA, NVIDIA], category=AI, estimation_window=options.estimation,
                           event_windows=options.event_windows)
    for study_id, events in ((SORA, data.events[data.events.event_id == SORA]), (NVIDIA, data.events[data.events.event_id == NVIDIA]),
                             ("pooled", data.events)):
        direct = EventStudy(data.returns, data.market, events, benchmark_name=data.benchmark_name).fit()
        study = _study(two_events, study_id)
        assert [w["caar"] for w in study["caar"]] == pytest.approx(direct.caar["caar"].tolist(), rel=1e-12)
        assert [r["car"] for r in study["car"]] == pytest.approx(direct.car["car"].tolist(), rel=1e-12)
        assert [r["aar"] for r in study["aar"]] == pytest.approx(direct.aar["aar"].tolist(), rel=1e-12)
        lead = direct.lead_tests("window")
        assert [t["p_value"] for t in study["tests"][: len(lead)]] == pytest.approx(lead["p_value"].tolist(), rel=1e-12)
        assert study["clustered"] is True and study["lead_test"] == "kp_bmp"  # the verdict's lead test (issue 16)
    assert _study(two_events, "pooled")["n"] == _study(two_events, SORA)["n"] + _study(two_events, NVIDIA)["n"]


@pytest.mark.slow
def test_the_sample_is_point_in_time_and_exclusions_carry_reasons(two_events):
    sample = pd.DataFrame(two_events.doc["sample"])
    sora = sample[sample.event_id == SORA]
    nvidia = sample[sample.event_id == NVIDIA]
    # bittensor joins the category on 2024-02-20: after Sora, before Nvidia's results.
    assert "bittensor" not in set(sora.coin_id)
    tao = nvidia[nvidia.coin_id == "bittensor"].iloc[0]
    assert tao.status == "excluded" and tao.reason == "too few estimation observations" and "minimum 80" in tao.detail
    wld = sora[sora.coin_id == "worldcoin-wld"].iloc[0]
    assert "member since 2024-01-15" in wld.why and wld.status == "included"
    assert set(sora.status) == {"included"}
    assert sora.set_index("coin_id").loc["fetch-ai", "estimation_obs"] == 116  # the 2024-01-08..10 hole costs 4 returns


@pytest.mark.slow
def test_raw_moves_are_close_to_close_from_day_minus_3_to_day_plus_4(fixture_db, two_events):
    closes = panels.daily_closes(fixture_db, ["fetch-ai", "worldcoin-wld", "bitcoin"], "2024-02-01", "2024-03-01")
    moves = pd.DataFrame(two_events.doc["raw_moves"])
    sora = moves[moves.event_id == SORA].set_index("coin_id")
    for coin in ("fetch-ai", "worldcoin-wld", "bitcoin"):
        expected = closes.at[pd.Timestamp("2024-02-19"), coin] / closes.at[pd.Timestamp("2024-02-12"), coin] - 1
        assert sora.at[coin, "move"] == pytest.approx(expected, rel=1e-12)
        assert sora.at[coin, "start_day"] == "2024-02-12" and sora.at[coin, "end_day"] == "2024-02-19"
    assert sora.at["bitcoin", "role"] == "benchmark"
    # bittensor has no close before 2024-02-19: a missing move, with the reason.
    tao = next(m for m in two_events.doc["raw_moves"] if m["event_id"] == NVIDIA and m["coin_id"] == "bittensor")
    assert tao["move"] is None and "no daily close on 2024-02-18" in tao["note"]


@pytest.mark.slow
def test_overlapping_windows_are_flagged_only_when_they_overlap(fixture_db, two_events):
    kinds = [w["kind"] for w in two_events.doc["warnings"]]
    assert kinds.count("overlapping-windows") == 1
    message = next(w["message"] for w in two_events.doc["warnings"] if w["kind"] == "overlapping-windows")
    assert "2024-02-20" in message
    alone = build_report(fixture_db, load_config(None), ReportOptions(events=(SORA,), category=AI, windows="0:0,0:3"))
    assert not [w for w in alone.doc["warnings"] if w["kind"] == "overlapping-windows"]
    # Narrow windows around both events do not overlap either.
    narrow = build_report(fixture_db, load_config(None), ReportOptions(events=(SORA, NVIDIA), category=AI, windows="0:0,0:2"))
    assert not [w for w in narrow.doc["warnings"] if w["kind"] == "overlapping-windows"]


@pytest.mark.slow
def test_an_event_inside_an_estimation_window_is_flagged_and_can_be_excluded(fixture_db):
    # Estimation ending on day -4 of Nvidia's results (2024-02-17) reaches over Sora's window.
    options = ReportOptions(events=(SORA, NVIDIA), category=AI, estimation_window="-60:-4", windows="0:0,0:2")
    report = build_report(fixture_db, load_config(None), options)
    flagged = [w for w in report.doc["warnings"] if w["kind"] == "event-in-estimation-window"]
    assert flagged and flagged[0]["events"] == [NVIDIA, SORA] and "--exclude-other-events" in flagged[0]["message"]

    excluded = build_report(fixture_db, load_config(None), dataclasses.replace(options, exclude_other_events=True))
    obs_before = {r["security"]: r["n_obs"] for r in _study(report, NVIDIA)["estimation"]}
    obs_after = {r["security"]: r["n_obs"] for r in _study(excluded, NVIDIA)["estimation"]}
    # Sora's span [0, 2] = 2024-02-15..17 sits in Nvidia's estimation window: three returns fewer per token.
    assert {coin: obs_before[coin] - obs_after[coin] for coin in obs_after} == {coin: 3 for coin in obs_after}
    # The pooled study applies the engine's own exclusion: the same numbers per security-event.
    pooled = {(r["event_id"], r["security"]): r["n_obs"] for r in _study(excluded, "pooled")["estimation"]}
    assert {k[1]: v for k, v in pooled.items() if k[0] == NVIDIA} == obs_after


@pytest.mark.slow
def test_masking_blanks_only_estimation_periods_inside_the_other_event(fixture_db):
    options = ReportOptions(events=(SORA, NVIDIA), category=AI, estimation_window="-60:-4", windows="0:0,0:2")
    data = load_study_data(fixture_db, [SORA, NVIDIA], category=AI, estimation_window=options.estimation, event_windows=options.event_windows)
    masked = mask_other_events(data, NVIDIA, options)
    changed = (data.returns.notna() & masked.isna())
    rows = changed.any(axis=1)
    assert list(changed.index[rows].strftime("%Y-%m-%d")) == ["2024-02-15", "2024-02-16", "2024-02-17"]
    assert set(changed.columns[changed.any(axis=0)]) == {"fetch-ai", "ocean-protocol", "render-token", "singularitynet", "worldcoin-wld"}
    assert mask_other_events(data, SORA, options).equals(data.returns)  # Nvidia comes after Sora's estimation window


@pytest.mark.slow
def test_correlation_and_gpu_context_come_from_their_packages(two_events):
    corr = two_events.doc["correlation"][0]
    assert corr["status"] == "ok" and corr["settings"]["benchmarks"] == ["bitcoin", "ethereum"]
    pairs = pd.DataFrame(corr["pairs"])
    assert set(pairs.y) == {"bitcoin", "ethereum"} and (pairs.n_pre == 30).all()
    gpu = two_events.doc["gpu"]
    outputs = {r["output"]: r["value"] for r in gpu["outputs"]}
    assert gpu["reproduces_article"] is True
    assert outputs["training_h100_months_low"] == pytest.approx(4211, rel=0.001)
    assert any("YouTube share inconsistency" in note for note in gpu["notes"])
    assert {a["name"] for a in gpu["assumptions"]} >= {"denoising_steps", "peak_factor", "sora_params"}


@pytest.mark.slow
def test_gpu_overrides_change_the_context_and_are_marked(fixture_db):
    report = build_report(fixture_db, load_config(None), ReportOptions(events=(SORA,), category=AI, gpu_overrides={"denoising_steps": "50"}))
    gpu = report.doc["gpu"]
    assert gpu["overridden"] == ["denoising_steps"] and gpu["reproduces_article"] is False
    assert next(a for a in gpu["assumptions"] if a["name"] == "denoising_steps")["overridden"] is True


@pytest.mark.slow
def test_provenance_lists_sources_plan_and_last_runs(two_events):
    p = two_events.doc["provenance"]
    sources = pd.DataFrame(p["price_sources"])
    assert set(sources[sources.coin_id == "bittensor"].source) == {"csv:hyperliquid_tao.csv"}
    assert set(sources[sources.coin_id == "fetch-ai"].source) == {"coingecko"}
    assert p["plan"]["plan"] == "keyless" and p["plan"]["api_key"] == "not set" and p["plan"]["loopback_server"] is False
    assert p["ingest_runs"][0]["job"] == "history" and p["ingest_runs"][0]["rows"] == 3456
    assert two_events.doc["report"]["simulated"] is False


@pytest.mark.slow
def test_an_api_key_never_reaches_the_report(fixture_db, monkeypatch):
    monkeypatch.setenv("COINGECKO_PLAN", "demo")
    monkeypatch.setenv("COINGECKO_API_KEY", "CG-secret-key-1234567890")
    report = build_report(fixture_db, load_config(None), ReportOptions(events=(SORA,), tokens=("fetch-ai",)))
    text = report.to_json() + "".join(t.to_csv() for t in report.tables.values())
    assert "CG-secret" not in text and "1234567890" not in text
    assert report.doc["provenance"]["plan"]["api_key"].startswith("set (")


@pytest.mark.slow
def test_a_loopback_server_in_the_config_labels_the_report_simulated(fixture_db, monkeypatch):
    monkeypatch.setenv("COINGECKO_BASE_URL", "http://127.0.0.1:8765/api/v3")
    report = build_report(fixture_db, load_config(None), ReportOptions(events=(SORA,), tokens=("fetch-ai", "worldcoin-wld")))
    assert report.simulated and "127.0.0.1" in report.doc["report"]["simulated_reason"]


@pytest.mark.slow
def test_explicit_tokens_say_so_and_a_named_benchmark_is_shown_apart(fixture_db):
    report = build_report(fixture_db, load_config(None), ReportOptions(events=(SORA,), tokens=("fetch-ai", "bitcoin", "worldcoin-wld")))
    sample = pd.DataFrame(report.doc["sample"]).set_index("coin_id")
    assert sample.at["bitcoin", "status"] == "benchmark"
    assert set(sample.why) == {"named with --tokens"}
    assert report.doc["settings"]["sample_rule"] == "tokens"
    assert _study(report, SORA)["n"] == 2


@pytest.mark.slow
def test_an_event_that_cannot_be_studied_is_reported_not_fatal(fixture_db):
    # The fixture's prices start 2023-10-01: ChatGPT's launch (2022-11-30) has no data at all.
    report = build_report(fixture_db, load_config(None), ReportOptions(events=(SORA, "chatgpt-launch"), tokens=("fetch-ai", "render-token")))
    failed = _study(report, "chatgpt-launch")
    assert failed["status"] == "failed" and failed["error"]
    assert any(w["kind"] == "study-failed" for w in report.doc["warnings"])
    with pytest.raises(InputError, match="has no prices between 2022"):
        build_report(fixture_db, load_config(None), ReportOptions(events=("chatgpt-launch",), tokens=("fetch-ai",)))


def test_no_study_at_all_is_an_error(fixture_db):
    # bittensor's prices start 2024-02-19: no estimation window for Sora.
    with pytest.raises(AnalysisError, match="no event could be studied.*too few estimation observations"):
        build_report(fixture_db, load_config(None), ReportOptions(events=(SORA,), tokens=("bittensor",)))


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        (ReportOptions(events=()), InputError, "`events`"),
        (ReportOptions(events=(SORA,), tokens=("fetch-ai",), category=AI), InputError, "not both"),
        (ReportOptions(events=(SORA,), windows="0:x"), InputError, "window"),
        (ReportOptions(events=(SORA,), move_window="4:-3"), InputError, "`move_window`"),
        (ReportOptions(events=(SORA,), gpu_overrides={"no_such_thing": "1"}), Exception, "no_such_thing"),
        (ReportOptions(events=("no-such-event",)), EventsError, "no event 'no-such-event'"),
        (ReportOptions(events=(SORA,), tokens=("not-a-coin",)), InputError, "unknown token"),
    ],
)
def test_bad_options_fail_with_one_line(fixture_db, options, error, match):
    with pytest.raises(error, match=match) as caught:
        build_report(fixture_db, load_config(None), options)
    assert "\n" not in str(caught.value)


@pytest.mark.slow
def test_every_number_is_json_safe_and_nan_free(two_events):
    text = two_events.to_json()
    assert "NaN" not in text and "Infinity" not in text
    assert isinstance(np.asarray(two_events.doc["studies"][0]["caar_band"][0]["lower"], dtype=float), np.ndarray)
