"""CSV import: every layout, the time semantics, idempotence, and every way a file is refused."""
from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

import storage
from tracker.cli.flags import with_flags
from tracker.errors import InputError
from tracker.ingest import write
from tracker.sources import csvread
from tracker.sources.csvimport import CsvImportError, ImportOptions, import_csv, parse_mapping, prepare_import, read_mapping_file


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text.lstrip("\n"))
    return path


def _rows(db, sql="SELECT coin_id, vs_currency, ts, price, market_cap, total_volume, granularity, is_partial, source FROM price_history ORDER BY coin_id, ts"):
    return storage.query(db, sql)


def _count(db, table="price_history") -> int:
    return int(storage.query(db, f"SELECT count(*) AS n FROM {table}")["n"][0])


def _daily(db, coin_id, day):
    got = storage.query(db, "SELECT close FROM daily_prices WHERE coin_id = ? AND day = ?", [coin_id, day])
    assert len(got) == 1, got
    return float(got["close"][0])


COINGECKO_EXPORT = """
snapped_at,price,market_cap,total_volume
2024-02-13 00:00:00 UTC,0.6675,696000000.5,90000000.0
2024-02-14 00:00:00 UTC,0.6673,0,95000000.0
2024-02-15 00:00:00 UTC,0.7100,740000000.0,
2024-02-15 13:45:12 UTC,0.7400,770000000.0,120000000.0
"""


# --- layouts and time semantics ---------------------------------------------------------------


def test_coingecko_export_is_stored_as_instants(db, tmp_path):
    path = _write(tmp_path, "fet-usd-max.csv", COINGECKO_EXPORT)
    result = import_csv(db, path, ImportOptions(coin_id="fetch-ai", symbol="FET"))
    assert (result.prepared.layout, result.prepared.label, result.prepared.granularity) == ("coingecko", "instant", "daily")
    rows = _rows(db)
    assert rows["ts"].tolist() == [
        pd.Timestamp("2024-02-13"), pd.Timestamp("2024-02-14"), pd.Timestamp("2024-02-15"), pd.Timestamp("2024-02-15 13:45:12")
    ]
    assert rows["source"].unique().tolist() == ["csv:fet-usd-max.csv"]
    assert pd.isna(rows["market_cap"][1])  # CoinGecko's 0 market cap means unknown
    assert pd.isna(rows["total_volume"][2])
    assert rows["is_partial"].tolist() == [False, False, False, True]  # the live point at the end
    # CoinGecko's 00:00 point is the close of the day before
    assert _daily(db, "fetch-ai", "2024-02-14") == 0.7100
    assert _daily(db, "fetch-ai", "2024-02-12") == 0.6675
    complete = storage.query(db, "SELECT complete FROM daily_prices WHERE coin_id = 'fetch-ai' AND day = '2024-02-15'")
    assert complete["complete"].tolist() == [False]


def test_long_file_with_mapping_stores_daily_closes_at_the_end_of_the_day(db, tmp_path):
    path = _write(tmp_path, "long.csv", """
date,symbol,close,market_cap,total_volume
2024-02-12,FET,0.6675,700000000,1000
2024-02-12,WLD,2.617,,2000
2024-02-13,FET,0.6673,710000000,1100
2024-02-13,WLD,2.70,,
""")
    result = import_csv(db, path, ImportOptions(mapping=parse_mapping("FET=fetch-ai,WLD=worldcoin-wld")))
    assert (result.prepared.layout, result.prepared.label, result.prepared.granularity) == ("long", "close-of-period", "daily")
    assert result.written == 4 and result.inserted == 4 and result.replaced == 0
    rows = _rows(db)
    assert rows.loc[rows.coin_id == "fetch-ai", "ts"].tolist() == [pd.Timestamp("2024-02-13"), pd.Timestamp("2024-02-14")]
    assert rows.loc[rows.coin_id == "fetch-ai", "market_cap"].tolist() == [7e8, 7.1e8]
    assert rows.loc[rows.coin_id == "worldcoin-wld", "total_volume"].iloc[0] == 2000
    assert _daily(db, "fetch-ai", "2024-02-12") == 0.6675
    assert _daily(db, "worldcoin-wld", "2024-02-13") == 2.70
    complete = storage.query(db, "SELECT bool_and(complete) AS ok FROM daily_prices")
    assert complete["ok"][0]


def test_wide_file_refuses_unmapped_symbols_unless_told_to_skip(db, tmp_path):
    path = _write(tmp_path, "wide.csv", """
date_utc,BTC,FET,WLD
2024-02-11,48000,0.63,
2024-02-12,49917.27,0.6675,2.617
2024-02-13,49700,0.6673,2.70
""")
    mapping = parse_mapping(["FET=fetch-ai", "WLD=worldcoin-wld"])
    with pytest.raises(CsvImportError, match=r"no coin id for column\(s\) BTC; map them with `mapping`"):
        import_csv(db, path, ImportOptions(mapping=mapping))
    assert _count(db) == 0
    result = import_csv(db, path, ImportOptions(mapping=mapping, unmapped="skip"))
    assert result.prepared.skipped_symbols == ["BTC"]
    assert result.prepared.empty_cells == 1  # WLD not listed yet on the 11th
    assert result.written == 5
    assert _daily(db, "worldcoin-wld", "2024-02-12") == 2.617
    coins = storage.query(db, "SELECT coin_id, symbol FROM coins ORDER BY coin_id")
    assert coins.values.tolist() == [["fetch-ai", "fet"], ["worldcoin-wld", "wld"]]


