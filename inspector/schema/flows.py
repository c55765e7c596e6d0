"""The ``flows`` table: one row per bidirectional flow; ``uid`` joins every other table."""

from __future__ import annotations

from dataclasses import dataclass

from inspector.schema.base import Row, col, table

__all__ = ["FlowRow"]


@table(
    "flows",
    "One row per bidirectional flow (5-tuple). The stages keep each row as captured (orig = "
    "the side of the first packet) and attribution decides who the client is as data; the "
    "published table reads client -> server (`flipped` says when that exchanged the sides). "
    "`uid` is the join key of every table.",
)
@dataclass(frozen=True, slots=True)
class FlowRow(Row):
    uid: str = col(
        "Deterministic flow id derived from the flow's first packet (same live and offline)."
    )
    ts: float = col("Time of the flow's first packet, seconds since the Unix epoch.", "float64")
    proto: str = col("Transport protocol: tcp, udp, icmp or icmp6.")
    orig_h: str = col("Address of the originator (the client once flows are oriented).")
    orig_p: int = col("Originator port (ICMP: type).", "Int64")
    resp_h: str = col("Address of the responder (the server once flows are oriented).")
    resp_p: int = col(
        "Responder port (ICMP: type of the matching reply/request for paired kinds such as echo, "
        "else the code).",
        "Int64",
    )
    duration_s: float = col("Seconds between the first and last packet.", "float64")
    orig_pkts: int = col("Packets sent by the originator.", "Int64")
    resp_pkts: int = col("Packets sent by the responder.", "Int64")
    orig_bytes: int = col("IP bytes (header included) sent by the originator.", "Int64")
    resp_bytes: int = col("IP bytes (header included) sent by the responder.", "Int64")
    orig_payload_bytes: int = col("Transport payload bytes sent by the originator.", "Int64")
    resp_payload_bytes: int = col("Transport payload bytes sent by the responder.", "Int64")
    history: str = col(
        "TCP history like Zeek's: S syn, H syn-ack, A ack, D data, F fin, R reset, "
        "T retransmission, G content gap, ^ flipped; upper case = originator."
    )
    service: str = col(
        "Protocols the dissectors recognised in the flow, ';'-joined (e.g. tls, "
        "quic, dns, stun;dtls;rtp; cleartext call signalling by name: sip, h323, mgcp, megaco, "
        "iax2, xmpp, rtsp, http_connect); empty when none."
    )
    end_reason: str = col(
        "Why the flow ended: idle_timeout, active_timeout, tcp_closed (FIN both ways or RST, then "
        "5 s idle), tcp_reuse, evicted, end_of_input (open: still running in a live snapshot)."
    )
    tunnel: str = col(
        "Encapsulation the flow was carried in (gtp-u, vxlan, gre, ip-in-ip), "
        "outermost first; empty when none."
    )
    first_frame: int = col("Frame number of the first packet (1-based, within its file).", "Int64")
    last_frame: int = col("Frame number of the last packet (1-based, within its file).", "Int64")
    file: str = col("Capture file (or interface, live) the flow was read from.")
    server_name: str = col(
        "Name of the server side, from the most trusted source available "
        "(see server_name_source); empty when no name is known.",
        "string",
        "",
    )
    server_name_source: str = col(
        "Where server_name came from: tls_sni, quic_sni, http_host, "
        "dtls_sni, dns, dns_ambiguous, sip_register (the Request-URI domain of the client's "
        "SIP REGISTER), xmpp_to (the 'to' domain of the client's XMPP stream header), stun_realm "
        "(the REALM domain a STUN/TURN server sent), cert_san, dns_ptr (a reverse-DNS answer "
        "in the capture for the server's address), or none.",
        "string",
        "",
    )
    server_name_candidates: str = col(
        "With dns_ambiguous (or cert_san): every name the address had at that time, ';'-joined.",
        "string",
        "",
    )
    name_evidence: str = col(
        "Where exactly the name was seen (frame of the DNS answer, ECH caveat, ...).", "string", ""
    )
    registrable_domain: str = col(
        "server_name reduced to its registrable domain with the Public "
        "Suffix List (eTLD+1); empty for addresses and unknown names.",
        "string",
        "",
    )
    organisation: str = col("Organisation operating the server side, when known.", "string", "")
    category: str = col(
        "What the destination is for: first-party signalling / media / telemetry "
        "/ web, or third-party analytics, advertising, crash_reporting, "
        "attribution, social_sdk, customer_support, feature_flags, cdn_cloud, "
        "os_services; unknown when nothing matched.",
        "string",
        "",
    )
    entity: str = col(
        "Parent entity of the organisation (Meta for WhatsApp, Alphabet for DoubleClick, "
        "Microsoft for LinkedIn); empty when no owner is known (docs/attribution-database.md).",
        "string",
        "",
    )
    hosted_on: str = col(
        "'hosted on X' when the address or name belongs to a hosting provider's customer space "
        "(AWS, Azure, Google Cloud, Cloudflare, Akamai...): X hosts the server, it does not "
        "own it; empty otherwise.",
        "string",
        "",
    )
    vendor: str = col(
        "Conferencing vendor the destination belongs to (Zoom, Microsoft Teams, "
        "...); empty for third parties and unknowns.",
        "string",
        "",
    )
    attribution_source: str = col(
        "Evidence for organisation/category: which bundled database "
        "row (domain pattern or IP range) matched, and its published "
        "source.",
        "string",
        "",
    )
    list_hits: str = col(
        "Matches in user-supplied tracker lists (--lists), as 'list@version:pattern', ';'-joined.",
        "string",
        "",
    )
    country: str = col(
        "Country the server address is registered to at its regional internet "
        "registry (RIR delegation data, offline): not a geolocation.",
        "string",
        "",
    )
    flipped: bool = col(
        "True when the first packet came from the server side, so orig/resp "
        "(here and in every per-protocol table) were swapped to read client -> "
        "server.",
        "boolean",
        False,
    )
    sdk_name: str = col(
        "Product or SDK the database names for this destination (e.g. Facebook SDK (Graph API)).",
        "string",
        "",
    )
    app: str = col(
        "Conferencing application the flow belongs to (Zoom, Microsoft Teams, ..., "
        "unknown WebRTC); empty when no evidence ties it to one.",
        "string",
        "",
    )
    app_reason: str = col(
        "The evidence for app: vendor name or range, STUN fingerprint, Zoom "
        "framing, shared local port (peer-to-peer).",
        "string",
        "",
    )
    peer_to_peer: bool = col(
        "True when the flow is media sent directly to another participant "
        "(not to a vendor server).",
        "boolean",
        False,
    )
    party: str = col(
        "first, third or unknown: whether the destination's parent entity is the flow's own "
        "app's (the app named by the flow's own evidence or client fingerprint, never the "
        "session's); ad/analytics/SDK endpoints stay third party under the same parent "
        "(docs/attribution-database.md, PARTY_RULES).",
        "string",
        "",
    )
    party_reason: str = col(
        "The party rule that decided and why, e.g. 'other-entity: Meta Platforms, Inc. (parent "
        "Meta) does not own Zoom (parent Zoom)'.",
        "string",
        "",
    )
    role: str = col(
        "Role of the flow: signalling, media, relay, first-party telemetry, "
        "third-party telemetry, web/API, dns, other.",
        "string",
        "",
    )
    media_kinds: str = col("audio;video;screen_share where the media framing tells.", "string", "")
    session_id: str = col("Conferencing session (S1, S2, ...) or `outside`.", "string", "")
    encryption_verdict: str = col(
        "How the flow's content is protected: PLAINTEXT, TRANSPORT_TLS, "
        "HOP_BY_HOP_SRTP, PROPRIETARY_ENCRYPTED, LIKELY_E2E, "
        "E2E_INDICATED or UNKNOWN (docs/verdicts.md).",
        "string",
        "",
    )
    encryption_modifiers: str = col(
        "WEAK_TLS, ECB_SUSPECTED, CLEARTEXT_DNS; ';'-joined.", "string", ""
    )
    encryption_confidence: str = col("high, medium or low.", "string", "")
    encryption_reason: str = col(
        "For UNKNOWN: why (NO_HANDSHAKE_SEEN, UNKNOWN_PROTOCOL, "
        "P2P_DTLS_APP_UNKNOWN, TCP_TLS_FALLBACK, NO_PAYLOAD, NO_DTLS_KEYS_VIA_SIGNALLING, ...).",
        "string",
        "",
    )
    encryption_evidence: str = col(
        "What on the wire supports the verdict (fields and frames).", "string", ""
    )
    encryption_caveat: str = col(
        "What the verdict does not prove, and what would settle it.", "string", ""
    )
    content_decrypted: bool | None = col(
        "Whether the flow's TLS or QUIC content was read: True when a logged secret (--keylog, "
        "or the pcapng's own Decryption Secrets Block) opened it; False when a TLS or QUIC "
        "handshake completed (the server's hello was read) and no logged secret opened what "
        "followed, so what the connection carried could not be read; empty when no completed "
        "TLS or QUIC handshake was seen (see docs/decryption.md).",
        "boolean",
        None,
    )
