"""Shared CLI state and options."""
from __future__ import annotations

from dataclasses import dataclass, field

import click

import storage
from storage import Database

from ..analysis.light_output import FORMATS
from ..config import Config, load_config


@dataclass
class AppContext:
    config_path: str | None = None
    db_path: str | None = None
    _config: Config | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            config = load_config(self.config_path)
            self._config = config.with_database(self.db_path) if self.db_path else config
        return self._config

    def database(self) -> Database:
        """The database for a read command: checked, never created, migrated or written.

        A missing, empty or older file gives the one-line hint to run `tracker init`.
        """
        return storage.open_for_reading(self.config.database.path, lock_timeout=self.config.database.lock_timeout_seconds)

    def writable_database(self, *, create: bool = False) -> Database:
        """The database for a command that writes, opened once before its first write.

        The file is verified (a damaged one is refused, pointing to `tracker check`) and
        upgraded in place when older; runs left 'running' by a killed process are marked
        abandoned. ``create``: make a missing or empty file (`tracker init`).
        """
        from ..ingest.runs import tidy_abandoned

        database = self.config.database
        db = storage.open_database(database.path, create=create, lock_timeout=database.lock_timeout_seconds)
        tidy_abandoned(db, keep=_spooled_run_ids(database.spool_dir))
        return db


def _spooled_run_ids(spool_dir) -> set[str]:
    """Runs with batches waiting in the daemon's spool: the daemon tidies those after writing them."""
    from jobs.spool import Spool

    return Spool(spool_dir).run_ids()


pass_app = click.make_pass_decorator(AppContext)

format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="How to print the result.",
)