def test_hourly_candles_are_stored_at_the_end_of_the_hour(db, tmp_path):
    path = _write(tmp_path, "FETUSDT_1h_close.csv", """
open_time,close
2024-02-12 21:00:00,0.6702
2024-02-12 22:00:00,0.6715
2024-02-12 23:00:00,0.6675
2024-02-13 00:00:00,0.6689
""")
    result = import_csv(db, path, ImportOptions(coin_id="fetch-ai", symbol="FET", source="binance"))
    assert (result.prepared.layout, result.prepared.label, result.prepared.granularity) == ("series", "close-of-period", "hourly")
    assert _rows(db)["ts"].tolist() == [pd.Timestamp(f"2024-02-12 {h}:00") for h in (22, 23)] + [
        pd.Timestamp("2024-02-13 00:00"), pd.Timestamp("2024-02-13 01:00")
    ]
    hourly = storage.query(db, "SELECT hour, close FROM hourly_prices WHERE coin_id = 'fetch-ai' ORDER BY hour")
    assert hourly["hour"].tolist()[:3] == [pd.Timestamp(f"2024-02-12 {h}:00") for h in (21, 22, 23)]
    assert hourly["close"].tolist() == [0.6702, 0.6715, 0.6675, 0.6689]
    assert _daily(db, "fetch-ai", "2024-02-12") == 0.6675  # the 23:00 candle's close closes the day


def test_label_and_granularity_can_be_given(db, tmp_path):
    path = _write(tmp_path, "obs.csv", """
timestamp,price
2024-02-12T23:59:00Z,1.0
2024-02-13T23:59:00Z,2.0
""")
    with pytest.raises(CsvImportError, match="give `label` close-of-period or `label` instant"):
        prepare_import(path, ImportOptions(coin_id="fetch-ai"))
    import_csv(db, path, ImportOptions(coin_id="fetch-ai", label="instant", granularity="hourly"))
    rows = _rows(db)
    assert rows["ts"].tolist() == [pd.Timestamp("2024-02-12 23:59"), pd.Timestamp("2024-02-13 23:59")]
    assert rows["granularity"].unique().tolist() == ["hourly"]


@pytest.mark.parametrize(
    "times, options, expected",
    [
        # epoch milliseconds, labelled by open time (CryptoDataDownload's Unix column)
        (["1707696000000", "1707782400000"], {"label": "close-of-period"}, ["2024-02-13", "2024-02-14"]),
        # epoch seconds taken as instants
        (["1707696000", "1707782400"], {"label": "instant"}, ["2024-02-12", "2024-02-13"]),
        # Bybit's basic ISO 8601
        (["20240212T000000", "20240213T000000"], {"label": "close-of-period"}, ["2024-02-13", "2024-02-14"]),
        # compact dates are dates
        (["20240212", "20240213"], {}, ["2024-02-13", "2024-02-14"]),
        # offsets are converted to UTC
        (["2024-02-12T01:00:00+01:00", "2024-02-13T01:00:00+01:00"], {"label": "instant"}, ["2024-02-12", "2024-02-13"]),
        # Hyperliquid's start_time
        (["2024-02-12-00:00:00", "2024-02-13-00:00:00"], {"label": "close-of-period"}, ["2024-02-13", "2024-02-14"]),
        # anything else with --time-format
        (["12/02/2024", "13/02/2024"], {"label": "close-of-period", "time_format": "%d/%m/%Y"}, ["2024-02-13", "2024-02-14"]),
    ],
)
def test_time_formats(tmp_path, times, options, expected):
    path = _write(tmp_path, "t.csv", "timestamp,close\n" + "".join(f"{t},1.5\n" for t in times))
    prepared = prepare_import(path, ImportOptions(coin_id="fetch-ai", **options))
    assert prepared.rows["ts"].tolist() == [pd.Timestamp(e) for e in expected]


