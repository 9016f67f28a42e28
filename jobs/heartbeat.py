"""The daemon's heartbeat: a small JSON file beside the database, rewritten atomically.

`tracker status` reads it to say whether a daemon is alive and when each job runs next,
without touching the database lock. A heartbeat older than ``STALE_AFTER`` seconds, or whose
PID is gone, means no daemon is running.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

STALE_AFTER = 120.0  # seconds; the daemon rewrites the file at least every HEARTBEAT_EVERY
HEARTBEAT_EVERY = 30.0


def heartbeat_path(db_path: Path) -> Path:
    """``<database>.daemon.json`` beside the database."""
    return db_path.with_name(db_path.name + ".daemon.json")


def write_heartbeat(path: Path, state: dict[str, Any]) -> None:
    state = dict(state, updated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), pid=os.getpid())
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, indent=2, default=str))
    os.replace(tmp, path)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_heartbeat(path: Path) -> dict[str, Any] | None:
    """The last heartbeat with an ``alive`` flag, or None when no daemon ever wrote one."""
    try:
        state = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    updated = datetime.fromisoformat(state.get("updated_at", "1970-01-01T00:00:00+00:00"))
    age = (datetime.now(timezone.utc) - updated).total_seconds()
    state["age_seconds"] = round(age, 1)
    state["alive"] = age < STALE_AFTER and _pid_alive(int(state.get("pid", 0))) and not state.get("stopped")
    return state
