"""`tracker sql` is read-only for the whole machine: it writes no file, runs no SQL file and
reaches no network address, whatever the query tries; ordinary reads and --allow-path reads work.

Every escape attempt runs through the CLI and through ``storage.run_user_sql``. After each, the
whole test folder (database, write targets, the folder with a schema.sql/load.sql that would
write) must be exactly as before, and a TCP listener on 127.0.0.1 must have seen no connection.
"""
from __future__ import annotations

import os
import shutil
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

import storage
from storage.sandbox import AllowPathError
from tracker.analysis.events import seed_events


class Listener:
    """A TCP listener on 127.0.0.1 that records every connection made to it."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._peers: list[int] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, (_, peer_port) = self.sock.accept()
            except OSError:
                return
            conn.close()  # no answer: a client that got here has already reached the network
            with self._changed:
                self._peers.append(peer_port)
                self._changed.notify_all()

    def connections(self) -> list[int]:
        """Every connection so far: a sentinel connection made now is accepted after all
        earlier ones, so once it is seen, none before it can still be pending."""
        with socket.create_connection(("127.0.0.1", self.port)) as sentinel:
            mine = sentinel.getsockname()[1]
            with self._changed:
                assert self._changed.wait_for(lambda: mine in self._peers, timeout=60), "listener stopped accepting"
                self._peers.remove(mine)
                return list(self._peers)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def template_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sandbox") / "tracker.duckdb"
    db = storage.open_database(path, create=True)
    seed_events(db)
    with db.transaction() as con:  # two months of prices, so the export has partitions to read
        con.execute(
            "INSERT INTO price_history (coin_id, vs_currency, ts, price, granularity, is_partial, source, ingested_at) "
            "SELECT 'fetch-ai', 'usd', TIMESTAMP '2024-01-30' + INTERVAL (d) DAY, 0.5 + d / 100, 'daily', false, "
            "'coingecko', TIMESTAMP '2024-03-01' FROM range(5) t(d)"
        )
    return path


@pytest.fixture(scope="module")
def listener():
    server = Listener()
    yield server
    server.close()


@dataclass
class Sandbox:
    root: Path
    db: Path
    listener: Listener

    def substitute(self, sql: str) -> str:
        return (sql.replace("@T@", str(self.root / "target")).replace("@IMP@", str(self.root / "imp"))
                .replace("@PORT@", str(self.listener.port)).replace("@ALLOWED@", str(self.root / "allowed"))
                .replace("@OUTSIDE@", str(self.root / "outside")))

    def tree(self) -> dict[str, tuple[int, int, bytes]]:
        """Every file and folder under the test folder: size, mtime, and the bytes of small files."""
        found = {}
        for folder, dirs, files in os.walk(self.root):
            for name in dirs + files:
                path = Path(folder, name)
                info = path.lstat()
                content = path.read_bytes() if path.is_file() and not path.is_symlink() and info.st_size < 4096 else b""
                found[str(path.relative_to(self.root))] = (info.st_size, info.st_mtime_ns, content)
        return found


@pytest.fixture
def sandbox(tmp_path, template_db, listener) -> Sandbox:
    """tmp_path (also the working folder) with the database, a write target holding a file
    that must keep its content, an import folder whose SQL files would write, an allowed folder
    and a folder outside it."""
    db = tmp_path / "data" / "tracker.duckdb"
    db.parent.mkdir()
    shutil.copyfile(template_db, db)
    target = tmp_path / "target"
    target.mkdir()
    (target / "existing.txt").write_text("keep\n")
    imp = tmp_path / "imp"
    imp.mkdir()
    (imp / "schema.sql").write_text(f"COPY (SELECT 'from schema.sql' AS x) TO '{target}/from_schema.csv';\n")
    (imp / "load.sql").write_text(f"COPY (SELECT 'from load.sql' AS x) TO '{target}/from_load.csv';\n")
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "data.csv").write_text("coin_id,weight\nfetch-ai,0.5\nbitcoin,1.5\n")
    (allowed / "schema.sql").write_text(f"COPY (SELECT 'x' AS x) TO '{allowed}/from_schema.csv';\n")
    (allowed / "load.sql").write_text("")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "notes.csv").write_text("secret\nnot for the query\n")
    return Sandbox(tmp_path, db, listener)


def _run(sandbox: Sandbox, via: str, sql: str, *allow: str) -> tuple[bool, str, object]:
    """Run ``sql``; return (succeeded, output or error line, DataFrame or None)."""
    sql = sandbox.substitute(sql)
    allow = tuple(sandbox.substitute(a) for a in allow)
    if via == "cli":
        from click.testing import CliRunner

        from tracker.cli import cli

        args = ["--db", str(sandbox.db), "sql", sql, "--format", "csv"]
        for path in allow:
            args += ["--allow-path", path]
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert "Traceback" not in result.output
        return result.exit_code == 0, result.output, None
    try:
        frame = storage.run_user_sql(storage.Database(sandbox.db), sql, allow_paths=allow)
    except storage.StorageError as exc:
        return False, f"error: {exc}", None
    return True, frame.to_csv(index=False), frame


def _assert_refused_in_one_line(ok: bool, output: str, expected: str) -> None:
    assert not ok, f"the query was not refused; it printed:\n{output}"
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert lines[0].startswith("error: ") and "unexpected" not in lines[0], lines[0]
    assert expected.lower() in lines[0].lower(), lines[0]


REFUSED = "is refused"  # the statement check's refusal
STATEMENT_REFUSED = "statements are refused"
NO_FILES = "file system operations are disabled"  # DuckDB's own lock-down
LOCKED = "configuration has been locked"
PARSE = "Parser Error"

# (id, SQL, what the one-line refusal says). @T@ is a folder whose only file must keep its
# content, @IMP@ a folder whose schema.sql and load.sql write into @T@, @PORT@ the listener.
ESCAPES = [
    ("explain-analyze-copy-overwrites", "explain analyze copy (select 'x') to '@T@/existing.txt'", REFUSED),
    ("explain-analyze-copy-parquet", "explain analyze copy (select 1 as a) to '@T@/ea.parquet' (format parquet)", REFUSED),
    ("explain-analyze-copy-partitioned",
     "explain analyze copy (select 1 as a, 2 as b) to '@T@/ea_part' (format parquet, partition_by (a))", REFUSED),
    ("explain-options-analyze-copy", "explain (analyze, format json) copy (select 1) to '@T@/eo.csv'", REFUSED),
    ("explain-analyze-behind-comments",
     "/* a plan */ explain -- just looking\n analyze /* honest */ copy (select 1) to '@T@/ec.csv'", REFUSED),
    ("explain-analyze-export-database", "explain analyze export database '@T@/eexp'", PARSE),
    ("explain-analyze-import-pragma", "explain analyze pragma import_database('@IMP@')", REFUSED),
    ("copy-to-csv", "copy (select 1) to '@T@/c.csv'", STATEMENT_REFUSED),
    ("copy-to-parquet", "copy (select 1 as a) to '@T@/c.parquet' (format parquet)", STATEMENT_REFUSED),
    ("copy-partition-by", "copy (select 1 as a, 2 as b) to '@T@/c_part' (format parquet, partition_by (a))", STATEMENT_REFUSED),
    ("copy-table-overwrites", "copy events to '@T@/existing.txt'", STATEMENT_REFUSED),
    ("export-database", "export database '@T@/exp'", STATEMENT_REFUSED),
    ("import-database", "import database '@IMP@'", "IMPORT DATABASE statements are refused"),
    ("pragma-import-database", "pragma import_database('@IMP@')", "PRAGMA import_database is refused"),
    ("pragma-import-database-quoted", "PRAGMA \"import_database\"('@IMP@')", "PRAGMA import_database is refused"),
    ("call-import-database", "call import_database('@IMP@')", STATEMENT_REFUSED),
    ("install-httpfs", "install httpfs", "INSTALL statements are refused"),
    ("install-from-local-repository", "install httpfs from 'http://127.0.0.1:@PORT@'", STATEMENT_REFUSED),
    ("force-install", "force install httpfs from 'http://127.0.0.1:@PORT@'", "FORCE INSTALL statements are refused"),
    ("load-httpfs", "load httpfs", "LOAD statements are refused"),
    ("load-from-url", "load 'http://127.0.0.1:@PORT@/httpfs.duckdb_extension'", STATEMENT_REFUSED),
    ("read-csv-https", "select * from read_csv('https://example.com/prices.csv')", "never reaches the network"),
    ("read-csv-local-http", "select * from read_csv('http://127.0.0.1:@PORT@/prices.csv')", "never reaches the network"),
    ("read-parquet-local-http", "select * from read_parquet('http://127.0.0.1:@PORT@/prices.parquet')", "never reaches the network"),
    ("from-url-replacement-scan", "from 'http://127.0.0.1:@PORT@/prices.csv'", "never reaches the network"),
    ("attach-url", "attach 'http://127.0.0.1:@PORT@/other.duckdb' as remote", "ATTACH statements are refused"),
    ("attach-new-file", "attach '@T@/new.duckdb' as other", "ATTACH statements are refused"),
    ("set-external-access", "set enable_external_access = true", "SET statements are refused"),
    ("reset-external-access", "reset enable_external_access", "RESET statements are refused"),
    ("set-allowed-directories", "set allowed_directories = ['/']", "SET statements are refused"),
    ("unlock-configuration", "set lock_configuration = false", "SET statements are refused"),
    ("pragma-assignment", "pragma enable_external_access = true", STATEMENT_REFUSED),
    ("profiling-output", "pragma profiling_output = '@T@/profile.json'", STATEMENT_REFUSED),
    ("enable-logging-function", "select * from enable_logging(storage = 'file', storage_path = '@T@/logs')", LOCKED),
    ("create-secret", "create secret (type http, extra_http_headers map {'X-Key': 'k'})", "CREATE statements are refused"),
    ("create-persistent-secret", "create persistent secret s (type s3, key_id 'k', secret 's')", "CREATE statements are refused"),
    ("multi-statement-write-after-read", "select 1; copy (select 1) to '@T@/multi.csv'", STATEMENT_REFUSED),
    ("multi-statement-unlock-then-read",
     "select 1; set enable_external_access = true; select * from read_text('/etc/passwd')", STATEMENT_REFUSED),
    ("comment-hides-separator", "select 1 -- harmless\n; copy (select 1) to '@T@/hidden.csv'", STATEMENT_REFUSED),
    ("block-comment-then-write", "/* select 1; */ copy (select 1) to '@T@/hidden2.csv'", STATEMENT_REFUSED),
    ("with-then-delete", "with x as (select 1) delete from events", "DELETE statements are refused"),
    ("prepare-copy", "prepare p as copy (select 1) to '@T@/prep.csv'; execute p", STATEMENT_REFUSED),
    ("query-function-copy", "select * from query('copy (select 1) to ''@T@/q.csv''')", PARSE),
    ("checkpoint", "checkpoint", "CHECKPOINT statements are refused"),
    ("read-text-etc-passwd", "select * from read_text('/etc/passwd')", NO_FILES),
    ("glob-etc", "select * from glob('/etc/*')", NO_FILES),
    ("read-csv-etc-passwd", "select * from read_csv('/etc/passwd')", NO_FILES),
    ("read-blob-proc-environ", "select * from read_blob('/proc/self/environ')", NO_FILES),
    ("summarize-etc-passwd", "summarize select * from read_csv('/etc/passwd')", NO_FILES),
    ("file-url", "select * from read_text('file:///etc/passwd')", NO_FILES),
    ("relative-file-outside", "select * from read_csv('outside/notes.csv')", NO_FILES),
    ("dotdot-escape", "select * from read_text('data/../outside/notes.csv')", NO_FILES),
    ("secrets-folder", "select * from duckdb_secrets()", NO_FILES),
    ("dot-shell", ".sh touch '@T@/shell'", PARSE),
    ("dot-system", ".system touch @T@/shell", PARSE),
    ("bang-shell", "!touch @T@/shell", PARSE),
    ("copy-to-program", "copy (select 1) to '| touch @T@/piped'", STATEMENT_REFUSED),
]

assert len(ESCAPES) >= 25


@pytest.mark.parametrize("via", ["cli", "library"])
@pytest.mark.parametrize("sql, expected", [c[1:] for c in ESCAPES], ids=[c[0] for c in ESCAPES])
def test_escape_attempt_is_refused_and_changes_nothing(sandbox, via, sql, expected):
    before = sandbox.tree()
    ok, output, _ = _run(sandbox, via, sql)
    _assert_refused_in_one_line(ok, output, expected)
    assert sandbox.tree() == before, "a file was written, changed or removed"
    assert not (sandbox.root / "target" / "from_schema.csv").exists()
    assert sandbox.listener.connections() == [], "the query reached the network"
    assert "root:" not in output and "not for the query" not in output


@pytest.mark.parametrize("via", ["cli", "library"])
@pytest.mark.parametrize(
    "sql, expected",
    [
        ("copy (select 1) to '@ALLOWED@/w.csv'", STATEMENT_REFUSED),
        ("copy (select 1) to '@ALLOWED@/data.csv'", STATEMENT_REFUSED),
        ("explain analyze copy (select 1) to '@ALLOWED@/data.csv'", REFUSED),
        ("explain analyze copy (select 1 as a) to '@ALLOWED@/part' (format parquet, partition_by (a))", REFUSED),
        ("pragma import_database('@ALLOWED@')", REFUSED),
        ("import database '@ALLOWED@'", STATEMENT_REFUSED),
        ("export database '@ALLOWED@/exp'", STATEMENT_REFUSED),
        ("attach '@ALLOWED@/new.duckdb' as other", STATEMENT_REFUSED),
        ("select * from read_text('@OUTSIDE@/notes.csv')", NO_FILES),
    ],
    ids=["copy", "copy-overwrite", "explain-analyze-copy", "explain-analyze-partitioned", "pragma-import",
         "import-database", "export-database", "attach", "file-outside"],
)
def test_allow_path_grants_reading_not_writing(sandbox, via, sql, expected):
    """DuckDB's allowed paths permit writes too, so the statement check must hold inside them."""
    before = sandbox.tree()
    ok, output, _ = _run(sandbox, via, sql, "@ALLOWED@")
    _assert_refused_in_one_line(ok, output, expected)
    assert sandbox.tree() == before
    assert sandbox.listener.connections() == []


