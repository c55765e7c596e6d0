"""The tree stays ruff clean (lint and format), so CI enforces the house style."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _ruff() -> list[str]:
    beside = Path(sys.executable).parent / "ruff"  # the venv's own ruff (not on PATH in CI)
    exe = str(beside) if beside.exists() else shutil.which("ruff")
    if exe is None:
        pytest.skip("ruff not installed")
    return [exe]


@pytest.mark.parametrize("args", [["check", "."], ["format", "--check", "."]])
def test_ruff(args: list[str]) -> None:
    proc = subprocess.run(
        [*_ruff(), *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_on_the_typed_stages() -> None:
    """Every stage after dissect type-checks (the files are listed in pyproject's [tool.mypy])."""
    beside = Path(sys.executable).parent / "mypy"
    exe = str(beside) if beside.exists() else shutil.which("mypy")
    if exe is None:
        pytest.skip("mypy not installed")
    proc = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr


#: The stages after dissect: no function above cyclomatic complexity 20 (radon grade D or worse).
COMPLEXITY_CHECKED = [
    "inspector/attribute",
    "inspector/assess",
    "inspector/findings.py",
    "inspector/report",
    "inspector/live.py",
    "inspector/pipeline.py",
    "inspector/api.py",
    "inspector/batch.py",
]


def test_no_function_above_complexity_20() -> None:
    beside = Path(sys.executable).parent / "radon"
    exe = str(beside) if beside.exists() else shutil.which("radon")
    if exe is None:
        pytest.skip("radon not installed")
    proc = subprocess.run(
        [exe, "cc", "-n", "D", "-s", *COMPLEXITY_CHECKED],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "", proc.stdout + proc.stderr


def test_modules_stay_under_600_lines() -> None:
    long = []
    for path in sorted((ROOT / "inspector").rglob("*.py")):
        n = path.read_text(encoding="utf-8").count("\n")
        if n > 650:  # "about 600": a little slack, never a second module's worth
            long.append(f"{path.relative_to(ROOT)}: {n}")
    assert not long, long


def test_python_is_new_enough() -> None:
    assert sys.version_info >= (3, 11)
