"""The assessment stage: app, role, session and encryption verdict of every flow.

A pure function of the flows' evidence and attribution; it returns one :class:`Assessment` per
flow and the sessions, and changes no earlier record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inspector.assess.apps import AppDecision, decide_apps
from inspector.assess.context import FlowCtx
from inspector.assess.encryption import VerdictDecision, assess_flow
from inspector.assess.profiles import AppProfile, profile
from inspector.assess.roles import RoleDecision, client_apps, decide_role
from inspector.assess.sessions import Session, Span, group_sessions
from inspector.attribute.stage import Attribution
from inspector.evidence import FlowEvidence
from inspector.vocab import OUTSIDE, Role, Verdict

__all__ = ["Assessment", "AssessmentResult", "assess"]


@dataclass(frozen=True, slots=True)
class Assessment:
    uid: str
    app: str
    app_reason: str
    p2p: bool
    role: RoleDecision
    session_id: str
    #: the destination's category as this flow uses it ("first-party media" for vendor media)
    category: str
    verdict: VerdictDecision


@dataclass
class AssessmentResult:
    by_uid: dict[str, Assessment]
    sessions: list[Session]


def _one(
    ev: FlowEvidence,
    att: Attribution,
    d: AppDecision | None,
    session: Session | None,
    sid: str,
    client_apps: tuple[AppProfile, ...] = (),
) -> Assessment:
    """Role and verdict from the flow's own evidence: an app decided from another flow (same
    local port) or from the session's timing never reaches the rules (issue 11)."""
    if d is not None and not d.own:
        d = None
    own = profile(d.app) if d else None
    p2p = bool(d and d.p2p)
    session_app = profile(session.app) if session else None
    role = decide_role(FlowCtx(ev, att, own, session_app, p2p, client_apps=client_apps))
    v = assess_flow(FlowCtx(ev, att, own, None, p2p))
    category = att.owner.category
    if role.role.carries_media and category.startswith("first-party"):
        category = "first-party media"  # the vendor's domain, but this flow carries media
    return Assessment(
        ev.uid, d.app if d else "", d.reason if d else "", p2p, role, sid, category, v
    )


def assess(evidence: Sequence[FlowEvidence], atts: dict[str, Attribution]) -> AssessmentResult:
    """App, role, session and verdict for every flow."""
    apps = decide_apps(evidence, atts)
    spans = [
        Span(
            ev.uid,
            atts[ev.uid].ends.client_h,
            ev.conn.ts,
            ev.conn.ts + ev.conn.duration_s,
            apps[ev.uid].app if ev.uid in apps else "",
        )
        for ev in evidence
    ]
    sessions, assign = group_sessions(spans)
    by_id = {s.session_id: s for s in sessions}
    seen = client_apps(evidence, atts, apps)
    out: dict[str, Assessment] = {}
    for ev in evidence:
        sid = assign.get(ev.uid, OUTSIDE)
        key = (ev.conn.file, atts[ev.uid].ends.client_h)
        out[ev.uid] = _one(
            ev, atts[ev.uid], apps.get(ev.uid), by_id.get(sid), sid, seen.get(key, ())
        )
    return AssessmentResult(out, sessions)


def dns_over_tls(a: Assessment) -> bool:
    """Encrypted DNS: the role's description prefixes the TLS evidence."""
    return a.role.role == Role.DNS and a.verdict.verdict == Verdict.TRANSPORT_TLS
