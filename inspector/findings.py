"""Join the assessed flows into findings: one per thing worth knowing, as structured facts.

Flows are grouped per (file, session, finding kind, destination) so that a tracker contacted
forty times is one finding with forty flows. Every finding carries the frames that back it and
a Wireshark display filter selecting at least those frames. Sentences are written by
``inspector.report.findings_text``, never here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from inspector.assess.profiles import AppProfile, profile
from inspector.assess.roles import TELEMETRY_CATEGORIES, party_without_app
from inspector.assess.sessions import Session
from inspector.assess.stage import Assessment
from inspector.attribute.entities import Endpoint, PartyDecision
from inspector.attribute.stage import Attribution
from inspector.evidence import FlowEvidence
from inspector.schema.lookups import LookupRow
from inspector.schema.sessions import SessionRow
from inspector.vocab import OUTSIDE, FindingKind, Modifier, Party, Role, Severity, Verdict

__all__ = [
    "Finding",
    "FlowRecord",
    "Happened",
    "LookupFinding",
    "build_findings",
    "build_lookup_findings",
    "build_sessions",
    "display_filter",
    "severity_markdown",
    "tracker_severity",
]

MAX_FILTER_FLOWS = 8
MAX_FRAMES = 12
#: Client payload bytes above which a connection counts as having sent data: more than any
#: connection set-up's client flight (a TLS ClientHello or the padded QUIC Initials, post-quantum
#: key shares included, stay under 3 kB).
SENT_DATA_BYTES = 4096


class Happened(StrEnum):
    """What the device did with a telemetry destination, most serious first."""

    SENT_DATA = "contacted and sent data"
    CONTACTED = "contacted"
    LOOKED_UP = "looked up only"


#: Severity of a third-party telemetry finding by what happened (docs/findings-severity.md).
TRACKER_SEVERITY: dict[Happened, Severity] = {
    Happened.SENT_DATA: Severity.HIGH,
    Happened.CONTACTED: Severity.MEDIUM,
    Happened.LOOKED_UP: Severity.LOW,
}


def tracker_severity(happened: Happened) -> Severity:
    return TRACKER_SEVERITY[happened]


def severity_markdown() -> str:
    """The severity table that docs/attribution-database.md embeds."""
    rows = [
        "| what happened | third-party telemetry | first-party telemetry |",
        "| --- | --- | --- |",
    ]
    for h in Happened:
        rows.append(f"| {h} | {TRACKER_SEVERITY[h]} | {Severity.INFO} |")
    return "\n".join(rows)


def client_payload(r: FlowRecord) -> int:
    """Transport payload bytes the client sent on the flow."""
    c = r.ev.conn
    return int(c.orig_payload_bytes if r.att.ends.client_is_orig else c.resp_payload_bytes)


def happened(records: Sequence[FlowRecord]) -> Happened:
    """Contacted and sent data (client payload above :data:`SENT_DATA_BYTES`), or contacted."""
    sent = sum(client_payload(r) for r in records)
    return Happened.SENT_DATA if sent > SENT_DATA_BYTES else Happened.CONTACTED


@dataclass(frozen=True, slots=True)
class FlowRecord:
    """Everything the stages decided about one flow."""

    ev: FlowEvidence
    att: Attribution
    a: Assessment

    @property
    def destination(self) -> str:
        return self.att.name.name or self.att.ends.server_h


@dataclass
class Finding:
    kind: FindingKind
    severity: Severity
    session_id: str
    #: the flow's own app (its own evidence or client fingerprint), never the session's
    app: str
    destination: str
    file: str
    records: list[FlowRecord] = field(default_factory=list)
    #: the app of the session the flows fall in (context for the wording only)
    session_app: str = ""
    #: DNS answers that named the destination (frames outside the flows themselves)
    dns_frames: list[int] = field(default_factory=list)
    #: the flows carried personal data (``data_shared``) to this destination
    personal_data: bool = False

    @property
    def first(self) -> FlowRecord:
        return self.records[0]


@dataclass(frozen=True, slots=True)
class LookupFinding:
    """A tracker name looked up in DNS but never connected to in the capture."""

    lookup: LookupRow
    kind: FindingKind
    severity: Severity
    session_id: str
    #: the app of the session (context only: a lookup carries no app of its own)
    session_app: str
    last_seen: float
    party: PartyDecision


def _flow_filter(r: FlowRecord) -> str:
    e = r.att.ends
    ip = "ipv6.addr" if ":" in e.client_h else "ip.addr"
    proto = r.ev.conn.proto
    if proto in ("tcp", "udp"):
        return (
            f"({ip}=={e.client_h} && {ip}=={e.server_h} && {proto}.port=={e.client_p} && "
            f"{proto}.port=={e.server_p})"
        )
    icmp = "icmpv6" if proto == "icmp6" else "icmp"
    return f"({ip}=={e.client_h} && {ip}=={e.server_h} && {icmp})"


def display_filter(records: Sequence[FlowRecord], extra_frames: Sequence[int] = ()) -> str:
    """A display filter selecting every packet of ``records`` plus ``extra_frames``."""
    if len(records) <= MAX_FILTER_FLOWS:
        parts = [_flow_filter(r) for r in records]
    else:
        servers = sorted({r.att.ends.server_h for r in records})
        parts = [f"({'ipv6' if ':' in s else 'ip'}.addr=={s})" for s in servers[:MAX_FILTER_FLOWS]]
        if len(servers) > MAX_FILTER_FLOWS:
            client = records[0].att.ends.client_h
            parts = [f"({'ipv6' if ':' in client else 'ip'}.addr=={client})"]
    if extra_frames:
        parts.append(
            "frame.number in {" + ", ".join(str(n) for n in sorted(set(extra_frames))) + "}"
        )
    return " || ".join(parts)


def evidence_frames(r: FlowRecord) -> list[int]:
    """The flow's first frame and the first frame of its TLS, QUIC, HTTP and DTLS rows."""
    frames = [int(r.ev.conn.first_frame)]
    for rows in (r.ev.tls, r.ev.quic, r.ev.http, r.ev.dtls):
        if rows and rows[0].frame:
            frames.append(int(rows[0].frame))
    return frames


