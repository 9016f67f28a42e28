"""The wheel carries every package (tracker, jobs, storage), the migrations and the config defaults.

Built from a copy of the source with pip's own build isolation, installed without dependencies in
a fresh virtual environment that borrows the test environment's third-party packages through a
.pth line (a plain path entry, so the editable install of this checkout is not seen there), and
run from a folder outside the project.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP_DIRS = {".git", ".venv", "data", "build", "dist", "reports", "__pycache__", ".pytest_cache", ".hypothesis"}


def _copy_source(target: Path) -> Path:
    def ignore(folder: str, names: list[str]) -> set[str]:
        return {n for n in names if n in SKIP_DIRS or n.endswith(".egg-info")}

    return Path(shutil.copytree(ROOT, target, ignore=ignore))


def _run(args: list, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_the_wheel_installs_and_runs_from_a_fresh_venv(tmp_path):
    source = _copy_source(tmp_path / "src")
    wheels = tmp_path / "wheels"
    built = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", wheels, source], cwd=tmp_path)
    if built.returncode != 0:
        pytest.skip(f"could not build the wheel here (pip needs the package index for setuptools): {built.stderr.strip()[-300:]}")
    (wheel,) = wheels.glob("ai_token_tracker-*.whl")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp_path).stdout.strip()
    Path(purelib, "_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = _run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", wheel], cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    tracker = venv / "bin" / "tracker"
    where = _run([python, "-c", "import tracker, jobs, storage; print(tracker.__file__, jobs.__file__, storage.__file__)"], cwd=elsewhere)
    assert where.returncode == 0, where.stderr
    assert all(path.startswith(str(venv)) for path in where.stdout.split()), where.stdout

    helped = _run([tracker, "--help"], cwd=elsewhere)
    assert helped.returncode == 0 and "Usage: tracker" in helped.stdout, helped.stderr
    init = _run([tracker, "--db", elsewhere / "t.duckdb", "init", "--format", "csv"], cwd=elsewhere)
    assert init.returncode == 0, init.stderr  # the migrations' .sql files are in the wheel
    events = _run([tracker, "--db", elsewhere / "t.duckdb", "events", "list", "--format", "csv"], cwd=elsewhere)
    assert events.returncode == 0 and "sora-demo" in events.stdout, events.stderr  # the events calendar shipped
    gpu = _run([tracker, "gpu", "assumptions", "--format", "csv"], cwd=elsewhere)
    assert gpu.returncode == 0 and "dit_params" in gpu.stdout, gpu.stderr  # config/gpu.toml under sys.prefix
    calibrated = _run([python, "-c", "from tracker.sources.fakegecko.calibration import calibration; "
                       "print(calibration().coins['fetch-ai'].price)"], cwd=elsewhere)
    assert calibrated.returncode == 0 and calibrated.stdout.strip() == "0.6815", calibrated.stderr  # the demo's calibration file
