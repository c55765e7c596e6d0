"""Group flows into conferencing sessions per client and app; a long silence splits them.

A session is the app's flows (media, relay, signalling, its own telemetry) whose activity
overlaps or follows within :data:`SPLIT_GAP_S`; flows of no app (third-party telemetry, web) join
the session of the same client they overlap in time, so a Facebook SDK call during a Zoom
meeting is judged against Zoom. Everything else is in the ``outside`` group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ATTACH_MARGIN_S", "OUTSIDE", "SPLIT_GAP_S", "Session", "group_sessions"]

SPLIT_GAP_S = 300.0
ATTACH_MARGIN_S = 60.0
OUTSIDE = "outside"


@dataclass
class Session:
    session_id: str
    app: str
    client: str
    start: float
    end: float
    uids: list[str] = field(default_factory=list)


def group_sessions(
    flows: Sequence[Any], apps: Mapping[str, str]
) -> tuple[list[Session], dict[str, str]]:
    """(sessions in time order, uid -> session_id) for every flow."""
    spans: dict[tuple[str, str], list[tuple[float, float, str]]] = {}
    for f in flows:
        app = apps.get(f.uid, "")
        if app:
            spans.setdefault((f.orig_h, app), []).append((f.ts, f.ts + f.duration_s, f.uid))
    raw: list[Session] = []
    for (client, app), items in spans.items():
        items.sort()
        cur: Session | None = None
        for start, end, uid in items:
            if cur is None or start > cur.end + SPLIT_GAP_S:
                cur = Session("", app, client, start, end)
                raw.append(cur)
            cur.end = max(cur.end, end)
            cur.uids.append(uid)
    raw.sort(key=lambda s: (s.start, s.app, s.client))
    assign: dict[str, str] = {}
    for i, s in enumerate(raw, 1):
        s.session_id = f"S{i}"
        for uid in s.uids:
            assign[uid] = s.session_id
    for f in flows:
        if f.uid in assign:
            continue
        best: Session | None = None
        best_gap = float("inf")
        for s in raw:
            if s.client != f.orig_h:
                continue
            end = f.ts + f.duration_s
            if f.ts <= s.end + ATTACH_MARGIN_S and end >= s.start - ATTACH_MARGIN_S:
                gap = (
                    0.0 if s.start <= f.ts <= s.end else min(abs(f.ts - s.start), abs(f.ts - s.end))
                )
                if gap < best_gap:
                    best, best_gap = s, gap
        if best is not None:
            best.uids.append(f.uid)
            assign[f.uid] = best.session_id
        else:
            assign[f.uid] = OUTSIDE
    return raw, assign
