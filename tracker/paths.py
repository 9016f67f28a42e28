"""Checking a folder a user names for output, before any work is done or anything written."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import InputError


def check_output_dir(path: str | Path, *, what: str = "output", empty_unless_overwrite: bool = False,
                     overwrite: bool = False) -> Path:
    """Return ``path`` if it is, or can become, a writable folder; else a one-line InputError.

    Parameters
    ----------
    what:
        What goes there, for the messages (``"report"``, ``"Parquet export"`` ...).
    empty_unless_overwrite:
        Refuse a folder that already holds something unless ``overwrite`` is given, so that
        an earlier result is never mixed with or replaced by a new one by accident.
    """
    path = Path(path).expanduser()
    if path.exists() or path.is_symlink():
        if not path.is_dir():
            raise InputError(f"output path {path} is not a folder; give a folder for the {what}")
        if empty_unless_overwrite and not overwrite and any(path.iterdir()):
            raise InputError(f"output folder {path} is not empty; choose a new folder or pass `overwrite`", parameters=["overwrite"])
        _probe(path, f"cannot write into output folder {path}")
        return path
    return _creatable(path, f"cannot create output folder {path}", "is a file")


def check_output_file(path: str | Path, *, what: str = "output file") -> Path:
    """Return ``path`` if a file can be written there; else a one-line InputError.

    An existing path must be a regular file; otherwise the nearest existing folder above it
    must accept a new entry. Checked before any work, so nothing is computed for nothing.
    """
    path = Path(path).expanduser()
    if path.exists() or path.is_symlink():
        if not path.is_file():
            raise InputError(f"{what} {path} exists and is not a regular file; give a new file name")
        _probe(path.parent, f"cannot write {what} {path}")
        return path
    return _creatable(path, f"cannot write {what} {path}", "is a file, not a folder")


def _creatable(path: Path, cannot: str, not_a_folder: str) -> Path:
    """``path`` if it can be made: the nearest existing folder above it accepts a new entry.
    ``cannot`` starts the error ("cannot write chart x.svg"); ``not_a_folder`` says what is wrong
    when that nearest existing path is a file."""
    parent = _nearest_existing(path)
    if not parent.is_dir():
        raise InputError(f"{cannot}: {parent} {not_a_folder}")
    _probe(parent, cannot)
    return path


def _nearest_existing(path: Path) -> Path:
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def _probe(folder: Path, problem: str) -> None:
    """Make and remove an empty folder of our own in ``folder``: the only test of writability
    that also holds for root (``os.access`` says yes to root even on /proc, /sys or a
    read-only mount)."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".tracker-probe-", dir=folder))
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise InputError(f"{problem}: {folder} does not accept new files ({reason})") from None
