"""The ``findings`` table: what a journalist or auditor should know, one row per finding."""

from __future__ import annotations

from dataclasses import dataclass

from inspector.schema.base import Row, col, table

__all__ = ["FindingRow"]


@table(
    "findings",
    "One row per finding: a third-party tracker contacted, how media and "
    "signalling are protected, cleartext traffic, weak cryptography, each with the packets "
    "that show it.",
    key="finding_id",
)
@dataclass(frozen=True, slots=True)
class FindingRow(Row):
    finding_id: str = col(
        "Stable id of the finding within this run (F0001, ...); use it with `inspector evidence`."
    )
    session_id: str = col(
        "Conferencing session the finding belongs to (S1, S2, ...), or "
        "`outside` when it happened outside any session."
    )
    app: str = col(
        "App of the flows behind the finding, from their own evidence or client fingerprint "
        "(Zoom, Microsoft Teams, ...), never the session's: empty when the connection itself "
        "names no app (the session's app is in the explanation: 'During this Zoom session')."
    )
    finding: str = col(
        "Kind of finding: third_party_telemetry, first_party_telemetry, "
        "media_encryption, signalling_encryption, plaintext_media, plaintext_http, "
        "cleartext_signalling, cleartext_dns, weak_tls, ecb_suspected, local_helper, "
        "personal_data (what a destination received, from decrypted or cleartext requests)."
    )
    severity: str = col("high, medium, low or info: how much it matters for privacy or security.")
    destination: str = col("Server name (or address when no name is known) the finding is about.")
    organisation: str = col("Organisation operating the destination, when known.")
    category: str = col("Category of the destination (see flows.category).")
    country: str = col("RIR registration country of the destination address (not a geolocation).")
    verdict: str = col("Encryption verdict of the flows concerned (see docs/verdicts.md).")
    modifiers: str = col("Verdict modifiers: WEAK_TLS, ECB_SUSPECTED, CLEARTEXT_DNS; ';'-joined.")
    explanation: str = col(
        "One or two plain sentences: what was seen, what it means, and what it does not prove."
    )
    evidence: str = col("The technical evidence behind the finding (fields, frames, sources).")
    caveat: str = col("What the network view cannot tell, and what would settle it.")
    confidence: str = col(
        "high (protocol fact on the wire), medium (fact plus vendor "
        "documentation), low (inference)."
    )
    evidence_filter: str = col(
        "Wireshark/tshark display filter selecting the packets behind the "
        "finding (at least the frames listed)."
    )
    frames: str = col("Key frame numbers, ';'-joined (within `file`).")
    file: str = col("Capture file the frames refer to.")
    uids: str = col("Flows concerned, ';'-joined uids (join with flows.csv).")
    flows: int = col("Number of flows concerned.", "Int64")
    bytes_to_server: int = col("IP bytes the client sent in these flows.", "Int64")
    bytes_from_server: int = col("IP bytes the client received in these flows.", "Int64")
    first_seen: float = col(
        "Time of the first packet of these flows, seconds since the Unix epoch.", "float64"
    )
    last_seen: float = col(
        "Time of the last packet of these flows, seconds since the Unix epoch.", "float64"
    )
    attribution_source: str = col(
        "Database row or list entry that named the organisation and "
        "category, with its published source."
    )
