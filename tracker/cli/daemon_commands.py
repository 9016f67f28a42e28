"""tracker daemon."""
from __future__ import annotations

import logging
import sys
import time

import click

from ..urls import mask_urls
from ._context import AppContext, pass_app


class _MaskingFormatter(logging.Formatter):
    """Log lines with every URL's password and query string masked (a library's message may
    quote the configured base URL)."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_urls(super().format(record))


def configure_logging(level: str) -> None:
    """Log lines on stderr with UTC timestamps."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = _MaskingFormatter("%(asctime)sZ %(levelname)-7s %(message)s", datefmt="%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # APScheduler logs every run at INFO and every skipped or missed run at WARNING; the daemon
    # says the same in its own words (and less often). Its errors still show.
    logging.getLogger("apscheduler").setLevel(max(logging.ERROR, root.level))


# sysexits.h EX_CONFIG: a service manager should not restart a daemon whose config is wrong
# (docs/tracker-daemon.service has RestartPreventExitStatus=78).
EXIT_CONFIG = 78


@click.command("daemon")
@click.option("--once", is_flag=True, help="Run every enabled job once, in order, then exit (1 if a job failed).")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
    help="How much to log on stderr.",
)
@pass_app
def daemon_command(app: AppContext, once: bool, log_level: str) -> None:
    """Run the ingestion jobs on their schedules in the foreground until SIGTERM or Ctrl-C.

    Jobs (config [schedules]): markets snapshot, categories snapshot, membership sync and
    history top-up (also once at start). Each job fetches from CoinGecko without holding the
    database, then writes short transactions; when another process holds the file, fetched
    batches wait in the spool folder and are written on a later run. A read-only copy of the
    database is published to the snapshot folder after each job: open that one for long
    interactive sessions. Logs go to stderr; the API key is never shown.

    SIGTERM or Ctrl-C lets the call in flight finish (or time out), writes what was fetched
    and exits 0. One daemon per database. A config error exits 78 (not worth restarting).
    See docs/daemon.md.
    """
    from ..errors import ConfigError

    try:
        config = app.config  # schedules, plan and key are checked here, before anything starts
        from jobs import check_startable, run_daemon

        check_startable(config)
        configure_logging(log_level)
        code = run_daemon(config, once=once)
    except ConfigError as exc:
        click.echo(f"error: {mask_urls(str(exc))}", err=True)
        code = EXIT_CONFIG
    if code:
        raise click.exceptions.Exit(code)
