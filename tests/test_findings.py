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
from inspector.findings import (
    FlowRecord,
    Happened,
    build_findings,
    build_lookup_findings,
    certificate_status_or_check,
    display_filter,
    happened,
    severity_markdown,
    tracker_severity,
)
from inspector.schema.http import HttpRow
from inspector.schema.lookups import LookupRow
from inspector.vocab import FindingKind, Severity
from tests.factories import attribution, evidence, flow, make

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
    # the flow carries no app of its own (the app column is never the session's); its party is
    # decided over the apps identified on the client (Zoom); ~1 kB is a handshake: contacted
    assert len(fb) == 1 and fb.iloc[0].app == "" and fb.iloc[0].severity == "medium"
    assert "During this Zoom session" in fb.iloc[0].explanation
    assert "every app identified on this client in the capture (Zoom)" in fb.iloc[0].explanation
    assert f.finding_id.is_unique
    for text in f.explanation:
        assert 20 < len(text) < 600


def _tracker(uid: str, payload: int, ts: float = 1000.0, **att: Any) -> FlowRecord:
    ev = evidence(flow(uid, service="tls", ts=ts, orig_payload_bytes=payload))
    a = attribution(ev, **att)
    return FlowRecord(ev, a, assess([ev], {ev.uid: a}).by_uid[ev.uid])


FIREBASE = {
    "name": "app-measurement.com",
    "organisation": "Google LLC (Alphabet)",
    "category": "analytics",
}


def test_severity_follows_what_happened() -> None:
    """5 kB uploaded to Firebase outranks a handshake-only contact, which outranks a lookup."""
    (sent,) = build_findings([_tracker("U1", 5000, **FIREBASE)], [])
    (contact,) = build_findings([_tracker("U2", 900, **FIREBASE)], [])
    assert sent.kind == contact.kind == FindingKind.THIRD_PARTY_TELEMETRY
    assert (sent.severity, contact.severity) == (Severity.HIGH, Severity.MEDIUM)
    assert happened(sent.records) == Happened.SENT_DATA
    assert tracker_severity(Happened.LOOKED_UP) == Severity.LOW
    assert Severity.LOW.rank > Severity.MEDIUM.rank > Severity.HIGH.rank
    # a group's total decides: two small connections adding up to more than 4 kB sent data
    two = [_tracker(f"G{i}", 2500, ts=1000.0 + i, **FIREBASE) for i in range(2)]
    (g,) = build_findings(two, [])
    assert g.severity == Severity.HIGH


def test_dns_lookup_only_is_low_and_has_no_app() -> None:
    dns = evidence(flow("D1", proto="udp", resp_p=53, service="dns"))
    att = attribution(dns)
    rec = FlowRecord(dns, att, assess([dns], {dns.uid: att}).by_uid[dns.uid])
    lk = make(
        LookupRow,
        "D1",
        query="app-measurement.com",
        organisation="Google LLC (Alphabet)",
        entity="Alphabet",
        category="analytics",
        connected=False,
        file=dns.conn.file,
    )
    (f,) = build_lookup_findings([lk], [rec], [])
    assert (f.kind, f.severity, f.party.rule) == (
        FindingKind.THIRD_PARTY_TELEMETRY,
        Severity.LOW,
        "tracking-for-any-app",
    )


def test_certificate_status_and_connectivity_checks_are_info() -> None:
    ev = evidence(
        flow("O1", service="http", resp_p=80),
        http=[make(HttpRow, "O1", method="POST", content_type="application/ocsp-request")],
    )
    unknown = attribution(ev, name="ocsp.example-ca.test")
    assert certificate_status_or_check(
        FlowRecord(ev, unknown, assess([ev], {"O1": unknown}).by_uid["O1"])
    )
    check = attribution(
        ev, name="captive.apple.com", organisation="Apple Inc.", category="os_services"
    )
    rec = FlowRecord(ev, check, assess([ev], {"O1": check}).by_uid["O1"])
    groups = [g for g in build_findings([rec], []) if g.kind == FindingKind.PLAINTEXT_HTTP]
    assert [g.severity for g in groups] == [Severity.INFO]


def test_plaintext_http_to_a_host_without_owner_stays_medium() -> None:
    """Knowing the hosting provider ("hosted on X", no owner) does not raise the severity."""
    import dataclasses

    ev = evidence(
        flow("H1", service="http", resp_p=80),
        http=[make(HttpRow, "H1", method="GET", host="example.com")],
    )
    plain = attribution(ev, name="example.com")
    hosted = dataclasses.replace(
        plain,
        owner=dataclasses.replace(plain.owner, category="cdn_cloud", host="Edgecast (Edgio)"),
    )
    owned = attribution(ev, name="example.com", organisation="Example Inc.", category="analytics")
    severities = []
    for att in (plain, hosted, owned):
        rec = FlowRecord(ev, att, assess([ev], {"H1": att}).by_uid["H1"])
        (g,) = [g for g in build_findings([rec], []) if g.kind == FindingKind.PLAINTEXT_HTTP]
        severities.append(g.severity)
    assert severities == [Severity.MEDIUM, Severity.MEDIUM, Severity.HIGH]


def test_severity_table_is_documented() -> None:
    doc = Path(__file__).resolve().parents[1] / "docs" / "attribution-database.md"
    assert severity_markdown() in doc.read_text(encoding="utf-8")


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
