"""The fake CoinGecko server: spec-shaped deterministic data, CoinGecko's rules, faults, control in and out of process."""
from __future__ import annotations

import calendar
import json
import socket
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests

from tracker.sources.fakegecko import FAULT_KINDS, FakeGecko, FakeGeckoControl, FakeGeckoProcess, FaultRule, generate

from .gecko_helpers import NOW, fake  # noqa: F401 (fixture)

SPEC = Path(__file__).resolve().parents[2] / "shared" / "coingecko" / "coingecko-demo-api.oas.json"


def get(fake, path, **params):
    return requests.get(fake.base_url + path, params=params, timeout=5)


# -- the official spec ------------------------------------------------------------------------

def _resolve(spec, schema):
    while "$ref" in schema:
        node = spec
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def _validate(spec, schema, value, where="$"):
    """A small OpenAPI 3.0 checker: types, required properties, nullable, items."""
    schema = _resolve(spec, schema)
    if value is None:
        assert schema.get("nullable"), f"{where} is null but not nullable"
        return
    kind = schema.get("type")
    types = {"object": dict, "array": list, "string": str, "boolean": bool, "integer": int, "number": (int, float)}
    if kind:
        assert isinstance(value, types[kind]) and not (kind in ("integer", "number") and isinstance(value, bool)), f"{where}: {value!r} is not {kind}"
    if kind == "object":
        for name in schema.get("required", []):
            assert name in value, f"{where} lacks required {name}"
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                _validate(spec, sub, value[name], f"{where}.{name}")
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for name, item in value.items():
                if name not in schema.get("properties", {}):
                    _validate(spec, extra, item, f"{where}.{name}")
    if kind == "array":
        for i, item in enumerate(value[:300]):
            _validate(spec, schema.get("items", {}), item, f"{where}[{i}]")