def test_pairs_match_their_base_symbol_and_coin_id_columns_need_no_map(tmp_path):
    pairs = _write(tmp_path, "cdd.csv", """
Unix,Date,Symbol,Open,High,Low,Close,Volume FET,Volume USDT,tradecount
1707782400000,2024-02-13,FETUSDT,0.6675,0.70,0.64,0.6673,100,66.73,10
1707696000000,2024-02-12,FETUSDT,0.6313,0.68,0.62,0.6675,200,133.5,20
""")
    prepared = prepare_import(pairs, ImportOptions(mapping={"FET": "fetch-ai"}))
    assert prepared.time_column == "Date"
    assert prepared.rows["ts"].tolist() == [pd.Timestamp("2024-02-13"), pd.Timestamp("2024-02-14")]  # sorted
    assert prepared.rows["total_volume"].tolist() == [133.5, 66.73]  # the USDT volume, not the FET one
    assert prepared.coins.values.tolist() == [["fetch-ai", "FET"]]
    ids = _write(tmp_path, "ids.csv", "ts,coin_id,price\n2024-02-12 00:00:00Z,fetch-ai,1\n2024-02-13 00:00:00Z,bitcoin,2\n")
    prepared = prepare_import(ids, ImportOptions(label="instant", granularity="daily"))
    assert sorted(prepared.rows["coin_id"]) == ["bitcoin", "fetch-ai"]


def test_plain_volume_is_used_only_when_named(tmp_path):
    path = _write(tmp_path, "ohlcv.csv", "date_utc,open,high,low,close,volume\n2024-02-12,1,1,1,1.5,999\n2024-02-13,1,1,1,1.6,998\n")
    default = prepare_import(path, ImportOptions(coin_id="fetch-ai")).rows
    assert default["total_volume"].isna().all()
    named = prepare_import(path, ImportOptions(coin_id="fetch-ai", volume_column="volume")).rows
    assert named["total_volume"].tolist() == [999, 998]


def test_reimport_adds_no_rows_and_each_import_is_a_run(db, tmp_path):
    path = _write(tmp_path, "fet.csv", "open_time,close\n" + "".join(f"2024-02-12 {h:02d}:00:00,{1 + h / 100}\n" for h in range(24)))
    first = import_csv(db, path, ImportOptions(coin_id="fetch-ai"))
    second = import_csv(db, path, ImportOptions(coin_id="fetch-ai"))
    assert (first.written, first.replaced) == (24, 0)
    assert (second.written, second.replaced, second.inserted) == (24, 24, 0)
    assert second.replaced_per_coin == {"fetch-ai": 24}
    assert _count(db) == 24
    runs = storage.query(db, "SELECT run_id, job, status, rows, details FROM ingest_runs ORDER BY started_at")
    assert runs["job"].tolist() == ["import", "import"] and runs["status"].tolist() == ["ok", "ok"]
    assert runs["rows"].tolist() == [24, 24]
    assert runs["run_id"].tolist() == [first.run_id, second.run_id]
    details = json.loads(runs["details"][1])
    assert details["file"] == str(path.resolve()) and details["replaced"] == 24 and details["label"] == "close-of-period"
    assert _count(db, "coins") == 1


def test_existing_coins_are_left_alone(db, tmp_path):
    with db.transaction() as con:
        storage.upsert(con, "coins", pd.DataFrame({"coin_id": ["fetch-ai"], "symbol": ["fet"], "name": ["Fetch.ai"], "updated_at": [datetime(2024, 1, 1)]}))
    path = _write(tmp_path, "w.csv", "date,FET,WLD\n2024-02-12,0.6675,2.617\n2024-02-13,0.6673,2.7\n")
    result = import_csv(db, path, ImportOptions(mapping={"FET": "fetch-ai", "WLD": "worldcoin-wld"}))
    assert result.new_coins == 1
    coins = storage.query(db, "SELECT coin_id, symbol, name, active, updated_at FROM coins ORDER BY coin_id")
    assert coins.loc[0, ["symbol", "name", "updated_at"]].tolist() == ["fet", "Fetch.ai", pd.Timestamp("2024-01-01")]
    assert coins.loc[1, ["coin_id", "symbol", "active"]].tolist() == ["worldcoin-wld", "wld", True]


def test_source_and_currency(db, tmp_path):
    path = _write(tmp_path, "s.csv", "date,close\n2024-02-12,1\n2024-02-13,2\n")
    import_csv(db, path, ImportOptions(coin_id="fetch-ai", source="binance", vs_currency="USDT"))
    import_csv(db, path, ImportOptions(coin_id="fetch-ai"))
    got = storage.query(db, "SELECT DISTINCT source, vs_currency FROM price_history ORDER BY source")
    assert got.values.tolist() == [["binance", "usdt"], ["csv:s.csv", "usd"]]
    with pytest.raises(InputError, match="reserved for the CoinGecko API ingester"):
        prepare_import(path, ImportOptions(coin_id="fetch-ai", source="coingecko"))
    with pytest.raises(InputError, match="not a currency code"):
        prepare_import(path, ImportOptions(coin_id="fetch-ai", vs_currency="us dollars"))


def test_identical_repeats_are_dropped_and_range_filters_apply(tmp_path):
    path = _write(tmp_path, "r.csv", "date,close\n2024-02-11,1\n2024-02-12,2\n2024-02-12,2\n2024-02-13,3\n2024-02-14,4\n")
    prepared = prepare_import(path, ImportOptions(coin_id="fetch-ai", start=datetime(2024, 2, 12), end=datetime(2024, 2, 13)))
    assert prepared.duplicates == 1 and prepared.filtered_out == 2
    assert prepared.rows["price"].tolist() == [2.0, 3.0]


