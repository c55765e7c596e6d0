"""HTTP/2 (RFC 9113) over one connection's two byte streams: frames, HPACK header blocks (RFC 7541,
with the ``hpack`` package) and DATA, gathered into request/response exchanges per stream.

``pull_frames`` cuts one direction into frames; ``parse_connection`` decodes both directions'
header blocks in wire order (HPACK state is per direction and order matters) and returns one
:class:`Exchange` per stream. Bytes are those of the decrypted TLS stream (or cleartext h2c with
prior knowledge); a direction that breaks framing stops there with a :class:`ParseError` kept in
``Connection.errors``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum

from inspector.errors import ParseError

__all__ = [
    "PREFACE",
    "Connection",
    "Exchange",
    "Frame",
    "FrameType",
    "Message",
    "decode_header_block",
    "parse_connection",
    "pull_frames",
]

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"  #: RFC 9113 section 3.4
MAX_FRAME = 1 << 24  #: the 24-bit length field's range
MAX_FRAMES = 50_000  #: per direction
MAX_STREAMS = 5_000
MAX_BODY = 1 << 22  #: body octets kept per message (lengths are counted beyond it)
MAX_HEADER_BLOCK = 1 << 20


class FrameType(IntEnum):
    """Frame types of RFC 9113 section 6."""

    DATA = 0x0
    HEADERS = 0x1
    PRIORITY = 0x2
    RST_STREAM = 0x3
    SETTINGS = 0x4
    PUSH_PROMISE = 0x5
    PING = 0x6
    GOAWAY = 0x7
    WINDOW_UPDATE = 0x8
    CONTINUATION = 0x9


END_STREAM = 0x1
END_HEADERS = 0x4
PADDED = 0x8
PRIORITY_FLAG = 0x20


@dataclass(frozen=True, slots=True)
class Frame:
    offset: int  #: stream offset of the frame header
    type: int
    flags: int
    stream_id: int
    payload: bytes


def pull_frames(data: bytes, start: int = 0) -> tuple[list[Frame], int]:
    """Frames from ``start`` up to the last complete one: ``(frames, offset after them)``.

    Raises :class:`ParseError` ``bad_frame`` when a frame claims more than 2^24-1 octets can
    hold or a padded frame's pad length exceeds its payload.
    """
    frames: list[Frame] = []
    pos = start
    while pos + 9 <= len(data) and len(frames) < MAX_FRAMES:
        length = int.from_bytes(data[pos : pos + 3], "big")
        ftype, flags = data[pos + 3], data[pos + 4]
        (sid,) = struct.unpack_from("!I", data, pos + 5)
        if pos + 9 + length > len(data):
            break
        payload = data[pos + 9 : pos + 9 + length]
        frames.append(Frame(pos, ftype, flags, sid & 0x7FFFFFFF, payload))
        pos += 9 + length
    return frames, pos


def _unpad(frame: Frame) -> bytes:
    """The payload without padding (and, for HEADERS, without the priority fields)."""
    data = frame.payload
    pad = 0
    if frame.flags & PADDED and frame.type in (FrameType.DATA, FrameType.HEADERS, 5):
        if not data:
            raise ParseError(f"padded frame at {frame.offset} without pad length", "bad_frame")
        pad, data = data[0], data[1:]
        if pad > len(data):
            raise ParseError(f"pad length {pad} > payload at {frame.offset}", "bad_frame")
    if frame.type == FrameType.HEADERS and frame.flags & PRIORITY_FLAG:
        if len(data) < 5:
            raise ParseError(f"HEADERS priority fields cut at {frame.offset}", "bad_frame")
        data = data[5:]
    if frame.type == FrameType.PUSH_PROMISE:
        data = data[4:]  # promised stream id
    return data[: len(data) - pad]


def decode_header_block(decoder: object, block: bytes) -> list[tuple[str, str]]:
    """Decode one HPACK block with ``decoder`` (an ``hpack.Decoder``); names and values as text.

    Raises :class:`ParseError` ``bad_header_block`` on any HPACK error.
    """
    import hpack

    try:
        pairs = decoder.decode(block, raw=True)  # type: ignore[attr-defined]
    except (hpack.HPACKError, hpack.HPACKDecodingError, IndexError, ValueError) as exc:
        raise ParseError(f"HPACK: {type(exc).__name__}: {exc}"[:200], "bad_header_block") from exc
    return [
        (n.decode("utf-8", "backslashreplace"), v.decode("utf-8", "backslashreplace"))
        for n, v in pairs
    ]


@dataclass
class Message:
    """One side of an exchange: its header fields (pseudo-headers first) and its DATA."""

    headers: list[tuple[str, str]] = field(default_factory=list)
    trailers: list[tuple[str, str]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    body_len: int = 0  #: DATA octets without padding (all of them, also beyond MAX_BODY)
    offset: int = -1  #: stream offset of the first HEADERS frame
    frames: list[int] = field(default_factory=list)  #: stream offsets of its frames
    ended: bool = False  #: END_STREAM seen

    def header(self, name: str) -> str:
        low = name.lower()
        return next((v for k, v in self.headers if k.lower() == low), "")


@dataclass
class Exchange:
    stream_id: int
    request: Message = field(default_factory=Message)
    response: Message = field(default_factory=Message)
    pushed: bool = False  #: a server push (request headers from PUSH_PROMISE)


@dataclass
class Connection:
    exchanges: dict[int, Exchange] = field(default_factory=dict)
    errors: list[tuple[bool, int, ParseError]] = field(default_factory=list)  #: (client, off, e)


class _Side:
    """Header-block assembly of one direction."""

    def __init__(self, client: bool) -> None:
        import hpack

        self.client = client
        self.decoder = hpack.Decoder(max_header_list_size=MAX_HEADER_BLOCK)
        self.decoder.max_allowed_table_size = 1 << 16
        self.open_block: tuple[Frame, bytearray] | None = None


def _message(conn: Connection, sid: int, side: _Side, promised: int | None = None) -> Message:
    if sid not in conn.exchanges:
        if len(conn.exchanges) >= MAX_STREAMS:
            raise ParseError(f"more than {MAX_STREAMS} streams", "too_many_streams")
        conn.exchanges[sid] = Exchange(sid, pushed=promised is not None)
    ex = conn.exchanges[sid]
    if promised is not None:
        return ex.request
    return ex.request if side.client else ex.response


def _headers_done(conn: Connection, side: _Side, first: Frame, block: bytes) -> None:
    fields = decode_header_block(side.decoder, block)
    if first.type == FrameType.PUSH_PROMISE:
        if len(first.payload) < 4:
            raise ParseError("PUSH_PROMISE without promised stream", "bad_frame")
        skip = 1 if first.flags & PADDED else 0
        promised = int.from_bytes(first.payload[skip : skip + 4], "big") & 0x7FFFFFFF
        msg = _message(conn, promised, side, promised)
    else:
        msg = _message(conn, first.stream_id, side)
    if msg.offset < 0:
        msg.offset = first.offset
    if msg.headers and not any(k.startswith(":") for k, _ in fields):
        msg.trailers = fields
    else:
        msg.headers = fields  # an interim 1xx response is replaced by the final one
    if first.flags & END_STREAM and first.type == FrameType.HEADERS:
        msg.ended = True


def _feed(conn: Connection, side: _Side, frame: Frame) -> None:
    if side.open_block is not None:
        first, block = side.open_block
        if frame.type != FrameType.CONTINUATION or frame.stream_id != first.stream_id:
            raise ParseError(f"header block interrupted at {frame.offset}", "bad_continuation")
        block += frame.payload
        if len(block) > MAX_HEADER_BLOCK:
            raise ParseError("header block too long", "header_block_too_long")
        if frame.flags & END_HEADERS:
            side.open_block = None
            _headers_done(conn, side, first, bytes(block))
        return
    if frame.type in (FrameType.HEADERS, FrameType.PUSH_PROMISE) and frame.stream_id:
        block = _unpad(frame)
        if frame.flags & END_HEADERS:
            _headers_done(conn, side, frame, block)
        else:
            side.open_block = (frame, bytearray(block))
    elif frame.type == FrameType.DATA and frame.stream_id:
        msg = _message(conn, frame.stream_id, side)
        data = _unpad(frame)
        msg.body_len += len(data)
        room = MAX_BODY - len(msg.body)
        if room > 0:
            msg.body += data[:room]
        msg.frames.append(frame.offset)
        if frame.flags & END_STREAM:
            msg.ended = True
    elif frame.type == FrameType.CONTINUATION:
        raise ParseError(f"CONTINUATION without HEADERS at {frame.offset}", "bad_continuation")


def parse_connection(client: bytes, server: bytes) -> Connection:
    """Exchanges of an HTTP/2 connection; ``client`` starts with the connection preface.

    Header blocks of each direction are decoded in order (HPACK state is per direction, so the
    two directions need no interleaving). Never raises: a broken direction stops with an entry
    in ``errors``.
    """
    conn = Connection()
    start = len(PREFACE) if client.startswith(PREFACE) else 0
    for is_client, data, begin in ((True, client, start), (False, server, 0)):
        side = _Side(is_client)
        frames, _ = pull_frames(data, begin)
        for frame in frames:
            try:
                _feed(conn, side, frame)
            except ParseError as err:
                conn.errors.append((is_client, frame.offset, err))
                break
    return conn
