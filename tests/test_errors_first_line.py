"""One first-line helper per layer (storage cannot import tracker; the client must not load DuckDB)."""
from __future__ import annotations

import subprocess
import sys

import pytest

import storage.errors
import tracker.errors
from tracker.errors import describe, first_line


@pytest.mark.parametrize("message", ["", "  \n ", "one", "\n  bad value\nLINE 1: SELECT", "a\r\nb"])
def test_both_layers_agree(message):
    assert tracker.errors.first_line(message) == storage.errors.first_line(message)
    assert tracker.errors.first_line(message, "x") == storage.errors.first_line(message, "x")


def test_the_coingecko_client_does_not_load_duckdb():
    code = "import sys, tracker.sources.coingecko, tracker.errors; print('duckdb' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_first_line_of_a_long_message():
    assert first_line(ValueError("\n  bad value\nLINE 1: SELECT ...\n     ^")) == "bad value"
    assert first_line("  written by a job\nTraceback ...") == "written by a job"


def test_an_empty_message_gives_the_default_not_an_index_error():
    assert first_line(RuntimeError()) == ""
    assert first_line(RuntimeError("  \n "), "empty") == "empty"


def test_describe_names_the_kind_and_the_first_line():
    assert describe(KeyError("x")) == "KeyError: 'x'"
    assert describe(OSError("disk full\nmore")) == "OSError: disk full"
    assert describe(RuntimeError()) == "RuntimeError"