READS = [
    ("view", "select count(*) as n from daily_prices"),
    ("events", "select event_id from events where event_id = 'sora-demo'"),
    ("describe", "describe events"),
    ("show-tables", "show tables"),
    ("explain-select", "explain select * from events"),
    ("explain-analyze-select", "explain analyze select count(*) from events"),
    ("explain-options-select", "explain (analyze, format json) select 1"),
    ("pragma-table-info", "pragma table_info('events')"),
    ("pragma-show-tables", "pragma show_tables"),
    ("summarize", "summarize events"),
    ("with", "with e as (select * from events) select count(*) from e"),
    ("several-statements", "select 1; select event_id from events limit 1"),
    ("own-database-file", "select count(*) from read_duckdb('data/tracker.duckdb', table_name = 'events')"),
]


@pytest.mark.parametrize("via", ["cli", "library"])
@pytest.mark.parametrize("sql", [r[1] for r in READS], ids=[r[0] for r in READS])
def test_ordinary_reads_still_work(sandbox, via, sql):
    before = sandbox.tree()
    ok, output, _ = _run(sandbox, via, sql)
    assert ok, output
    assert output.strip()
    assert sandbox.tree() == before


@pytest.mark.parametrize("via", ["cli", "library"])
def test_lock_down_is_in_force_on_the_connection(sandbox, via):
    ok, output, _ = _run(
        sandbox, via,
        "select current_setting('enable_external_access') as external, "
        "current_setting('autoinstall_known_extensions') as autoinstall, "
        "current_setting('autoload_known_extensions') as autoload, "
        "current_setting('lock_configuration') as locked, current_setting('TimeZone') as tz",
    )
    assert ok, output
    assert output.strip().splitlines()[-1].lower() == "false,false,false,true,utc"


