"""Bounded TCP reassembly for one direction: in order, retransmission- and overlap-safe.

Bytes are kept from the direction's first byte up to ``cap``; out-of-order segments wait (bounded
by ``max_pending`` bytes) until the hole before them is filled. For overlapping data the first
copy wins and a differing later copy is counted in ``conflicts`` (an evasion indicator, reported
as a weird row). Sequence numbers wrap modulo 2**32.
"""

from __future__ import annotations

from collections.abc import Callable

from inspector.flows.view import Stream

__all__ = ["StreamBuffer"]

_WRAP = 0xFFFFFFFF
_HALF = 0x80000000


class StreamBuffer:
    """One TCP direction's byte stream."""

    __slots__ = (
        "cap",
        "capped",
        "conflicts",
        "data",
        "dropped_pending",
        "grow",
        "isn",
        "max_pending",
        "pending",
        "pending_bytes",
        "segments",
    )

    def __init__(self, cap: int = 1 << 17, max_pending: int = 1 << 17) -> None:
        self.cap = cap
        self.max_pending = max_pending
        self.isn: int | None = None  #: sequence number of stream offset 0
        self.data = bytearray()
        self.segments: list[tuple[int, int, float]] = []
        self.pending: dict[int, tuple[bytes, int, float]] = {}
        self.pending_bytes = 0
        self.capped = False
        self.conflicts = 0
        self.dropped_pending = 0
        #: asked ``grow(self, end)`` before bytes up to stream offset ``end`` would pass ``cap``;
        #: it may raise ``cap`` (a keyed flow, see ``FlowLimits.keyed_tcp_bytes``) or clear itself
        self.grow: Callable[[StreamBuffer, int], None] | None = None

    def syn(self, seq: int) -> None:
        """A SYN fixes the initial sequence number: data starts at ``seq + 1``.

        Before any data the latest SYN wins (a SYN retransmitted with a new sequence number).
        Once bytes are held, a SYN that comes after them (a retransmitted SYN, or port reuse)
        is ignored, and a SYN that comes before them (the capture saw data before the
        handshake) re-bases what is held, in order or waiting, onto the new origin.
        """
        new = (seq + 1) & _WRAP
        old = self.isn
        if old is None or not (self.data or self.pending):
            self.isn = new
            return
        shift = (old - new) & _WRAP
        if shift == 0 or shift >= _HALF or shift >= self.cap:
            return
        data, segments, pending = bytes(self.data), self.segments, self.pending
        self.isn = new
        self.data = bytearray()
        self.segments = []
        self.pending = {}
        self.pending_bytes = 0
        self.capped = False
        for i, (off, frame, ts) in enumerate(segments):
            nxt = segments[i + 1][0] if i + 1 < len(segments) else len(data)
            self.add((old + off) & _WRAP, data[off:nxt], frame, ts)
        for off, (payload, frame, ts) in pending.items():
            self.add((old + off) & _WRAP, payload, frame, ts)

    def add(self, seq: int, payload: bytes, frame: int, ts: float) -> bool:
        """Add a segment; return True when it only repeated bytes already held (retransmission)."""
        if self.isn is None:
            self.isn = seq
        off = (seq - self.isn) & _WRAP
        if off >= _HALF:  # before the first byte we know: old retransmission or pre-capture data
            return True
        if off >= self.cap and self.grow is not None:
            self.grow(self, off + len(payload))
        if self.capped or off >= self.cap:
            return False
        data = self.data
        nxt = len(data)
        end = off + len(payload)
        if end <= nxt:
            if data[off:end] != payload:
                self.conflicts += 1
            return True
        if off > nxt:
            held = self.pending.get(off)
            if held is not None and len(held[0]) >= len(payload):
                if held[0][: len(payload)] != payload:
                    self.conflicts += 1
                return True
            grow = len(payload) - (len(held[0]) if held is not None else 0)
            if self.pending_bytes + grow > self.max_pending:
                self.dropped_pending += 1
                return False
            if held is not None and payload[: len(held[0])] != held[0]:
                self.conflicts += 1
                payload = held[0] + payload[len(held[0]) :]  # first copy wins
            self.pending[off] = (bytes(payload), frame, ts)
            self.pending_bytes += grow
            return False
        self._append(off, payload, frame, ts)
        if self.pending:
            self._drain()
        return False

    def _append(self, off: int, payload: bytes, frame: int, ts: float) -> None:
        """Append the part of ``payload`` (starting at ``off`` <= len(data)) not yet held."""
        data = self.data
        nxt = len(data)
        if off < nxt and data[off:nxt] != payload[: nxt - off]:
            self.conflicts += 1
        new = payload if off == nxt else payload[nxt - off :]
        room = self.cap - nxt
        if len(new) >= room and self.grow is not None:
            self.grow(self, nxt + len(new) + 1)
            room = self.cap - nxt
        if len(new) >= room:
            new = new[:room]
            self.capped = True
        if new:
            self.segments.append((nxt, frame, ts))
            data += new

    def _drain(self) -> None:
        """Move waiting segments that now touch the in-order bytes into them."""
        pending = self.pending
        while pending and not self.capped:
            nxt = len(self.data)
            ready = sorted(k for k in pending if k <= nxt)
            if not ready:
                return
            for k in ready:
                payload, frame, ts = pending.pop(k)
                self.pending_bytes -= len(payload)
                if self.capped:
                    continue
                end = k + len(payload)
                if end > len(self.data):
                    self._append(k, payload, frame, ts)
                elif self.data[k:end] != payload:
                    self.conflicts += 1
        if self.capped:
            pending.clear()
            self.pending_bytes = 0

    def view(self) -> Stream:
        """The immutable stream for dissectors."""
        return Stream(
            bytes(self.data),
            tuple(self.segments),
            gap=bool(self.pending) or self.dropped_pending > 0,
            capped=self.capped,
        )
