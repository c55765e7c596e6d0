"""The ``quic`` table: one row per QUIC connection attempt seen in a UDP flow."""

from __future__ import annotations

from dataclasses import dataclass

from inspector.schema.base import Row, col, table

__all__ = ["QuicRow"]


@table(
    "quic",
    "One row per QUIC connection attempt (IETF QUIC v1/v2/drafts/mvfst, Google QUIC) in a UDP "
    "flow, from its client Initial packets, which anyone can decrypt: server name, ALPN, JA4, "
    "post-quantum key exchange and ECH as the client offered them, and the negotiated cipher "
    "when a server Initial could be read. A flow normally holds one connection; a new client "
    "DCID whose keys decrypt starts another row. Lists are joined with ';'. Empty strings mean "
    "'not present or not readable'; an empty boolean means unknown (no ClientHello parsed).",
)
@dataclass(frozen=True, slots=True)
class QuicRow(Row):
    ts: float = col(
        "Capture time of the client's first Initial packet, seconds since the Unix epoch.",
        "float64",
    )
    uid: str = col("Flow the connection belongs to (joins `conn`).")
    frame: int = col("Frame (1-based) of the client's first Initial packet.", "Int64")
    client_is_orig: bool = col(
        "True when the client (sender of the Initial that decrypted with its own DCID's keys) is "
        "the flow's originator.",
        "boolean",
    )
    version: str = col(
        "QUIC version of the client's first Initial: `1`, `2`, `draft-29`, `mvfst-27`, "
        "`mvfst-exp`, `T051`, `Q046`, or `0x…` for an unknown number.",
    )
    gquic: bool = col("True for Google QUIC versions (Q0NN, T0NN).", "boolean", False)
    dcid: str = col(
        "Destination Connection ID of the client's first Initial (the one its keys come from), "
        "hex; for Q043-style gQUIC the 8-byte connection ID.",
        "string",
        "",
    )
    scid: str = col("Source Connection ID of the client's first Initial, hex.", "string", "")
    sni: str = col(
        "server_name from the ClientHello (SNI tag of a gQUIC CHLO); empty when absent or no "
        "ClientHello could be read. Taken from a partial ClientHello when the server_name "
        "extension itself was complete.",
        "string",
        "",
    )
    alpn: str = col("ALPN protocols offered, in order, joined with ';'.", "string", "")
    ja4: str = col(
        "JA4 fingerprint of the ClientHello (transport `q`); empty without a complete ClientHello.",
        "string",
        "",
    )
    post_quantum: bool | None = col(
        "True when a post-quantum hybrid/KEM group (e.g. X25519MLKEM768) is offered or "
        "key-shared; empty when no ClientHello was parsed.",
        "boolean",
        None,
    )
    ech: str = col(
        "Encrypted Client Hello: `none`, `real`, `grease` or `esni` (see the tls table); empty "
        "when no ClientHello was parsed.",
        "string",
        "",
    )
    client_hello_complete: bool = col(
        "True when the whole ClientHello (or CHLO) was reassembled from the CRYPTO frames.",
        "boolean",
        False,
    )
    initial_packets: int = col(
        "Initial packets the client sent in this connection (decrypted or not).", "Int64", 0
    )
    crypto_fragments: int = col(
        "CRYPTO frames (gQUIC: crypto-stream frames) in the client's decrypted Initials, "
        "retransmissions included.",
        "Int64",
        0,
    )
    client_hello_packets: int = col(
        "Client Initial packets that first delivered bytes of the ClientHello (retransmitted "
        "copies not counted): 2 or more for post-quantum ClientHellos.",
        "Int64",
        0,
    )
    retry: bool = col("True when the server answered with a Retry packet.", "boolean", False)
    server_hello_seen: bool = col(
        "True when a server Initial was decrypted and held a complete ServerHello.",
        "boolean",
        False,
    )
    cipher: str = col(
        "Cipher suite chosen in the ServerHello (IANA name); empty when none was read.",
        "string",
        "",
    )
    group: str = col(
        "Key-exchange group chosen in the ServerHello key_share (IANA name, e.g. `x25519`, "
        "`X25519MLKEM768`); empty when none was read.",
        "string",
        "",
    )
    decrypt_failures: int = col(
        "Initial packets (either direction) attributed to this connection whose protection "
        "could not be removed.",
        "Int64",
        0,
    )
    frames: str = col(
        "Frames (1-based, ';'-joined, ascending) whose datagrams first delivered ClientHello "
        "bytes.",
        "string",
        "",
    )
    user_agent: str = col(
        "gQUIC only: the UAID tag of the CHLO (the client's user agent); empty otherwise.",
        "string",
        "",
    )
    version_reserved: bool = col(
        "True when the version is reserved for greasing version negotiation (0x?a?a?a?a, RFC "
        "9000 section 15).",
        "boolean",
        False,
    )
    initial_salt: str = col(
        "Which Initial salt was tried for a version without its own: `v1` (RFC 9001 section "
        "5.2, as tshark does for unknown versions) when it opened the packets, `none` when "
        "the packet stayed encrypted (one row per such packet, listed with its version "
        "either way); empty for versions with a known salt.",
        "string",
        "",
    )
