"""Documented, application-specific UDP payload formats that identify the app on a flow.

- Discord voice IP discovery (Discord developer docs, "Voice Connections: IP Discovery"): a
  74-byte datagram, type 0x0001 (request) or 0x0002 (response), length 70, SSRC, a 64-byte
  NUL-padded address, port.
- Discord voice keep-alive ping: 8 bytes starting 0x1337cafe (nDPI ``protocols/discord.c``).
- Zoom SFU framing on Zoom's media ports 8801-8810 (nDPI ``protocols/zoom.c``; the project's
  encryption-heuristics notes, section 1.5): every datagram starts with SFU type 3, 4 or 5, and
  at least one type-5 datagram carries the direction byte (0x00 to Zoom, 0x04 from Zoom) at
  offset 7. The port alone is never enough; the framing alone is too weak: both are required,
  over at least four datagrams.

- WhatsApp's chat-connection prologue on TCP (``WA`` + protocol version, optionally after an
  ``ED 00 01`` edge routing header; module :mod:`inspector.dissect.whatsapp`): the first bytes
  of a stream, so one match per flow.

Each signature needs the exact length and fixed fields, so random UDP matches with chance
below 2^-32 per datagram.
"""

from __future__ import annotations

import struct

from inspector.dissect.base import FlowView
from inspector.dissect.whatsapp import parse_prologue
from inspector.errors import ParseError
from inspector.schema.base import Row
from inspector.schema.signatures import SignatureRow

__all__ = [
    "discord_ip_discovery",
    "discord_ping",
    "dissect",
    "whatsapp_prologue",
    "zoom_sfu_flow",
]

_HH = struct.Struct("!HH")


def discord_ip_discovery(payload: bytes) -> bool:
    if len(payload) != 74:
        return False
    kind, length = _HH.unpack_from(payload, 0)
    if kind not in (1, 2) or length != 70:
        return False
    address = payload[8:72]
    text = address.rstrip(b"\x00")
    return kind == 1 or (bool(text) and all(0x20 < c < 0x7F for c in text))


def discord_ping(payload: bytes) -> bool:
    return len(payload) == 8 and payload[:4] == b"\x13\x37\xca\xfe"


def zoom_sfu_flow(view: FlowView) -> list[int]:
    """Indexes of the datagrams of a flow framed like Zoom's SFU control/media (see above)."""
    if not (8801 <= view.resp_p <= 8810 or 8801 <= view.orig_p <= 8810):
        return []
    grams = [d.payload for d in view.datagrams]
    if len(grams) < 4 or any(len(p) < 9 or p[0] not in (3, 4, 5) for p in grams):
        return []
    if not any(p[0] == 5 and p[7] in (0, 4) for p in grams):
        return []
    return list(range(len(grams)))


_SIGNATURES = (
    (
        "Discord",
        "discord_ip_discovery",
        discord_ip_discovery,
        "74-byte IP discovery (type 1/2, length 70) of Discord's voice protocol "
        "(Discord developer docs: Voice Connections, IP Discovery)",
    ),
    (
        "Discord",
        "discord_ping",
        discord_ping,
        "8-byte 0x1337cafe voice ping (as nDPI protocols/discord.c recognises it)",
    ),
)


def whatsapp_prologue(view: FlowView) -> list[Row]:
    """A signature row when either TCP stream opens with WhatsApp's prologue."""
    for stream in (view.orig, view.resp):
        try:
            p = parse_prologue(stream.data[:96])
        except ParseError:
            continue
        routed = ", after an ED edge routing header" if p.routed else ""
        return [
            SignatureRow(
                stream.ts_at(0), view.uid, stream.frame_at(0), "WhatsApp", "whatsapp_prologue",
                1, f"WhatsApp chat-connection prologue 'WA' {p.version}{routed} (as nDPI "
                "protocols/whatsapp.c recognises it; Noise Pipes per the WhatsApp Encryption "
                "Overview)",
            )
        ]  # fmt: skip
    return []


def dissect(view: FlowView) -> list[Row]:
    if view.proto == "tcp":
        return whatsapp_prologue(view)
    if view.proto != "udp" or not view.datagrams:
        return []
    rows: list[Row] = []
    zoom = zoom_sfu_flow(view)
    if zoom:
        first = view.datagrams[zoom[0]]
        rows.append(
            SignatureRow(
                first.ts,
                view.uid,
                first.frame,
                "Zoom",
                "zoom_sfu_framing",
                len(zoom),
                "Zoom SFU framing (types 3/4/5, direction byte) on "
                "Zoom's media port (as nDPI protocols/zoom.c recognises it)",
            )
        )
    for app, name, test, detail in _SIGNATURES:
        hits = [d for d in view.datagrams if test(d.payload)]
        if hits:
            rows.append(
                SignatureRow(hits[0].ts, view.uid, hits[0].frame, app, name, len(hits), detail)
            )
    return rows
