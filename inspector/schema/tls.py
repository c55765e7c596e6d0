"""The ``tls`` table: one row per TLS handshake seen on a TCP flow (after Zeek's ssl.log)."""

from __future__ import annotations

from dataclasses import dataclass

from inspector.schema.base import Row, col, table

__all__ = ["TlsRow"]


@table(
    "tls",
    "One row per TLS handshake over TCP: what the ClientHello offered, what the ServerHello "
    "chose, and the server certificate when it travels in cleartext (TLS <= 1.2). Lists are "
    "joined with ';' in wire order, GREASE values left out. Text columns are empty when the "
    "message carrying them was not seen; boolean and integer columns are then empty (NA).",
)
@dataclass(frozen=True, slots=True)
class TlsRow(Row):
    ts: float = col(
        "Capture time of the first byte of the ClientHello (of the ServerHello when no "
        "ClientHello was seen), seconds since the Unix epoch.",
        "float64",
    )
    uid: str = col("Flow the handshake belongs to (joins `conn`).")
    frame: int = col(
        "Frame carrying the first byte of the ClientHello record (of the ServerHello when no "
        "ClientHello was seen); 0 when unknown.",
        "Int64",
        0,
    )
    client_is_orig: bool | None = col(
        "True when the flow's originator sent the ClientHello; False when the responder did; "
        "empty when only a ServerHello-less, ClientHello-less stream was seen.",
        "boolean",
        None,
    )
    sni: str = col(
        "Server name from the ClientHello server_name extension (the outer, public name when "
        "ECH is used); empty when absent or not seen. Never guessed from a cut extension.",
        "string",
        "",
    )
    alpn: str = col("ALPN protocols offered by the client, ';'-joined.", "string", "")
    versions_offered: str = col(
        "Versions the client offered (supported_versions, else the ClientHello version), e.g. "
        "`TLS 1.3;TLS 1.2`.",
        "string",
        "",
    )
    version: str = col(
        "Negotiated version from the ServerHello (supported_versions when present), e.g. "
        "`TLS 1.2`; empty when no ServerHello was seen.",
        "string",
        "",
    )
    cipher: str = col(
        "Negotiated cipher suite, IANA name (e.g. `TLS_AES_128_GCM_SHA256`), `0x%04x` when "
        "unknown; empty when no ServerHello was seen.",
        "string",
        "",
    )
    cipher_suites_offered: int | None = col(
        "Number of cipher suites the client offered (GREASE excluded).", "Int64", None
    )
    groups: str = col("Supported groups offered (names such as `x25519`).", "string", "")
    key_share_groups: str = col(
        "Groups of the client's TLS 1.3 key shares (e.g. `X25519MLKEM768;x25519`).", "string", ""
    )
    post_quantum: bool | None = col(
        "True when a post-quantum (ML-KEM / Kyber) group is offered or key-shared.",
        "boolean",
        None,
    )
    ech: str = col(
        "`none`, `esni` (draft ESNI 0xFFCE), `real` (ECH whose outer SNI is a known ECH public "
        "name: the real destination is hidden) or `grease` (ECH extension present but most "
        "likely GREASE; real and GREASE ECH cannot be told apart in general). Empty when no "
        "ClientHello was seen.",
        "string",
        "",
    )
    ja3: str = col(
        "JA3 string of the ClientHello (salesforce/ja3); empty when it was incomplete.",
        "string",
        "",
    )
    ja3_hash: str = col("MD5 of `ja3`.", "string", "")
    ja4: str = col(
        "JA4 fingerprint (FoxIO JA4, transport `t`); empty when the ClientHello was incomplete.",
        "string",
        "",
    )
    client_hello_complete: bool = col(
        "False when the ClientHello was cut (gap, capture cap, end of capture) or malformed; "
        "then only what could be read is filled and a `tls_incomplete_client_hello` weird row "
        "is written.",
        "boolean",
        False,
    )
    server_hello_seen: bool = col(
        "True when a ServerHello (or HelloRetryRequest) was parsed.", "boolean", False
    )
    cert_subject: str = col(
        "Subject (RFC 4514) of the server's leaf certificate (cleartext only in TLS <= 1.2).",
        "string",
        "",
    )
    cert_issuer: str = col("Issuer (RFC 4514) of the leaf certificate.", "string", "")
    cert_sans: str = col("Subject alternative names of the leaf certificate.", "string", "")
    cert_not_before: str = col("Leaf certificate validity start, ISO 8601 UTC.", "string", "")
    cert_not_after: str = col("Leaf certificate validity end, ISO 8601 UTC.", "string", "")
    cert_self_signed: bool | None = col(
        "True when the leaf certificate's issuer equals its subject and it verifies with its "
        "own key; empty when no certificate was seen.",
        "boolean",
        None,
    )
    cert_key: str = col(
        "Leaf public key type and size, e.g. `RSA 2048`, `EC secp256r1`.", "string", ""
    )
    cert_sig_alg: str = col(
        "Leaf signature algorithm, e.g. `sha256WithRSAEncryption`.", "string", ""
    )
    cert_sha256: str = col("SHA-256 of the leaf certificate DER, lowercase hex.", "string", "")
    cert_chain_len: int | None = col(
        "Number of certificates in the server's Certificate message; empty when none seen.",
        "Int64",
        None,
    )
    weak: str = col(
        "Weakness reasons, ';'-joined, from the negotiated version and cipher (or, without a "
        "ServerHello, from what the client offered when it offered nothing better): "
        "`TLS<=1.1`, `RC4`, `3DES`, `NULL`, `EXPORT`, `anon`, `static-RSA`, `CBC-SHA1`.",
        "string",
        "",
    )
    frames: str = col(
        "Frames that carried the cleartext handshake messages (both directions), ';'-joined.",
        "string",
        "",
    )
