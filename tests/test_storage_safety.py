"""Nothing a user points --db at is destroyed, and read commands never create or change a file.

Special files (a FIFO, a character device, a socket, a folder, symlinks to them) are refused in
one line before anything is opened; an empty regular file is never unlinked (`tracker init`
fills it in place); read commands neither create, migrate nor write; a read-only folder and a
missing table get their own one-line errors.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import socket
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

import storage
from storage import DatabaseNotFoundError, DatabasePathError, SchemaError

from .conftest import subprocess_env, venv_bin

# Read commands, each with the arguments it needs to get as far as opening the database.
READ_COMMANDS = [
    ["status"],
    ["sql", "select 1"],
    ["events", "list"],
    ["export", "parquet", "out-export"],
    ["study", "--event", "sora-demo", "--tokens", "bitcoin,ethereum"],
    ["correlate", "matrix", "--tokens", "bitcoin,ethereum"],
    ["correlate", "series", "list"],
    ["report", "event-study", "--event", "sora-demo", "--tokens", "bitcoin", "--output", "out-report"],
]
WRITE_COMMANDS = [
    ["init"],
    ["events", "add", "x-event", "--name", "X", "--date", "2024-02-15"],
]


def _tracker(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    # A subprocess with a timeout: were a FIFO ever opened, the test fails instead of hanging.
    return subprocess.run([venv_bin("tracker"), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=subprocess_env())


def _invoke(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The CLI in this process (faster than a console script), with the same result fields."""
    from click.testing import CliRunner

    from tracker.cli import cli

    os.chdir(cwd)
    result = CliRunner().invoke(cli, list(args))
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def _one_line_error(out: subprocess.CompletedProcess) -> str:
    assert out.returncode != 0, out.stdout
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    assert "unexpected" not in lines[0] and "Traceback" not in out.stderr
    return lines[0]


def _listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.fixture
def short_dir():
    """A folder with a short path (a Unix socket path must fit in about 100 bytes)."""
    with tempfile.TemporaryDirectory(prefix="tk") as folder:
        yield Path(folder)


# -- special files ----------------------------------------------------------------------------
@pytest.mark.parametrize("args", [["status"], ["init"], ["sql", "select 1"], ["events", "add", "e1", "--name", "E", "--date", "2024-01-01"], ["check"]])
def test_a_fifo_is_refused_and_left_alone(tmp_path, args):
    fifo = tmp_path / "db.fifo"
    os.mkfifo(fifo)
    before = _listing(tmp_path)
    line = _one_line_error(_tracker("--db", str(fifo), *args, cwd=tmp_path))
    assert "is a FIFO (named pipe), not a database file" in line
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert _listing(tmp_path) == before  # no database, WAL or lock file appeared


def _char_device(folder: Path) -> Path:
    device = folder / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a twin of /dev/null
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot make a character device here: {exc}")
    return device


@pytest.mark.parametrize("args", [["status"], ["init"], ["events", "list"], ["import", "csv", "prices.csv", "--layout", "series", "--coin", "x"], ["check"]])
def test_a_character_device_is_refused_and_left_alone(tmp_path, args):
    device = _char_device(tmp_path)
    (tmp_path / "prices.csv").write_text("timestamp,price\n2024-01-01,1.5\n2024-01-02,1.6\n")
    rdev = os.lstat(device).st_rdev
    before = _listing(tmp_path)
    line = _one_line_error(_tracker("--db", str(device), *args, cwd=tmp_path))
    assert "is a character device, not a database file" in line
    after = os.lstat(device)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == rdev
    assert _listing(tmp_path) == before


def test_a_socket_and_symlinks_to_special_files_are_refused(short_dir):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(short_dir / "s"))
    try:
        fifo = short_dir / "f"
        os.mkfifo(fifo)
        (short_dir / "to-fifo").symlink_to(fifo)
        (short_dir / "to-dir").symlink_to(short_dir)
        (short_dir / "dangling").symlink_to(short_dir / "nowhere.duckdb")
        cases = {"s": "a socket", "to-fifo": "a FIFO", "to-dir": "is a folder", "dangling": "a symlink to a missing file"}
        for name, words in cases.items():
            for create in (False, True):
                with pytest.raises(DatabasePathError, match=words):
                    storage.open_database(short_dir / name, create=create)
            with pytest.raises(DatabasePathError, match=words):
                storage.open_for_reading(short_dir / name)
        assert stat.S_ISSOCK(os.lstat(short_dir / "s").st_mode) and stat.S_ISFIFO(os.lstat(fifo).st_mode)
        assert not (short_dir / "nowhere.duckdb").exists()
    finally:
        sock.close()