@pytest.mark.parametrize(
    "path, spec_path, params",
    [
        ("/ping", "/ping", {}),
        ("/coins/list", "/coins/list", {"include_platform": "true"}),
        ("/coins/categories/list", "/coins/categories/list", {}),
        ("/coins/categories", "/coins/categories", {}),
        ("/coins/markets", "/coins/markets", {"vs_currency": "usd", "category": "artificial-intelligence", "sparkline": "true",
                                               "price_change_percentage": "1h,24h,7d", "include_rehypothecated": "true"}),
        ("/coins/bitcoin/market_chart/range", "/coins/{id}/market_chart/range", {"vs_currency": "usd", "from": 1767225600, "to": 1773329841}),
        ("/coins/ethereum/market_chart", "/coins/{id}/market_chart", {"vs_currency": "eur", "days": "30"}),
        ("/global", "/global", {}),
    ],
)
def test_answers_match_the_official_spec(fake, path, spec_path, params):
    if not SPEC.is_file():
        pytest.skip(f"the official spec is not at {SPEC} (it lives in ../shared, beside the project)")
    spec = json.loads(SPEC.read_text())
    schema = spec["paths"][spec_path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    response = get(fake, path, **params)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    _validate(spec, schema, response.json())


def test_markets_rows_carry_every_field_of_the_spec_example(fake):
    row = get(fake, "/coins/markets", vs_currency="usd", ids="bitcoin").json()[0]
    example_fields = {
        "id", "symbol", "name", "image", "current_price", "market_cap", "market_cap_rank", "fully_diluted_valuation",
        "total_volume", "high_24h", "low_24h", "price_change_24h", "price_change_percentage_24h", "market_cap_change_24h",
        "market_cap_change_percentage_24h", "circulating_supply", "total_supply", "max_supply", "ath",
        "ath_change_percentage", "ath_date", "atl", "atl_change_percentage", "atl_date", "roi", "last_updated",
    }
    assert example_fields <= set(row)
    assert row["low_24h"] <= row["current_price"] <= row["high_24h"]


# -- deterministic data -------------------------------------------------------------------------

def test_data_is_deterministic_across_servers():
    def snapshot(server):
        return (get(server, "/coins/markets", vs_currency="usd", category="artificial-intelligence").json(),
                get(server, "/coins/fetch-ai/market_chart/range", vs_currency="usd", **{"from": 1760000000, "to": 1770000000}).json())

    with FakeGecko(ai_coins=40, now=NOW) as a, FakeGecko(ai_coins=40, now=NOW) as b:
        first = snapshot(a)
        assert snapshot(b) == first and snapshot(a) == first
    with FakeGecko(ai_coins=40, now=NOW, seed=8) as c:
        assert snapshot(c) != first


def test_universe_has_hundreds_of_ai_coins_benchmarks_and_other_categories():
    universe = generate()
    assert len(universe.members("artificial-intelligence")) == 300
    assert {"bitcoin", "ethereum"} <= set(universe.coins)
    assert "bitcoin" not in {c.coin_id for c in universe.members("artificial-intelligence")}
    sizes = universe.summary()["categories"]
    assert sizes["ai-agents"] > 10 and sizes["meme-token"] > 10 and sizes["layer-1"] >= 8
    specs = list(universe.coins.values())
    assert any(not c.supply_known for c in specs) and any(c.market_cap_null for c in specs)
    assert any(c.mcap_known_from for c in specs)
    assert universe.delisted_coins()


def test_market_caps_include_zero_and_null():
    with FakeGecko(now=NOW) as server:
        rows = []
        for page in (1, 2):
            rows += get(server, "/coins/markets", vs_currency="usd", category="artificial-intelligence", per_page=250, page=page).json()
    caps = [r["market_cap"] for r in rows]
    assert len(rows) == 300
    assert any(c is None for c in caps) and any(c == 0 for c in caps) and sum(1 for c in caps if c) > 250


def test_history_spans_years_with_the_granularity_rules(fake):
    def chart(start, end):
        return get(fake, "/coins/bitcoin/market_chart/range", vs_currency="usd", **{"from": int(start.timestamp()), "to": int(end.timestamp())}).json()

    def utc(moment):
        return moment.replace(tzinfo=__import__("datetime").timezone.utc)

    fake.configure(history_limit_days=None)  # a keyless caller would get 10012 for 2019
    old = chart(utc(datetime(2019, 1, 1)), utc(datetime(2021, 1, 1)))["prices"]
    assert len(old) == 732 and all(ms % 86_400_000 == 0 for ms, _ in old)  # daily at 00:00
    hourly = chart(utc(NOW - timedelta(days=30)), utc(NOW))["prices"]
    assert 719 <= len(hourly) <= 722
    assert hourly[-1][0] == int(utc(NOW).timestamp() * 1000)  # the last point is "now"
    five = chart(utc(NOW - timedelta(days=1)), utc(NOW))["prices"]
    assert 287 <= len(five) <= 290
    past_day = chart(utc(NOW - timedelta(days=5)), utc(NOW - timedelta(days=4)))["prices"]
    assert 24 <= len(past_day) <= 25  # a day not ending now is hourly


def test_hourly_midnights_equal_the_daily_points(fake):
    import datetime as dt

    start = int(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc).timestamp())
    daily = dict(get(fake, "/coins/fetch-ai/market_chart/range", vs_currency="usd", **{"from": start - 100 * 86400, "to": start + 86400}).json()["prices"])
    hourly = get(fake, "/coins/fetch-ai/market_chart/range", vs_currency="usd", **{"from": start - 3600, "to": start + 3600}).json()["prices"]
    near_midnight = [p for ms, p in hourly if abs(ms - start * 1000) < 5000]
    # The hourly point jitters a few seconds past midnight, so it is within a hair of the daily one.
    assert near_midnight == pytest.approx([daily[start * 1000]], rel=1e-4)


