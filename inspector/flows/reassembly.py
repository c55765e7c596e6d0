"""Bounded TCP reassembly for one direction: in order, retransmission- and overlap-safe.

Bytes are kept from the direction's first byte up to ``cap``; out-of-order segments wait (bounded)
until the hole before them is filled. For overlapping data the first copy wins and a differing
second copy is counted as a conflict (an evasion indicator, reported as a weird row).
"""

from __future__ import annotations

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
        "isn",
        "max_pending",
        "pending",
        "pending_bytes",
        "segments",
    )

    def __init__(self, cap: int = 1 << 17, max_pending: int = 1 << 17) -> None:
        self.cap = cap
        self.max_pending = max_pending
        self.isn: int | None = None
        self.data = bytearray()
        self.segments: list[tuple[int, int, float]] = []
        self.pending: dict[int, tuple[bytes, int, float]] = {}
        self.pending_bytes = 0
        self.capped = False
        self.conflicts = 0
        self.dropped_pending = 0

    def syn(self, seq: int) -> None:
        """A SYN fixes the initial sequence number: data starts at ``seq + 1``."""
        if self.isn is None or not self.data:
            self.isn = (seq + 1) & _WRAP

    def add(self, seq: int, payload: bytes, frame: int, ts: float) -> bool:
        """Add a segment; return True when it only repeated bytes already held (retransmission)."""
        if self.isn is None:
            self.isn = seq
        off = (seq - self.isn) & _WRAP
        if off >= _HALF:  # before the first byte we know: old retransmission or pre-capture data
            return True
        if self.capped:
            return False
        data = self.data
        nxt = len(data)
        end = off + len(payload)
        if end <= nxt:
            if bytes(data[off:end]) != payload:
                self.conflicts += 1
            return True
        if off > nxt:
            if off - nxt > self.cap or self.pending_bytes + len(payload) > self.max_pending:
                self.dropped_pending += 1
                return False
            held = self.pending.get(off)
            if held is None or len(held[0]) < len(payload):
                if held is not None:
                    self.pending_bytes -= len(held[0])
                self.pending[off] = (bytes(payload), frame, ts)
                self.pending_bytes += len(payload)
            return False
        self._append(off, payload, frame, ts)
        if self.pending:
            self._drain()
        return False

    def _append(self, off: int, payload: bytes, frame: int, ts: float) -> None:
        data = self.data
        nxt = len(data)
        if off < nxt and bytes(data[off:nxt]) != payload[: nxt - off]:
            self.conflicts += 1
        new = payload[nxt - off :]
        room = self.cap - nxt
        if len(new) >= room:
            new = new[:room]
            self.capped = True
        if new:
            self.segments.append((nxt, frame, ts))
            data += new

    def _drain(self) -> None:
        pending = self.pending
        while pending and not self.capped:
            nxt = len(self.data)
            ready = [k for k in pending if k <= nxt]
            if not ready:
                return
            for k in sorted(ready):
                payload, frame, ts = pending.pop(k)
                self.pending_bytes -= len(payload)
                if k + len(payload) > len(self.data):
                    self._append(k, payload, frame, ts)
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