Key = tuple[FindingKind, Severity, str]
#: Findings every flow may add on top of the verdict-based one.
Emitter = Callable[[FlowRecord], Key | None]


def _telemetry(r: FlowRecord) -> Key | None:
    if r.a.role.role == Role.THIRD_PARTY_TELEMETRY:
        sev = tracker_severity(happened([r]))  # the group's total decides (build_findings)
        return FindingKind.THIRD_PARTY_TELEMETRY, sev, r.destination
    if r.a.role.role == Role.FIRST_PARTY_TELEMETRY:
        return FindingKind.FIRST_PARTY_TELEMETRY, Severity.INFO, r.destination
    return None


def _ecb(r: FlowRecord) -> Key | None:
    if Modifier.ECB_SUSPECTED in r.a.verdict.modifiers:
        return FindingKind.ECB_SUSPECTED, Severity.HIGH, r.destination
    return None


def _weak(r: FlowRecord) -> Key | None:
    if Modifier.WEAK_TLS in r.a.verdict.modifiers:
        return FindingKind.WEAK_TLS, Severity.MEDIUM, r.destination
    return None


#: Content types of certificate-status traffic (RFC 6960 OCSP, RFC 5280 CRLs).
CERT_STATUS_TYPES = (
    "application/ocsp-request",
    "application/ocsp-response",
    "application/pkix-crl",
)


def certificate_status_or_check(r: FlowRecord) -> bool:
    """OCSP/CRL (content type on the wire) or a platform service such as a connectivity check
    (the database's ``os_services`` rows: OCSP responders, captive-portal checks)."""
    types = [t.lower() for h in r.ev.http for t in (h.content_type, h.response_content_type)]
    return r.att.owner.category == "os_services" or any(
        t.startswith(CERT_STATUS_TYPES) for t in types
    )


