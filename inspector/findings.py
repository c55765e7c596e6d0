"""Join the assessed tables into the findings table: one row per thing worth knowing.

Flows are grouped per (file, session, finding kind, destination) so that a tracker contacted
forty times is one finding with forty flows. Every finding carries a Wireshark display filter that
selects at least the frames it lists.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from inspector.assess.helpers import helper_findings
from inspector.assess.roles import TELEMETRY_CATEGORIES, same_owner
from inspector.assess.sessions import Session
from inspector.schema.base import Row
from inspector.schema.findings import FindingRow
from inspector.schema.sessions import SessionRow

__all__ = ["SEVERITY", "build_findings", "build_sessions", "display_filter"]

SEVERITY = {"high": 0, "medium": 1, "low": 2, "info": 3}
_TRACKER_SEVERITY = {
    "social_sdk": "high",
    "advertising": "high",
    "attribution": "high",
    "analytics": "medium",
    "crash_reporting": "medium",
    "customer_support": "low",
    "feature_flags": "low",
}
_VERDICT_RANK = {
    "PLAINTEXT": 0,
    "UNKNOWN": 1,
    "PROPRIETARY_ENCRYPTED": 2,
    "TRANSPORT_TLS": 3,
    "HOP_BY_HOP_SRTP": 3,
    "LIKELY_E2E": 4,
    "E2E_INDICATED": 5,
}
MAX_FILTER_FLOWS = 8
MAX_FRAMES = 12


@dataclass
class _Group:
    kind: str
    severity: str
    flows: list[Any] = field(default_factory=list)
    extra_frames: list[int] = field(default_factory=list)


def _flow_filter(f: Any) -> str:
    ip = "ipv6.addr" if ":" in f.orig_h else "ip.addr"
    if f.proto in ("tcp", "udp"):
        return (
            f"({ip}=={f.orig_h} && {ip}=={f.resp_h} && {f.proto}.port=={f.orig_p} && "
            f"{f.proto}.port=={f.resp_p})"
        )
    proto = "icmpv6" if f.proto == "icmp6" else "icmp"
    return f"({ip}=={f.orig_h} && {ip}=={f.resp_h} && {proto})"


def display_filter(flows: Sequence[Any], extra_frames: Sequence[int] = ()) -> str:
    """A display filter selecting every packet of ``flows`` plus ``extra_frames``."""
    if len(flows) <= MAX_FILTER_FLOWS:
        parts = [_flow_filter(f) for f in flows]
    else:
        servers = sorted({f.resp_h for f in flows})
        parts = [f"({'ipv6' if ':' in s else 'ip'}.addr=={s})" for s in servers[:MAX_FILTER_FLOWS]]
        if len(servers) > MAX_FILTER_FLOWS:
            parts = [f"({'ipv6' if ':' in flows[0].orig_h else 'ip'}.addr=={flows[0].orig_h})"]
    if extra_frames:
        parts.append(
            "frame.number in {" + ", ".join(str(n) for n in sorted(set(extra_frames))) + "}"
        )
    return " || ".join(parts)


def _evidence_frames(f: Any, by_uid: Mapping[str, Mapping[str, list[Any]]]) -> list[int]:
    frames = [int(f.first_frame)]
    for table in ("tls", "quic", "http", "dtls"):
        for r in by_uid.get(table, {}).get(f.uid, [])[:1]:
            if getattr(r, "frame", 0):
                frames.append(int(r.frame))
    return frames


def _dns_frame(f: Any) -> list[int]:
    ev = f.name_evidence or ""
    if f.server_name_source == "dns" and ev.startswith("DNS answer in frame "):
        try:
            return [int(ev.split()[4])]
        except (IndexError, ValueError):
            return []
    return []


def _groups(flows: Sequence[Any]) -> dict[tuple[str, str, str, str], _Group]:
    groups: dict[tuple[str, str, str, str], _Group] = {}

    def add(kind: str, severity: str, f: Any, dest: str) -> None:
        g = groups.setdefault((f.file, f.session_id, kind, dest), _Group(kind, severity))
        g.flows.append(f)
        g.extra_frames.extend(_dns_frame(f))

    for f in flows:
        dest = f.server_name or f.resp_h
        mods = set((f.encryption_modifiers or "").split(";"))
        if f.role == "third-party telemetry":
            add("third_party_telemetry", _TRACKER_SEVERITY.get(f.category, "medium"), f, dest)
        elif f.role == "first-party telemetry":
            add("first_party_telemetry", "info", f, dest)
        if "ECB_SUSPECTED" in mods:
            add("ecb_suspected", "high", f, dest)
        if "WEAK_TLS" in mods:
            add("weak_tls", "medium", f, dest)
        if f.encryption_verdict == "PLAINTEXT" and "CLEARTEXT_DNS" in mods:
            add("cleartext_dns", "low", f, f.resp_h)
        elif (
            f.encryption_verdict == "PLAINTEXT"
            and f.role in ("media", "relay")
            and f.service != "stun"
        ):
            add("plaintext_media", "high", f, dest)
        elif f.encryption_verdict == "PLAINTEXT" and "http" in (f.service or "").split(";"):
            sev = (
                "low"
                if f.organisation == "local network"
                else ("medium" if f.category in ("", "unknown") else "high")
            )
            add("plaintext_http", sev, f, dest)
        elif f.role in ("media", "relay"):
            add("media_encryption", "info", f, f"{f.encryption_verdict}@{dest}")
        elif f.role == "signalling" and f.encryption_verdict and f.service != "stun":
            add("signalling_encryption", "info", f, f"{f.encryption_verdict}@{dest}")
    return groups


_NAME_SOURCES = {
    "tls_sni": "the server name in its TLS handshake",
    "quic_sni": "the server name in its QUIC handshake",
    "dtls_sni": "the server name in its DTLS handshake",
    "http_host": "the HTTP Host header",
    "dns": "an earlier DNS answer for its address",
    "dns_ambiguous": "a DNS answer its address shared with other names",
    "cert_san": "the server's certificate",
}


def _explain(kind: str, flows: list[Any], dest: str, app: str) -> str:
    f = flows[0]
    sent = sum(int(x.orig_bytes) for x in flows)
    during = f"During this {app} session" if app else "Outside any conferencing session"
    org = f.organisation or "an unidentified organisation"
    if kind == "third_party_telemetry":
        what = f.sdk_name or f.category.replace("_", " ")
        how = (
            f"named by {_NAME_SOURCES.get(f.server_name_source, f.server_name_source)}"
            if f.server_name
            else "identified by its address"
        )
        return (
            f"{during} the device contacted {dest} ({org}; {what}), {how}, sending {sent} "
            f"bytes in {len(flows)} connection(s). This shows that the connection happened "
            "and how large it was, not what data it carried."
        )
    if kind == "first_party_telemetry":
        return (
            f"{during} the device sent {sent} bytes to {dest}, a telemetry service of {org}. "
            "It is the vendor's own collection; its content is encrypted and not visible."
        )
    if kind == "ecb_suspected":
        return (
            f"Media to {dest} repeats identical encrypted 16-byte blocks across packets, the "
            "signature of deterministic (ECB-like) encryption that leaks patterns in the "
            "content. This is a strong statistical sign, not a decryption."
        )
    if kind == "weak_tls":
        return (
            f"The encrypted connection to {dest} uses outdated or weak TLS settings "
            f"({f.encryption_evidence.split('weak: ')[-1].rstrip('.')}). It is still "
            "encrypted, but below current standards."
        )
    if kind == "cleartext_dns":
        return (
            f"{len(flows)} DNS exchange(s) with {dest} were unencrypted, so anyone on the "
            "network path could see which services the device looked up."
        )
    if kind == "plaintext_media":
        return (
            f"Audio/video to {dest} is not encrypted: {f.encryption_evidence} Anyone on the "
            "network path could play it back."
        )
    if kind == "plaintext_http":
        if f.resp_h.startswith("127.") or f.resp_h == "::1":
            return (
                f"Programs on this machine talked to {dest} over unencrypted HTTP on the "
                "loopback interface; that traffic never leaves the machine."
            )
        if f.organisation == "local network":
            return (
                f"The device talked to {dest} on the local network over unencrypted HTTP; "
                "other devices on that network could read or alter it."
            )
        return (
            f"The device talked to {dest} over unencrypted HTTP; the requests and responses "
            "could be read or altered by anyone on the network path."
        )
    verdict = f.encryption_verdict
    if kind == "media_encryption":
        return (
            f"Media with {dest} is {_VERDICT_TEXT.get(verdict, verdict)}. "
            + f.encryption_caveat.split(". ")[0].rstrip(".")
            + "."
        )
    return f"Signalling with {dest} is {_VERDICT_TEXT.get(verdict, verdict)}."


_VERDICT_TEXT = {
    "PLAINTEXT": "not encrypted",
    "TRANSPORT_TLS": "encrypted with TLS up to the server, whose operator can read it",
    "HOP_BY_HOP_SRTP": "encrypted (SRTP) only up to the vendor's media server, which can "
    "decrypt it",
    "PROPRIETARY_ENCRYPTED": "encrypted with the vendor's own scheme; nothing on the wire shows "
    "that it is end-to-end",
    "LIKELY_E2E": "likely end-to-end encrypted: keys are set up between the participants",
    "E2E_INDICATED": "marked end-to-end by a visible protocol choice",
    "UNKNOWN": "of undetermined protection",
}


def _lookup_findings(
    lookups: Sequence[Any], flows: Sequence[Any], app_of: Mapping[str, str]
) -> list[FindingRow]:
    """Third-party telemetry names that were looked up but never connected to in the capture."""
    session_of = {f.uid: f.session_id for f in flows}
    flow_of = {f.uid: f for f in flows}
    out: list[FindingRow] = []
    for lk in lookups:
        if lk.connected or lk.category not in TELEMETRY_CATEGORIES:
            continue
        session_id = session_of.get(lk.uid, "outside")
        app = app_of.get(session_id, "")
        owner_app = bool(app) and same_owner(app, lk.organisation)
        dns_flow = flow_of.get(lk.uid)
        frames = [int(n) for n in lk.frames.split(";") if n]
        during = f"During this {app} session" if app else "Outside any conferencing session"
        what = lk.sdk_name or lk.category.replace("_", " ")
        frame_clause = " || frame.number in {" + ", ".join(map(str, frames)) + "}" if frames else ""
        answered = f", answered {lk.answers.replace(';', ', ')}" if lk.answers else ""
        out.append(
            FindingRow(
                finding_id="",
                session_id=session_id,
                app=app,
                finding="first_party_telemetry" if owner_app else "third_party_telemetry",
                severity="info" if owner_app else _TRACKER_SEVERITY.get(lk.category, "medium"),
                destination=lk.query,
                organisation=lk.organisation,
                category=lk.category,
                country="",
                verdict="",
                modifiers="",
                explanation=(
                    f"{during} the device looked up {lk.query} ({lk.organisation}; {what}) in "
                    f"DNS {lk.queries} time(s). The lookup shows the app meant to contact it; "
                    "the connection itself is not in the capture."
                ),
                evidence=f"DNS query for {lk.query} in frame(s) "
                f"{lk.frames.replace(';', ', ')}{answered}",
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
                last_seen=dns_flow.ts + dns_flow.duration_s if dns_flow is not None else lk.ts,
                attribution_source=lk.attribution_source,
            )
        )
    return out


def build_findings(
    flows: Sequence[Any],
    by_uid: Mapping[str, Mapping[str, list[Any]]],
    sessions: Sequence[Session],
    lookups: Sequence[Any] = (),
    http: Sequence[Any] = (),
) -> list[Row]:
    app_of = {s.session_id: s.app for s in sessions}
    rows: list[FindingRow] = _lookup_findings(lookups, flows, app_of)
    rows += helper_findings(flows, http)
    for (file, session_id, kind, dest), g in _groups(flows).items():
        fl = sorted(g.flows, key=lambda x: x.ts)
        f = fl[0]
        frames: list[int] = []
        for x in fl:
            for n in _evidence_frames(x, by_uid):
                if n not in frames:
                    frames.append(n)
        frames = frames[:MAX_FRAMES]
        for n in g.extra_frames[:4]:
            if n not in frames:
                frames.append(n)
        flow_frames = {n for x in fl for n in _evidence_frames(x, by_uid)}
        extra = [n for n in frames if n not in flow_frames]
        shown = dest.split("@", 1)[1] if "@" in dest else dest
        app = app_of.get(session_id, "")
        rows.append(
            FindingRow(
                finding_id="",
                session_id=session_id,
                app=app,
                finding=kind,
                severity=g.severity,
                destination=shown,
                organisation=f.organisation or "",
                category=f.category or "",
                country=f.country or "",
                verdict=f.encryption_verdict or "",
                modifiers=f.encryption_modifiers or "",
                explanation=_explain(kind, fl, shown, app),
                evidence=f.encryption_evidence
                if kind not in ("third_party_telemetry", "first_party_telemetry")
                else f"{f.server_name_source}: {f.name_evidence}".strip(": "),
                caveat=f.encryption_caveat
                if kind not in ("third_party_telemetry", "first_party_telemetry")
                else "Encrypted content is not visible; the destination and volume are.",
                confidence=(
                    "high"
                    if f.server_name_source in ("tls_sni", "quic_sni", "http_host")
                    else "medium"
                )
                if kind.endswith("telemetry")
                else (f.encryption_confidence or "medium"),
                evidence_filter=display_filter(fl, extra),
                frames=";".join(str(n) for n in frames),
                file=file,
                uids=";".join(x.uid for x in fl),
                flows=len(fl),
                bytes_to_server=sum(int(x.orig_bytes) for x in fl),
                bytes_from_server=sum(int(x.resp_bytes) for x in fl),
                first_seen=min(x.ts for x in fl),
                last_seen=max(x.ts + x.duration_s for x in fl),
                attribution_source=f.attribution_source or "",
            )
        )
    rows.sort(
        key=lambda r: (
            r.session_id == "outside",
            r.session_id,
            SEVERITY[r.severity],
            r.finding,
            r.destination,
        )
    )
    return [dataclasses.replace(r, finding_id=f"F{i:04d}") for i, r in enumerate(rows, 1)]


def build_sessions(flows: Sequence[Any], sessions: Sequence[Session]) -> list[Row]:
    by_session: dict[str, list[Any]] = {}
    for f in flows:
        by_session.setdefault(f.session_id, []).append(f)
    out: list[Row] = []
    for s in sessions:
        fl = by_session.get(s.session_id, [])
        media = [f for f in fl if f.role in ("media", "relay")]
        kinds = sorted({k for f in media for k in (f.media_kinds or "").split(";") if k})
        verdicts = sorted({f.encryption_verdict for f in media if f.encryption_verdict})
        core = [  # STUN-only flows carry no call content: they do not weaken the call
            f
            for f in fl
            if f.role in ("media", "relay", "signalling")
            and f.encryption_verdict
            and f.service != "stun"
        ]
        weakest = min(
            (f.encryption_verdict for f in core), key=lambda v: _VERDICT_RANK.get(v, 1), default=""
        )
        third = {f.server_name or f.resp_h for f in fl if f.role == "third-party telemetry"}
        start = min((f.ts for f in fl), default=s.start)
        end = max((f.ts + f.duration_s for f in fl), default=s.end)
        out.append(
            SessionRow(
                session_id=s.session_id,
                app=s.app,
                client=s.client,
                start_ts=start,
                end_ts=end,
                duration_s=round(end - start, 6),
                flows=len(fl),
                media_flows=len(media),
                media_kinds=";".join(kinds),
                peer_to_peer=any(f.peer_to_peer for f in media),
                media_verdicts=";".join(verdicts),
                weakest_verdict=weakest,
                third_party_destinations=len(third),
                bytes_total=sum(int(f.orig_bytes) + int(f.resp_bytes) for f in fl),
            )
        )
    return out
