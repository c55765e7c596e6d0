"""--har and --mitm on the command line: the requests of a HAR and a mitmproxy file of the
project's own making (scripts/make_telemetry_capture.py) give the same ``data_shared`` rows as
the decrypted capture; files that do not read are refused before any packet is read."""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

import pytest

from inspector.cli import main

CAPTURES = Path(__file__).resolve().parents[2] / "captures"
CAPTURE = str(CAPTURES / "telemetry-tls13.pcapng")
KNOWN = str(CAPTURES / "telemetry-known-values.txt")
COLUMNS = ("destination", "organisation", "party", "category", "field", "detector", "value")


def _run(out: Path, *args: str) -> list[dict[str, str]]:
    assert main(["analyze", CAPTURE, "-o", str(out), "-q", "--known-values", KNOWN, *args]) == 0
    with (out / "data_shared.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _key(rows: list[dict[str, str]], source: str) -> Counter[tuple[str, ...]]:
    return Counter(tuple(r[c] for c in COLUMNS) for r in rows if r["source"] == source)


def test_har_and_mitm_files_give_the_capture_rows(tmp_path: Path) -> None:
    decrypted = _run(tmp_path / "keys", "--keylog", str(CAPTURES / "telemetry-tls13.keys"))
    expected = _key(decrypted, "capture")
    assert len(expected) >= 10 and {k[2] for k in expected} == {"third"}
    pytest.importorskip("mitmproxy")
    # without keys the capture gives no rows: every row comes from the two files
    imported = _run(
        tmp_path / "files",
        "--har",
        str(CAPTURES / "telemetry.har"),
        "--mitm",
        str(CAPTURES / "telemetry.mitm"),
    )
    assert {r["source"] for r in imported} == {"har:telemetry.har", "mitmproxy:telemetry.mitm"}
    assert _key(imported, "har:telemetry.har") == expected
    assert _key(imported, "mitmproxy:telemetry.mitm") == expected
    with (tmp_path / "files" / "http.csv").open(encoding="utf-8") as fh:
        http = Counter(r["source"] for r in csv.DictReader(fh))
    assert http == {"har:telemetry.har": 2, "mitmproxy:telemetry.mitm": 2}


@pytest.mark.parametrize(
    ("flag", "content", "says"),
    [
        ("--har", b"not json at all", "not a HAR file"),
        ("--har", b'{"log": {}}', "not a HAR file"),
        ("--mitm", b"\x00garbage\xff", "mitmproxy"),
    ],
)
def test_unreadable_import_is_exit_2_before_any_packet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, content: bytes, says: str
) -> None:
    bad = tmp_path / "bad.file"
    bad.write_bytes(content)
    out = tmp_path / "out"
    code = main(["analyze", CAPTURE, "-o", str(out), flag, str(bad)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and says in err and "Traceback" not in err
    assert not out.exists()


def test_missing_import_file_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["analyze", CAPTURE, "-o", str(tmp_path / "o"), "--har", str(tmp_path / "no")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "cannot read" in err


def test_mitm_without_the_extra_says_how_to_install(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mitmproxy", None)  # as if not installed
    code = main(
        ["analyze", CAPTURE, "-o", str(tmp_path / "o"), "--mitm", str(CAPTURES / "telemetry.mitm")]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "conference-inspector[mitmproxy]" in err
