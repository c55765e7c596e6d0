"""The assessment stage: app, role, session and encryption verdict of every flow."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from inspector.assess.apps import AppDecision, decide_apps
from inspector.assess.encryption import assess_flow
from inspector.assess.roles import decide_role
from inspector.assess.sessions import Session, group_sessions
from inspector.schema.base import Row

__all__ = ["BY_UID_TABLES", "assess"]

#: The per-protocol tables the assessment and findings join to flows by uid.
BY_UID_TABLES = ("tls", "quic", "http", "dtls", "stun", "rtp", "dns", "signatures")


def assess(
    rows: Mapping[str, list[Row]], client: str, by_uid: Mapping[str, Mapping[str, list[Any]]]
) -> tuple[list[Row], list[Session]]:
    """New flows rows with app, role, session and verdict columns; and the sessions."""
    flows: list[Any] = list(rows.get("flows", []))
    apps = decide_apps(flows, by_uid, client)
    sessions, assign = group_sessions(flows, {u: d.app for u, d in apps.items()})
    app_of_session = {s.session_id: s.app for s in sessions}
    out: list[Row] = []
    for f in flows:
        d = apps.get(f.uid)
        session_id = assign.get(f.uid, "outside")
        session_app = app_of_session.get(session_id, "")
        app = d.app if d else ""
        role = decide_role(f, app, by_uid, session_app)
        if not app and session_app and role.role in ("media", "relay"):
            # flow timing: media from the same client during the app's session
            d = AppDecision(
                session_app,
                f"media during the {session_app} session {session_id} "
                "from the same client (timing only, no direct evidence)",
            )
            app = session_app
        v = assess_flow(f, app or session_app, bool(d and d.p2p), by_uid)
        if role.role == "dns" and v.verdict == "TRANSPORT_TLS":
            v = dataclasses.replace(v, evidence=f"{role.reason}: {v.evidence}")
        category = f.category
        if role.role in ("media", "relay") and (category or "").startswith("first-party"):
            category = "first-party media"  # the vendor's domain, but this flow carries media
        out.append(
            dataclasses.replace(
                f,
                category=category,
                app=app,
                app_reason=d.reason if d else "",
                peer_to_peer=bool(d and d.p2p),
                role=role.role,
                media_kinds=role.media_kinds,
                session_id=session_id,
                encryption_verdict=v.verdict,
                encryption_modifiers=";".join(v.modifiers),
                encryption_confidence=v.confidence,
                encryption_reason=v.reason,
                encryption_evidence=v.evidence,
                encryption_caveat=v.caveat,
            )
        )
    return out, sessions
