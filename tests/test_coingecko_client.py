"""The client over real HTTP against the fake server: endpoints, paging, charts, keys, plans, counting."""
from __future__ import annotations

import math
import threading
from datetime import timedelta

import pandas as pd
import pytest
import requests

from tracker.config import load_config
from tracker.errors import ConfigError
from tracker.sources.coingecko import (
    CoinGeckoCancelled,
    CoinGeckoClient,
    CoinGeckoError,
    RateLimiter,
    WrongKeyTypeError,
    client_from_config,
)
from tracker.sources.coingecko.parsing import parse_chart
from tracker.sources.fakegecko import FakeGecko

from .gecko_helpers import FAST_RETRY, NOW, client, fake, make_client  # noqa: F401 (fixtures)


class SpySession(requests.Session):
    """A real session that remembers every request it sent."""

    def __init__(self):
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):
        self.sent.append(request)
        return super().send(request, **kwargs)


def test_ping(client):
    assert client.ping() == "(V3) To the Moon!"


def test_lists(fake, client):
    coins = client.coins_list()
    assert list(coins.columns) == ["coin_id", "symbol", "name"]
    assert set(coins["coin_id"]) == {c.coin_id for c in fake.universe.active_coins(NOW)}
    categories = client.categories_list()
    assert "artificial-intelligence" in set(categories["category_id"])
    assert categories.set_index("category_id").loc["artificial-intelligence", "name"] == "Artificial Intelligence (AI)"


def test_categories_market_data(client):
    frame = client.categories()
    ai = frame.set_index("category_id").loc["artificial-intelligence"]
    assert ai["market_cap"] > 0 and len(ai["top_3_coins_id"]) == 3
    assert isinstance(ai["updated_at"], pd.Timestamp) and ai["updated_at"].tzinfo is None
    assert client.calls == 1


def test_global(client):
    data = client.global_data()
    assert data["total_market_cap"]["usd"] > 0
    assert data["updated_at"] == NOW  # seconds on the wire, a naive UTC datetime here


@pytest.mark.parametrize("size, calls", [(30, 1), (249, 1), (250, 2), (300, 2), (520, 3)])
def test_markets_pages_until_a_short_page(size, calls):
    # floor(N / 250) + 1 calls: ceil(N / 250), plus one empty page when N is a multiple of 250.
    with FakeGecko(ai_coins=size, other_coins=5, now=NOW) as server, make_client(server) as c:
        frame = c.markets("usd", category="artificial-intelligence")
        assert len(frame) == size and frame["coin_id"].is_unique
        assert c.calls == calls == size // 250 + 1
        assert all(r["query"].count("per_page=250") == 1 for r in server.stats()["requests"])


def test_markets_by_ids_in_groups_of_250():
    with FakeGecko(ai_coins=260, other_coins=5, now=NOW) as server, make_client(server) as c:
        ids = c.coins_list()["coin_id"].tolist()[:260]
        c.reset_counters()
        frame = c.markets("usd", ids=ids + ids[:3])  # repeats are asked for once
        assert sorted(frame["coin_id"]) == sorted(ids)
        assert c.calls == 2


def test_duplicates_across_pages_are_dropped_by_id():
    with FakeGecko(ai_coins=300, other_coins=5, now=NOW) as server, make_client(server) as c:
        server.add_fault("rank_shift", endpoint="/coins/markets", params={"page": "2"})
        pages = list(c.markets_pages("usd", category="artificial-intelligence"))
        assert sum(len(p.frame) for p in pages) == 301  # page 2 repeats page 1's last coin
        frame = c.markets("usd", category="artificial-intelligence")
        assert len(frame) == 300 and frame["coin_id"].is_unique


def test_markets_rows_are_typed(client):
    frame = client.markets("usd", ids=["bitcoin", "ethereum"])
    btc = frame.set_index("coin_id").loc["bitcoin"]
    assert btc["symbol"] == "btc" and btc["market_cap_rank"] >= 1
    assert str(frame["market_cap_rank"].dtype) == "Int64"
    assert btc["last_updated"] <= NOW


def test_markets_needs_exactly_one_selector(client):
    with pytest.raises(ValueError):
        list(client.markets_pages("usd"))
    with pytest.raises(ValueError):
        list(client.markets_pages("usd", category="x", ids=["y"]))


