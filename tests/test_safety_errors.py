"""Bad values that used to end in `error: unexpected <Exception>`: numbers too large for any
option, output and chart paths the system refuses (also as root), a bad --time-format. Each is
now one line saying what to change, with a non-zero exit, and nothing written."""
from __future__ import annotations

from pathlib import Path

import pytest

HUGE = "99999999999999999999"


@pytest.fixture
def initialised(cli_runner, tmp_path):
    assert cli_runner("--db", "t.duckdb", "init").exit_code == 0
    return tmp_path


def _one_line_error(result, *, code: int | None = None) -> str:
    assert result.exit_code != 0, result.output
    if code is not None:
        assert result.exit_code == code, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "unexpected" not in result.stderr and "Traceback" not in result.stderr
    return result.stderr


NUMBERS = [
    (["ingest", "history", "--days", HUGE], "--days"),
    (["ingest", "all", "--days", "0"], "--days"),
    (["correlate", "change", "--at", "2024-02-15", "--pre", "99999999"], "--pre 99999999 is too long"),
    (["correlate", "change", "--at", "2024-02-15", "--post", "99999999"], "--post 99999999 is too long"),
    (["correlate", "change", "--at", "2024-02-15", "--gap", "99999999"], "--gap 99999999 is too long"),
    (["correlate", "change", "--at", "2024-02-15", "--pre", "9999999999999999999999d"], "is too long; use at most 36500d"),
    (["correlate", "change", "--at", "2024-02-15", "--post", "99999999h"], "is too long; use at most 36500d"),
    (["correlate", "rolling", "--tokens", "a", "--window", HUGE], "--window"),
    (["correlate", "rolling", "--tokens", "a", "--min-periods", HUGE], "--min-periods"),
    (["correlate", "matrix", "--tokens", "a", "--min-overlap", HUGE], "--min-overlap"),
    (["study", "--event", "sora-demo", "--tokens", "a", "--windows", "0:99999999999"],
     "--windows window 0:99999999999 reaches too far; relative periods must be within -36500:36500"),
    (["study", "--event", "sora-demo", "--tokens", "a", "--hourly", "--estimation-window", "-99999999999:-25"],
     "--estimation-window -99999999999:-25 reaches too far"),
    (["study", "--event", "sora-demo", "--tokens", "a", "--min-estimation-obs", HUGE], "--min-estimation-obs"),
    (["report", "event-study", "--event", "sora-demo", "--tokens", "a", "--correlation-window", HUGE, "--output", "r"],
     "--correlation-window"),
    (["report", "event-study", "--event", "sora-demo", "--tokens", "a", "--windows", "0:99999999999", "--output", "r"],
     "reaches too far"),
    (["report", "event-study", "--event", "sora-demo", "--tokens", "a", "--move-window", "-99999999999:3", "--output", "r"],
     "--move-window -99999999999:3 reaches too far"),
    (["gpu", "sensitivity", "--top", HUGE], "--top"),
]


@pytest.mark.parametrize("args, fragment", NUMBERS, ids=[" ".join(a[:2] + a[-2:]) for a, _ in NUMBERS])
def test_numbers_out_of_range_are_one_line(cli_runner, initialised, args, fragment):
    message = _one_line_error(cli_runner("--db", "t.duckdb", *args))
    assert fragment in message
    assert not (initialised / "r").exists()


def _unwritable_places(tmp_path: Path) -> list[Path]:
    """Folders nobody, root included, can create entries in: under a regular file, in /proc, in /sys."""
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    places = [a_file / "sub"]
    for root in (Path("/proc"), Path("/sys")):
        if root.is_dir():
            places.append(root / "tracker-test-output")
    return places


def test_unwritable_output_and_chart_paths_are_refused_before_any_work(cli_runner, initialised, tmp_path):
    for place in _unwritable_places(tmp_path):
        commands = [
            (["report", "event-study", "--event", "sora-demo", "--tokens", "a", "--output", str(place)], "output folder"),
            (["study", "--event", "sora-demo", "--tokens", "a", "--output", str(place)], "output folder"),
            (["export", "parquet", str(place)], "output folder"),
            (["correlate", "matrix", "--tokens", "a", "--chart", str(place / "c.svg")], "chart"),
            (["gpu", "sensitivity", "--chart", str(place / "c.svg")], "chart"),
            (["gpu", "sensitivity", "--grid-chart", str(place / "g.png")], "chart"),
        ]
        for args, what in commands:
            message = _one_line_error(cli_runner("--db", "t.duckdb", *args), code=1)
            assert what in message and str(place.parent) in message, message
            assert "does not accept new files" in message or "is a file" in message, message
        assert not place.exists()


def test_a_chart_path_that_is_a_special_file_is_refused(cli_runner, initialised):
    target = Path("/dev/null")
    message = _one_line_error(cli_runner("gpu", "sensitivity", "--chart", str(target / "x.svg")), code=1)
    assert "/dev/null is a file, not a folder" in message
    assert target.is_char_device()


def test_a_writable_output_folder_is_left_as_it_was(cli_runner, initialised, tmp_path):
    out = tmp_path / "charts"
    out.mkdir()
    result = cli_runner("gpu", "sensitivity", "--chart", str(out / "t.svg"), "--format", "csv")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["t.svg"]  # the probe left nothing behind


@pytest.mark.parametrize("fmt, reason", [
    ("%Q", "'Q' is a bad directive"),
    ("%Y-%m-%d %", "stray %"),
    ("%Y%Y", "a directive appears twice"),
    ("%-d", "'-' is a bad directive"),
    ("day-month", "has no % directive"),
])
def test_a_bad_time_format_is_a_usage_error(cli_runner, initialised, tmp_path, fmt, reason):
    (tmp_path / "p.csv").write_text("date,close\n2024-01-01,1.5\n")
    result = cli_runner("--db", "t.duckdb", "import", "csv", "p.csv", "--coin", "fetch-ai", "--time-format", fmt)
    message = _one_line_error(result, code=2)
    assert "'--time-format'" in message and reason in message


def test_a_good_time_format_still_imports(cli_runner, initialised, tmp_path):
    (tmp_path / "p.csv").write_text("date,close\n01/02/2024,1.5\n02/02/2024,1.6\n")
    result = cli_runner("--db", "t.duckdb", "import", "csv", "p.csv", "--coin", "fetch-ai", "--time-format", "%d/%m/%Y")
    assert result.exit_code == 0, result.output
