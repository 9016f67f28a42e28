"""The `tracker` command line: a thin layer over the library, with the same verbs.

Every command prints data with ``--format table|json|csv``; every failure is one line on
stderr and a non-zero exit (set TRACKER_DEBUG=1 to see the traceback instead).
"""
from __future__ import annotations

import importlib
import os
import sys

import click

from storage import StorageError

from ..errors import TrackerError, describe
from ..urls import mask_urls
from ._context import AppContext
from .flags import with_flags

# Commands are imported only when used, so `tracker sql` does not pay for statsmodels,
# scipy and matplotlib. name -> "module:attribute" inside tracker.cli.
COMMANDS = {
    "init": "db_commands:init_command",
    "check": "check_commands:check_command",
    "status": "db_commands:status_command",
    "sql": "db_commands:sql_command",
    "events": "events_commands:events_group",
    "ingest": "ingest_commands:ingest_group",
    "import": "import_commands:import_group",
    "daemon": "daemon_commands:daemon_command",
    "study": "study_commands:study_command",
    "correlate": "correlate_commands:correlate_group",
    "gpu": "gpu_commands:gpu_group",
    "report": "report_commands:report_group",
    "demo": "report_commands:demo_command",
    "export": "export_commands:export_group",
    "coverage": "coverage_commands:coverage_command",
}


# What `tracker --help` lists beside each command, so that it imports none of them (and no
# pandas). A command missing here is imported for its help; tests/test_startup.py checks these
# against the commands' own docstrings.
SHORT_HELP = {
    "init": "Create the database (or upgrade an older one in place) and seed the events calendar.",
    "check": "Read every block of every table and report what is damaged or missing; never writes.",
    "status": "Row counts and freshness per table, each job's last and next run, the daemon's heartbeat, "
              "lock-held times, spooled batches, recent errors, and the daemon's live reports.",
    "sql": "Run a read-only SQL QUERY against the database (SELECT, WITH, DESCRIBE, SHOW, EXPLAIN).",
    "events": "The calendar of AI announcements studied (times in UTC).",
    "ingest": "Fetch from CoinGecko into the database, once, now.",
    "import": "Import price history from files.",
    "daemon": "Run the ingestion jobs on their schedules in the foreground until SIGTERM or Ctrl-C.",
    "study": "Event study: abnormal returns around announcements and the full test battery.",
    "correlate": "How tokens move with BTC, ETH, each other and outside series (NVDA, GPU prices).",
    "gpu": "How many H100s Sora-style video needs (the Factorial Funds model).",
    "report": "Shareable reports: one folder of HTML, Markdown, CSV and JSON.",
    "demo": "A one-minute offline tour on SIMULATED DATA: fake server, ingestion, SQL, a report.",
    "export": "Export the database for other tools (DuckDB, Polars, Spark, Trino, pandas).",
    "coverage": "Coverage per coin and source: first and last point, points, expected and missing periods.",
}


class TrackerGroup(click.Group):
    """Loads commands lazily and turns every error into one line on stderr and an exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of `tracker --help`, from :data:`SHORT_HELP` without importing the commands."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in SHORT_HELP and name not in self.commands:
                rows.append((name, click.Command(name, help=SHORT_HELP[name]).get_short_help_str(limit)))
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS and name not in self.commands:
            module_name, attribute = COMMANDS[name].split(":")
            module = importlib.import_module(f"{__name__}.{module_name}")
            self.add_command(getattr(module, attribute), name)
        return super().get_command(ctx, name)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        # Errors are always handled here, whatever the caller asked of click.
        try:
            result = super().main(args=args, prog_name=prog_name, complete_var=complete_var, standalone_mode=False, **extra)
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
            click.echo(f"error: {mask_urls(with_flags(exc))}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("error: interrupted", err=True)
            sys.exit(130)
        except OSError as exc:
            # A file the system refused (permissions, a full disk, a read-only mount) is the
            # user's environment, not a bug. Paths are checked up front; this catches the rest.
            if os.environ.get("TRACKER_DEBUG"):
                raise
            if exc.filename:
                reason = (exc.strerror or type(exc).__name__).lower()
                click.echo(f"error: cannot use {exc.filename}: {reason}; check the path and its permissions", err=True)
            else:
                click.echo(f"error: unexpected {mask_urls(describe(exc))} (TRACKER_DEBUG=1 shows the traceback)", err=True)
            sys.exit(1)
        except Exception as exc:  # the last resort: still one line, with the kind of failure
            if os.environ.get("TRACKER_DEBUG"):
                raise
            click.echo(f"error: unexpected {mask_urls(describe(exc))} (TRACKER_DEBUG=1 shows the traceback)", err=True)
            sys.exit(1)
        # Without standalone mode click returns, rather than raises, the code of a
        # click.exceptions.Exit (from --help, --version or a command): it must reach the shell.
        if isinstance(result, int) and not isinstance(result, bool):
            sys.exit(result)
        return result


@click.group(cls=TrackerGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config_path", metavar="FILE", help="Config file (default: $TRACKER_CONFIG, else ./tracker.toml if present).")
@click.option("--db", "db_path", metavar="PATH", help="DuckDB file (default: $TRACKER_DB, else database.path in the config).")
@click.version_option(package_name="ai-token-tracker")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, db_path: str | None) -> None:
    """Track AI-token prices and market caps from CoinGecko in DuckDB, and study how they
    react to AI announcements. All times are UTC."""
    ctx.obj = AppContext(config_path=config_path, db_path=db_path)


def main() -> None:
    cli.main(prog_name="tracker")