@pytest.mark.parametrize("via", ["cli", "library"])
def test_allow_path_reads_the_parquet_export(sandbox, via, cli_runner):
    export = sandbox.root / "export"
    assert cli_runner("--db", str(sandbox.db), "export", "parquet", str(export)).exit_code == 0
    sql = "select count(*) as n from read_parquet('export/events/*.parquet')"
    ok, output, _ = _run(sandbox, via, sql)
    _assert_refused_in_one_line(ok, output, "--allow-path")
    ok, output, _ = _run(sandbox, via, sql, str(export))
    assert ok, output
    events = storage.query(storage.Database(sandbox.db), "select count(*) as n from events")["n"][0]
    assert int(output.strip().splitlines()[-1]) == events > 10
    partitioned = ("select count(*) from read_parquet('export/price_history/**/*.parquet', "
                   "hive_partitioning = true)")
    ok, output, _ = _run(sandbox, via, partitioned, "export/")
    assert ok and output.strip().splitlines()[-1] == "5", output


@pytest.mark.parametrize("via", ["cli", "library"])
def test_allow_path_reads_a_csv_in_the_folder_and_nothing_beside_it(sandbox, via):
    joined = ("select e.coin_id, e.weight from read_csv('allowed/data.csv') e "
              "order by e.coin_id")
    ok, output, _ = _run(sandbox, via, joined, "@ALLOWED@")
    assert ok, output
    assert output.splitlines() == ["coin_id,weight", "bitcoin,1.5", "fetch-ai,0.5"]
    # a sibling folder sharing the allowed folder's name as a prefix is not inside it
    sibling = sandbox.root / "allowed2"
    sibling.mkdir()
    (sibling / "data.csv").write_text("a\n1\n")
    (sandbox.root / "allowed" / "link.csv").symlink_to(sandbox.root / "outside" / "notes.csv")
    for sql in ("select * from read_csv('allowed2/data.csv')",
                "select * from read_csv('allowed/link.csv')",
                "select * from read_csv('allowed/../outside/notes.csv')",
                "select * from read_text('/etc/passwd')"):
        ok, output, _ = _run(sandbox, via, sql, "@ALLOWED@")
        _assert_refused_in_one_line(ok, output, NO_FILES)


