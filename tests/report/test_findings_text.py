"""The wording slips of issue 16: counts, QUIC versions, weak TLS, sources named once."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from inspector.findings import Finding
from inspector.report.findings_text import WEAKNESS_TEXT, _first_party, _weak
from inspector.report.text import count, named_by
from inspector.report.verdict_text import TEXTS, _ecb_note, _version
from inspector.vocab import FindingKind, Severity


def record(facts: dict[str, Any], org: str = "", reason: str = "", party: str = "") -> Any:
    verdict = SimpleNamespace(facts=facts)
    role = SimpleNamespace(party=SimpleNamespace(reason=reason, party=party))
    owner = SimpleNamespace(organisation=org)
    return SimpleNamespace(
        a=SimpleNamespace(verdict=verdict, role=role),
        att=SimpleNamespace(owner=owner, ends=SimpleNamespace(client_bytes=10)),
    )


def finding(kind: FindingKind, *records: Any) -> Finding:
    return Finding(kind, Severity.MEDIUM, "S1", "", "www.example.com", "x.pcap", list(records))


def test_count_is_singular_for_one() -> None:
    assert count(1, "flow") == "1 flow" and count(2, "flow") == "2 flows"
    assert count(0, "flow") == "0 flows" and count(1, "entry", "entries") == "1 entry"


def test_a_source_named_twice_is_listed_once() -> None:
    doc = "MicrosoftDocs/microsoft-365-docs:microsoft-365/includes/endpoints.md"
    source = (
        f"domain aria.microsoft.com: {doc} (v2023073100) ; easylist/easylist:easyprivacy.txt ; "
        f"{doc} (worldwide endpoints version 2023073100) | range 52.112.0.0/14: {doc} (v1)"
    )
    assert named_by(source) == (
        f"domain aria.microsoft.com: {doc} (v2023073100) ; easylist/easylist:easyprivacy.txt"
        f" | range 52.112.0.0/14: {doc} (v1)"
    )
    assert named_by("private or link-local address") == "private or link-local address"
    assert named_by("a: x | a: x") == "a: x"


def test_weak_tls_names_what_was_negotiated_and_why_it_is_weak() -> None:
    facts = {
        "version": "TLS 1.0",
        "cipher": "TLS_RSA_WITH_RC4_128_SHA",
        "weak": "TLS<=1.1;RC4;static-RSA",
        "frame": 4,
        "hello_seen": True,
    }
    text = _weak(finding(FindingKind.WEAK_TLS, record(facts)))
    assert text.startswith(
        "The TLS connection to www.example.com negotiated TLS 1.0 with TLS_RSA_WITH_RC4_128_SHA "
        "(frame 4): TLS 1.1 and older are deprecated (RFC 8996); the RC4 cipher is prohibited"
    )
    assert "no forward secrecy" in text and text.endswith("below current standards.")
    two = _weak(finding(FindingKind.WEAK_TLS, record(facts), record(facts)))
    assert "(the first of 2 connections)" in two


def test_weak_tls_without_server_hello_and_null_cipher() -> None:
    text = _weak(finding(FindingKind.WEAK_TLS, record({"weak": "NULL", "frame": 7})))
    assert "offered only weak settings (frame 7) and no ServerHello was seen" in text
    assert text.endswith("The records are not encrypted.") and "still encrypted" not in text
    assert set(WEAKNESS_TEXT) >= {"TLS<=1.1", "RC4", "3DES", "NULL", "EXPORT", "anon"}


def test_first_party_does_not_repeat_the_organisation() -> None:
    org = "Zoom Communications, Inc."
    rec = record(
        {}, org=org, reason=f"{org}: Zoom's own infrastructure (log.zoom.us)", party="first"
    )
    text = _first_party(finding(FindingKind.FIRST_PARTY_TELEMETRY, rec))
    assert text.count(org) == 1
    assert text.endswith("First party: Zoom's own infrastructure (log.zoom.us).")


def test_quic_version_reads_as_a_name_not_a_count() -> None:
    assert _version({"proto": "QUIC", "version": "1"}) == "QUIC v1 (RFC 9000, TLS 1.3)"
    assert _version({"proto": "QUIC", "version": "2"}) == "QUIC v2 (RFC 9369, TLS 1.3)"
    assert _version({"proto": "QUIC", "version": "draft-29"}) == "QUIC draft-29 (TLS 1.3)"
    assert _version({"proto": "QUIC", "version": ""}) == "QUIC (TLS 1.3)"


def test_counts_in_verdict_wording_are_singular_for_one() -> None:
    note = _ecb_note(
        {"ecb_example": "ab12", "ecb_blocks": 1, "ecb_positions": 1, "ecb_frame": "frame 3"}
    )
    assert "(1 distinct block at 1 block position," in note
    facts = {"proto": "DTLS", "name": "x", "frame": 2, "server_pkts": 1}
    text = TEXTS["TLS_NOT_COMPLETED"](facts)[0]
    assert "(1 packet)" in text
