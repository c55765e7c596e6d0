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


def test_python_is_new_enough() -> None:
    assert sys.version_info >= (3, 11)
