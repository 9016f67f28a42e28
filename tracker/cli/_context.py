"""Shared CLI state and options."""
from __future__ import annotations

from dataclasses import dataclass, field

import click

import storage
from storage import Database

from ..config import Config, load_config
from ..output import FORMATS


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

    def database(self, *, create: bool = False) -> Database:
        """The database, upgraded in place when its schema is older than this tracker."""
        return storage.open_database(
            self.config.database.path,
            create=create,
            lock_timeout=self.config.database.lock_timeout_seconds,
        )


pass_app = click.make_pass_decorator(AppContext)

format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="How to print the result.",
)
