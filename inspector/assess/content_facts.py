"""What a flow's own datagrams are, read from its ``content`` row (and signature rows).

Pure functions of one :class:`~inspector.evidence.FlowEvidence`: the verdict and role rules ask
these questions so that both tables read the content classes the same way. Nothing here knows
any other flow, the session, or an app's documentation.
"""

from __future__ import annotations

import ipaddress

from inspector.evidence import Endpoints, FlowEvidence
from inspector.schema.content import ContentRow

__all__ = [
    "CONTROL_SIGNATURES",
    "UNEXPLAINED_MAX",
    "VENDOR_MEDIA_SIGNATURES",
    "cleartext_content",
    "control_only",
    "dtls_midstream",
    "leak_kinds",
    "readable_rtcp_beside_encrypted",
    "relayed_payload",
    "relayed_stun_only",
    "tls_records",
    "websocket_frames",
]

#: Signatures that recognise a vendor's control datagrams (no conversation inside).
CONTROL_SIGNATURES = frozenset({"discord_ip_discovery", "discord_ping"})
#: Signatures that mark the flow as a vendor's own media transport (RTP inside vendor framing).
VENDOR_MEDIA_SIGNATURES = frozenset({"discord_ip_discovery", "discord_ping"})
#: A control-only flow may hold at most this share of datagrams no class explains.
UNEXPLAINED_MAX = 0.05


def content_row(ev: FlowEvidence) -> ContentRow | None:
    return ev.content[0] if ev.content else None


def _n(value: int | None) -> int:
    return int(value) if value is not None else 0


def _content_classes(c: ContentRow) -> int:
    """Datagrams of classes that carry (or may carry) application content: never control."""
    media = c.dtls, c.zrtp, c.rtp, c.srtp, c.rtp_undecided, c.rtcp, c.srtcp, c.rtcp_undecided
    midstream = c.quic, c.tls_record, c.tls_other, c.websocket, c.websocket_text
    clear = c.signalling, c.dns, c.dhcp, c.ntp, c.netbios, c.zoom_media, c.text
    return sum(_n(v) for v in (*media, *midstream, *clear))


def _relay_framing(c: ContentRow) -> int:
    """TURN framing datagrams (counted once as framing, once as what they carry)."""
    return _n(c.turn_channel) + _n(c.turn_send_data) + _n(c.ms_turn)


def _signature_packets(ev: FlowEvidence, names: frozenset[str]) -> int:
    return sum(int(s.packets) for s in ev.signatures if s.signature in names)


def control_only(ev: FlowEvidence) -> dict[str, int] | None:
    """Counts when every datagram is control (STUN, probes, keepalives, vendor hellos), with at
    most :data:`UNEXPLAINED_MAX` unexplained; None otherwise or when nothing was classified."""
    c = content_row(ev)
    if c is None or not int(c.classified) or _content_classes(c):
        return None
    explained = min(_signature_packets(ev, CONTROL_SIGNATURES), _n(c.unrecognised))
    unexplained = _n(c.unrecognised) - explained
    if unexplained > UNEXPLAINED_MAX * int(c.classified):
        return None
    return {
        "datagrams": int(c.classified),
        "stun": _n(c.stun),
        "probes": _n(c.probe),
        "keepalives": _n(c.keepalive),
        "hellos": _n(c.zoom_control) + _n(c.hello) + explained,
        "unexplained": unexplained,
    }


def lan_broadcast(host: str) -> bool:
    """A multicast address, the IPv4 limited broadcast, or an IPv4 address ending in .255."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    last = isinstance(ip, ipaddress.IPv4Address) and ip.packed[-1] == 255
    return ip.is_multicast or last


def cleartext_content(ev: FlowEvidence, ends: Endpoints) -> dict[str, int] | None:
    """Counts when every datagram is DHCP, NTP, NetBIOS datagram service, or readable text
    broadcast to the LAN (discovery beacons). Printable text to one host is not enough:
    scrambled bytes can be printable."""
    c = content_row(ev)
    if c is None or not int(c.classified):
        return None
    dhcp, text, service = _n(c.dhcp), _n(c.text), _n(c.ntp) + _n(c.netbios)
    if dhcp + text + service != int(c.classified) or (text and not lan_broadcast(ends.server_h)):
        return None
    return {"datagrams": int(c.classified), "dhcp": dhcp, "text": text, "ntp": _n(c.ntp),
            "netbios": _n(c.netbios)}  # fmt: skip


def tls_records(ev: FlowEvidence) -> dict[str, int] | None:
    """Counts when the flow's bytes are TLS records whose handshake is not in the capture
    (content classes ``tls_record``, ``tls_other``) and nothing else; ``both_ways`` when each
    side sent payload and application data records are among them."""
    c = content_row(ev)
    records = _n(c.tls_record) + _n(c.tls_other) if c is not None else 0
    if c is None or not records or records != int(c.classified):
        return None
    conn = ev.conn
    both = int(conn.orig_payload_bytes) > 0 and int(conn.resp_payload_bytes) > 0
    return {"records": records, "both_ways": int(both and _n(c.tls_record) > 0)}


def websocket_frames(ev: FlowEvidence) -> dict[str, int] | None:
    """Counts when the flow is WebSocket frames only (content classes ``websocket``,
    ``websocket_text``): ``frames`` and readable ``text`` frames."""
    c = content_row(ev)
    frames = _n(c.websocket) + _n(c.websocket_text) if c is not None else 0
    if c is None or not frames or frames != int(c.classified):
        return None
    return {"frames": frames, "text": _n(c.websocket_text)}


def dtls_midstream(ev: FlowEvidence) -> bool:
    """DTLS records with no handshake message at all and no RTP: a session begun before the
    capture (a DTLS-SRTP call would show SRTP, not DTLS application data)."""
    rows = ev.dtls
    hello = any(d.client_hello_complete or d.version_offered or d.version or d.use_srtp
                or d.hello_verify_request for d in rows)  # fmt: skip
    return bool(rows) and not hello and not ev.rtp and sum(d.encrypted_records for d in rows) > 0


def relayed_payload(ev: FlowEvidence) -> bool:
    """TURN framing that carries something other than STUN (media, DTLS or unrecognised)."""
    c = content_row(ev)
    if c is None or not _relay_framing(c):
        return False
    return not relayed_stun_only(ev)


def relayed_stun_only(ev: FlowEvidence) -> bool:
    """TURN framing whose every datagram (framing and payload) is STUN: relayed ICE checks."""
    c = content_row(ev)
    if c is None or not _relay_framing(c):
        return False
    return not _content_classes(c) and not _n(c.unrecognised) and not _n(c.probe)


def readable_rtcp_beside_encrypted(ev: FlowEvidence) -> bool:
    """Readable RTCP (or SRTCP with E=0) on a flow whose media is not readable."""
    c = content_row(ev)
    if c is None:
        return False
    readable = _n(c.rtcp) + _n(c.srtcp_e0)
    return bool(readable) and bool(_n(c.srtp) + _n(c.srtcp_e1) + _n(c.zoom_media))


def leak_kinds(ev: FlowEvidence) -> str:
    c = content_row(ev)
    return str(c.leak_kinds or "") if c is not None else ""
