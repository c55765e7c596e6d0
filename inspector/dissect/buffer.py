"""A bounds-checked read cursor over bytes (after aioquic's ``Buffer``).

Every ``pull_*`` either returns a value or raises :class:`ParseError`; nothing else escapes.
"""

from __future__ import annotations

import struct

from inspector.errors import ParseError

__all__ = ["Buffer", "ParseError"]

_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")
_U64 = struct.Struct("!Q")


class Buffer:
    """Read cursor over an immutable byte string."""

    __slots__ = ("_data", "_end", "_pos")

    def __init__(self, data: bytes, start: int = 0, end: int | None = None) -> None:
        self._data = bytes(data) if not isinstance(data, bytes) else data
        self._pos = start
        self._end = len(self._data) if end is None else min(end, len(self._data))

    @property
    def position(self) -> int:
        return self._pos

    @property
    def remaining(self) -> int:
        return self._end - self._pos

    def eof(self) -> bool:
        return self._pos >= self._end

    def _need(self, n: int) -> None:
        if n < 0 or self._pos + n > self._end:
            raise ParseError(
                f"need {n} bytes at offset {self._pos}, have {self._end - self._pos}", "truncated"
            )

    def seek(self, pos: int) -> None:
        if pos < 0 or pos > self._end:
            raise ParseError(f"seek to {pos} outside 0..{self._end}", "truncated")
        self._pos = pos

    def skip(self, n: int) -> None:
        self._need(n)
        self._pos += n

    def peek_uint8(self) -> int:
        self._need(1)
        return self._data[self._pos]

    def pull_uint8(self) -> int:
        self._need(1)
        v = self._data[self._pos]
        self._pos += 1
        return v

    def pull_uint16(self) -> int:
        self._need(2)
        (v,) = _U16.unpack_from(self._data, self._pos)
        self._pos += 2
        return v

    def pull_uint24(self) -> int:
        self._need(3)
        d, p = self._data, self._pos
        self._pos += 3
        return (d[p] << 16) | (d[p + 1] << 8) | d[p + 2]

    def pull_uint32(self) -> int:
        self._need(4)
        (v,) = _U32.unpack_from(self._data, self._pos)
        self._pos += 4
        return v

    def pull_uint48(self) -> int:
        return int.from_bytes(self.pull_bytes(6), "big")

    def pull_uint64(self) -> int:
        self._need(8)
        (v,) = _U64.unpack_from(self._data, self._pos)
        self._pos += 8
        return v

    def pull_bytes(self, n: int) -> bytes:
        self._need(n)
        v = self._data[self._pos : self._pos + n]
        self._pos += n
        return v

    def pull_rest(self) -> bytes:
        v = self._data[self._pos : self._end]
        self._pos = self._end
        return v

    def pull_varint(self) -> int:
        """QUIC variable-length integer (RFC 9000 section 16)."""
        first = self.pull_uint8()
        size = 1 << (first >> 6)
        value = first & 0x3F
        self._need(size - 1)
        for _ in range(size - 1):
            value = (value << 8) | self._data[self._pos]
            self._pos += 1
        return value

    def pull_block(self, length_size: int) -> Buffer:
        """A sub-buffer whose length is given by a 1, 2, 3 or 4 byte big-endian prefix."""
        if length_size == 1:
            n = self.pull_uint8()
        elif length_size == 2:
            n = self.pull_uint16()
        elif length_size == 3:
            n = self.pull_uint24()
        elif length_size == 4:
            n = self.pull_uint32()
        else:
            raise ValueError(f"bad length size {length_size}")
        self._need(n)
        sub = Buffer(self._data, self._pos, self._pos + n)
        self._pos += n
        return sub

    def pull_vector(self, length_size: int) -> bytes:
        """The bytes of a length-prefixed vector."""
        return self.pull_block(length_size).pull_rest()
