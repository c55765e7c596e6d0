"""The ``flows`` table: one row per bidirectional flow; ``uid`` joins every other table."""

from __future__ import annotations

from dataclasses import dataclass

from inspector.schema.base import Row, col, table

__all__ = ["FlowRow"]


@table(
    "flows",
    "One row per bidirectional flow (5-tuple), oriented client -> server once "
    "attribution has run. `uid` is the join key of every table.",
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
    resp_p: int = col("Responder port (ICMP: code).", "Int64")
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
        "quic, dns, stun;dtls;rtp); empty when none."
    )
    end_reason: str = col(
        "Why the flow ended: idle_timeout, active_timeout, tcp_reuse, evicted, end_of_input."
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
        "dns, dns_ambiguous, cert_san, vendor_range, or none.",
        "string",
        "",
    )
    organisation: str = col("Organisation operating the server side, when known.", "string", "")
    category: str = col(
        "What the destination is for (e.g. first-party media, third-party "
        "analytics, cdn_cloud); empty when unknown.",
        "string",
        "",
    )
    app: str = col("Conferencing application the flow belongs to, when decided.", "string", "")
    role: str = col(
        "Role of the flow: signalling, media, relay, telemetry, web, dns, other.", "string", ""
    )
    encryption_verdict: str = col(
        "How the flow's content is protected (see the verdict taxonomy); empty until assessed.",
        "string",
        "",
    )