def _http_severity(r: FlowRecord) -> Severity:
    if certificate_status_or_check(r):
        return Severity.INFO
    if r.att.owner.organisation == "local network":
        return Severity.LOW
    # a hosting provider alone ("hosted on X", no owner) says nothing about what the server is
    known = r.att.owner.organisation and r.att.owner.category not in ("", "unknown")
    return Severity.HIGH if known else Severity.MEDIUM


#: Verdict rules under which the audio/video itself is readable (not only RTCP reports).
_READABLE_AUDIO_VIDEO = frozenset({"codec_plaintext", "null_srtp"})


def _by_verdict(r: FlowRecord) -> Key | None:
    """At most one finding from the verdict, first match wins."""
    v, role, services = r.a.verdict, r.a.role.role, r.ev.services
    control = services == {"stun"} or Modifier.CONTROL_ONLY in v.modifiers
    if v.verdict == Verdict.PLAINTEXT and Modifier.CLEARTEXT_DNS in v.modifiers:
        return FindingKind.CLEARTEXT_DNS, Severity.LOW, r.att.ends.server_h
    if v.verdict == Verdict.PLAINTEXT and Modifier.CLEARTEXT_SIGNALLING in v.modifiers:
        return FindingKind.CLEARTEXT_SIGNALLING, Severity.MEDIUM, r.destination
    if v.verdict == Verdict.PLAINTEXT and v.rule in _READABLE_AUDIO_VIDEO:
        return FindingKind.PLAINTEXT_MEDIA, Severity.HIGH, r.destination
    if v.verdict == Verdict.PLAINTEXT and "http" in services:
        return FindingKind.PLAINTEXT_HTTP, _http_severity(r), r.destination
    if role.carries_media:
        return FindingKind.MEDIA_ENCRYPTION, Severity.INFO, r.destination
    if role == Role.SIGNALLING and not control:
        return FindingKind.SIGNALLING_ENCRYPTION, Severity.INFO, r.destination
    return None


EMITTERS: tuple[Emitter, ...] = (_telemetry, _ecb, _weak, _by_verdict)
#: Kinds grouped per verdict as well as destination (one finding per verdict and server).
_PER_VERDICT = frozenset({FindingKind.MEDIA_ENCRYPTION, FindingKind.SIGNALLING_ENCRYPTION})


def _flow_app(r: FlowRecord) -> str:
    """The flow's own app: the party's app for telemetry, else the app its evidence decided."""
    if r.a.role.role in (Role.THIRD_PARTY_TELEMETRY, Role.FIRST_PARTY_TELEMETRY):
        return r.a.role.app
    return r.a.app


def build_findings(records: Sequence[FlowRecord], sessions: Sequence[Session]) -> list[Finding]:
    """Findings from the flows, grouped; in no particular order (the report sorts)."""
    app_of = {s.session_id: s.app for s in sessions}
    groups: dict[tuple[str, str, FindingKind, str, str, str], Finding] = {}
    for r in records:
        sid = r.a.session_id
        for emit in EMITTERS:
            key = emit(r)
            if key is None:
                continue
            kind, sev, dest = key
            verdict = r.a.verdict.verdict if kind in _PER_VERDICT else ""
            app = _flow_app(r)
            gkey = (r.ev.conn.file, sid, kind, verdict, dest, app)
            g = groups.get(gkey)
            if g is None:
                g = groups[gkey] = Finding(
                    kind, sev, sid, app, dest, r.ev.conn.file, session_app=app_of.get(sid, "")
                )
            g.records.append(r)
            if r.att.name.source == "dns" and r.att.name.dns_frame:
                g.dns_frames.append(r.att.name.dns_frame)
    for g in groups.values():
        g.records.sort(key=lambda x: x.ev.conn.ts)
        if g.kind == FindingKind.THIRD_PARTY_TELEMETRY:
            g.severity = tracker_severity(happened(g.records))
    return list(groups.values())


