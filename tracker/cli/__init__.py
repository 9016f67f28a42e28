"""The `tracker` command line: a thin layer over the library, with the same verbs.

Every command prints data with ``--format table|json|csv``; every failure is one line on
stderr and a non-zero exit (set TRACKER_DEBUG=1 to see the traceback instead).
"""
from __future__ import annotations

import os
import sys

import click

from storage import StorageError

from ..errors import TrackerError
from ._context import AppContext
from .correlate_commands import correlate_group
from .db_commands import init_command, sql_command, status_command
from .events_commands import events_group
from .export_commands import export_group
from .gpu_commands import gpu_group
from .import_commands import import_group
from .ingest_commands import ingest_group
from .report_commands import demo_command, report_group
from .study_commands import study_command


class TrackerGroup(click.Group):
    """Turns every error into one line on stderr and an exit code."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        # Errors are always handled here, whatever the caller asked of click.
        try:
            return super().main(args=args, prog_name=prog_name, complete_var=complete_var, standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("error: aborted", err=True)
            sys.exit(130)
        except click.ClickException as exc:
            hint = ""
            if isinstance(exc, click.UsageError) and exc.ctx is not None:
                hint = f" (see '{exc.ctx.command_path} --help')"
            click.echo(f"error: {exc.format_message()}{hint}", err=True)
            sys.exit(exc.exit_code)
        except (TrackerError, StorageError) as exc:
            if os.environ.get("TRACKER_DEBUG"):
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("error: interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # the last resort: still one line, with the kind of failure
            if os.environ.get("TRACKER_DEBUG"):
                raise
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            click.echo(f"error: unexpected {type(exc).__name__}: {first} (TRACKER_DEBUG=1 shows the traceback)", err=True)
            sys.exit(1)


@click.group(cls=TrackerGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config_path", metavar="FILE", help="Config file (default: $TRACKER_CONFIG, else ./tracker.toml if present).")
@click.option("--db", "db_path", metavar="PATH", help="DuckDB file (default: $TRACKER_DB, else database.path in the config).")
@click.version_option(package_name="ai-token-tracker")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, db_path: str | None) -> None:
    """Track AI-token prices and market caps from CoinGecko in DuckDB, and study how they
    react to AI announcements. All times are UTC."""
    ctx.obj = AppContext(config_path=config_path, db_path=db_path)


cli.add_command(init_command)
cli.add_command(status_command)
cli.add_command(sql_command)
cli.add_command(events_group)
cli.add_command(correlate_group)
cli.add_command(export_group)
cli.add_command(gpu_group)
cli.add_command(import_group)
cli.add_command(ingest_group)
cli.add_command(study_command)
cli.add_command(report_group)
cli.add_command(demo_command)


def main() -> None:
    cli.main(prog_name="tracker")
