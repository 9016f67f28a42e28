"""tracker export parquet DIR."""
from __future__ import annotations

from pathlib import Path

import click

from ..report.parquet_export import VIEWS, export_parquet
from ._context import AppContext, format_option, pass_app


@click.group("export")
def export_group() -> None:
    """Export the database for other tools (DuckDB, Polars, Spark, Trino, pandas)."""


@export_group.command("parquet")
@click.argument("directory", type=click.Path(path_type=Path, dir_okay=True, file_okay=True))
@click.option("--overwrite", is_flag=True,
              help="Accept a non-empty DIRECTORY; replaces only the table folders (and _manifest.json) this export writes.")
@click.option("--table", "tables", multiple=True, metavar="NAME",
              help="Export only this table (repeatable). Default: every table.")
@click.option("--views", "include_views", is_flag=True,
              help=f"Also write the views {', '.join(VIEWS)} (materialised, partitioned by month).")
@format_option
@pass_app
def parquet_command(app: AppContext, directory: Path, overwrite: bool, tables: tuple[str, ...],
                    include_views: bool, fmt: str) -> None:
    """Write every table to DIRECTORY as Hive-partitioned Parquet (time series by UTC month).

    The database is read on one read-only connection, so the tables agree with each other;
    files are staged beside DIRECTORY and renamed into place at the end.

    \b
    Example:
      tracker export parquet export/
      duckdb -c "SELECT month, count(*) FROM read_parquet('export/price_history/**/*.parquet', hive_partitioning=true) GROUP BY month"
    """
    db = app.database()

    def show(name: str) -> None:  # progress on stderr, so --format csv/json output stays clean
        click.echo(f"exporting {name} ...", err=True)

    result = export_parquet(db, directory, overwrite=overwrite, tables=tables or None,
                            include_views=include_views, on_table=show)
    from ..analysis.output import render

    click.echo(render(result.frame(), fmt))
