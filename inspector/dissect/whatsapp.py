"""WhatsApp's chat-connection prologue: the first bytes a WhatsApp client sends on TCP.

A WhatsApp client opens its chat connection (TCP 5222 or 443) with a 4-byte prologue: ``WA``
then a protocol major and minor byte (``57 41 01 05`` for the FunXMPP protocol of older clients,
``57 41 05 02`` / ``57 41 06 02`` ahead of the Noise Pipes handshake that the WhatsApp
Encryption Overview, section "Transport Security", describes). Newer clients may put an edge
routing header first: ``ED 00 01``, a 3-byte length and that many routing bytes, then the
``WA`` prologue. The byte layouts are those nDPI matches in ``protocols/whatsapp.c`` and that
open-source clients send (Baileys ``NOISE_WA_HEADER`` and its routing-info prefix).

The prologue only names the protocol; what follows it (the Noise handshake and the
Noise-encrypted frames, or FunXMPP frames) is not parsed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from inspector.errors import ParseError

__all__ = ["Prologue", "parse_prologue"]

_WA = b"WA"
_EDGE = b"ED\x00\x01"
#: protocol majors seen in the wild (FunXMPP 1.x, Noise 2-6); a wider byte is not WhatsApp's.
_MAJORS = range(1, 7)
#: the longest edge routing header accepted (routing info is a few bytes of a server hint)
_EDGE_MAX = 64


@dataclass(frozen=True, slots=True)
class Prologue:
    """A recognised prologue: protocol version and whether an edge routing header came first."""

    major: int
    minor: int
    routed: bool
    length: int  #: bytes of prologue (routing header included)

    @property
    def version(self) -> str:
        return f"{self.major}.{self.minor}"


def _wa(data: bytes, at: int, routed: bool) -> Prologue:
    if len(data) < at + 4:
        raise ParseError(f"{len(data) - at} bytes where the WA prologue needs 4", "wa_short")
    if data[at : at + 2] != _WA:
        raise ParseError(f"no 'WA' at offset {at}: {data[at : at + 2].hex()}", "wa_no_magic")
    major, minor = data[at + 2], data[at + 3]
    if major not in _MAJORS or minor > 9:
        raise ParseError(f"WA protocol version {major}.{minor}", "wa_version")
    return Prologue(major, minor, routed, at + 4)


def parse_prologue(data: bytes) -> Prologue:
    """The WhatsApp prologue at the start of a client's TCP byte stream (see module doc)."""
    if data[:4] == _EDGE:
        if len(data) < 7:
            raise ParseError("edge routing header cut before its length", "wa_short")
        n = int.from_bytes(data[4:7], "big")
        if n > _EDGE_MAX:
            raise ParseError(f"edge routing header of {n} bytes", "wa_edge_length")
        return _wa(data, 7 + n, True)
    return _wa(data, 0, False)
