"""report.html in a real headless browser (Debian's chromium): non-blank, shows the findings."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from inspector.api import Result

Image = pytest.importorskip("PIL.Image")
ImageStat = pytest.importorskip("PIL.ImageStat")

CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser")) if p), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed")

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )


def screenshot(page: Path, png: Path, size: str) -> Image.Image:
    proc = chromium(f"--screenshot={png}", f"--window-size={size}", page.as_uri())
    assert png.is_file(), proc.stderr[-2000:]
    return Image.open(png).convert("RGB")


def dump_dom(page: Path) -> str:
    proc = chromium("--dump-dom", page.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def assert_not_blank(img: Image.Image) -> None:
    colours = img.getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 50, "screenshot is (nearly) a single colour"
    stat = ImageStat.Stat(img.convert("L"))
    assert stat.stddev[0] > 20, f"too little contrast (stddev {stat.stddev[0]:.1f})"
    dark = sum(img.convert("L").histogram()[:100])
    assert dark > 0.005 * img.width * img.height, "no text drawn"


def test_screenshot_desktop_and_phone(sample_out: Path, tmp_path: Path) -> None:
    page = sample_out / "report.html"
    desktop = screenshot(page, tmp_path / "desktop.png", "1280,2000")
    assert desktop.size == (1280, 2000)
    assert_not_blank(desktop)
    phone = screenshot(page, tmp_path / "phone.png", "390,1600")
    assert_not_blank(phone)


def test_dom_shows_findings(sample_out: Path, sample_result: Result) -> None:
    dom = " ".join(dump_dom(sample_out / "report.html").split())
    for f in sample_result.findings.itertuples():
        assert f'id="{f.finding_id}"' in dom
        assert " ".join(f.explanation.replace("'", "&#39;").split()) in dom or (
            " ".join(f.explanation.split()) in dom
        )
    assert "This Zoom session contacted 1 third-party tracker" in dom


def test_hostile_report_has_no_live_markup(hostile_out: Path, tmp_path: Path) -> None:
    dom = dump_dom(hostile_out / "report.html")
    assert "<script" not in dom.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert "\x1b" not in dom
    assert_not_blank(screenshot(hostile_out / "report.html", tmp_path / "h.png", "1280,1600"))
