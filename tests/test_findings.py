"""Findings: grouping, explanations, and display filters that tshark accepts and that select
the listed frames."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import inspector
from inspector.assess.stage import assess
from inspector.findings import FlowRecord, build_findings, display_filter
from inspector.vocab import FindingKind
from tests.factories import attribution, evidence, flow

SAMPLE = Path(__file__).resolve().parents[1] / "captures" / "zoom-2020.pcap"


def _record(conn: Any, client_is_orig: bool = True) -> FlowRecord:
    ev = evidence(conn)
    att = attribution(ev, client_is_orig)
    return FlowRecord(ev, att, assess([ev], {ev.uid: att}).by_uid[ev.uid])


def test_display_filter_per_flow_and_extra_frames() -> None:
    f = flow("C1", proto="udp", orig_p=60000, resp_h="144.195.44.2", resp_p=8801)
    flt = display_filter([_record(f)], [7])
    assert "udp.port==8801" in flt and "frame.number in {7}" in flt
    v6 = flow("C2", orig_h="fe80::1", resp_h="2001:db8::1")
    assert "ipv6.addr==2001:db8::1" in display_filter([_record(v6)])
    many = [_record(flow(f"C{i}", resp_h=f"203.0.113.{i}")) for i in range(20)]
    assert display_filter(many) == "(ip.addr==192.168.1.20)"


def test_findings_are_grouped_per_destination_and_verdict() -> None:
    tls = [_record(flow(f"C{i}", service="tls", ts=1000.0 + i)) for i in range(3)]
    groups = build_findings(tls, [])
    assert len(groups) == 0  # web traffic of no app is no finding
    dns = [_record(flow(f"D{i}", proto="udp", resp_p=53, service="dns")) for i in range(3)]
    (g,) = build_findings(dns, [])
    assert g.kind == FindingKind.CLEARTEXT_DNS and len(g.records) == 3
    assert g.destination == "203.0.113.10"


def test_sample_findings() -> None:
    r = inspector.analyze(SAMPLE)
    f = r.findings
    fb = f[(f.finding == "third_party_telemetry") & (f.destination == "graph.facebook.com")]
    assert len(fb) == 1 and fb.iloc[0].app == "Zoom" and fb.iloc[0].severity == "high"
    assert f.finding_id.is_unique
    for text in f.explanation:
        assert 20 < len(text) < 600


CAPTURES = sorted((Path(__file__).resolve().parents[1] / "captures").glob("*.pcap"))


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.stem)
def test_filters_select_the_listed_frames(capture: Path) -> None:
    r = inspector.analyze(capture)
    assert len(r.findings) > 0
    for _, row in r.findings.iterrows():
        out = subprocess.run(
            [
                "tshark",
                "-r",
                str(capture),
                "-Y",
                row.evidence_filter,
                "-T",
                "fields",
                "-e",
                "frame.number",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert out.returncode == 0, (row.finding_id, row.evidence_filter, out.stderr)
        got = {int(x) for x in out.stdout.split()}
        listed = {int(x) for x in row.frames.split(";") if x}
        assert listed and listed <= got, (row.finding_id, listed - got)