def _lookup_endpoint(lk: LookupRow) -> Endpoint:
    return Endpoint(
        name=lk.query.lower(),
        owner=lk.organisation,
        entity=lk.entity,
        category=lk.category,
        vendor=lk.vendor,
        sdk_name=lk.sdk_name,
        host="",
        owner_from="name" if lk.organisation else "",
        pattern="",
        source=lk.attribution_source,
    )


def build_lookup_findings(
    lookups: Sequence[LookupRow], records: Sequence[FlowRecord], sessions: Sequence[Session]
) -> list[LookupFinding]:
    """Tracker names looked up but never connected to in the capture (severity: looked up only).

    A lookup carries no app of its own, so its party is decided like a flow's without one
    (:func:`inspector.assess.roles.party_without_app`): over the apps identified on the client.
    """
    app_of = {s.session_id: s.app for s in sessions}
    by_uid = {r.ev.uid: r for r in records}
    seen: dict[tuple[str, str], dict[str, AppProfile]] = {}
    for r in records:
        p = profile(r.a.app)
        if p is not None and p.entity and r.a.role.role != Role.DNS:
            seen.setdefault((r.ev.conn.file, r.att.ends.client_h), {})[p.name] = p
    out: list[LookupFinding] = []
    for lk in lookups:
        if lk.connected or lk.category not in TELEMETRY_CATEGORIES:
            continue
        rec = by_uid.get(lk.uid)
        client = rec.att.ends.client_h if rec is not None else ""
        apps = tuple(seen.get((lk.file, client), {}).values())
        party = party_without_app(_lookup_endpoint(lk), None, apps)
        if party.party == Party.UNKNOWN:
            continue
        first = party.party == Party.FIRST
        kind = FindingKind.FIRST_PARTY_TELEMETRY if first else FindingKind.THIRD_PARTY_TELEMETRY
        sev = Severity.INFO if first else tracker_severity(Happened.LOOKED_UP)
        sid = rec.a.session_id if rec is not None else OUTSIDE
        last = rec.ev.conn.ts + rec.ev.conn.duration_s if rec is not None else lk.ts
        out.append(LookupFinding(lk, kind, sev, sid, app_of.get(sid, ""), last, party))
    return out


def build_sessions(records: Sequence[FlowRecord], sessions: Sequence[Session]) -> list[SessionRow]:
    by_session: dict[str, list[FlowRecord]] = {}
    for r in records:
        by_session.setdefault(r.a.session_id, []).append(r)
    return [_session_row(s, by_session.get(s.session_id, [])) for s in sessions]


def _session_row(s: Session, recs: list[FlowRecord]) -> SessionRow:
    media = [r for r in recs if r.a.role.role.carries_media]
    kinds = sorted({k for r in media for k in r.a.role.media_kinds.split(";") if k})
    verdicts = sorted({str(r.a.verdict.verdict) for r in media})
    core = [  # STUN-only flows carry no call content: they do not weaken the call
        r
        for r in recs
        if r.a.role.role in (Role.MEDIA, Role.RELAY, Role.SIGNALLING) and r.ev.services != {"stun"}
    ]
    weakest = min((r.a.verdict.verdict for r in core), key=lambda v: v.rank, default="")
    third = {r.destination for r in recs if r.a.role.role == Role.THIRD_PARTY_TELEMETRY}
    start = min((r.ev.conn.ts for r in recs), default=s.start)
    end = max((r.ev.conn.ts + r.ev.conn.duration_s for r in recs), default=s.end)
    return SessionRow(
        session_id=s.session_id,
        app=s.app,
        client=s.client,
        start_ts=start,
        end_ts=end,
        duration_s=round(end - start, 6),
        flows=len(recs),
        media_flows=len(media),
        media_kinds=";".join(kinds),
        peer_to_peer=any(r.a.p2p for r in media),
        media_verdicts=";".join(verdicts),
        weakest_verdict=str(weakest),
        third_party_destinations=len(third),
        bytes_total=sum(int(r.ev.conn.orig_bytes) + int(r.ev.conn.resp_bytes) for r in recs),
    )
