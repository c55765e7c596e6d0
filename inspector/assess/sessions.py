"""Group flows into conferencing sessions per client and app; a long silence splits them.

A session is the app's flows (media, relay, signalling, its own telemetry) whose activity
overlaps or follows within :data:`SPLIT_GAP_S`; flows of no app (third-party telemetry, web) join
the session of the same client they overlap in time, so a Facebook SDK call during a Zoom
meeting is judged against Zoom. Everything else is in the ``outside`` group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from inspector.vocab import OUTSIDE

__all__ = ["ATTACH_MARGIN_S", "OUTSIDE", "SPLIT_GAP_S", "Session", "Span", "group_sessions"]

SPLIT_GAP_S = 300.0
ATTACH_MARGIN_S = 60.0


@dataclass(frozen=True, slots=True)
class Span:
    """What sessions need of a flow: who the client is, when, and the flow's own app."""

    uid: str
    client: str
    start: float
    end: float
    app: str = ""


@dataclass
class Session:
    session_id: str
    app: str
    client: str
    start: float
    end: float
    uids: list[str] = field(default_factory=list)


def _app_sessions(spans: Sequence[Span]) -> list[Session]:
    by_key: dict[tuple[str, str], list[Span]] = {}
    for s in spans:
        if s.app:
            by_key.setdefault((s.client, s.app), []).append(s)
    raw: list[Session] = []
    for (client, app), items in by_key.items():
        items.sort(key=lambda s: (s.start, s.end, s.uid))
        cur: Session | None = None
        for s in items:
            if cur is None or s.start > cur.end + SPLIT_GAP_S:
                cur = Session("", app, client, s.start, s.end)
                raw.append(cur)
            cur.end = max(cur.end, s.end)
            cur.uids.append(s.uid)
    raw.sort(key=lambda x: (x.start, x.app, x.client))
    for i, session in enumerate(raw, 1):
        session.session_id = f"S{i}"
    return raw


def _nearest(span: Span, sessions: Sequence[Session]) -> Session | None:
    best: Session | None = None
    best_gap = float("inf")
    for s in sessions:
        if s.client != span.client:
            continue
        if span.start <= s.end + ATTACH_MARGIN_S and span.end >= s.start - ATTACH_MARGIN_S:
            inside = s.start <= span.start <= s.end
            gap = 0.0 if inside else min(abs(span.start - s.start), abs(span.start - s.end))
            if gap < best_gap:
                best, best_gap = s, gap
    return best


def group_sessions(spans: Sequence[Span]) -> tuple[list[Session], dict[str, str]]:
    """(sessions in time order, uid -> session_id) for every flow."""
    sessions = _app_sessions(spans)
    assign = {uid: s.session_id for s in sessions for uid in s.uids}
    for span in spans:
        if span.uid in assign:
            continue
        best = _nearest(span, sessions)
        if best is not None:
            best.uids.append(span.uid)
        assign[span.uid] = best.session_id if best is not None else OUTSIDE
    return sessions, assign
