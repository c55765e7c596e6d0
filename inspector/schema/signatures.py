"""The ``signatures`` table: application-specific packet formats that name the app on a flow."""

from __future__ import annotations

from dataclasses import dataclass

from inspector.schema.base import Row, col, table

__all__ = ["SignatureRow"]


@table(
    "signatures",
    "One row per flow and application signature: a documented, app-specific "
    "payload format seen on the flow (e.g. Discord's voice IP discovery).",
)
@dataclass(frozen=True, slots=True)
class SignatureRow(Row):
    ts: float = col("Time of the first matching packet, seconds since the Unix epoch.", "float64")
    uid: str = col("Flow the signature was seen on.")
    frame: int = col("Frame of the first matching packet.", "Int64")
    app: str = col("Application the signature belongs to.")
    signature: str = col("Short name of the signature, e.g. discord_ip_discovery.")
    packets: int = col("Datagrams of the flow that matched.", "Int64")
    detail: str = col("What matched and where the format is documented.")
