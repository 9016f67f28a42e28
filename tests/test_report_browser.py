"""The report in a real browser: headless Chromium renders index.html offline, and the
screenshot shows the charts drawn.

The check is by colour: each chart draws in colours the page's own CSS never uses (the CAAR
line in matplotlib's tab:blue, the CAR bars in tab:green, the raw-move bars in brown, the GPU
tornado in blue and orange). The same page with its SVGs taken out is the control: there
those colours must be (almost) absent. Skips, saying why, only when no Chromium is installed
(`.ci/run` installs Debian's `chromium`).
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tracker.config import load_config
from tracker.report import ReportOptions, build_report, write_report

from .report_helpers import fixture_database

WIDTH, HEIGHT = 1280, 12000  # a one-event page is about 11,200 px tall
CHART_COLOURS = {
    "CAAR line (tab:blue)": (31, 119, 180),
    "positive CAR bars (tab:green at alpha 0.8)": (86, 179, 86),
    "raw-move bars": (140, 86, 75),
    "GPU tornado, low end": (76, 114, 176),
    "GPU tornado, high end": (221, 132, 82),
}


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshot(browser: str, page: Path, target: Path, profile: Path) -> np.ndarray:
    """The page at WIDTH x HEIGHT, as a histogram of its colours (index = 0xRRGGBB)."""
    command = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
        f"--user-data-dir={profile}", f"--screenshot={target}", f"--window-size={WIDTH},{HEIGHT}", page.resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert target.is_file(), f"chromium wrote no screenshot (exit {done.returncode}): {done.stderr[-1500:]}"
    image = np.asarray(Image.open(target).convert("RGB")).astype(np.int32)
    assert image.shape[:2] == (HEIGHT, WIDTH)
    codes = (image[..., 0] << 16) | (image[..., 1] << 8) | image[..., 2]
    return np.bincount(codes.ravel(), minlength=1 << 24)


def colour_count(histogram: np.ndarray, rgb: tuple[int, int, int], tolerance: int = 6) -> int:
    """Pixels within ``tolerance`` of ``rgb`` in every channel (anti-aliasing blurs edges)."""
    ranges = [np.arange(max(c - tolerance, 0), min(c + tolerance, 255) + 1) for c in rgb]
    r, g, b = np.meshgrid(*ranges, indexing="ij")
    return int(histogram[((r << 16) | (g << 8) | b).ravel()].sum())


@pytest.fixture(scope="module")
def report_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("report-browser")
    db = fixture_database(root)
    report = build_report(db, load_config(None), ReportOptions(events=("sora-demo",), category="artificial-intelligence"))
    write_report(report, root / "report")
    return root / "report"


@pytest.mark.slow
def test_chromium_draws_the_charts_from_the_page_alone(report_folder, tmp_path):
    browser = chromium()
    if browser is None:
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)")
    # Everything the page needs is in the one file: copied alone (no charts/ or tables/ beside
    # it), with the browser's networking off, it must still draw every chart.
    page = tmp_path / "alone" / "index.html"
    page.parent.mkdir()
    shutil.copy(report_folder / "index.html", page)
    shot = screenshot(browser, page, tmp_path / "report.png", tmp_path / "profile-a")
    # The control: the same page without its charts.
    bare = tmp_path / "bare.html"
    bare.write_text(re.sub(r"<svg\b.*?</svg>", "", page.read_text(), flags=re.S))
    control = screenshot(browser, bare, tmp_path / "bare.png", tmp_path / "profile-b")

    # Something was rendered at all: the page is not one background colour.
    assert np.count_nonzero(shot) > 50
    for name, rgb in CHART_COLOURS.items():
        drawn, without = colour_count(shot, rgb), colour_count(control, rgb)
        assert drawn > 400, f"{name}: only {drawn} pixels of {rgb} in the screenshot"
        assert without < 20, f"{name}: {without} pixels of {rgb} without the charts (the page's CSS uses it?)"
