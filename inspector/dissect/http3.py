"""HTTP/3 (RFC 9114) over decrypted QUIC streams, header blocks with QPACK (RFC 9204, the
``pylsqpack`` package).

``pull_h3_frames`` cuts a stream into frames (varint type, varint length, payload);
``parse_h3`` reassembles each stream from its STREAM chunks, reads the control streams' SETTINGS
(the QPACK dynamic-table capacity the peer allowed), feeds each side's QPACK encoder stream to the
decoder of that side and then decodes the request and response header blocks of every
client-initiated bidirectional stream. Feeding a whole encoder stream before the header blocks
is exact unless the dynamic table evicted entries a later block still needed; such a block
raises a QPACK error and is recorded in ``errors``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from inspector.dissect.buffer import Buffer
from inspector.dissect.quic_1rtt import StreamChunk
from inspector.errors import ParseError

__all__ = ["H3Exchange", "H3Message", "H3Result", "parse_h3", "pull_h3_frames"]

MAX_STREAM = 1 << 22  #: bytes reassembled per stream
MAX_STREAMS = 5000
DATA, HEADERS, SETTINGS = 0x0, 0x1, 0x4
CONTROL, PUSH, ENCODER, DECODER = 0x0, 0x1, 0x2, 0x3
QPACK_MAX_TABLE_CAPACITY, QPACK_BLOCKED_STREAMS = 0x01, 0x07


def pull_h3_frames(data: bytes, start: int = 0) -> tuple[list[tuple[int, bytes, int]], int]:
    """``([(type, payload, offset)], end)`` of the complete frames from ``start``."""
    out: list[tuple[int, bytes, int]] = []
    buf = Buffer(data, start)
    while not buf.eof():
        at = buf.position
        try:
            ftype = buf.pull_varint()
            length = buf.pull_varint()
            if length > buf.remaining:
                buf.seek(at)
                break
            out.append((ftype, buf.pull_bytes(length), at))
        except ParseError:
            buf.seek(at)
            break
    return out, buf.position


@dataclass
class H3Message:
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    body_len: int = 0
    frame: int = 0
    ts: float = 0.0
    frames: list[int] = field(default_factory=list)


@dataclass
class H3Exchange:
    stream_id: int
    request: H3Message = field(default_factory=H3Message)
    response: H3Message = field(default_factory=H3Message)


@dataclass
class H3Result:
    exchanges: list[H3Exchange] = field(default_factory=list)
    errors: list[tuple[int, ParseError]] = field(default_factory=list)  #: (stream id, error)


@dataclass
class _Stream:
    data: bytearray = field(default_factory=bytearray)
    pending: dict[int, bytes] = field(default_factory=dict)
    spans: list[tuple[int, int, float]] = field(default_factory=list)  #: (offset, frame, ts)

    def add(self, chunk: StreamChunk) -> None:
        if chunk.offset > MAX_STREAM or len(self.pending) > 4096:
            return
        if len(chunk.data) > len(self.pending.get(chunk.offset, b"")):
            self.pending[chunk.offset] = chunk.data
        self.spans.append((chunk.offset, chunk.frame, chunk.ts))
        progressed = True
        while progressed:
            progressed = False
            end = len(self.data)
            for off in sorted(self.pending):
                if off > end:
                    break
                piece = self.pending.pop(off)
                if off + len(piece) > end:
                    self.data += piece[end - off :]
                    progressed = True
                    break

    def at(self, offset: int) -> tuple[int, float]:
        best = (0, 0.0)
        for off, frame, ts in sorted(self.spans):
            if off <= offset:
                best = (frame, ts)
        return best

    def frames_between(self, start: int, end: int) -> list[int]:
        return list(dict.fromkeys(f for off, f, _ in sorted(self.spans) if start <= off < end))


def _streams(chunks: Iterable[StreamChunk]) -> dict[int, _Stream]:
    out: dict[int, _Stream] = {}
    for chunk in chunks:
        if chunk.stream_id not in out and len(out) >= MAX_STREAMS:
            continue
        out.setdefault(chunk.stream_id, _Stream()).add(chunk)
    return out


def _uni(streams: dict[int, _Stream], uni_bit: int) -> dict[int, tuple[_Stream, int]]:
    """``{stream_type: (stream, length of the type varint)}`` of one side's unidirectional
    streams (the first of each type)."""
    out: dict[int, tuple[_Stream, int]] = {}
    for sid in sorted(streams):
        s = streams[sid]
        if sid & 0x3 != uni_bit or not s.data:
            continue
        buf = Buffer(bytes(s.data))
        try:
            stype = buf.pull_varint()
        except ParseError:
            continue
        out.setdefault(stype, (s, buf.position))
    return out


def _body_of(uni: dict[int, tuple[_Stream, int]], stype: int) -> bytes:
    if stype not in uni:
        return b""
    s, skip = uni[stype]
    return bytes(s.data[skip:])


def _settings(control: bytes) -> dict[int, int]:
    frames, _ = pull_h3_frames(control)
    for ftype, payload, _ in frames:
        if ftype == SETTINGS:
            buf = Buffer(payload)
            out: dict[int, int] = {}
            try:
                while not buf.eof():
                    key = buf.pull_varint()
                    out[key] = buf.pull_varint()
            except ParseError:
                pass
            return out
    return {}


class _Qpack:
    """One side's QPACK decoder, fed that side's encoder stream in capture order.

    Encoder-stream bytes are fed up to what had arrived by the frame that carried a header
    block (RFC 9204 section 2.1.2: a block may refer only to entries already inserted; a block
    that refers to later ones is blocked until they arrive and is resumed then).
    """

    def __init__(self, peer_settings: dict[int, int], encoder: tuple[_Stream, int] | None) -> None:
        import pylsqpack

        self.errors: list[tuple[int, ParseError]] = []
        self.decoder = pylsqpack.Decoder(
            min(peer_settings.get(QPACK_MAX_TABLE_CAPACITY, 0), 1 << 20),
            min(peer_settings.get(QPACK_BLOCKED_STREAMS, 0), 1 << 10),
        )
        self.data = b""
        self.arrival: list[tuple[int, int]] = []  #: (end offset in data, frame it needed)
        if encoder is not None:
            stream, skip = encoder
            self.data = bytes(stream.data[skip:])
            first: dict[int, int] = {}  # offset -> first frame that carried it
            for off, frame, _ in stream.spans:
                first[off] = min(frame, first.get(off, frame))
            offsets = sorted(first)
            latest = 0
            for i, off in enumerate(offsets):
                nxt = offsets[i + 1] if i + 1 < len(offsets) else len(stream.data)
                latest = max(latest, first[off])
                self.arrival.append((max(nxt - skip, 0), latest))
        self.fed = 0
        self.pending: dict[int, tuple[H3Message, int, _Stream]] = {}
        self.broken = False

    def _feed(self, target: int) -> None:
        import pylsqpack

        target = min(target, len(self.data))
        if target <= self.fed or self.broken:
            return
        try:
            unblocked = self.decoder.feed_encoder(self.data[self.fed : target])
        except pylsqpack.EncoderStreamError as exc:
            self.errors.append(
                (-1, ParseError(f"QPACK encoder stream: {exc}", "bad_qpack_encoder"))
            )
            self.broken = True
            return
        self.fed = target
        for sid in unblocked:
            msg, offset, s = self.pending.pop(sid)
            try:
                _, pairs = self.decoder.resume_header(sid)
            except (pylsqpack.DecompressionFailed, ValueError) as exc:
                self.errors.append(
                    (sid, ParseError(f"QPACK: {type(exc).__name__}", "bad_header_block"))
                )
                continue
            _set_headers(msg, _text_pairs(pairs), s, offset)

    def feed_until(self, frame: int) -> None:
        self._feed(max((end for end, f in self.arrival if f <= frame), default=0))

    def decode(self, sid: int, block: bytes, msg: H3Message, offset: int, s: _Stream) -> None:
        import pylsqpack

        if sid in self.pending:
            return  # an earlier block of this stream still waits for encoder data
        self.feed_until(s.at(offset)[0])
        try:
            _, pairs = self.decoder.feed_header(sid, block)
        except pylsqpack.StreamBlocked:
            self.pending[sid] = (msg, offset, s)
            return
        except (pylsqpack.DecompressionFailed, ValueError) as exc:
            self.errors.append(
                (sid, ParseError(f"QPACK: {type(exc).__name__}", "bad_header_block"))
            )
            return
        _set_headers(msg, _text_pairs(pairs), s, offset)

    def finish(self) -> None:
        self._feed(len(self.data))
        for sid in self.pending:
            self.errors.append((sid, ParseError("QPACK: StreamBlocked", "bad_header_block")))


def _text_pairs(pairs: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [
        (n.decode("utf-8", "backslashreplace"), v.decode("utf-8", "backslashreplace"))
        for n, v in pairs
    ]


def _set_headers(msg: H3Message, fields: list[tuple[str, str]], s: _Stream, offset: int) -> None:
    """The first header section, or the final one after an interim (1xx) response."""
    if not msg.headers or msg.headers[0][1].startswith("1"):
        msg.headers = fields
        msg.frame, msg.ts = s.at(offset)


def _read_message(
    stream_id: int,
    s: _Stream,
    msg: H3Message,
    blocks: list[tuple[int, int, int, bytes, H3Message, _Stream]],
) -> None:
    """Bodies now; header blocks collected as (frame, stream, offset, block, msg, stream)."""
    frames, _ = pull_h3_frames(bytes(s.data))
    for ftype, payload, offset in frames:
        if ftype == HEADERS:
            blocks.append((s.at(offset)[0], stream_id, offset, payload, msg, s))
        elif ftype == DATA:
            msg.body_len += len(payload)
            if len(msg.body) < MAX_STREAM:
                msg.body += payload[: MAX_STREAM - len(msg.body)]
    msg.frames = s.frames_between(0, len(s.data))


def parse_h3(client: Iterable[StreamChunk], server: Iterable[StreamChunk]) -> H3Result:
    """The HTTP/3 exchanges of one connection from the STREAM frames of each side (never
    raises; decoding problems are in ``errors``)."""
    c_streams, s_streams = _streams(client), _streams(server)
    c_uni, s_uni = _uni(c_streams, 0x2), _uni(s_streams, 0x3)
    c_settings = _settings(_body_of(c_uni, CONTROL))
    s_settings = _settings(_body_of(s_uni, CONTROL))
    c_qpack = _Qpack(s_settings, c_uni.get(ENCODER))  # decodes what the client sent
    s_qpack = _Qpack(c_settings, s_uni.get(ENCODER))
    result = H3Result()
    exchanges: list[H3Exchange] = []
    c_blocks: list[tuple[int, int, int, bytes, H3Message, _Stream]] = []
    s_blocks: list[tuple[int, int, int, bytes, H3Message, _Stream]] = []
    for sid in sorted(c_streams):
        if sid & 0x3 != 0:
            continue
        ex = H3Exchange(sid)
        _read_message(sid, c_streams[sid], ex.request, c_blocks)
        if sid in s_streams:
            _read_message(sid, s_streams[sid], ex.response, s_blocks)
        exchanges.append(ex)
    for qpack, blocks in ((c_qpack, c_blocks), (s_qpack, s_blocks)):
        for _, sid, offset, block, msg, s in sorted(blocks, key=lambda b: (b[0], b[1], b[2])):
            qpack.decode(sid, block, msg, offset, s)
        qpack.finish()
        result.errors.extend(qpack.errors)
    result.exchanges = [ex for ex in exchanges if ex.request.headers]
    return result
