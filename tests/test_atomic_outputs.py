"""Nothing half-written: an interruption or a full disk leaves OUTDIR as it was, or complete.

Covers :func:`inspector.report.outputs.write_outputs` (temporary folder beside OUTDIR, moved into
place when complete) and the CLI's exit codes: 3 outputs not written, 130 Ctrl-C, 143 SIGTERM.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import inspector
from inspector.api import Result
from inspector.errors import OutputError
from inspector.report import outputs
from inspector.report.outputs import write_outputs

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "captures" / "teams-turn.pcap"
OTHER = ROOT / "captures" / "meet-quic.pcap"


@pytest.fixture(scope="module")
def small() -> Result:
    return inspector.analyze(SMALL)


@pytest.fixture(scope="module")
def other() -> Result:
    return inspector.analyze(OTHER)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every output file under ``folder`` by relative path; the resume cache is not an output
    (a run keeps what it finished there on purpose, so an interrupted run can resume)."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".inspector-cache" not in p.relative_to(folder).parts
    }


def leftovers(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if ".partial-" in p.name or ".previous-" in p.name]


def summary_path(folder: Path) -> str:
    return str(json.loads((folder / "summary.json").read_text())["inputs"][0]["path"])


def test_new_outputs_replace_the_previous_ones_whole(
    tmp_path: Path, small: Result, other: Result
) -> None:
    out = tmp_path / "out"
    write_outputs(small, out)
    first = snapshot(out)
    write_outputs(other, out)
    assert summary_path(out).endswith("meet-quic.pcap")
    assert set(snapshot(out)) == set(first)
    assert leftovers(tmp_path) == []
    mask = os.umask(0o022)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~mask  # as mkdir would make it, not 0700


def test_foreign_files_in_outdir_are_kept(tmp_path: Path, small: Result, other: Result) -> None:
    out = tmp_path / "out"
    write_outputs(small, out)
    (out / "F0001.pcap").write_bytes(b"mine")
    (out / "notes").mkdir()
    write_outputs(other, out)
    assert (out / "F0001.pcap").read_bytes() == b"mine"
    assert (out / "notes").is_dir()
    assert summary_path(out).endswith("meet-quic.pcap")
    assert leftovers(tmp_path) == []


def test_symlinked_outdir_stays_a_link(tmp_path: Path, small: Result, other: Result) -> None:
    real = tmp_path / "real"
    write_outputs(small, real)
    link = tmp_path / "link"
    link.symlink_to(real)
    write_outputs(other, link)
    assert link.is_symlink()
    assert summary_path(real).endswith("meet-quic.pcap")
    assert leftovers(tmp_path) == []


def test_current_folder_as_outdir(
    tmp_path: Path, small: Result, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    write_outputs(small, ".")
    assert Path.cwd() == here and (here / "summary.json").is_file()
    write_outputs(small, ".")
    assert leftovers(here) == [] and leftovers(tmp_path) == []


def _fail_on_call(monkeypatch: pytest.MonkeyPatch, name: str, n: int, exc: BaseException) -> None:
    real = getattr(outputs, name)
    calls = [0]

    def failing(*args: object, **kwargs: object) -> object:
        calls[0] += 1
        if calls[0] == n:
            raise exc
        return real(*args, **kwargs)

    monkeypatch.setattr(outputs, name, failing)


@pytest.mark.parametrize("previous", [True, False])
def test_full_disk_midway_leaves_outdir_as_it_was(
    tmp_path: Path, small: Result, other: Result, monkeypatch: pytest.MonkeyPatch, previous: bool
) -> None:
    out = tmp_path / "out"
    if previous:
        write_outputs(small, out)
    before = snapshot(out)
    _fail_on_call(monkeypatch, "write_json", 4, OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(OutputError) as info:
        write_outputs(other, out)
    assert "no space left" in str(info.value) and "\n" not in str(info.value)
    assert snapshot(out) == before
    assert out.exists() == previous
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), SystemExit(143)])
def test_interrupt_midway_leaves_outdir_as_it_was(
    tmp_path: Path,
    small: Result,
    other: Result,
    monkeypatch: pytest.MonkeyPatch,
    exc: BaseException,
) -> None:
    out = tmp_path / "out"
    write_outputs(small, out)
    before = snapshot(out)
    _fail_on_call(monkeypatch, "write_csv", 3, exc)
    with pytest.raises(type(exc)):
        write_outputs(other, out)
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


#: run the CLI with a signal sent to itself while the 3rd CSV file is being written
SIGNAL_MIDWAY = """
import os, signal, sys
import inspector.report.outputs as o
real, calls = o.write_csv, [0]
def write_csv(*a, **k):
    calls[0] += 1
    if calls[0] == 3:
        os.kill(os.getpid(), signal.{sig})
    return real(*a, **k)
o.write_csv = write_csv
from inspector.cli import main
sys.exit(main(sys.argv[1:]))
"""


def run_cli_with_signal(sig: str, out: Path) -> subprocess.CompletedProcess[str]:
    code = textwrap.dedent(SIGNAL_MIDWAY).replace("{sig}", sig)
    cmd = [sys.executable, "-c", code, "analyze", str(OTHER), "-o", str(out), "-q"]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.mark.parametrize(
    ("sig", "code", "word"), [("SIGTERM", 143, "terminated"), ("SIGINT", 130, "interrupted")]
)
def test_cli_signal_midway_keeps_previous_outputs(
    tmp_path: Path, small: Result, sig: str, code: int, word: str
) -> None:
    out = tmp_path / "out"
    write_outputs(small, out)
    before = snapshot(out)
    proc = run_cli_with_signal(sig, out)
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"inspector: {word}"), proc.stderr
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


def test_cli_sigkill_midway_keeps_previous_outputs(tmp_path: Path, small: Result) -> None:
    """No cleanup runs on SIGKILL: a ``.out.partial-*`` folder may stay, OUTDIR stays whole."""
    out = tmp_path / "out"
    write_outputs(small, out)
    before = snapshot(out)
    proc = run_cli_with_signal("SIGKILL", out)
    assert proc.returncode == -9
    assert snapshot(out) == before


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Path:
    """A 400 kB tmpfs (root only): room for one output folder (about 250 kB), not for two."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield disk
    subprocess.run(["umount", str(disk)], check=False)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "inspector", "analyze", *args, "-q"]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_full_disk_keeps_previous_outputs_and_says_so(tiny_disk: Path) -> None:
    out = tiny_disk / "out"
    assert cli(str(SMALL), "-o", str(out)).returncode == 0  # fits once
    before = snapshot(out)
    proc = cli(str(OTHER), "-o", str(out))  # a second copy beside it does not fit
    assert proc.returncode == 4, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no space left" in lines[0], proc.stderr
    assert snapshot(out) == before
    assert leftovers(tiny_disk) == []


def test_full_disk_without_previous_outputs_writes_nothing(tiny_disk: Path) -> None:
    (tiny_disk / "filler").write_bytes(b"\0" * (250 << 10))
    out = tiny_disk / "out"
    proc = cli(str(SMALL), "-o", str(out))
    assert proc.returncode == 4, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert snapshot(out) == {}  # no output file; at most the resume cache of finished captures
    assert leftovers(tiny_disk) == []
