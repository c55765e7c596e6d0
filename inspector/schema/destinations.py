"""The ``destinations`` table: one row per remote endpoint the client exchanged traffic with."""

from __future__ import annotations

from dataclasses import dataclass

from inspector.schema.base import Row, col, table

__all__ = ["DestinationRow"]


@table(
    "destinations",
    "One row per remote endpoint (server name, or address when no name was seen) and address, "
    "per capture file: every flow of `flows` is counted in exactly one row. Built from the "
    "published flows (oriented client -> server).",
    key="destination",
)
@dataclass(frozen=True, slots=True)
class DestinationRow(Row):
    destination: str = col("Server name as seen (SNI, DNS, Host...), or the address if none.")
    address: str = col("Server (responder) address of the flows.")
    ports: str = col("Protocol/port pairs used, ';'-joined (e.g. tcp/443;udp/3478).")
    organisation: str = col("Who operates the destination, when known (';'-joined if several).")
    party: str = col(
        "Party for the app under study (from the flows' `party` column when the run has one; "
        "empty otherwise)."
    )
    category: str = col("What the destination is for (analytics, signalling...; ';'-joined).")
    country: str = col("Country the address is registered to (not a geolocation).")
    bytes_sent: int = col(
        "IP bytes the client sent to this destination over all its flows.", "Int64"
    )
    bytes_received: int = col(
        "IP bytes the client received from this destination over all its flows.", "Int64"
    )
    flows: int = col("Flows to this destination.", "Int64")
    verdicts: str = col("Encryption verdicts of those flows, ';'-joined, weakest first.")
    apps: str = col("Conferencing apps the flows were attributed to, ';'-joined.")
    first_seen: float = col("First packet to or from it, seconds since the Unix epoch.", "float64")
    last_seen: float = col("Last packet to or from it, seconds since the Unix epoch.", "float64")
    file: str = col("Capture file the flows were read from.")
