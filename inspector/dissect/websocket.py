"""WebSocket frames read without the HTTP Upgrade that opened the connection (RFC 6455).

A capture that starts after the Upgrade sees only frames (RFC 6455 section 5.2): a byte with
FIN, three RSV bits and the opcode (0 continuation, 1 text, 2 binary, 8 close, 9 ping,
10 pong), a byte with MASK and a 7-bit length (126: 16-bit length follows, 127: 64-bit), the
4-byte masking key when MASK is set, then the payload. A client masks every frame it sends and
a server masks none (section 5.1), so a connection shows masked frames one way and unmasked
frames the other; control frames carry at most 125 bytes and are never fragmented
(section 5.5). Masking is an XOR with the key carried in the frame: it hides nothing.

Text frames (opcode 1, RSV1 clear, so not compressed by permessage-deflate) must be UTF-8
(section 8.1): their text is readable by anyone on the path.
"""

from __future__ import annotations

from dataclasses import dataclass

from inspector.errors import ParseError

__all__ = ["Frame", "FrameRun", "parse_frame", "parse_frames", "readable_text"]

_OPCODES = frozenset({0, 1, 2, 8, 9, 10})
_MAX_FRAMES = 10_000
_MAX_LENGTH = 1 << 40


@dataclass(frozen=True, slots=True)
class Frame:
    fin: bool
    rsv1: bool
    opcode: int
    masked: bool
    offset: int  #: stream offset of the frame header
    header_len: int  #: bytes of header (length fields and masking key included)
    length: int  #: declared payload length
    payload: bytes  #: unmasked payload bytes present (shorter than ``length`` when cut)


@dataclass(frozen=True, slots=True)
class FrameRun:
    frames: tuple[Frame, ...]
    end: int  #: offset just past the last complete frame
    cut: bool  #: the data ended inside the last frame


def parse_frame(data: bytes, pos: int = 0) -> Frame:
    """The frame whose header starts at ``pos`` (its payload may be cut by the data's end)."""
    if pos + 2 > len(data):
        raise ParseError("WebSocket frame header needs 2 bytes", "ws_short")
    b0, b1 = data[pos], data[pos + 1]
    opcode, masked, length = b0 & 0x0F, bool(b1 & 0x80), b1 & 0x7F
    if opcode not in _OPCODES or b0 & 0x30:
        raise ParseError(f"WebSocket opcode {opcode}, RSV bits 0x{b0 & 0x70:02x}", "ws_opcode")
    head = 2
    if length in (126, 127):
        size = 2 if length == 126 else 8
        if pos + 2 + size > len(data):
            raise ParseError("WebSocket extended length cut", "ws_short")
        length = int.from_bytes(data[pos + 2 : pos + 2 + size], "big")
        if length < (126 if size == 2 else 1 << 16) or length > _MAX_LENGTH:
            raise ParseError(f"WebSocket length {length} not minimally encoded", "ws_length")
        head += size
    if opcode >= 8 and (length > 125 or not b0 & 0x80):
        raise ParseError("WebSocket control frame fragmented or over 125 bytes", "ws_control")
    key = b""
    if masked:
        if pos + head + 4 > len(data):
            raise ParseError("WebSocket masking key cut", "ws_short")
        key = data[pos + head : pos + head + 4]
        head += 4
    body = data[pos + head : pos + head + length]
    if masked:
        body = bytes(c ^ key[i % 4] for i, c in enumerate(body))
    return Frame(bool(b0 & 0x80), bool(b0 & 0x40), opcode, masked, pos, head, length, body)


def parse_frames(data: bytes) -> FrameRun:
    """Frames back to back from offset 0, all masked or all unmasked; walking stops at the
    first header that is not a frame. Raises when the data does not open with a frame."""
    frames: list[Frame] = []
    pos, cut = 0, False
    while pos < len(data) and len(frames) < _MAX_FRAMES:
        try:
            f = parse_frame(data, pos)
        except ParseError:
            if not frames:
                raise
            break
        if frames and f.masked != frames[0].masked:
            break
        frames.append(f)
        if len(f.payload) < f.length:
            cut = True
            break
        pos += f.header_len + f.length
    if not frames:
        raise ParseError("no WebSocket frame", "ws_none")
    return FrameRun(tuple(frames), pos, cut)


def readable_text(f: Frame) -> bool:
    """A complete, uncompressed text frame whose payload is UTF-8 (RFC 6455 section 8.1)."""
    if f.opcode != 1 or f.rsv1 or len(f.payload) < f.length or not f.payload:
        return False
    try:
        f.payload.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
