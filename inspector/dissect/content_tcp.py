"""Content units of TCP flows whose protocol opened before the capture did.

Helpers of :mod:`inspector.dissect.content`: each yields ``(frame, ts, from_orig, payload,
class)`` per unit of a TCP flow, or nothing when the flow is not of its kind. A class of
``""`` means "classify the payload" (bytes of a direction that the framing does not explain).

- TLS records without a handshake (:mod:`inspector.dissect.tls_records`): one unit per
  record, ``tls_record`` (application data) or ``tls_other``.
- WebSocket frames without the HTTP Upgrade (:mod:`inspector.dissect.websocket`): both
  directions frames back to back, masked one way and unmasked the other (RFC 6455 section
  5.1); one unit per frame, ``websocket_text`` (readable UTF-8 text) or ``websocket``.
"""

from __future__ import annotations

from collections.abc import Iterator

from inspector.dissect import tls_records, websocket
from inspector.errors import ParseError
from inspector.flows.view import FlowView, Stream

__all__ = ["TcpUnit", "tls_record_units", "websocket_units"]

#: (frame, ts, from_orig, payload, class)
TcpUnit = tuple[int, float, bool, bytes, str]


def _sides(view: FlowView) -> tuple[tuple[Stream, bool], tuple[Stream, bool]]:
    return (view.orig, True), (view.resp, False)


def _rest(stream: Stream, from_orig: bool, at: int) -> Iterator[TcpUnit]:
    if at < len(stream.data):
        yield stream.frame_at(at), stream.ts_at(at), from_orig, stream.data[at : at + 512], ""


def tls_record_units(view: FlowView) -> Iterator[TcpUnit]:
    """TLS records of a session whose handshake is not in the capture. Nothing when a
    direction opens with a handshake record (the ``tls`` table covers that flow) or when
    neither direction is records."""
    if any(s.data[:1] == b"\x16" for s, _o in _sides(view)):
        return
    runs: list[tuple[Stream, bool, tls_records.RecordRun | None]] = []
    for stream, from_orig in _sides(view):
        try:
            run: tls_records.RecordRun | None = tls_records.parse_records(stream.data)
        except ParseError:
            run = None
        runs.append((stream, from_orig, run))
    if all(run is None for _s, _o, run in runs):
        return
    for stream, from_orig, run in runs:
        if run is None:
            yield from _rest(stream, from_orig, 0)
            continue
        for off, ctype in zip(run.offsets, run.types, strict=True):
            cls = "tls_record" if ctype == tls_records.APPLICATION_DATA else "tls_other"
            yield stream.frame_at(off), stream.ts_at(off), from_orig, b"", cls
        yield from _rest(stream, from_orig, len(stream.data) if run.cut else run.end)


def websocket_units(view: FlowView) -> Iterator[TcpUnit]:
    """WebSocket frames both ways, every byte of each direction inside frames, one direction
    masked and the other not (a client and a server)."""
    runs: list[tuple[Stream, bool, websocket.FrameRun]] = []
    for stream, from_orig in _sides(view):
        try:
            run = websocket.parse_frames(stream.data)
        except ParseError:
            return
        if not run.cut and run.end != len(stream.data):
            return
        runs.append((stream, from_orig, run))
    if runs[0][2].frames[0].masked == runs[1][2].frames[0].masked:
        return
    for stream, from_orig, run in runs:
        for f in run.frames:
            cls = "websocket_text" if websocket.readable_text(f) else "websocket"
            yield stream.frame_at(f.offset), stream.ts_at(f.offset), from_orig, b"", cls