def test_a_fifo_in_place_of_the_write_ahead_log_is_refused(tmp_path, db):
    wal = storage.wal_path(db.path)
    os.mkfifo(wal)
    for args in (["status"], ["events", "add", "e1", "--name", "E", "--date", "2024-01-01"]):
        line = _one_line_error(_tracker("--db", str(db.path), *args, cwd=tmp_path))  # opening the FIFO would block
        assert "(the database's write-ahead log) is a FIFO" in line
    assert stat.S_ISFIFO(os.lstat(wal).st_mode)


# -- empty files are never unlinked ---------------------------------------------------------------
def test_an_empty_file_is_kept_by_readers_and_filled_in_place_by_init(tmp_path):
    path = tmp_path / "placeholder.duckdb"
    path.touch()
    os.chmod(path, 0o640)
    link = tmp_path / "hardlink.duckdb"
    os.link(path, link)
    inode = os.stat(path).st_ino
    for args in READ_COMMANDS + [WRITE_COMMANDS[1]]:
        line = _one_line_error(_invoke("--db", str(path), *args, cwd=tmp_path))
        assert "is empty; run `tracker init`" in line, (args, line)
        assert os.stat(path).st_size == 0 and os.stat(path).st_ino == inode
    out = _invoke("--db", str(path), "init", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    info = os.stat(path)
    assert info.st_ino == inode and info.st_nlink == 2 and stat.S_IMODE(info.st_mode) == 0o640  # the same file
    assert link.read_bytes()[8:12] == b"DUCK"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging copy left
    assert _invoke("--db", str(path), "events", "list", cwd=tmp_path).returncode == 0


# -- read commands never create, migrate or write -------------------------------------------------
@pytest.mark.parametrize("args", READ_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_read_commands_on_a_missing_file_create_nothing(tmp_path, args):
    line = _one_line_error(_invoke("--db", "data/tracker.duckdb", *args, cwd=tmp_path))
    assert "run `tracker init`" in line
    assert not (tmp_path / "data").exists()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_read_commands_leave_an_older_file_as_it_is_and_init_upgrades_it(tmp_path, db_path):
    db = storage.Database(db_path)
    with db.connect(create=True) as con:
        storage.migrate(con, target=2)
    digest, mtime = _digest(db_path), os.stat(db_path).st_mtime_ns
    for args in READ_COMMANDS:
        line = _one_line_error(_invoke("--db", str(db_path), *args, cwd=tmp_path))
        assert f"has schema version 2, older than this tracker's {storage.latest_version()}; run `tracker init`" in line, args
    assert _digest(db_path) == digest and os.stat(db_path).st_mtime_ns == mtime
    assert not storage.wal_path(db_path).exists()
    assert _invoke("--db", str(db_path), "init", cwd=tmp_path).returncode == 0
    with storage.open_for_reading(db_path).connect(read_only=True) as con:
        assert storage.current_version(con) == storage.latest_version()


def test_a_write_command_upgrades_an_older_file(db_path):
    db = storage.Database(db_path)
    with db.connect(create=True) as con:
        storage.migrate(con, target=3)
    upgraded = storage.open_database(db_path)
    with upgraded.connect(read_only=True) as con:
        assert storage.current_version(con) == storage.latest_version()


def test_reading_never_opens_the_file_read_write(db, monkeypatch):
    opened = []
    real = storage.Database._open
    monkeypatch.setattr(storage.Database, "_open", lambda self, read_only: opened.append(read_only) or real(self, read_only))
    storage.open_for_reading(db.path)
    assert opened == [True]


def test_a_duckdb_file_that_is_not_the_trackers_is_refused(tmp_path):
    import duckdb

    path = tmp_path / "mine.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE my_precious AS SELECT 42 AS answer")
    con.close()
    digest = _digest(path)
    for opener in (lambda: storage.open_for_reading(path), lambda: storage.open_database(path, create=True)):
        with pytest.raises(SchemaError, match="is a DuckDB file but not a tracker database .*my_precious"):
            opener()
    assert _digest(path) == digest


def test_missing_file_for_a_writer_without_create_says_init(tmp_path):
    with pytest.raises(DatabaseNotFoundError, match="run `tracker init`"):
        storage.open_database(tmp_path / "none.duckdb")
    assert not (tmp_path / "none.duckdb").exists()


# -- item 11: a missing table, a read-only folder --------------------------------------------------
def test_a_missing_table_is_named_in_one_line(tmp_path, db):
    with db.connect() as con:
        con.execute("DROP VIEW event_windows")
        con.execute("DROP TABLE events")
    for args in (["status"], ["events", "list"], ["events", "add", "x", "--name", "X", "--date", "2024-01-01"]):
        line = _one_line_error(_invoke("--db", str(db.path), *args, cwd=tmp_path))
        assert "has no table events, view event_windows, which its schema version" in line, line
        assert "restore the file from the snapshot or a backup" in line


def _unprivileged(action) -> str:
    """Run ``action()`` as an ordinary user and return what it returned or raised, as text.

    Root may write anywhere, so as root the action runs in a forked child that drops to
    'nobody' (everything it needs is imported before the fork)."""
    if os.geteuid() != 0:
        try:
            return f"ok {action()}"
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read)
        try:
            os.setgid(65534)
            os.setuid(65534)
            try:
                text = f"ok {action()}"
            except BaseException as exc:
                text = f"{type(exc).__name__}: {exc}"
            os.write(write, text.encode())
        finally:
            os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode()


