"""The ``weird`` table: everything that could not be parsed, as data (after Zeek's weird.log)."""

from __future__ import annotations

from dataclasses import dataclass

from inspector.schema.base import Row, col, table

__all__ = ["WeirdRow"]


@table("weird", "One row per anomaly: a malformed packet, an unparseable message, a capped buffer.")
@dataclass(frozen=True, slots=True)
class WeirdRow(Row):
    ts: float = col(
        "Capture time of the packet or message, seconds since the Unix epoch.", "float64"
    )
    uid: str = col("Flow the anomaly belongs to; empty when it happened before a flow was known.")
    name: str = col("Short machine-readable reason, e.g. `truncated_ip`, `tls_bad_record`.")
    detail: str = col("Human-readable detail of what was wrong.")
    frame: int = col("Frame number (1-based, within its capture file); 0 when unknown.", "Int64", 0)
    source: str = col("Stage that reported it: decode, flows, or a dissector name.", "string", "")
