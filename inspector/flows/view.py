"""What the flow stage hands to dissectors: one flow's retained packets, immutable.

Dissectors are pure functions ``dissect(view: FlowView) -> list[Row]``; they never see the
capture, only this view. TCP flows carry a reassembled :class:`Stream` per direction; UDP flows
carry their first datagrams.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

__all__ = ["Datagram", "FlowView", "Stream"]


@dataclass(frozen=True, slots=True)
class Datagram:
    """One UDP payload (or one TCP segment payload, when kept raw) of a flow."""

    frame: int  #: 1-based frame number in its capture file
    ts: float  #: capture timestamp, seconds since the epoch
    from_orig: bool  #: True when sent by the flow's originator
    payload: bytes


@dataclass(frozen=True, slots=True)
class Stream:
    """The in-order bytes of one TCP direction, from its first byte, up to the first hole or cap.

    ``segments`` lists ``(stream_offset, frame, ts)`` for every segment that contributed bytes,
    sorted by offset, so a parser can say which frame carried a given byte.
    """

    data: bytes
    segments: tuple[tuple[int, int, float], ...]
    gap: bool = False  #: a hole (missing segment) stopped reassembly before the cap
    capped: bool = False  #: the per-direction byte budget was reached

    def frame_at(self, offset: int) -> int:
        """Frame number of the segment that carried byte ``offset`` (0 when unknown)."""
        if not self.segments:
            return 0
        i = bisect.bisect_right(self.segments, (offset, 1 << 62, 0.0)) - 1
        return self.segments[max(i, 0)][1]

    def ts_at(self, offset: int) -> float:
        if not self.segments:
            return 0.0
        i = bisect.bisect_right(self.segments, (offset, 1 << 62, 0.0)) - 1
        return self.segments[max(i, 0)][2]

    def frames_between(self, start: int, end: int) -> tuple[int, ...]:
        """Frames that carried bytes in ``[start, end)``, in stream order."""
        segs = self.segments
        if not segs or end <= start:
            return ()
        i = max(bisect.bisect_right(segs, (start, 1 << 62, 0.0)) - 1, 0)
        out: list[int] = []
        while i < len(segs) and segs[i][0] < end:
            nxt = segs[i + 1][0] if i + 1 < len(segs) else len(self.data)
            frame = segs[i][1]
            if nxt > start and frame not in out:
                out.append(frame)
            i += 1
        return tuple(out)


EMPTY_STREAM = Stream(b"", ())


@dataclass(frozen=True, slots=True)
class FlowView:
    """One bidirectional flow as dissectors see it."""

    uid: str
    proto: str  #: "tcp" or "udp"
    orig_h: str
    orig_p: int
    resp_h: str
    resp_p: int
    ts: float  #: first packet's timestamp
    datagrams: tuple[Datagram, ...] = ()  #: UDP: the first datagrams, both directions, in order
    orig: Stream = EMPTY_STREAM  #: TCP: originator -> responder bytes
    resp: Stream = EMPTY_STREAM  #: TCP: responder -> originator bytes
    packets: int = 0  #: packets the flow counted (both directions); 0 when unknown
