"""One helper for the first line of an error, shared by the storage and tracker layers."""
from __future__ import annotations

import storage.errors
import tracker.errors
from tracker.errors import describe, first_line


def test_one_helper_for_both_layers():
    assert tracker.errors.first_line is storage.errors.first_line


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