def test_progress_is_reported_while_reading(tmp_path, monkeypatch):
    path = _write(tmp_path, "p.csv", "date,close\n" + "".join(f"2024-02-{d:02d},{d}\n" for d in range(1, 11)))
    monkeypatch.setattr(csvread, "_PROGRESS_EVERY", 3)
    seen = []
    prepare_import(path, ImportOptions(coin_id="fetch-ai"), progress=seen.append)
    assert len(seen) == 4 and seen == sorted(seen) and seen[-1] == path.stat().st_size


def test_mapping_file(tmp_path):
    path = _write(tmp_path, "map.csv", "symbol,coin_id\nfet,fetch-ai\n\nWLD,worldcoin-wld\n")
    assert read_mapping_file(path) == {"FET": "fetch-ai", "WLD": "worldcoin-wld"}


# --- refusals -------------------------------------------------------------------------------


GOOD_HEADER = "date,close\n"


@pytest.mark.parametrize(
    "body, message",
    [
        ("2024-02-12,1\n2024-02-3x,2\n2024-02-14,3\n", r"1 bad row\(s\), nothing imported: line 3 \(date\): time '2024-02-3x' not understood"),
        ("2024-02-12,1\n2024-02-13,abc\n", r"line 3 \(close\): price 'abc' is not a number"),
        ("2024-02-12,1\n2024-02-13,-2\n", r"line 3 \(close\): price -2 is not a positive finite number"),
        ("2024-02-12,0\n2024-02-13,2\n", r"line 2 \(close\): price 0 is not a positive finite number"),
        ("2024-02-12,1\n2024-02-13,\n", r"line 3 \(close\): no price"),
        ("2024-02-12,1\n,2\n", r"line 3 \(date\): no time"),
        ("2024-02-12,1\n2024-02-13,2,7\n", r"line 3: has 3 fields; the header has 2"),
        ("1999-02-12,1\n2024-02-13,2\n", r"line 2 \(date\): time '1999-02-12' is before 2009 or in the future"),
        ("2024-02-12,1\n2024-02-13,2\n2024-02-12,1.5\n", r"line 4: fetch-ai at 2024-02-13 00:00 already given a different value on line 2"),
    ],
)
def test_bad_rows_are_reported_with_line_numbers_and_nothing_is_written(db, tmp_path, body, message):
    path = _write(tmp_path, "bad.csv", GOOD_HEADER + body)
    with pytest.raises(CsvImportError, match=message) as info:
        import_csv(db, path, ImportOptions(coin_id="fetch-ai"))
    assert "\n" not in str(info.value)
    assert info.value.problems
    assert _count(db) == 0 and _count(db, "coins") == 0 and _count(db, "ingest_runs") == 0


def test_all_bad_rows_are_listed_even_after_many_good_ones(db, tmp_path):
    good = "".join(f"{day.date()},{i + 1}\n" for i, day in enumerate(pd.date_range("2021-01-01", periods=1000)))
    path = _write(tmp_path, "mostly-good.csv", "date,close\n" + good + "2023-12-01,oops\n" + "2023-12-02,-1\n" * 7)
    with pytest.raises(CsvImportError, match=r"8 bad row\(s\), nothing imported: line 1002 \(close\): price 'oops'.*; and 3 more$") as info:
        import_csv(db, path, ImportOptions(coin_id="fetch-ai"))
    assert [p.line for p in info.value.problems] == list(range(1002, 1010))
    assert _count(db) == 0


def test_bad_cells_of_a_wide_file_name_their_column(tmp_path):
    path = _write(tmp_path, "w.csv", "date,FET,WLD\n2024-02-12,0.6675,2.617\n2024-02-13,0.6673,n/a\n2024-02-14,-1,2.8\n")
    with pytest.raises(CsvImportError, match=r"2 bad row\(s\), nothing imported: line 3 \(WLD\): price 'n/a' is not a number; "
                                             r"line 4 \(FET\): price -1 is not a positive finite number$"):
        prepare_import(path, ImportOptions(mapping={"FET": "fetch-ai", "WLD": "worldcoin-wld"}))


@pytest.mark.parametrize(
    "cell, message",
    [
        ("1e308", r"price 1e308 is outside the accepted range 1e-12 to 1e9"),
        ("1e-320", r"price 1e-320 is outside the accepted range 1e-12 to 1e9"),
        ("inf", r"price inf is not a positive finite number"),
        ("-inf", r"price -inf is not a positive finite number"),
        ("2e9", r"price 2e9 is outside the accepted range"),
    ],
)
def test_absurd_prices_are_refused_by_line_and_column(db, tmp_path, cell, message):
    """Issue 12 item 7: 1e308 and 1e-320 were imported and daily_returns then showed inf."""
    path = _write(tmp_path, "absurd.csv", f"date,close\n2024-02-12,1\n2024-02-13,{cell}\n2024-02-14,1\n")
    with pytest.raises(CsvImportError, match=r"1 bad row\(s\), nothing imported: line 3 \(close\): " + message):
        import_csv(db, path, ImportOptions(coin_id="fetch-ai"))
    assert _count(db) == 0 and _count(db, "ingest_runs") == 0


