"""Data for the correlation analyser from the database: membership over time, outside series."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tracker.analysis.correlation import read_series_csv, to_grid
from tracker.analysis.correlation.sources import category_membership, import_series, list_series, load_external
from tracker.analysis.panels import category_members_at
from tracker.errors import InputError

from .correlation_synthetic import store_member


def test_membership_over_two_years_matches_a_lookup_every_day(db):
    store_member(db, "ai", "fetch-ai", "2022-01-01")
    store_member(db, "ai", "render-token", "2022-03-10", "2022-03-12")   # a two-day stay
    store_member(db, "ai", "worldcoin-wld", "2023-07-24 00:00")
    store_member(db, "ai", "singularitynet", "2022-06-01", "2023-02-17 12:00")  # leaves mid-day
    labels = pd.date_range("2022-01-01", "2023-12-31", freq="D")
    calls = []
    mask = category_membership(db, "ai", labels, progress=calls.append)
    assert len(calls) == 6  # the first day and each day a boundary passed, not 730 look-ups
    for day in pd.date_range("2022-01-01", "2023-12-31", freq="30D").append(
        pd.DatetimeIndex(["2022-03-09", "2022-03-10", "2022-03-11", "2022-03-12", "2023-02-17", "2023-02-18", "2023-07-24"])
    ):
        truth = set(category_members_at(db, "ai", day))
        assert {c for c in mask.columns if mask.at[day, c]} == truth, day
    # Hourly labels take the membership at the start of their day.
    hours = pd.date_range("2023-02-17 00:00", "2023-02-18 03:00", freq="h")
    hourly = category_membership(db, "ai", hours)
    assert hourly.loc["2023-02-17 23:00", "singularitynet"] and not hourly.loc["2023-02-18 01:00", "singularitynet"]


def test_the_views_and_the_pandas_grid_agree(db, tmp_path):
    path = tmp_path / "gpu.csv"
    times = pd.date_range("2024-02-01", periods=200, freq="37min")
    values = np.round(np.linspace(2.0, 3.0, 200), 4)
    pd.DataFrame({"time": times.strftime("%Y-%m-%dT%H:%M:%SZ"), "value": values}).to_csv(path, index=False)
    series = read_series_csv(path)
    result = import_series(db, series, "gpu-h100", unit="usd/gpu-hour", source="csv:gpu.csv")
    assert result.inserted == 200
    listed = list_series(db)
    assert listed.loc[0, "unit"] == "usd/gpu-hour" and listed.loc[0, "rows"] == 200
    for hourly, freq in ((True, "1h"), (False, "1D")):
        stored = load_external(db, ["gpu-h100"], hourly=hourly)["gpu-h100"]
        direct = to_grid(series, freq)
        assert stored.index.equals(direct.index) and np.allclose(stored.to_numpy(), direct.to_numpy())
    ranged = load_external(db, ["gpu-h100"], "2024-02-02 00:00", "2024-02-02 05:00", hourly=True)
    assert len(ranged) == 6
    with pytest.raises(InputError, match="no outside series 'nvda'"):
        load_external(db, ["nvda"])
    with pytest.raises(InputError, match="series id"):
        import_series(db, series, "Bad Id", source="x")
    spoiled = series.assign(value=series["value"].where(series.index != 5, float("inf")))
    with pytest.raises(InputError, match="series gpu-h200: value inf is not a positive finite number; nothing stored"):
        import_series(db, spoiled, "gpu-h200", source="x")
    assert list(list_series(db)["series_id"]) == ["gpu-h100"]
