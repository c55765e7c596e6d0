"""Evidence export: the packets behind a finding, checked against the capture and tshark."""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from inspector.api import Result
from inspector.errors import InputError
from inspector.report.cli_support import add_evidence_parser, run_evidence
from inspector.report.evidence import export_evidence, normalise_finding_id
from inspector.source import open_capture
from tests.report.conftest import SAMPLE

TSHARK = shutil.which("tshark")


def read(path: Path | str) -> list[tuple[float, int, bytes]]:
    return [(p.ts, p.linktype, p.data) for p in open_capture(path)]


def flow_frames(result: Result, uids: str) -> int:
    flows = result.flows.set_index("uid").loc[uids.split(";")]
    return int((flows["orig_pkts"] + flows["resp_pkts"]).sum())


def test_export_writes_exactly_the_flow_packets(
    sample_out: Path, sample_result: Result, tmp_path: Path
) -> None:
    original = read(SAMPLE)
    for f in sample_result.findings.itertuples():
        out = tmp_path / f"{f.finding_id}.pcap"
        done = export_evidence(sample_out, f.finding_id, out)
        assert done.format == "pcap" and done.packets == len(done.frames)
        listed = {int(n) for n in f.frames.split(";")}
        assert listed <= set(done.frames), f.finding_id
        assert done.packets >= flow_frames(sample_result, f.uids)
        assert done.packets <= flow_frames(sample_result, f.uids) + len(listed)
        got = read(out)
        assert [(ts, lt, data) for ts, lt, data in got] == [
            (round(original[n - 1][0], 6), original[n - 1][1], original[n - 1][2])
            for n in done.frames
        ]


def test_pcapng_output(sample_out: Path, tmp_path: Path) -> None:
    done = export_evidence(sample_out, "F1", tmp_path / "x.pcapng")
    assert done.format == "pcapng" and done.finding_id == "F0001"
    cap = open_capture(tmp_path / "x.pcapng")
    assert len(list(cap)) == done.packets and cap.format == "pcapng"


def test_finding_ids() -> None:
    assert normalise_finding_id("F0001") == "F0001"
    assert normalise_finding_id("f12") == "F0012"
    assert normalise_finding_id(" 3 ") == "F0003"
    with pytest.raises(InputError):
        normalise_finding_id("F00x1")


def test_errors(sample_out: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such folder"):
        export_evidence(tmp_path / "nope", "F0001", tmp_path / "o.pcap")
    with pytest.raises(InputError, match=r"no findings\.json"):
        export_evidence(tmp_path, "F0001", tmp_path / "o.pcap")
    with pytest.raises(InputError, match="no finding F0999"):
        export_evidence(sample_out, "F0999", tmp_path / "o.pcap")


def test_moved_capture_needs_capture_option(sample_out: Path, tmp_path: Path) -> None:
    moved = tmp_path / "moved"
    shutil.copytree(sample_out, moved)
    summary = json.loads((moved / "summary.json").read_text(encoding="utf-8"))
    for item in summary["inputs"]:
        item["abspath"] = item["path"] = "/nonexistent/zoom-2020.pcap"
    (moved / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    with pytest.raises(InputError, match="--capture"):
        export_evidence(moved, "F0001", tmp_path / "o.pcap")
    done = export_evidence(moved, "F0001", tmp_path / "o.pcap", capture=str(SAMPLE))
    assert done.packets > 0


def test_wrong_capture_is_refused(sample_out: Path, hostile_pcap: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="none of the packets"):
        export_evidence(sample_out, "F0001", tmp_path / "o.pcap", capture=str(hostile_pcap))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="inspector")
    add_evidence_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_run_evidence_exit_codes(sample_out: Path, tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    args = parse_args(["evidence", str(sample_out), "F0001", "-o", str(tmp_path / "a.pcap")])
    assert run_evidence(args, out, err) == 0
    assert "F0001:" in out.getvalue() and "packets" in out.getvalue() and err.getvalue() == ""
    for argv in (
        ["evidence", str(tmp_path / "missing"), "F0001", "-o", str(tmp_path / "b.pcap")],
        ["evidence", str(sample_out), "F0999", "-o", str(tmp_path / "b.pcap")],
        ["evidence", str(sample_out), "bogus", "-o", str(tmp_path / "b.pcap")],
    ):
        out, err = io.StringIO(), io.StringIO()
        assert run_evidence(parse_args(argv), out, err) == 2
        assert err.getvalue().count("\n") == 1 and err.getvalue().startswith("inspector: error:")
        assert "Traceback" not in err.getvalue()
    assert not (tmp_path / "b.pcap").exists()


def tshark_frames(capture: Path, display_filter: str) -> set[int]:
    assert TSHARK is not None
    proc = subprocess.run(
        [
            TSHARK,
            "-n",
            "-r",
            str(capture),
            "-Y",
            display_filter,
            "-T",
            "fields",
            "-e",
            "frame.number",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"tshark refused {display_filter!r}: {proc.stderr}"
    return {int(x) for x in proc.stdout.split()}


@pytest.mark.skipif(TSHARK is None, reason="tshark not installed")
@pytest.mark.parametrize("which", ["sample", "hostile"])
def test_filters_accepted_by_tshark_and_match_export(
    which: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    out: Path = request.getfixturevalue(f"{which}_out")
    result: Result = request.getfixturevalue(f"{which}_result")
    capture = SAMPLE if which == "sample" else request.getfixturevalue("hostile_pcap")
    for f in result.findings.itertuples():
        selected = tshark_frames(capture, f.evidence_filter)
        listed = {int(n) for n in f.frames.split(";")}
        assert listed <= selected, (f.finding_id, f.evidence_filter)
        done = export_evidence(out, f.finding_id, tmp_path / f"{f.finding_id}.pcap")
        assert set(done.frames) == selected, f.finding_id


def test_icmp_error_quoting_a_flow_is_exported(tmp_path: Path) -> None:
    from scapy.layers.inet import ICMP, IP, UDP
    from scapy.packet import Raw

    import inspector
    from inspector.report.outputs import write_outputs
    from tests.report.hostile import CLIENT, RESOLVER, craft

    t = craft().Trace()
    t.dns(CLIENT, RESOLVER, "example.com", [("A", "93.184.216.34")], sport=53333)
    query = (
        IP(src=CLIENT, dst=RESOLVER) / UDP(sport=53333, dport=53) / Raw(b"\x12\x34" + b"\0" * 10)
    )
    t.emit(IP(src=RESOLVER, dst=CLIENT) / ICMP(type=3, code=3) / bytes(query)[:28])
    t.icmp_echo(CLIENT, "8.8.8.8")  # unrelated ICMP, not an error
    capture = tmp_path / "icmp.pcap"
    craft().write_pcap(str(capture), t.frames)
    result = inspector.analyze(capture)
    write_outputs(result, tmp_path / "out")
    dns = result.findings[result.findings["finding"] == "cleartext_dns"].iloc[0]
    done = export_evidence(tmp_path / "out", dns["finding_id"], tmp_path / "e.pcap")
    assert 3 in done.frames and 4 not in done.frames and 5 not in done.frames
    if TSHARK is not None:
        assert set(done.frames) == tshark_frames(capture, dns["evidence_filter"])