@pytest.mark.parametrize(
    "days, ends_now, step",
    [(1, True, timedelta(minutes=5)), (1, False, timedelta(hours=1)), (30, True, timedelta(hours=1)),
     (89, True, timedelta(hours=1)), (200, False, timedelta(days=1))],
)
def test_chart_granularity_follows_the_range(client, days, ends_now, step):
    end = NOW if ends_now else NOW - timedelta(days=3)
    chart = client.market_chart_range("bitcoin", "usd", end - timedelta(days=days), end)
    regular = chart["ts"].iloc[:-1] if ends_now else chart["ts"]
    gaps = regular.diff().dropna()
    assert (gaps - step).abs().max() <= timedelta(seconds=5)  # timestamps jitter a little
    if step == timedelta(days=1):
        assert (chart["ts"].dt.hour == 0).all() and (chart["ts"].dt.minute == 0).all()


def test_chart_timestamps_are_milliseconds_and_the_last_point_is_now(client):
    chart = client.market_chart_range("fetch-ai", "usd", NOW - timedelta(days=10), NOW)
    assert chart["ts"].iloc[-1] == NOW
    assert chart["ts"].is_monotonic_increasing and chart["ts"].is_unique
    assert list(chart.columns) == ["ts", "price", "market_cap", "total_volume"]


def test_chart_arrays_are_joined_on_timestamp_not_zipped():
    payload = {
        "prices": [[1000, 1.0], [2000, 2.0], [3000, 3.0]],
        "market_caps": [[2000, 20.0], [3000, 30.0]],          # starts later
        "total_volumes": [[1000, 100.0], [3000, 300.0], [4000, 400.0]],  # skips one, adds one
    }
    chart = parse_chart(payload)
    assert chart["ts"].tolist() == [pd.Timestamp(ms, unit="ms") for ms in (1000, 2000, 3000, 4000)]
    assert chart["price"].tolist()[:3] == [1.0, 2.0, 3.0] and math.isnan(chart["price"].iloc[3])
    assert math.isnan(chart["market_cap"].iloc[0]) and chart["market_cap"].iloc[1] == 20.0
    assert chart["total_volume"].iloc[2] == 300.0 and math.isnan(chart["total_volume"].iloc[1])


def test_chart_of_an_unknown_coin_is_not_found(client):
    from tracker.sources.coingecko import NotFoundError

    with pytest.raises(NotFoundError):
        client.market_chart_range("no-such-coin", "usd", NOW - timedelta(days=2), NOW)


def test_key_travels_only_in_the_plan_header(fake):
    session = SpySession()
    key = "CG-demo-key-123"
    with make_client(fake, plan="demo", api_key=key, session=session) as c:
        c.ping()
        c.markets("usd", category="artificial-intelligence")
        c.market_chart_range("bitcoin", "usd", NOW - timedelta(days=5), NOW)
        assert key not in repr(c)
    assert len(session.sent) == 3
    for request in session.sent:
        assert request.headers["x-cg-demo-api-key"] == key
        assert "x-cg-pro-api-key" not in request.headers
        assert key not in request.url
    stats = fake.stats()
    assert {r["auth"] for r in stats["requests"]} == {"demo"} and stats["key_in_query"] == 0


def test_keyless_sends_no_key_header(fake):
    session = SpySession()
    with make_client(fake, session=session) as c:
        c.ping()
    assert not any(h.startswith("x-cg-") for h in session.sent[0].headers)


@pytest.mark.parametrize("plan", ["demo", "pro"])
def test_demo_or_pro_without_a_key_is_a_one_line_config_error(plan):
    with pytest.raises(ConfigError) as caught:
        CoinGeckoClient("http://127.0.0.1:9/api/v3", plan=plan)
    assert "COINGECKO_API_KEY" in str(caught.value) and "\n" not in str(caught.value)
    config = load_config(env={"COINGECKO_PLAN": plan})
    with pytest.raises(ConfigError):
        client_from_config(config)


