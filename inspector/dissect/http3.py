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


def _uni(streams: dict[int, _Stream], uni_bit: int) -> dict[int, tuple[int, bytes]]:
    """``{stream_type: (stream id, bytes after the type)}`` of one side's unidirectional streams."""
    out: dict[int, tuple[int, bytes]] = {}
    for sid, s in streams.items():
        if sid & 0x3 != uni_bit or not s.data:
            continue
        buf = Buffer(bytes(s.data))
        try:
            stype = buf.pull_varint()
        except ParseError:
            continue
        out.setdefault(stype, (sid, bytes(s.data[buf.position :])))
    return out


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
    """One side's QPACK decoder, primed with that side's whole encoder stream."""

    def __init__(self, peer_settings: dict[int, int], encoder: bytes) -> None:
        import pylsqpack

        self.error: ParseError | None = None
        self.decoder = pylsqpack.Decoder(
            min(peer_settings.get(QPACK_MAX_TABLE_CAPACITY, 0), 1 << 20),
            min(peer_settings.get(QPACK_BLOCKED_STREAMS, 0), 1 << 10),
        )
        if encoder:
            try:
                self.decoder.feed_encoder(encoder)
            except pylsqpack.EncoderStreamError as exc:
                self.error = ParseError(f"QPACK encoder stream: {exc}", "bad_qpack_encoder")

    def decode(self, stream_id: int, block: bytes) -> list[tuple[str, str]]:
        import pylsqpack

        try:
            _, pairs = self.decoder.feed_header(stream_id, block)
        except (pylsqpack.DecompressionFailed, pylsqpack.StreamBlocked, ValueError) as exc:
            raise ParseError(f"QPACK: {type(exc).__name__}", "bad_header_block") from exc
        return [
            (n.decode("utf-8", "backslashreplace"), v.decode("utf-8", "backslashreplace"))
            for n, v in pairs
        ]


def _read_message(
    stream_id: int, s: _Stream, qpack: _Qpack, msg: H3Message, result: H3Result
) -> None:
    frames, _ = pull_h3_frames(bytes(s.data))
    for ftype, payload, offset in frames:
        if ftype == HEADERS:
            try:
                fields = qpack.decode(stream_id, payload)
            except ParseError as err:
                result.errors.append((stream_id, err))
                return
            if not msg.headers or msg.headers[0][1].startswith("1"):
                msg.headers = fields
                msg.frame, msg.ts = s.at(offset)
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
    c_settings = _settings(c_uni.get(CONTROL, (0, b""))[1])
    s_settings = _settings(s_uni.get(CONTROL, (0, b""))[1])
    c_qpack = _Qpack(s_settings, c_uni.get(ENCODER, (0, b""))[1])  # decodes what the client sent
    s_qpack = _Qpack(c_settings, s_uni.get(ENCODER, (0, b""))[1])
    result = H3Result()
    for q in (c_qpack, s_qpack):
        if q.error is not None:
            result.errors.append((-1, q.error))
    for sid in sorted(c_streams):
        if sid & 0x3 != 0:
            continue
        ex = H3Exchange(sid)
        _read_message(sid, c_streams[sid], c_qpack, ex.request, result)
        if sid in s_streams:
            _read_message(sid, s_streams[sid], s_qpack, ex.response, result)
        if ex.request.headers:
            result.exchanges.append(ex)
    return result