def test_prices_at_the_documented_bounds_are_accepted(tmp_path):
    path = _write(tmp_path, "edges.csv", "date,close\n2024-02-12,1e-12\n2024-02-13,1e9\n2024-02-14,0.00000001234\n")
    prepared = prepare_import(path, ImportOptions(coin_id="fetch-ai"))
    assert list(prepared.rows["price"]) == [1e-12, 1e9, 1.234e-8]


def test_absurd_market_caps_and_volumes_are_refused(tmp_path):
    path = _write(tmp_path, "cg.csv", "snapped_at,price,market_cap,total_volume\n"
                  "2024-02-12 00:00:00 UTC,1,1e15,1\n2024-02-13 00:00:00 UTC,1,5,inf\n2024-02-14 00:00:00 UTC,1,0,0\n")
    with pytest.raises(CsvImportError, match=r"2 bad row\(s\), nothing imported: line 2 \(market_cap\): market cap '1e15' is outside "
                                             r"the accepted range 0 to 1e14; line 3 \(total_volume\): volume 'inf' is not a non-negative"):
        prepare_import(path, ImportOptions(coin_id="fetch-ai"))


def test_bad_market_cap_and_volume_are_reported(tmp_path):
    path = _write(tmp_path, "cg.csv", "snapped_at,price,market_cap,total_volume\n2024-02-12 00:00:00 UTC,1,-5,1\n2024-02-13 00:00:00 UTC,1,5,x\n")
    with pytest.raises(CsvImportError, match=r"line 2 \(market_cap\): market cap '-5'.*line 3 \(total_volume\): volume 'x'"):
        prepare_import(path, ImportOptions(coin_id="fetch-ai"))


@pytest.mark.parametrize(
    "name, text, options, message",
    [
        ("empty.csv", "", {}, "empty.csv is empty: no header line"),
        ("header.csv", "date,close\n", {"coin_id": "fetch-ai"}, r"header.csv: no price rows to import \(only a header\)"),
        ("dup.csv", "date,FET,fet\n2024-02-12,1,2\n", {}, "header names column 'fet' twice"),
        ("series.csv", "date,close\n2024-02-12,1\n", {}, r"holds one coin's prices \(series layout\); name the coin with --coin"),
        ("cg.csv", COINGECKO_EXPORT, {}, r"coingecko layout\); name the coin with --coin"),
        ("wide.csv", "date,FET\n2024-02-12,1\n", {"coin_id": "fetch-ai"}, "is a wide file"),
        ("notime.csv", "when,close\n2024-02-12,1\n", {"coin_id": "fetch-ai"}, "no time column found"),
        ("long.csv", "date,symbol,close\n2024-02-12,FET,1\n2024-02-12,XYZ,1\n", {"mapping": {"FET": "fetch-ai"}}, r"no coin id for symbol\(s\) XYZ"),
        ("long2.csv", "date,symbol,close\n2024-02-12,FET,1\n2024-02-12,XYZ,1\n", {"coin_id": "fetch-ai"}, "has 2 symbols"),
        ("gaps.csv", "timestamp,close\n2024-02-12T00:00Z,1\n2024-02-12T04:00Z,2\n", {"coin_id": "fetch-ai", "label": "instant"}, "4:00:00 apart"),
        ("one.csv", "timestamp,close\n2024-02-12T00:00Z,1\n", {"coin_id": "fetch-ai", "label": "instant"}, "cannot infer the granularity"),
        ("col.csv", "date,close\n2024-02-12,1\n", {"coin_id": "fetch-ai", "price_column": "last"}, "has no price column 'last'"),
        ("twice.csv", "date,FET,FETUSDT\n2024-02-12,1,1\n", {"mapping": {"FET": "fetch-ai"}}, "both map to fetch-ai"),
        ("badid.csv", "date,close\n2024-02-12,1\n", {"coin_id": "Fetch AI"}, "not a CoinGecko coin id"),
        ("range.csv", "date,close\n2024-02-12,1\n", {"coin_id": "fetch-ai", "start": datetime(2025, 1, 1)}, "no price rows to import in the --start/--end range"),
    ],
)
def test_files_that_cannot_be_imported_are_refused_in_one_line(tmp_path, name, text, options, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputError) as info:
        prepare_import(path, ImportOptions(**options))
    # The library names its parameters (`coin_id`); the CLI shows them as flags (--coin).
    assert re.search(message, with_flags(info.value)), with_flags(info.value)
    assert "\n" not in str(info.value) and "--" not in str(info.value)


