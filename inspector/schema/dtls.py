"""The ``dtls`` table: one row per DTLS handshake on a UDP flow (WebRTC DTLS-SRTP and others)."""

from __future__ import annotations

from dataclasses import dataclass

from inspector.schema.base import Row, col, table

__all__ = ["DtlsRow"]


@table(
    "dtls",
    "One row per DTLS handshake seen on a UDP flow (usually one per flow), including DTLS "
    "relayed by TURN (ChannelData or Send/Data indications, over UDP or TCP) or MS-TURN; a "
    "flow caught mid-session (only encrypted records) gets one "
    "row with just the record count. What the ClientHello offered (versions, SRTP protection "
    "profiles), what the ServerHello chose, and the server certificate when it travels in "
    "cleartext (DTLS 1.0/1.2). Lists are joined with ';' in wire order, GREASE left out. Text "
    "columns are empty when the message carrying them was not seen; boolean and integer "
    "columns are then empty (NA).",
)
@dataclass(frozen=True, slots=True)
class DtlsRow(Row):
    ts: float = col(
        "Capture time of the first ClientHello fragment (of the first server handshake "
        "message when no ClientHello was seen, of the first record when no handshake was seen), "
        "seconds since the Unix epoch.",
        "float64",
    )
    uid: str = col("Flow the handshake belongs to (joins `conn`).")
    frame: int = col(
        "Frame of the first ClientHello fragment (or first server handshake message).",
        "Int64",
        0,
    )
    client_is_orig: bool | None = col(
        "True when the flow's originator sent the ClientHello, False when the responder did; "
        "empty when no handshake message was seen.",
        "boolean",
        None,
    )
    version_offered: str = col(
        "Versions the client offered: supported_versions (DTLS 1.3 clients) else the "
        "ClientHello version, e.g. `DTLS 1.3;DTLS 1.2`.",
        "string",
        "",
    )
    version: str = col(
        "Negotiated version from the ServerHello, e.g. `DTLS 1.2`; empty when not seen.",
        "string",
        "",
    )
    sni: str = col(
        "Server name from the ClientHello (rare in WebRTC); empty when absent or not seen.",
        "string",
        "",
    )
    alpn: str = col("ALPN protocols offered (e.g. `webrtc;c-webrtc`).", "string", "")
    cipher: str = col(
        "Negotiated cipher suite, IANA name; empty when no ServerHello was seen.", "string", ""
    )
    srtp_profiles_offered: str = col(
        "SRTP protection profiles offered in use_srtp (e.g. `SRTP_AEAD_AES_128_GCM;"
        "SRTP_AES128_CM_HMAC_SHA1_80`); empty when the extension was absent.",
        "string",
        "",
    )
    srtp_profile: str = col(
        "SRTP protection profile the server chose (cleartext in DTLS 1.0/1.2 only); empty when "
        "not seen.",
        "string",
        "",
    )
    null_srtp: bool | None = col(
        "True when the chosen profile is SRTP_NULL_* (media authenticated but NOT encrypted), "
        "or when no choice was seen and only NULL profiles were offered; empty when no SRTP "
        "profile was seen at all.",
        "boolean",
        None,
    )
    cert_subject: str = col(
        "Subject (RFC 4514) of the server's leaf certificate (WebRTC: usually `CN=WebRTC`).",
        "string",
        "",
    )
    cert_issuer: str = col("Issuer (RFC 4514) of the leaf certificate.", "string", "")
    cert_self_signed: bool | None = col(
        "True when the leaf certificate is self-signed; empty when no certificate was seen.",
        "boolean",
        None,
    )
    cert_sha256: str = col(
        "SHA-256 of the leaf certificate DER, lowercase hex (compare with SDP a=fingerprint).",
        "string",
        "",
    )
    ja3: str = col("JA3 string of the ClientHello; empty when incomplete.", "string", "")
    ja3_hash: str = col("MD5 of `ja3`.", "string", "")
    ja4: str = col("JA4 fingerprint (transport `d`); empty when incomplete.", "string", "")
    hello_verify_request: bool = col(
        "True when the server answered with a HelloVerifyRequest (cookie exchange).",
        "boolean",
        False,
    )
    client_hello_complete: bool = col(
        "True when every fragment of the ClientHello was seen and it parsed.", "boolean", False
    )
    encrypted_records: int = col(
        "Records carrying ciphertext: application data, DTLS 1.2 connection-ID records and "
        "DTLS 1.3 unified-header records (both directions).",
        "Int64",
        0,
    )
    handshake_complete: bool = col(
        "True when the handshake visibly finished: both sides sent ChangeCipherSpec or "
        "epoch >= 1 records (DTLS 1.0/1.2), or both sides sent encrypted records (DTLS 1.3).",
        "boolean",
        False,
    )
    frames: str = col(
        "Frames that carried the handshake's cleartext handshake records, ';'-joined.",
        "string",
        "",
    )
    use_srtp: str = col(
        "The use_srtp extension (RFC 5764 section 4.1.1): `selected` (the ServerHello chose "
        "an SRTP profile: DTLS-SRTP media keys), `declined` (offered, ServerHello without it), "
        "`offered` (offered, no ServerHello seen), `absent` (ClientHello without use_srtp: "
        "plain DTLS such as VPNs or CoAP, not DTLS-SRTP); empty when no ClientHello was seen.",
        "string",
        "",
    )
    carried_in: str = col(
        "How the handshake's first DTLS record travelled: `plain` UDP, `turn_channel` (TURN "
        "ChannelData), `stun_data` (TURN Send/Data indication), `ms_turn` (FF 10 framing), "
        "`tcp_turn_channel` / `tcp_stun_data` (TURN over TCP, RFC 8656, padded framing).",
        "string",
        "",
    )