@pytest.mark.parametrize("via", ["cli", "library"])
def test_allow_path_to_one_file_reads_only_that_file(sandbox, via):
    (sandbox.root / "allowed" / "other.csv").write_text("a\n1\n")
    ok, output, _ = _run(sandbox, via, "select count(*) from read_csv('allowed/data.csv')", "allowed/data.csv")
    assert ok and output.strip().splitlines()[-1] == "2", output
    ok, output, _ = _run(sandbox, via, "select count(*) from read_csv('allowed/other.csv')", "allowed/data.csv")
    _assert_refused_in_one_line(ok, output, NO_FILES)


def test_allow_path_through_a_symlinked_folder(sandbox):
    (sandbox.root / "link").symlink_to(sandbox.root / "allowed")
    for path in ("link/data.csv", "allowed/data.csv"):
        ok, output, _ = _run(sandbox, "cli", f"select count(*) from read_csv('{path}')", "link")
        assert ok, output


def test_allowed_paths_do_not_carry_over_to_the_next_query(sandbox):
    db = storage.Database(sandbox.db)
    assert len(storage.run_user_sql(db, "select * from read_csv('allowed/data.csv')", allow_paths=["allowed"])) == 2
    with pytest.raises(storage.ReadOnlyQueryError, match=NO_FILES):
        storage.run_user_sql(db, "select * from read_csv('allowed/data.csv')", allow_paths=["outside"])
    with pytest.raises(storage.ReadOnlyQueryError, match=NO_FILES):
        storage.run_user_sql(db, "select * from read_csv('allowed/data.csv')")