def test_missing_paths_and_bad_encodings(tmp_path):
    with pytest.raises(InputError, match=r"CSV file .*nope.csv does not exist"):
        prepare_import(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="is a folder, not a file"):
        prepare_import(tmp_path)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("date,close\n2024-02-12,1\xe9\n".encode("latin-1"))
    with pytest.raises(InputError, match="is not UTF-8 text"):
        prepare_import(latin, ImportOptions(coin_id="fetch-ai"))
    with pytest.raises(InputError, match="mapping file .* does not exist"):
        read_mapping_file(tmp_path / "map.csv")
    bad_map = _write(tmp_path, "bad-map.csv", "ticker,id\nFET,fetch-ai\n")
    with pytest.raises(InputError, match="needs the columns symbol,coin_id"):
        read_mapping_file(bad_map)


@pytest.mark.parametrize("text", ["FET", "FET=", "=fetch-ai", "FET=Fetch AI"])
def test_bad_map_options(text):
    with pytest.raises(InputError):
        parse_mapping(text)


def test_a_failure_while_writing_leaves_nothing(db, tmp_path, monkeypatch):
    path = _write(tmp_path, "w.csv", "date,FET\n2024-02-12,1\n2024-02-13,2\n")

    def broken(con, run):
        raise RuntimeError("disk full")

    # the import is written by the one batch writer: its run record is the last step of the transaction
    monkeypatch.setattr(write, "record_run", broken)
    with pytest.raises(RuntimeError):
        import_csv(db, path, ImportOptions(mapping={"FET": "fetch-ai"}))
    assert _count(db) == 0 and _count(db, "coins") == 0 and _count(db, "ingest_runs") == 0


# --- CLI ------------------------------------------------------------------------------------


@pytest.fixture
def daily_csv(tmp_path):
    return _write(tmp_path, "daily.csv", "date_utc,FET,WLD,BTC\n2024-02-12,0.6675,2.617,49917.27\n2024-02-13,0.6673,2.70,49700\n")


def test_cli_imports_and_prints_a_summary(db, cli_runner, daily_csv):
    result = cli_runner("import", "csv", str(daily_csv), "--map", "FET=fetch-ai,WLD=worldcoin-wld", "--map", "BTC=bitcoin",
                        "--source", "binance", "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["import"]["written"] == 6 and out["import"]["layout"] == "wide" and out["import"]["source"] == "binance"
    assert [c["coin_id"] for c in out["coins"]] == ["bitcoin", "fetch-ai", "worldcoin-wld"]
    assert out["coins"][1]["first_ts"] == "2024-02-13T00:00:00" and out["coins"][1]["last_ts"] == "2024-02-14T00:00:00"
    again = cli_runner("import", "csv", str(daily_csv), "--map", "FET=fetch-ai,WLD=worldcoin-wld,BTC=bitcoin", "--source", "binance", "--format", "csv")
    assert again.exit_code == 0
    lines = again.stdout.splitlines()
    assert lines[0] == "# import"
    header, values = lines[1].split(","), lines[2].split(",")
    assert dict(zip(header, values))["replaced"] == "6"
    assert "# coins" in lines and "fetch-ai,FET,2,0,2,2024-02-13T00:00:00,2024-02-14T00:00:00" in lines
    table = cli_runner("import", "csv", str(daily_csv), "--map", "FET=fetch-ai", "--unmapped", "skip")
    assert table.exit_code == 0
    assert "skipped_symbols  WLD,BTC" in table.stdout
    assert _count(db) == 8


def test_cli_refuses_absurd_prices_in_one_line(db, cli_runner, tmp_path):
    """Issue 12 item 7 end to end: the 1e308 / 1e-320 file that made daily_returns show inf."""
    path = _write(tmp_path, "absurd.csv", "date,close\n2024-02-12,1\n2024-02-13,1e308\n2024-02-14,1e-320\n2024-02-15,1\n")
    result = cli_runner("import", "csv", str(path), "--coin", "fetch-ai")
    lines = result.output.strip().splitlines()
    assert result.exit_code != 0 and len(lines) == 1, result.output
    assert lines[0] == ("error: absurd.csv: 2 bad row(s), nothing imported: line 3 (close): price 1e308 is outside the "
                        "accepted range 1e-12 to 1e9; line 4 (close): price 1e-320 is outside the accepted range 1e-12 to 1e9")
    assert _count(db) == 0 and _count(db, "ingest_runs") == 0


def test_cli_map_file_and_dry_run(db, cli_runner, daily_csv, tmp_path):
    mapping = _write(tmp_path, "ids.csv", "symbol,coin_id\nFET,fetch-ai\nWLD,worldcoin-wld\nBTC,bitcoin\n")
    result = cli_runner("import", "csv", str(daily_csv), "--map-file", str(mapping), "--dry-run", "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["import"]["dry_run"] is True and out["import"]["prices"] == 6 and out["import"]["written"] == 0
    assert _count(db) == 0 and _count(db, "ingest_runs") == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["nope.csv", "--coin", "fetch-ai"], "error: CSV file nope.csv does not exist"),
        ([".", "--coin", "fetch-ai"], "error: CSV file . is a folder, not a file"),
        (["{daily}", "--map", "FET"], "error: --map item 'FET' is not SYMBOL=coin-id (e.g. FET=fetch-ai)"),
        (["{daily}", "--map-file", "missing.csv"], "error: mapping file missing.csv does not exist"),
        (["{daily}", "--map", "FET=fetch-ai", "--start", "yesterday-ish"], "error: --start 'yesterday-ish' is not a date"),
        (["{bad}", "--coin", "fetch-ai"], "error: bad.csv: 1 bad row(s), nothing imported: line 3 (close): price 'x' is not a number"),
    ],
)
def test_cli_errors_are_one_line(db, cli_runner, daily_csv, tmp_path, args, message):
    bad = _write(tmp_path, "bad.csv", "date,close\n2024-02-12,1\n2024-02-13,x\n")
    args = [a.format(daily=daily_csv, bad=bad) for a in args]
    result = cli_runner("import", "csv", *args)
    assert result.exit_code == 1
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output
    assert _count(db) == 0


