"""The ``signalling`` table: cleartext call signalling and HTTP CONNECT tunnels, one row per flow
and protocol."""

from __future__ import annotations

from dataclasses import dataclass

from inspector.schema.base import Row, col, table

__all__ = ["SignallingRow"]


@table(
    "signalling",
    "One row per flow and cleartext signalling protocol recognised in its payloads (UDP "
    "datagrams, TCP streams): SIP (RFC 3261), H.323 call signalling (TPKT RFC 1006 + Q.931 / "
    "H.225.0), MGCP (RFC 3435), Megaco/H.248 text (RFC 3525 / ITU-T H.248.1 Annex B), IAX2 "
    "full frames (RFC 5456), XMPP streams (RFC 6120, with or without STARTTLS), RTSP (RFC 2326 "
    "/ RFC 7826), and HTTP CONNECT tunnels (RFC 9110 section 9.3.6). Everything here was "
    "readable by anyone on the path. Text is escaped (non-printable bytes as \\xNN).",
)
@dataclass(frozen=True, slots=True)
class SignallingRow(Row):
    ts: float = col("Capture time of the first recognised message, epoch seconds.", "float64")
    uid: str = col("Flow (joins `flows`).")
    frame: int = col("Frame of the first recognised message.", "Int64")
    transport: str = col("`udp` or `tcp`.")
    protocol: str = col(
        "`sip`, `h323` (TPKT + Q.931/H.225.0), `mgcp`, `megaco`, `iax2`, `xmpp`, `rtsp`, "
        "`bfcp` (RFC 8855 floor control), `http_connect`."
    )
    messages: int = col("Messages (start lines / frames) recognised, both directions.", "Int64")
    methods: str = col(
        "`;`-joined distinct methods and status codes in order of appearance (SIP `INVITE`, "
        "`200`; Q.931 `SETUP`; IAX2 `NEW`; XMPP `stream`, `starttls`, `proceed`), at most 20."
    )
    first_line: str = col("First line of the first message (escaped, at most 200 characters).")
    starttls_offered: bool = col(
        "XMPP: `<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>` seen (offered or "
        "requested); SIP/RTSP: never. False when absent.",
        "boolean",
    )
    tls_followed: bool = col(
        "The cleartext part was followed by a TLS record on the same connection: XMPP after "
        "`<proceed/>`, HTTP CONNECT after the 2xx response (the tunnelled TLS; the `tls` "
        "table then carries its ClientHello and SNI).",
        "boolean",
    )
    cleartext_payload: bool = col(
        "True when application content beyond the start of a TLS upgrade was readable (XMPP "
        "without STARTTLS, any SIP/H.323/MGCP/Megaco/IAX2/RTSP); False for XMPP that upgraded "
        "to TLS and for HTTP CONNECT whose tunnel carried TLS.",
        "boolean",
    )
    connect_target: str = col(
        "HTTP CONNECT: the `host:port` requested (readable on the path); empty otherwise.",
        "string",
        "",
    )
    connect_status: int | None = col(
        "HTTP CONNECT: the response status code; NA when no response was seen.", "Int64", None
    )
    sdp: bool = col(
        "An SDP body (RFC 8866: `v=0` and `m=` lines) travelled in clear.", "boolean", False
    )
    sdp_media: str = col(
        "`;`-joined SDP `m=` lines (e.g. `audio 30000 RTP/AVP 8 0`), at most 5; `RTP/AVP` is "
        "plain RTP, `RTP/SAVP`/`UDP/TLS/RTP/SAVPF` is SRTP.",
        "string",
        "",
    )
    sdp_crypto: bool = col(
        "An SDP `a=crypto:` line (RFC 4568 SDES: the SRTP master key itself) travelled in "
        "clear, so anyone on the path can decrypt that SRTP.",
        "boolean",
        False,
    )
    frames: str = col("`;`-joined frames of the first 20 recognised messages.", "string", "")