@pytest.mark.parametrize("make, message", [
    (lambda root: root / "missing", "does not exist"),
    (lambda root: (root / "dangling").symlink_to(root / "nowhere") or root / "dangling", "does not exist"),
    (lambda root: os.mkfifo(root / "fifo") or root / "fifo", "is not a regular file or folder"),
    (lambda root: "", "is empty"),
], ids=["missing", "dangling-symlink", "fifo", "empty"])
def test_allow_path_must_be_an_existing_file_or_folder(sandbox, make, message):
    path = str(make(sandbox.root))
    missing_db = sandbox.root / "no" / "tracker.duckdb"  # checked before the database is opened
    from click.testing import CliRunner

    from tracker.cli import cli

    result = CliRunner().invoke(cli, ["--db", str(missing_db), "sql", "select 1", "--allow-path", path])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: Invalid value for '--allow-path'") and message in lines[0]
    assert not missing_db.parent.exists()
    with pytest.raises(AllowPathError, match=message):
        storage.run_user_sql(storage.Database(sandbox.db), "select 1", allow_paths=[path])


def test_allowed_paths_are_resolved_to_real_absolute_paths(sandbox):
    from storage.sandbox import resolve_allowed_paths

    (sandbox.root / "link").symlink_to(sandbox.root / "allowed")
    allowed = resolve_allowed_paths(["link", "allowed/", "allowed/data.csv", str(sandbox.root / "allowed")])
    real = os.path.realpath(sandbox.root / "allowed")
    assert allowed.directories == (real,)
    assert allowed.files == (os.path.join(real, "data.csv"),)


def test_the_listener_sees_an_unsandboxed_duckdb():
    """The network check can fail: plain DuckDB asking a listener for an extension is seen."""
    listener = Listener()
    try:
        with duckdb.connect() as con:
            with pytest.raises(duckdb.Error):
                con.execute(f"install httpfs from 'http://127.0.0.1:{listener.port}'")
        assert listener.connections(), "the listener saw nothing; the network assertions would prove nothing"
    finally:
        listener.close()


def test_waits_out_a_writer_then_names_it_in_one_line(sandbox):
    """The locked-down connection retries on the file lock like every other open."""
    import subprocess
    import sys

    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys; con = duckdb.connect(sys.argv[1]); print('held', flush=True); sys.stdin.readline(); con.close()",
         str(sandbox.db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(storage.DatabaseLockedError, match=r"is locked by .*PID \d+"):
            storage.run_user_sql(storage.Database(sandbox.db, lock_timeout=0.3), "select 1")
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=60)
    assert len(storage.run_user_sql(storage.Database(sandbox.db, lock_timeout=10), "select 1")) == 1