def test_cli_needs_an_initialised_database_but_checks_the_file_first(cli_runner, daily_csv, tmp_path):
    bad = _write(tmp_path, "bad.csv", "date,close\n2024-02-12,-1\n")
    assert "price -1" in cli_runner("import", "csv", str(bad), "--coin", "fetch-ai").stderr
    result = cli_runner("import", "csv", str(daily_csv), "--map", "FET=fetch-ai", "--unmapped", "skip")
    assert result.exit_code == 1 and "run `tracker init` first" in result.stderr


def test_cli_shows_progress_for_big_files(db, cli_runner, daily_csv, monkeypatch):
    from tracker.cli import import_commands

    monkeypatch.setattr(import_commands, "_PROGRESS_BYTES", 0)
    monkeypatch.setattr(csvread, "_PROGRESS_EVERY", 1)  # report after every row
    result = cli_runner("import", "csv", str(daily_csv), "--map", "FET=fetch-ai", "--unmapped", "skip", "--format", "json")
    assert result.exit_code == 0
    assert "reading" in result.stderr
    assert json.loads(result.stdout)["import"]["written"] == 2


def test_cli_help():
    from click.testing import CliRunner

    from tracker.cli import cli

    out = CliRunner().invoke(cli, ["import", "csv", "--help"])
    assert out.exit_code == 0
    for option in ("--layout", "--coin", "--map", "--map-file", "--unmapped", "--label", "--granularity", "--source",
                   "--vs-currency", "--time-column", "--price-column", "--dry-run", "--format"):
        assert option in out.output


# --- the shared real data -------------------------------------------------------------------


def _closes_by_source(db, coin_id: str) -> pd.DataFrame:
    """Each source's close per UTC day, computed here (not through the view) to compare sources."""
    return storage.query(
        db,
        "SELECT source, CAST(date_trunc('day', ts - INTERVAL 5 MINUTE) AS DATE) AS d, arg_max(price, ts) AS close "
        "FROM price_history WHERE coin_id = ? GROUP BY ALL",
        [coin_id],
    ).pivot(index="d", columns="source", values="close")


def test_realdata_binance_daily_closes_land_on_their_day(db, realdata):
    path = realdata / "daily_close_binance_spot_from_hourly.csv"
    result = import_csv(db, path, ImportOptions(
        mapping=parse_mapping("BTC=bitcoin,ETH=ethereum,FET=fetch-ai,WLD=worldcoin-wld"), unmapped="skip", source="binance"))
    assert (result.prepared.layout, result.prepared.label, result.prepared.granularity) == ("wide", "close-of-period", "daily")
    assert len(result.prepared.skipped_symbols) == 22
    expected = pd.read_csv(path, index_col="date_utc")
    assert _daily(db, "fetch-ai", "2024-02-12") == expected.loc["2024-02-12", "FET"]
    stored = storage.query(db, "SELECT coin_id, CAST(day AS VARCHAR) AS d, close FROM daily_prices WHERE vs_currency = 'usd'")
    for coin_id, symbol in (("bitcoin", "BTC"), ("fetch-ai", "FET"), ("worldcoin-wld", "WLD")):
        mine = stored[stored.coin_id == coin_id].set_index("d")["close"].sort_index()
        theirs = expected[symbol].dropna()
        assert mine.index.tolist() == theirs.index.tolist()  # every day, no day shifted
        assert (mine.to_numpy() == theirs.to_numpy()).all()
    assert result.written == sum(expected[s].notna().sum() for s in ("BTC", "ETH", "FET", "WLD"))


