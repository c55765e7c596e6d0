"""Findings in words: each structured :class:`~inspector.findings.Finding` becomes a row of the
``findings`` table with its explanation, evidence and caveat. The only place findings get prose.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence

from inspector.findings import (
    MAX_FRAMES,
    Finding,
    FlowRecord,
    Happened,
    LookupFinding,
    display_filter,
    evidence_frames,
    happened,
)
from inspector.report.text import count, named_by
from inspector.report.verdict_text import verdict_text
from inspector.schema.findings import FindingRow
from inspector.vocab import OUTSIDE, FindingKind, Severity, Verdict

__all__ = ["NAME_SOURCES", "finding_rows"]

NAME_SOURCES = {
    "tls_sni": "the server name in its TLS handshake",
    "quic_sni": "the server name in its QUIC handshake",
    "dtls_sni": "the server name in its DTLS handshake",
    "http_host": "the HTTP Host header",
    "dns": "an earlier DNS answer for its address",
    "dns_ambiguous": "a DNS answer its address shared with other names",
    "sip_register": "the domain its SIP REGISTER was addressed to",
    "xmpp_to": "the domain its XMPP stream was addressed to",
    "stun_realm": "the realm its STUN/TURN server announced",
    "cert_san": "the server's certificate",
    "dns_ptr": "a reverse-DNS answer for its address",
}


def _during(app: str) -> str:
    return f"During this {app} session" if app else "Outside any conferencing session"


def _sent(g: Finding) -> int:
    return sum(r.att.ends.client_bytes for r in g.records)


def _who(g: Finding) -> str:
    """Whose connection it was: the flow's own app, or none (the session is only context)."""
    if g.app:
        r = g.first
        return f"{g.app} ({r.a.role.app_evidence or r.a.app_reason or 'its own evidence'})"
    return "no app identified on the connection itself"


def _third_party(g: Finding) -> str:
    r = g.first
    what = r.att.owner.sdk_name or r.att.owner.category.replace("_", " ")
    src = r.att.name.source
    how = (
        f"named by {NAME_SOURCES.get(src, src)}" if r.att.name.name else "identified by its address"
    )
    org = r.att.owner.organisation or "an unidentified organisation"
    return (
        f"{_during(g.session_app)} the device contacted {g.destination} ({org}; {what}), {how}, "
        f"sending {_sent(g)} bytes in {len(g.records)} connection(s) ({happened(g.records)}). "
        f"App: {_who(g)}. Third party: {r.a.role.party.reason}. " + _carried(g)
    )


def _carried(g: Finding) -> str:
    if g.personal_data:
        return (
            "Requests read with the user's own keys carried personal data to it (see its "
            "personal_data finding and the data_shared table)."
        )
    return "This shows that the connection happened and how large it was, not what data it carried."


def _first_party(g: Finding) -> str:
    org = g.first.att.owner.organisation or "an unidentified organisation"
    reason = g.first.a.role.party.reason
    if reason.startswith(f"{org}: "):
        reason = reason[len(org) + 2 :]  # the organisation is named in the sentence before
    own = f" First party: {reason}." if reason and g.first.a.role.party.party == "first" else ""
    return (
        f"{_during(g.session_app)} the device sent {_sent(g)} bytes to {g.destination}, a "
        f"telemetry service of {org}. It is the vendor's own collection; its content is "
        f"encrypted and not visible.{own}"
    )


def _ecb(g: Finding) -> str:
    return (
        f"Media to {g.destination} repeats identical encrypted 16-byte blocks across packets, the "
        "signature of deterministic (ECB-like) encryption that leaks patterns in the content. "
        "This is a strong statistical sign, not a decryption."
    )


#: What each weakness code of the ``tls.weak`` column means, for the finding's explanation.
WEAKNESS_TEXT = {
    "TLS<=1.1": "TLS 1.1 and older are deprecated (RFC 8996)",
    "RC4": "the RC4 cipher is prohibited (RFC 7465)",
    "3DES": "3DES has 64-bit blocks, open to Sweet32 collisions",
    "NULL": "a NULL cipher authenticates the records but does not encrypt them",
    "EXPORT": "export-grade ciphers use deliberately short keys",
    "anon": "anonymous key exchange authenticates no server",
    "static-RSA": "static RSA key exchange gives no forward secrecy",
    "CBC-SHA1": "CBC with an HMAC-SHA1 MAC is open to padding-oracle attacks (Lucky 13)",
}