def test_history_limit_for_keyless_and_demo_but_not_pro():
    old = {"vs_currency": "usd", "from": int((NOW - timedelta(days=400)).timestamp()), "to": int((NOW - timedelta(days=380)).timestamp())}
    with FakeGecko(ai_coins=3, other_coins=2, now=NOW) as public:
        response = get(public, "/coins/bitcoin/market_chart/range", **old)
        assert response.status_code == 401 and response.json()["error"]["status"]["error_code"] == 10012
    with FakeGecko(host_type="pro", ai_coins=3, other_coins=2, now=NOW) as pro:
        response = requests.get(pro.base_url + "/coins/bitcoin/market_chart/range", params=old, headers={"x-cg-pro-api-key": "k"}, timeout=5)
        assert response.status_code == 200


@pytest.mark.parametrize(
    "host_type, headers, status, code",
    [
        ("public", {}, 200, None),
        ("public", {"x-cg-demo-api-key": "CG-d"}, 200, None),
        ("public", {"x-cg-pro-api-key": "CG-p"}, 400, 10010),
        ("pro", {"x-cg-demo-api-key": "CG-d"}, 400, 10011),
        ("pro", {}, 401, 10002),
        ("pro", {"x-cg-pro-api-key": "CG-p"}, 200, None),
    ],
)
def test_key_header_checks_per_host(host_type, headers, status, code):
    with FakeGecko(host_type=host_type, ai_coins=3, other_coins=2, now=NOW) as server:
        response = requests.get(server.base_url + "/ping", headers=headers, timeout=5)
    assert response.status_code == status
    if code:
        assert response.json()["status"]["error_code"] == code


def test_invalid_key_and_required_key():
    with FakeGecko(ai_coins=3, other_coins=2, now=NOW, demo_keys={"CG-good"}, require_key=True) as server:
        assert requests.get(server.base_url + "/ping", timeout=5).status_code == 401
        assert requests.get(server.base_url + "/ping", headers={"x-cg-demo-api-key": "CG-bad"}, timeout=5).status_code == 401
        assert requests.get(server.base_url + "/ping", headers={"x-cg-demo-api-key": "CG-good"}, timeout=5).status_code == 200
        requests.get(server.base_url + "/ping", params={"x_cg_demo_api_key": "CG-good"}, timeout=5)
        assert server.stats()["key_in_query"] == 1  # noticed, so tests can prove the client never does it


def test_bad_parameters_are_400(fake):
    assert get(fake, "/coins/markets").status_code == 400
    assert get(fake, "/coins/markets", vs_currency="usd", per_page=251).status_code == 400
    assert get(fake, "/coins/markets", vs_currency="xyz").status_code == 400
    assert get(fake, "/coins/bitcoin/market_chart/range", vs_currency="usd", **{"from": "x", "to": 1}).status_code == 400
    assert get(fake, "/nope").status_code == 404
    assert get(fake, "/coins/markets", vs_currency="usd", category="no-such-category").status_code == 404


# -- faults -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "kind, options, status, check",
    [
        ("rate_limit", {"retry_after": 7}, 429, lambda r: r.headers["Retry-After"] == "7" and r.json()["status"]["error_code"] == 429),
        ("throttled", {}, 429, lambda r: r.text == "Throttled" and "Retry-After" not in r.headers),
        ("server_error", {"status": 500}, 500, lambda r: r.json() == {"error": "Internal server error"}),
        ("server_error", {"status": 502}, 502, lambda r: "<title>502 Bad Gateway</title>" in r.text),
        ("server_error", {"status": 503, "retry_after": 3}, 503, lambda r: r.headers["Retry-After"] == "3"),
        ("cloudflare_403", {}, 403, lambda r: "used Cloudflare to restrict access" in r.text and "1020" in r.text),
        ("not_found", {}, 404, lambda r: r.json() == {"error": "coin not found"}),
        ("history_limit", {}, 401, lambda r: r.json()["error"]["status"]["error_code"] == 10012),
        ("paid_only", {}, 401, lambda r: r.json()["status"]["error_code"] == 10005),
        ("bad_request", {}, 400, lambda r: "error" in r.json()),
        ("unauthorized", {}, 401, lambda r: r.json()["status"]["error_code"] == 10002),
        ("error_200", {}, 200, lambda r: set(r.json()) == {"error"}),
        ("truncated", {}, 200, lambda r: r.text[:1] in "[{" and _not_json(r.text)),
        ("drift_extra", {}, 200, lambda r: "schema_version_2027" in r.json()[0]),
        ("drift_missing", {}, 200, lambda r: "market_cap" not in r.json()[0]),
        ("drift_nulls", {}, 200, lambda r: r.json()[0]["market_cap"] is None),
    ],
)
def test_each_fault_answers_as_described(fake, kind, options, status, check):
    path = "/coins/markets" if kind.startswith("drift") else "/ping"
    fake.add_fault(kind, endpoint=path, **options)
    params = {"vs_currency": "usd", "ids": "bitcoin"} if path == "/coins/markets" else {}
    if kind == "truncated":
        path, params = "/coins/markets", {"vs_currency": "usd", "ids": "bitcoin"}
        fake.clear_faults()
        fake.add_fault(kind, endpoint=path)
    response = get(fake, path, **params)
    assert response.status_code == status and check(response)
    assert get(fake, path, **params).status_code == 200  # times=1: the next request is normal
    assert fake.stats()["faults_fired"] == {kind: 1}