@pytest.fixture
def public_dir():
    """A folder an unprivileged user can reach (pytest's own tmp folder is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="tk-ro-"))
    os.chmod(folder, 0o755)
    yield folder
    for path in folder.rglob("*"):
        if path.is_dir():
            os.chmod(path, 0o755)
    shutil.rmtree(folder, ignore_errors=True)


def _cli_in_process(*args: str) -> str:
    from click.testing import CliRunner

    from tracker.cli import cli

    result = CliRunner().invoke(cli, list(args))
    return f"exit={result.exit_code} {result.output.strip()}"


def _preload_cli() -> None:
    """Import every module the commands below load lazily, before the fork drops privileges."""
    from click.testing import CliRunner

    import jobs.spool  # noqa: F401
    import tracker.cli.db_commands
    import tracker.cli.events_commands
    import tracker.ingest.runs  # noqa: F401
    from tracker.cli import cli

    CliRunner().invoke(cli, ["--db", "/nonexistent/x.duckdb", "events", "list"])


def test_a_read_only_folder_gets_its_own_message(public_dir):
    folder = public_dir / "ro"
    folder.mkdir()
    path = folder / "tracker.duckdb"
    storage.open_database(path, create=True)
    os.chmod(path, 0o666)  # the file is writable, its folder (where the WAL goes) is not
    os.chmod(folder, 0o555)
    os.chdir(public_dir)  # the unprivileged user cannot look into pytest's tmp folder for tracker.toml
    _preload_cli()
    digest = _digest(path)
    write = _unprivileged(lambda: _cli_in_process("--db", str(path), "events", "add", "x", "--name", "X", "--date", "2024-01-01"))
    assert "exit=1" in write and "cannot write in folder" in write and "write-ahead log" in write, write
    assert "unexpected" not in write
    read = _unprivileged(lambda: _cli_in_process("--db", str(path), "events", "list"))
    assert "exit=0" in read and "event_id" in read, read  # reading needs no WAL
    fresh = _unprivileged(lambda: _cli_in_process("--db", str(folder / "new.duckdb"), "init"))
    assert "exit=1" in fresh and "cannot write in folder" in fresh, fresh
    assert _digest(path) == digest and not (folder / "new.duckdb").exists()