def _weak(g: Finding) -> str:
    f = g.first.a.verdict.facts
    codes = [c for c in str(f.get("weak", "")).split(";") if c]
    suite = " with ".join(str(x) for x in (f.get("version"), f.get("cipher")) if x)
    frame = f" (frame {f['frame']})" if f.get("frame") else ""
    if f.get("hello_seen") and suite:
        seen = f"negotiated {suite}{frame}"
    else:
        seen = f"offered only weak settings{frame} and no ServerHello was seen"
    more = f" (the first of {count(len(g.records), 'connection')})" if len(g.records) > 1 else ""
    why = "; ".join(WEAKNESS_TEXT.get(c, c) for c in codes) or "weak settings"
    still = (
        "The records are not encrypted."
        if "NULL" in codes
        else "It is still encrypted, but below current standards."
    )
    return f"The TLS connection to {g.destination}{more} {seen}: {why}. {still}"


def _dns(g: Finding) -> str:
    return (
        f"{len(g.records)} DNS exchange(s) with {g.destination} were unencrypted, so anyone on "
        "the network path could see which services the device looked up."
    )


def _plaintext_media(g: Finding) -> str:
    return (
        f"Audio/video to {g.destination} is not encrypted: {_evidence_caveat(g.first)[0]} "
        "Anyone on the network path could play it back."
    )


def _plaintext_http(g: Finding) -> str:
    server = g.first.att.ends.server_h
    if server.startswith("127.") or server == "::1":
        return (
            f"Programs on this machine talked to {g.destination} over unencrypted HTTP on the "
            "loopback interface; that traffic never leaves the machine."
        )
    if g.first.att.owner.organisation == "local network":
        return (
            f"The device talked to {g.destination} on the local network over unencrypted HTTP; "
            "other devices on that network could read or alter it."
        )
    return (
        f"The device talked to {g.destination} over unencrypted HTTP; the requests and responses "
        "could be read or altered by anyone on the network path."
    )


def _media(g: Finding) -> str:
    v = g.first.a.verdict.verdict
    caveat = _evidence_caveat(g.first)[1]
    return f"Media with {g.destination} is {v.text}. " + caveat.split(". ")[0].rstrip(".") + "."


def _cleartext_signalling(g: Finding) -> str:
    return (
        f"Call signalling with {g.destination} travels in clear: "
        f"{_evidence_caveat(g.first)[0]} {_evidence_caveat(g.first)[1]}"
    )


def _signalling(g: Finding) -> str:
    return f"Signalling with {g.destination} is {g.first.a.verdict.verdict.text}."


_EXPLAIN = {
    FindingKind.THIRD_PARTY_TELEMETRY: _third_party,
    FindingKind.FIRST_PARTY_TELEMETRY: _first_party,
    FindingKind.ECB_SUSPECTED: _ecb,
    FindingKind.WEAK_TLS: _weak,
    FindingKind.CLEARTEXT_DNS: _dns,
    FindingKind.PLAINTEXT_MEDIA: _plaintext_media,
    FindingKind.PLAINTEXT_HTTP: _plaintext_http,
    FindingKind.MEDIA_ENCRYPTION: _media,
    FindingKind.SIGNALLING_ENCRYPTION: _signalling,
    FindingKind.CLEARTEXT_SIGNALLING: _cleartext_signalling,
}


def _evidence_caveat(r: FlowRecord) -> tuple[str, str]:
    """The flow's verdict evidence and caveat (encrypted DNS names its kind first)."""
    v = r.a.verdict
    note = r.a.role.reason if r.a.role.rule == "encrypted_dns" else ""
    return verdict_text(v.reason, v.facts, note)


def _frames(g: Finding) -> tuple[list[int], list[int]]:
    """(the first MAX_FRAMES distinct evidence frames plus up to 4 DNS frames, the DNS ones)."""
    in_flows: dict[int, None] = {}  # distinct frames, in order of first appearance
    for r in g.records:
        for n in evidence_frames(r):
            in_flows.setdefault(n)
    frames = list(itertools.islice(in_flows, MAX_FRAMES))
    chosen = set(frames)
    for n in g.dns_frames[:4]:
        if n not in chosen:
            frames.append(n)
            chosen.add(n)
    return frames, [n for n in frames if n not in in_flows]