def _not_json(text):
    try:
        json.loads(text)
    except ValueError:
        return True
    return False


def test_reset_timeout_slow_and_cut_transfers(fake):
    fake.add_fault("reset", endpoint="/ping")
    with pytest.raises(requests.ConnectionError):
        get(fake, "/ping")
    fake.add_fault("timeout", endpoint="/ping", delay=3)
    with pytest.raises(requests.Timeout):
        requests.get(fake.base_url + "/ping", timeout=0.3)
    fake.add_fault("slow", endpoint="/ping", delay=0.3)
    response = get(fake, "/ping")
    assert response.status_code == 200 and response.elapsed >= timedelta(seconds=0.3)
    fake.add_fault("truncated_transfer", endpoint="/ping")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get(fake, "/ping")


def test_rules_match_paths_params_skip_and_times(fake):
    fake.add_fault("not_found", endpoint="/coins/fetch-ai/market_chart/range", times=None)
    fake.add_fault("server_error", endpoint="/coins/markets", params={"page": "2"}, skip=1, times=2)
    chart = {"vs_currency": "usd", "from": 1773000000, "to": 1773300000}
    assert get(fake, "/coins/bitcoin/market_chart/range", **chart).status_code == 200
    assert all(get(fake, "/coins/fetch-ai/market_chart/range", **chart).status_code == 404 for _ in range(3))
    statuses = [get(fake, "/coins/markets", vs_currency="usd", page=2).status_code for _ in range(4)]
    assert statuses == [200, 500, 500, 200]
    assert get(fake, "/coins/markets", vs_currency="usd", page=1).status_code == 200


def test_rank_shift_repeats_a_row_across_pages():
    with FakeGecko(ai_coins=20, other_coins=2, now=NOW) as server:
        server.add_fault("rank_shift", endpoint="/coins/markets", params={"page": "2"})
        base = {"vs_currency": "usd", "category": "artificial-intelligence", "per_page": 10}
        one = [r["id"] for r in get(server, "/coins/markets", page=1, **base).json()]
        two = [r["id"] for r in get(server, "/coins/markets", page=2, **base).json()]
    assert two[0] == one[-1]


def test_fault_rules_are_validated():
    with pytest.raises(ValueError):
        FaultRule("meltdown")
    with pytest.raises(ValueError):
        FaultRule.from_dict({"kind": "reset", "colour": "red"})
    assert set(FAULT_KINDS) >= {"rate_limit", "server_error", "timeout", "reset", "truncated", "cloudflare_403",
                                "not_found", "history_limit", "drift_extra", "drift_missing", "drift_nulls"}


# -- control: in-process and over HTTP ---------------------------------------------------------------

