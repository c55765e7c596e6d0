"""The command line: outputs, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "captures" / "zoom-2020.pcap"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_analyze_writes_contract_outputs(tmp_path: Path) -> None:
    proc = run_cli("analyze", str(SAMPLE), "-o", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    for name in ("flows", "dns", "tls", "quic", "http", "stun", "dtls", "rtp", "weird"):
        assert (out / f"{name}.csv").is_file(), name
    header = (out / "flows.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    for column in (
        "uid",
        "ts",
        "proto",
        "orig_h",
        "orig_p",
        "resp_h",
        "resp_p",
        "server_name",
        "server_name_source",
        "organisation",
        "category",
        "app",
        "role",
        "encryption_verdict",
    ):
        assert column in header
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    pk = summary["packets"]
    assert pk["total"] == pk["decoded"] + pk["skipped_total"] + pk["malformed_total"] > 0
    assert "packets" in proc.stdout


def test_not_a_capture_exits_2_with_one_line(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.pcap"
    bogus.write_text("hello, this is text\n", encoding="utf-8")
    proc = run_cli("analyze", str(bogus), "-o", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "not a pcap" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("argv", [["analyze"], ["analyze", "x.pcap"], ["bogus-command"]])
def test_bad_usage_exits_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(tmp_path / "nope.pcap"), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err


def test_truncated_capture_warns_and_keeps_results(tmp_path: Path) -> None:
    data = SAMPLE.read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[: len(data) // 2 + 7])
    proc = run_cli("analyze", str(cut), "-o", str(tmp_path / "o"))
    assert proc.returncode == 0
    assert "warning" in proc.stderr and "cut" in proc.stderr
    summary = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))
    assert summary["inputs"][0]["truncated"] is True
    assert summary["packets"]["total"] > 100


def test_help_teaches() -> None:
    proc = run_cli("analyze", "--help")
    assert proc.returncode == 0
    assert "examples:" in proc.stdout and "exit codes" in proc.stdout


def test_schema_command_prints_every_table() -> None:
    proc = run_cli("schema")
    assert proc.returncode == 0
    assert "## flows" in proc.stdout and "## weird" in proc.stdout