def _group_row(g: Finding) -> FindingRow:
    r = g.first
    frames, extra = _frames(g)
    telemetry = g.kind.is_telemetry
    evidence, caveat = _evidence_caveat(r)
    if telemetry:
        evidence = f"{r.att.name.source}: {r.att.name.detail}".strip(": ")
        caveat = "Encrypted content is not visible; the destination and volume are."
    high = r.att.name.source in ("tls_sni", "quic_sni", "http_host")
    confidence = ("high" if high else "medium") if telemetry else str(r.a.verdict.confidence)
    return FindingRow(
        finding_id="",
        session_id=g.session_id,
        app=g.app,
        finding=str(g.kind),
        severity=str(g.severity),
        destination=g.destination,
        organisation=r.att.owner.organisation,
        category=r.a.category,
        country=r.att.country,
        verdict=str(r.a.verdict.verdict),
        modifiers=";".join(r.a.verdict.modifiers),
        explanation=_EXPLAIN[g.kind](g),
        evidence=evidence,
        caveat=caveat,
        confidence=confidence,
        evidence_filter=display_filter(g.records, extra),
        frames=";".join(str(n) for n in frames),
        file=g.file,
        uids=";".join(x.ev.uid for x in g.records),
        flows=len(g.records),
        bytes_to_server=sum(x.att.ends.client_bytes for x in g.records),
        bytes_from_server=sum(x.att.ends.server_bytes for x in g.records),
        first_seen=min(x.ev.conn.ts for x in g.records),
        last_seen=max(x.ev.conn.ts + x.ev.conn.duration_s for x in g.records),
        attribution_source=named_by(r.att.owner.source),
    )


def _lookup_row(f: LookupFinding) -> FindingRow:
    lk = f.lookup
    frames = [int(n) for n in lk.frames.split(";") if n]
    what = lk.sdk_name or lk.category.replace("_", " ")
    frame_clause = " || frame.number in {" + ", ".join(map(str, frames)) + "}" if frames else ""
    answered = f", answered {lk.answers.replace(';', ', ')}" if lk.answers else ""
    return FindingRow(
        finding_id="",
        session_id=f.session_id,
        app="",
        finding=str(f.kind),
        severity=str(f.severity),
        destination=lk.query,
        organisation=lk.organisation,
        category=lk.category,
        country="",
        verdict="",
        modifiers="",
        explanation=(
            f"{_during(f.session_app)} the device looked up {lk.query} ({lk.organisation}; "
            f"{what}) in DNS {lk.queries} time(s) ({Happened.LOOKED_UP}). The lookup shows "
            f"something on the device meant to contact it; the connection itself is not in the "
            f"capture. {str(f.party.party).capitalize()} party: {f.party.reason}."
        ),
        evidence=f"DNS query for {lk.query} in frame(s) {lk.frames.replace(';', ', ')}{answered}",
        caveat="A lookup alone does not show what data, if any, was sent.",
        confidence="medium",
        evidence_filter=f'dns.qry.name == "{lk.query}"{frame_clause}',
        frames=lk.frames,
        file=lk.file,
        uids=lk.uid,
        flows=0,
        bytes_to_server=0,
        bytes_from_server=0,
        first_seen=lk.ts,
        last_seen=f.last_seen,
        attribution_source=named_by(lk.attribution_source),
    )


def finding_rows(
    groups: Sequence[Finding], lookups: Sequence[LookupFinding], helpers: Sequence[FindingRow]
) -> list[FindingRow]:
    """Every finding as a table row, sorted (session, severity, kind, destination) and numbered."""
    rows = [_lookup_row(f) for f in lookups] + list(helpers) + [_group_row(g) for g in groups]
    rows.sort(
        key=lambda r: (
            r.session_id == OUTSIDE,
            r.session_id,
            Severity(r.severity).rank,
            r.finding,
            r.destination,
        )
    )
    return [dataclasses.replace(r, finding_id=f"F{i:04d}") for i, r in enumerate(rows, 1)]


#: Verdicts a finding's wording may name; kept here so a test can check each has text.
WORDED_VERDICTS = tuple(Verdict)