def test_realdata_sora_week_moves_match_the_press(db, realdata):
    """FET rose about 47% and WLD about 190% from the 2024-02-12 close to the 2024-02-19 close."""
    import_csv(db, realdata / "daily_close_binance_spot_from_hourly.csv", ImportOptions(
        mapping=parse_mapping("FET=fetch-ai,WLD=worldcoin-wld"), unmapped="skip"))
    fet = _daily(db, "fetch-ai", "2024-02-19") / _daily(db, "fetch-ai", "2024-02-12") - 1
    wld = _daily(db, "worldcoin-wld", "2024-02-19") / _daily(db, "worldcoin-wld", "2024-02-12") - 1
    assert fet == pytest.approx(0.467, abs=0.01)
    assert wld == pytest.approx(1.917, abs=0.02)


def test_realdata_hourly_candles_give_the_same_daily_closes(db, realdata):
    hourly = realdata / "binance_spot_hourly_mark6" / "FETUSDT_1h_close.csv"
    result = import_csv(db, hourly, ImportOptions(coin_id="fetch-ai", symbol="FET", source="binance"))
    assert (result.prepared.label, result.prepared.granularity) == ("close-of-period", "hourly")
    candles = pd.read_csv(hourly, parse_dates=["open_time"]).set_index("open_time")["close"]
    stored = storage.query(db, "SELECT hour, close FROM hourly_prices WHERE coin_id = 'fetch-ai' ORDER BY hour").set_index("hour")["close"]
    assert stored.index.tolist() == candles.index.tolist()  # the hour of a close is its candle's open time
    assert (stored.to_numpy() == candles.to_numpy()).all()
    # the last candle of each UTC day closes the day, exactly as in the derived daily file
    daily = pd.read_csv(realdata / "daily_close_binance_spot_from_hourly.csv", index_col="date_utc")["FET"].dropna()
    mine = storage.query(db, "SELECT CAST(day AS VARCHAR) AS d, close FROM daily_prices WHERE coin_id = 'fetch-ai' ORDER BY day")
    assert mine["d"].tolist() == daily.index.tolist()
    assert (mine["close"].to_numpy() == daily.to_numpy()).all()
    again = import_csv(db, hourly, ImportOptions(coin_id="fetch-ai", symbol="FET", source="binance"))
    assert again.inserted == 0 and again.replaced == len(candles) and _count(db) == len(candles)


def test_realdata_other_daily_sources_agree_with_binance_hourly(db, realdata):
    """CryptoDataDownload and freqtrade daily candles, labelled by date, close on the same days as the hourly file."""
    import_csv(db, realdata / "binance_spot_hourly_mark6" / "FETUSDT_1h_close.csv", ImportOptions(coin_id="fetch-ai", source="binance"))
    import_csv(db, realdata / "cryptodatadownload_binance_daily" / "Binance_FETUSDT_d.csv", ImportOptions(mapping={"FET": "fetch-ai"}))
    import_csv(db, realdata / "freqtrade_binance_daily" / "FETUSDT_1d_binance.csv", ImportOptions(coin_id="fetch-ai"))
    closes = _closes_by_source(db, "fetch-ai")
    for other, overlap in (("csv:Binance_FETUSDT_d.csv", 1299), ("csv:FETUSDT_1d_binance.csv", 838)):
        both = closes[["binance", other]].dropna()
        assert len(both) == overlap
        assert (both["binance"] == both[other]).all()


def test_realdata_hyperliquid_15m_and_bybit_daily(db, realdata):
    result = import_csv(db, realdata / "hyperliquid_perp_15m_2024Q1" / "FET_15m_hyperliquid.csv", ImportOptions(coin_id="fetch-ai"))
    assert (result.prepared.layout, result.prepared.label, result.prepared.granularity) == ("long", "close-of-period", "15m")
    assert result.written == 6049
    move = _daily(db, "fetch-ai", "2024-02-22") / _daily(db, "fetch-ai", "2024-02-14") - 1
    assert move == pytest.approx(0.625, abs=0.002)  # SOURCES.md: +62.5% on Hyperliquid
    bybit = realdata / "bybit_daily" / "AGIXUSDT_1d_bybit.csv"
    with pytest.raises(CsvImportError, match="give `label`"):
        prepare_import(bybit, ImportOptions(coin_id="singularitynet"))
    prepared = prepare_import(bybit, ImportOptions(coin_id="singularitynet", label="close-of-period"))
    assert prepared.rows["ts"].iloc[0] == pd.Timestamp("2023-03-14") and len(prepared.rows) == 200


def test_realdata_cryptodatadownload_eth_volumes_are_refused(realdata):
    """Its volume columns use dots as thousands separators (SOURCES.md); the import says so, by line."""
    path = realdata / "cryptodatadownload_binance_daily" / "Binance_ETHUSDT_d.csv"
    with pytest.raises(CsvImportError, match=r"line 2 \(Volume USDT\): volume '.*' is not a non-negative number"):
        prepare_import(path, ImportOptions(mapping={"ETH": "ethereum"}))
    prepared = prepare_import(path, ImportOptions(mapping={"ETH": "ethereum"}, volume_column="none"))
    assert prepared.rows["total_volume"].isna().all() and len(prepared.rows) > 1000
