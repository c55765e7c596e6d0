"""Findings: grouping, explanations, and display filters that tshark accepts and that select
the listed frames."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import inspector
from inspector.findings import display_filter
from tests.factories import flow

SAMPLE = Path(__file__).resolve().parents[1] / "captures" / "zoom-2020.pcap"


def test_display_filter_per_flow_and_extra_frames() -> None:
    f = flow("C1", proto="udp", orig_p=60000, resp_h="144.195.44.2", resp_p=8801)
    flt = display_filter([f], [7])
    assert "udp.port==8801" in flt and "frame.number in {7}" in flt
    v6 = flow("C2", orig_h="fe80::1", resp_h="2001:db8::1")
    assert "ipv6.addr==2001:db8::1" in display_filter([v6])


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
