"""The ``lookups`` table: every name the capture's DNS asked for, attributed."""

from __future__ import annotations

from dataclasses import dataclass

from inspector.schema.base import Row, col, table

__all__ = ["LookupRow"]


@table(
    "lookups",
    "One row per distinct DNS query name per capture file, with who operates it. "
    "A lookup shows intent to connect even when the connection itself was not captured.",
)
@dataclass(frozen=True, slots=True)
class LookupRow(Row):
    ts: float = col(
        "Time of the first query for the name, seconds since the Unix epoch.", "float64"
    )
    uid: str = col("DNS flow of the first query (join with flows.csv and dns.csv).")
    query: str = col("The name looked up, as in dns.query.")
    queries: int = col("How many DNS transactions asked for it.", "Int64")
    answers: str = col("Addresses and names answered (first transaction with answers), ';'-joined.")
    registrable_domain: str = col("The name's registrable domain (Public Suffix List eTLD+1).")
    organisation: str = col("Organisation the bundled database names for it; empty when unknown.")
    category: str = col("Its category (see flows.category).")
    vendor: str = col("Conferencing vendor it belongs to, if any.")
    sdk_name: str = col("Product or SDK the database names for it.")
    entity: str = col("Parent entity of the organisation (see flows.entity).")
    hosted_on: str = col("'hosted on X' for a hosting provider's name space (see flows.hosted_on).")
    attribution_source: str = col("The database row that matched, with its published source.")
    connected: bool = col("True when a flow in the capture is named with this name.", "boolean")
    frames: str = col("Frames of the first queries and responses, ';'-joined.")
    file: str = col("Capture file of the frames.")
