"""Checking a folder a user names for output, before any work is done or anything written."""
from __future__ import annotations

import os
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
            raise InputError(f"output folder {path} is not empty; choose a new folder or pass --overwrite")
        if not os.access(path, os.W_OK):
            raise InputError(f"output folder {path} is not writable")
        return path
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"cannot create output folder {path}: {parent} is a file")
    if not os.access(parent, os.W_OK):
        raise InputError(f"cannot create output folder {path}: {parent} is not writable")
    return path