def test_membership_delisting_and_clock_at_runtime(fake):
    before = fake.members("artificial-intelligence")
    assert fake.set_members("artificial-intelligence", add=["brand-new-ai"], remove=[before[0]]) == len(before)
    after = fake.members("artificial-intelligence")
    assert "brand-new-ai" in after and before[0] not in after
    listed = {r["id"] for r in get(fake, "/coins/markets", vs_currency="usd", category="artificial-intelligence").json()}
    assert listed == set(after)
    fake.delist(["bitcoin"])
    assert get(fake, "/coins/bitcoin/market_chart/range", vs_currency="usd", **{"from": 1773000000, "to": 1773300000}).status_code == 404
    assert "bitcoin" in {r["id"] for r in get(fake, "/coins/list", status="inactive").json()}
    fake.relist(["bitcoin"])
    assert fake.data_now() == NOW
    assert fake.advance(3600) == NOW + timedelta(hours=1)
    assert get(fake, "/global").json()["data"]["updated_at"] == calendar.timegm((NOW + timedelta(hours=1)).timetuple())


def test_http_control_api(fake):
    root = fake.root_url + "/__fake"
    assert requests.post(root + "/faults", json=[{"kind": "not_found", "endpoint": "/ping"}], timeout=5).status_code == 200
    assert get(fake, "/ping").status_code == 404
    stats = requests.get(root + "/stats", timeout=5).json()
    assert stats["calls"] == 1 and stats["by_endpoint"] == {"/ping": 1} and stats["by_status"] == {"404": 1}
    assert stats["requests"][0]["path"] == "/ping" and stats["requests"][0]["fault"] == "not_found"
    bad = requests.post(root + "/faults", json={"rules": [{"kind": "meltdown"}]}, timeout=5)
    assert bad.status_code == 400 and "meltdown" in bad.json()["error"]
    assert requests.delete(root + "/faults", timeout=5).json() == {"rules": []}
    assert requests.post(root + "/config", json={"rate_limit_per_minute": 1, "rate_window_seconds": 60}, timeout=5).status_code == 200
    assert get(fake, "/ping").status_code == 200 and get(fake, "/ping").status_code == 429
    assert requests.delete(root + "/stats", timeout=5).status_code == 200
    assert requests.get(root + "/stats", timeout=5).json()["calls"] == 0
    assert requests.get(root + "/nothing", timeout=5).status_code == 404


def test_remote_control_has_the_same_methods(fake):
    remote = FakeGeckoControl(fake.base_url)
    remote.add_fault("server_error", endpoint="/ping", status=503)
    assert get(fake, "/ping").status_code == 503
    assert remote.faults()[0]["fired"] == 1
    assert remote.set_members("ai-agents", replace_with=["fetch-ai", "near"]) == 2
    assert sorted(fake.members("ai-agents")) == ["fetch-ai", "near"]
    assert remote.set_now(NOW + timedelta(days=1)) == NOW + timedelta(days=1)
    assert remote.stats()["calls"] == fake.stats()["calls"]
    remote.close()


def test_subprocess_server_prints_its_url_and_obeys_remote_faults():
    with FakeGeckoProcess(["--ai-coins", "10", "--other-coins", "5", "--now", NOW.isoformat(), "--rate-limit", "100"]) as proc:
        assert proc.base_url.startswith("http://127.0.0.1:") and proc.base_url.endswith("/api/v3")
        assert requests.get(proc.base_url + "/ping", timeout=5).status_code == 200
        proc.control.add_fault("cloudflare_403", endpoint="/ping")
        assert requests.get(proc.base_url + "/ping", timeout=5).status_code == 403
        assert proc.control.stats()["by_status"] == {"200": 1, "403": 1}
        assert proc.control.configure()["rate_limit_per_minute"] == 100
        assert proc.control.data_now() == NOW
        process = proc.process
    assert process.poll() is not None  # stopped on exit


def test_in_process_server_uses_an_ephemeral_port_and_stops():
    server = FakeGecko(ai_coins=3, other_coins=2).start()
    port = server.port
    assert port > 0 and requests.get(server.base_url + "/ping", timeout=5).ok
    server.stop()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
