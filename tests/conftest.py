"""Shared test fixtures: where the shared real-capture corpus lives, and skipping without it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REAL = (ROOT / ".." / "shared" / "captures" / "real").resolve()
REFERENCE = (ROOT / ".." / "shared" / "reference").resolve()


def real_dir() -> Path:
    """The shared corpus folder, or skip the calling test when it is absent."""
    if not (REAL / "EXPECTED.csv").is_file():
        pytest.skip("shared real-capture corpus not present (../shared/captures/real)")
    return REAL


def expected_rows() -> list[dict[str, str]]:
    """Rows of EXPECTED.csv (skips when the corpus is absent)."""
    with (real_dir() / "EXPECTED.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def split_list(cell: str) -> list[str]:
    """A semicolon list from EXPECTED.csv; a trailing ``...(+N)`` marker means it was cut."""
    return [x for x in cell.split(";") if x and not x.startswith("...(+")]


@pytest.fixture
def real() -> Path:
    return real_dir()