def test_client_from_config_uses_every_setting(tmp_path):
    (tmp_path / "t.toml").write_text(
        "[coingecko]\nplan = \"pro\"\ncalls_per_minute = 90\ntimeout_seconds = 7\nmax_retries = 2\n"
        "retry_after_cap_seconds = 30\nbackoff_seconds = 0.5\nbackoff_max_seconds = 4\n"
    )
    config = load_config(tmp_path / "t.toml", env={"COINGECKO_API_KEY": "CG-x", "COINGECKO_BASE_URL": "http://127.0.0.1:1/api/v3"})
    c = client_from_config(config)
    assert (c.base_url, c.plan.name, c.timeout) == ("http://127.0.0.1:1/api/v3", "pro", 7.0)
    assert c.limiter.interval == pytest.approx(60 / 90)
    assert (c.retry.max_retries, c.retry.retry_after_cap_seconds, c.retry.backoff_seconds, c.retry.backoff_max_seconds) == (2, 30, 0.5, 4)
    assert c.plan.history_days is None
    assert client_from_config(load_config(env={})).plan.history_days == 364


def test_pro_key_on_the_public_host_is_10010(fake):
    with make_client(fake, plan="pro", api_key="CG-pro") as c:
        with pytest.raises(WrongKeyTypeError) as caught:
            c.ping()
        assert c.calls == 1
    assert caught.value.error_code == 10010 and 'coingecko.plan = "pro"' in str(caught.value)


def test_demo_key_on_the_pro_host_is_10011_and_pro_works():
    with FakeGecko(host_type="pro", ai_coins=3, other_coins=2, now=NOW) as server:
        with make_client(server, plan="demo", api_key="CG-demo") as c:
            with pytest.raises(WrongKeyTypeError) as caught:
                c.ping()
        assert caught.value.error_code == 10011 and 'coingecko.plan = "demo"' in str(caught.value)
        with make_client(server, plan="pro", api_key="CG-pro") as c:
            assert c.ping()
            # Pro has no 365-day window.
            assert len(c.market_chart_range("bitcoin", "usd", NOW - timedelta(days=800), NOW - timedelta(days=400))) > 300


def test_redirects_are_not_followed(fake):
    class RedirectingSession(requests.Session):
        def send(self, request, **kwargs):
            response = requests.Response()
            response.status_code, response.url, response.request = 302, request.url, request
            response.headers["Location"] = "http://elsewhere.example/api/v3/ping"
            response.raw = __import__("io").BytesIO(b"")
            return response

    with make_client(fake, plan="demo", api_key="CG-k", session=RedirectingSession()) as c:
        with pytest.raises(CoinGeckoError) as caught:
            c.ping()
    assert "redirect" in str(caught.value) and "CG-k" not in str(caught.value)


def test_call_counters_per_endpoint_and_per_thread(fake):
    with make_client(fake) as c:
        c.ping()
        with c.track_calls() as mine:
            c.markets("usd", ids=["bitcoin"])
            other = threading.Thread(target=c.ping)
            other.start()
            other.join()
        assert mine.count == 1 and dict(mine.by_endpoint) == {"/coins/markets": 1}
        c.market_chart_range("bitcoin", "usd", NOW - timedelta(days=2), NOW)
        assert c.calls == 4
        assert c.calls_by_endpoint == {"/ping": 2, "/coins/markets": 1, "/coins/{id}/market_chart/range": 1}
        c.reset_counters()
        assert c.calls == 0


def test_stop_event_cancels_waits(fake):
    stop = threading.Event()
    fake.add_fault("server_error", endpoint="/ping", times=None)
    from tracker.sources.coingecko import RetryPolicy

    with make_client(fake, retry=RetryPolicy(max_retries=5, backoff_seconds=30), stop_event=stop) as c:
        threading.Timer(0.2, stop.set).start()
        with pytest.raises(CoinGeckoCancelled):
            c.ping()
        assert c.calls == 1


def test_injected_session_is_used_and_not_closed(fake):
    session = SpySession()
    c = make_client(fake, session=session)
    c.ping()
    c.close()
    assert session.sent and session.adapters  # still usable: the caller owns it
    assert session.get(fake.base_url + "/ping", timeout=2).status_code == 200


def test_repr_has_no_key():
    c = CoinGeckoClient("http://127.0.0.1:9/api/v3", plan="demo", api_key="CG-hidden", limiter=RateLimiter(None), retry=FAST_RETRY)
    assert "CG-hidden" not in repr(c) and "key set" in repr(c)
