"""--known-values and --show-values on the command line."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from inspector.cli import main

CAPTURES = Path(__file__).resolve().parents[2] / "captures"


def test_unreadable_known_values_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "analyze",
            str(CAPTURES / "telemetry-tls13-dsb.pcapng"),
            "-o",
            str(tmp_path),
            "--known-values",
            str(tmp_path / "missing.txt"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "known values" in err


def test_show_values_writes_them(tmp_path: Path) -> None:
    code = main(
        [
            "analyze",
            str(CAPTURES / "telemetry-tls13-dsb.pcapng"),
            "-o",
            str(tmp_path),
            "-q",
            "--known-values",
            str(CAPTURES / "telemetry-known-values.txt"),
            "--show-values",
        ]
    )
    assert code == 0
    with (tmp_path / "data_shared.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    values = {r["category"]: r["value"] for r in rows}
    assert values["advertising_id"] == "5B9D2F6A-3C1E-4E8B-9F0A-7D6C5B4A3921"
    assert values["device_model"] == "iPhone12,1"
