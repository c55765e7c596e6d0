"""The ``content`` table: one row per UDP (or TURN-over-TCP) flow counting its content classes."""

from __future__ import annotations

from dataclasses import dataclass

from inspector.schema.base import Row, col, table

__all__ = ["CONTENT_CLASSES", "ContentRow"]

#: every class a datagram (or relayed payload) can be given, in the order the columns list them.
CONTENT_CLASSES = (
    "stun",
    "turn_channel",
    "turn_send_data",
    "ms_turn",
    "dtls",
    "zrtp",
    "rtp",
    "srtp",
    "rtp_undecided",
    "rtcp",
    "srtcp",
    "rtcp_undecided",
    "quic",
    "tls_record",
    "tls_other",
    "websocket",
    "websocket_text",
    "signalling",
    "dns",
    "dhcp",
    "ntp",
    "netbios",
    "zoom_media",
    "zoom_control",
    "hello",
    "probe",
    "keepalive",
    "text",
    "unrecognised",
)


def _count(doc: str) -> int:
    out: int = col(doc + " Count of datagrams (or relayed payloads).", "Int64", 0)
    return out


@table(
    "content",
    "One row per UDP flow with retained datagrams, per TCP flow carrying TURN framing "
    "(RFC 8656 ChannelData / Send / Data over TCP), and per TCP flow whose bytes are TLS "
    "records with no handshake in the capture (classes `tls_record`, `tls_other`: one unit "
    "per record), or WebSocket frames without the Upgrade (`websocket`, `websocket_text`): "
    "what each retained datagram is, by class, over ALL datagrams the flow "
    "table keeps (the first 600 of a UDP flow; compare "
    "`classified` with `flow_packets`). Every datagram gets exactly one outer class; a "
    "relayed datagram (TURN ChannelData, Send/Data indication, MS-TURN) is counted once under "
    "its framing class AND once under the class of the payload it relays. RTP/RTCP classes "
    "need stream evidence (same SSRC, increasing sequence numbers) so random bytes starting "
    "0x80-0xBF stay `unrecognised`. Leak columns report cleartext addresses, UUIDs and user "
    "names found in datagrams that no protocol parser explains (unrecognised, probe, "
    "keepalive, text, Zoom control).",
)
@dataclass(frozen=True, slots=True)
class ContentRow(Row):
    ts: float = col(
        "Capture time of the flow's first classified datagram, epoch seconds.", "float64"
    )
    uid: str = col("Flow (joins `flows`).")
    transport: str = col(
        "`udp`, or `tcp` (TURN over TCP: the relayed units are classified; TLS records of a "
        "session begun before the capture: one unit per record)."
    )
    classified: int = col(
        "Datagrams (TCP: TURN/STUN units) classified: all those the flow table retained.", "Int64"
    )
    flow_packets: int | None = col(
        "Packets the flow counted in both directions (TCP: including handshake/ACKs); NA when "
        "unknown. `classified < flow_packets` on UDP means only the first datagrams were kept.",
        "Int64",
    )
    truncated: bool = col(
        "UDP: True when the flow had more datagrams than were retained and classified.", "boolean"
    )
    classes: str = col(
        "`;`-joined classes in order of first appearance (e.g. `stun;dtls;srtp;srtcp`); a "
        "STUN-then-media flow lists its media classes after `stun`."
    )
    first_frames: str = col(
        "`;`-joined `class:frame` pairs: the first frame of each class seen, same order."
    )
    stun: int = _count("STUN messages (RFC 8489/3489), other than Send/Data indications.")
    turn_channel: int = _count("TURN ChannelData messages (RFC 8656 section 12.4).")
    turn_send_data: int = _count("TURN Send/Data indications carrying a DATA attribute.")
    ms_turn: int = _count("Microsoft multiplexed-TURN `FF 10` framed datagrams.")
    dtls: int = _count(
        "DTLS records-carrying datagrams (RFC 6347/9147 record header; unified 1.3 header once "
        "DTLS was recognised)."
    )
    zrtp: int = _count("ZRTP packets (magic `ZRTP`, RFC 6189).")
    rtp: int = _count(
        "RTP packets whose stream passes a cleartext codec structure test (G.711, G.722, G.729, "
        "Opus, H.263, H.264, VP8; see the `rtp` table): readable media."
    )
    srtp: int = _count(
        "RTP-headed packets of a stream of >= 10 packets that fails every codec test, whose "
        "payload bytes look random (entropy at or above the random 0.1% quantile), AND with SRTP "
        "evidence: a DTLS handshake or SRTCP (E|index word) on the same flow, or an SRTP tag "
        "length read off constant-size audio (G.711/G.722/G.729 payload = codec size + 4/10/16)."
    )
    rtp_undecided: int = _count(
        "RTP-headed packets of a valid stream (>= 3 packets, increasing sequence numbers) that "
        "is neither `rtp` nor `srtp`: too few packets, a codec without a structure test, or "
        "random-looking payloads with no SRTP evidence (no DTLS, SRTCP or tag on the flow)."
    )
    rtcp: int = _count(
        "RTCP compounds that parse exactly (RFC 3550 section 6: every packet header and length "
        "fits, no trailer): readable reports."
    )
    srtcp: int = _count(
        "SRTCP packets: the compound does not walk exactly and an E|index word (RFC 3711 "
        "section 3.4) increments at -4, -8 or -14 from the end."
    )
    srtcp_e1: int = _count("SRTCP packets with the E flag set (payload encrypted).")
    srtcp_e0: int = _count("SRTCP packets with the E flag clear (reports NOT encrypted).")
    rtcp_undecided: int = _count(
        "RTCP-headed packets that are neither exact RTCP nor SRTCP with an index (needs >= 2)."
    )
    quic: int = _count(
        "QUIC long-header packets (v1/v2/draft/GREASE) and short headers after one; on UDP 443 "
        "also gQUIC packets of a session begun before the capture (one side repeating an "
        "8-byte connection ID behind public flags 0x08, no version)."
    )
    tls_record: int = _count(
        "TCP: TLS application data records (RFC 8446 section 5.1 headers, type 23) of a "
        "session whose handshake is not in the capture, counted per record."
    )
    tls_other: int = _count(
        "TCP: the other TLS records (alert, change_cipher_spec, handshake, heartbeat) of such a "
        "session, counted per record."
    )
    websocket: int = _count(
        "TCP: WebSocket frames (RFC 6455 section 5.2) of a connection upgraded before the "
        "capture (masked one way, unmasked the other), other than readable text frames."
    )
    websocket_text: int = _count(
        "TCP: such WebSocket text frames, uncompressed (RSV1 clear) and valid UTF-8: readable."
    )
    signalling: int = _count(
        "Cleartext call signalling messages recognised by `inspector.dissect.sigtext` (SIP, "
        "MGCP, Megaco/H.248 text, RTSP, IAX2 full frames); see the `signalling` table."
    )
    dns: int = _count(
        "DNS-format messages (DNS, mDNS, LLMNR, NBNS) on ports 53/5353/5355/137 that parse "
        "strictly (RFC 1035)."
    )
    dhcp: int = _count("DHCP/BOOTP messages (magic cookie 63 82 53 63 at offset 236, RFC 2131).")
    ntp: int = _count("NTP messages to or from port 123 (RFC 5905 section 7.3 header).")
    netbios: int = _count(
        "NetBIOS datagram service messages on port 138 (RFC 1002 section 4.4.1 header)."
    )
    zoom_media: int = _count("Zoom-framed datagrams carrying RTP/RTCP (inner media header).")
    zoom_control: int = _count(
        "Zoom hellos (nDPI: `01 00 02|03`, `02 00 02|03`, P2P `1f 02 01`) and SFU-framed "
        "control datagrams (type 0x05, direction 00/04 and a known inner type, without media; "
        "2019 layout 05 15; kept only on a flow with a Zoom hello, Zoom media or >= 3 of them); "
        "on such a flow also SFU types 3/4 (`03|04 00 00 00` echoes), the `02 00 0x` hello "
        "answer and type-5 keepalives with inner type 0x0a."
    )
    hello: int = _count(
        "Documented cleartext hellos of other protocols (`inspector.dissect.hellos`): Spotify "
        "LAN discovery (`SpotUdp0`), TeamSpeak 3 `TS3INIT1`, Mumble ping request/reply pairs."
    )
    probe: int = _count(
        "Bandwidth probes / filler: >= 64-byte run of one byte value covering >= half of a "
        ">= 200-byte datagram (e.g. Zoom's 1029-byte `05 15 ...` probes filled with 0x01)."
    )
    keepalive: int = _count(
        "Keepalives: an otherwise unrecognised payload of <= 128 bytes sent >= 3 times "
        "identically on the flow."
    )
    text: int = _count(
        "Otherwise unrecognised payloads of >= 16 bytes that are >= 90 % printable ASCII "
        "(readable text: SSDP, LAN discovery JSON, vendor text protocols)."
    )
    unrecognised: int = _count("Datagrams no class explains (may be encrypted, may not).")
    probe_evidence: str = col(
        "How the first probe was recognised (`run of N x 0xNN in M bytes`, frame); empty when "
        "none.",
        "string",
        "",
    )
    unrecognised_prefix: str = col(
        "Hex of the first 8 bytes of the first unrecognised datagram; empty when none.",
        "string",
        "",
    )
    leak_kinds: str = col(
        "`;`-joined kinds of cleartext metadata found in payloads no parser explains: `ipv4` "
        "(dotted quad text, not after a version word such as `Android,8.9.0.2`), `ipv6` (text; "
        "neither multicast, loopback, unspecified nor reserved), `ip_binary` (one of the "
        "flow's own endpoint addresses as raw 4/16 bytes), `uuid` (8-4-4-4-12 hex text), "
        "`email`, `username` "
        '(`user=`/`username:`/`"user":` text); empty when none.',
        "string",
        "",
    )
    leak_first_frame: int | None = col(
        "Frame of the first datagram carrying such metadata; NA when none.", "Int64", None
    )
    leak_examples: str = col(
        "Up to 3 `kind=value` examples (escaped, at most 64 characters each), `;`-joined.",
        "string",
        "",
    )
    leak_packets: int = col("Datagrams carrying such metadata.", "Int64", 0)
