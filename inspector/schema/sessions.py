"""The ``sessions`` table: one row per conferencing session."""

from __future__ import annotations

from dataclasses import dataclass

from inspector.schema.base import Row, col, table

__all__ = ["SessionRow"]


@table(
    "sessions",
    "One row per conferencing session: an app's flows from one client, split by "
    "long silences, plus the other flows that happened during it.",
    key="session_id",
)
@dataclass(frozen=True, slots=True)
class SessionRow(Row):
    session_id: str = col("Session id (S1, S2, ... in time order; `outside` for the rest).")
    app: str = col("Conferencing app of the session.")
    client: str = col("Client address of the session.")
    start_ts: float = col("First packet of the session, seconds since the Unix epoch.", "float64")
    end_ts: float = col("Last packet of the session, seconds since the Unix epoch.", "float64")
    duration_s: float = col("Seconds from first to last packet.", "float64")
    flows: int = col("Flows in the session.", "Int64")
    media_flows: int = col("Media or relay flows in the session.", "Int64")
    media_kinds: str = col("Media kinds seen where the framing tells (audio;video;screen_share).")
    peer_to_peer: bool = col("True when media went directly to another participant.", "boolean")
    media_verdicts: str = col("Encryption verdicts of the media flows, ';'-joined.")
    weakest_verdict: str = col(
        "The weakest verdict among the session's media and signalling "
        "flows: a call is only as private as its weakest flow."
    )
    third_party_destinations: int = col(
        "Distinct third-party telemetry destinations contacted during the session.", "Int64"
    )
    bytes_total: int = col("IP bytes in both directions over all the session's flows.", "Int64")
