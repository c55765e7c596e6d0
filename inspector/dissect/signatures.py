"""Documented, application-specific UDP payload formats that identify the app on a flow.

- Discord voice IP discovery (Discord developer docs, "Voice Connections: IP Discovery"): a
  74-byte datagram, type 0x0001 (request) or 0x0002 (response), length 70, SSRC, a 64-byte
  NUL-padded address, port.
- Discord voice keep-alive ping: 8 bytes starting 0x1337cafe (nDPI ``protocols/discord.c``).

Each signature needs the exact length and fixed fields, so random UDP matches with chance
below 2^-32 per datagram.
"""

from __future__ import annotations

import struct

from inspector.dissect.base import FlowView
from inspector.schema.base import Row
from inspector.schema.signatures import SignatureRow

__all__ = ["discord_ip_discovery", "discord_ping", "dissect"]

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


def dissect(view: FlowView) -> list[Row]:
    if view.proto != "udp" or not view.datagrams:
        return []
    rows: list[Row] = []
    for app, name, test, detail in _SIGNATURES:
        hits = [d for d in view.datagrams if test(d.payload)]
        if hits:
            rows.append(
                SignatureRow(hits[0].ts, view.uid, hits[0].frame, app, name, len(hits), detail)
            )
    return rows
