"""The ``stun`` table: one row per STUN/TURN message (RFC 8489, RFC 8656, classic RFC 3489)."""

from __future__ import annotations

from dataclasses import dataclass

from inspector.schema.base import Row, col, table

__all__ = ["StunRow"]


@table(
    "stun",
    "One row per STUN/TURN message seen on UDP (plain, inside TURN ChannelData, MS-TURN FF10 "
    "framing or a Send/Data indication) or TCP (back-to-back or RFC 4571 framed); at most 200 "
    "rows per flow (a `stun_rows_capped` weird row counts the rest).",
)
@dataclass(frozen=True, slots=True)
class StunRow(Row):
    ts: float = col("Capture time of the packet carrying the message, epoch seconds.", "float64")
    uid: str = col("Flow the message belongs to.")
    frame: int = col("Frame number (1-based) of the packet carrying the message.", "Int64")
    from_orig: bool = col("True when the flow's originator sent the message.", "boolean")
    transport: str = col("`udp` or `tcp`.")
    framing: str = col(
        "How the message was carried: `plain`, `turn_channel` (inside TURN ChannelData), "
        "`ms_turn` (inside Microsoft FF10 framing), `stun_data` (DATA of a Send/Data "
        "indication), `rfc4571` (2-byte length prefix on TCP)."
    )
    method: str = col(
        "Method name: binding, allocate, refresh, send, data, create_permission, channel_bind, "
        "goog_ping, shared_secret...; `0x...` (hex) when unknown."
    )
    msg_class: str = col("`request`, `indication`, `success` or `error`.")
    msg_type: int = col(
        "The 14-bit message type as on the wire (e.g. 1 = Binding request).", "Int64"
    )
    transaction_id: str = col(
        "Transaction ID in hex: 12 bytes (RFC 8489) or 16 bytes (classic RFC 3489)."
    )
    classic: bool = col(
        "True when the magic cookie 0x2112A442 is absent (classic RFC 3489 STUN).", "boolean"
    )
    username: str = col(
        "USERNAME (ICE `ufrag:ufrag` links both ends of a call); empty when absent."
    )
    software: str = col("SOFTWARE attribute text; empty when absent.")
    realm: str = col("REALM attribute text; empty when absent.")
    xor_mapped: str = col(
        "XOR-MAPPED-ADDRESS decoded as `ip:port` (IPv6 as `[ip]:port`); `;`-joined when several; "
        "empty when absent."
    )
    xor_relayed: str = col(
        "XOR-RELAYED-ADDRESS (TURN relay address), same format; empty if absent."
    )
    xor_peer: str = col(
        "XOR-PEER-ADDRESS (the real peer behind a TURN relay), same format; empty if absent."
    )
    mapped: str = col("MAPPED-ADDRESS (classic, not XORed), same format; empty if absent.")
    error_code: int | None = col(
        "ERROR-CODE number (e.g. 401, 438); NA when absent.", "Int64", None
    )
    error_reason: str = col("ERROR-CODE reason phrase; empty when absent.", "string", "")
    ice_role: str = col(
        "`controlling` (ICE-CONTROLLING), `controlled` (ICE-CONTROLLED), or empty.", "string", ""
    )
    use_candidate: bool = col("USE-CANDIDATE present (ICE nomination).", "boolean", False)
    priority: int | None = col("ICE PRIORITY value; NA when absent.", "Int64", None)
    message_integrity: bool = col(
        "MESSAGE-INTEGRITY (or -SHA256) present (not verifiable without the key).", "boolean", False
    )
    nonce_present: bool = col("NONCE attribute present (TURN long-term auth).", "boolean", False)
    fingerprint_ok: bool | None = col(
        "FINGERPRINT matches CRC-32 xor 0x5354554E of the message; NA when absent.", "boolean", None
    )
    channel_number: int | None = col("TURN CHANNEL-NUMBER; NA when absent.", "Int64", None)
    lifetime_s: int | None = col("TURN LIFETIME in seconds; NA when absent.", "Int64", None)
    requested_transport: str = col(
        "TURN REQUESTED-TRANSPORT: `udp`, `tcp` or the protocol number; empty when absent.",
        "string",
        "",
    )
    vendor_attrs: str = col(
        "`;`-joined hex types (0x....) of attributes outside the IANA STUN registry.", "string", ""
    )
    vendor_hint: str = col(
        "Application suggested by vendor-specific STUN features (nDPI stun.c rules): zoom, "
        "microsoft (Teams/Skype), whatsapp, google, signal, facebook, telegram, viber; empty "
        "when none.",
        "string",
        "",
    )
    attrs: str = col("`;`-joined hex types of every attribute, in wire order.", "string", "")
