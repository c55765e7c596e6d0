"""The facts about one flow that the role and verdict rules read."""

from __future__ import annotations

from dataclasses import dataclass

from inspector.assess.profiles import AppProfile
from inspector.attribute.stage import Attribution
from inspector.evidence import FlowEvidence

__all__ = ["FlowCtx"]


@dataclass(frozen=True, slots=True)
class FlowCtx:
    ev: FlowEvidence
    att: Attribution
    #: the app the flow's own packets identify (None: no evidence)
    app: AppProfile | None = None
    #: the app of the session the flow falls in by time (None: outside any session); verdict
    #: rules never read it (the assessment passes None to them), only telemetry roles do
    session_app: AppProfile | None = None
    p2p: bool = False
    #: apps identified by their own evidence on the same client in the same capture file; the
    #: party of a flow with no app of its own is decided over all of them (roles.flow_party)
    client_apps: tuple[AppProfile, ...] = ()

    @property
    def category(self) -> str:
        return self.att.owner.category or ""

    @property
    def organisation(self) -> str:
        return self.att.owner.organisation or ""

    @property
    def proto(self) -> str:
        return self.ev.conn.proto
