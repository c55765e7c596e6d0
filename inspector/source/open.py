"""Open a capture file of any supported kind (pcap, pcapng, either gzip-compressed)."""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, NamedTuple

from inspector.errors import InputError

__all__ = ["STREAM_ERRORS", "Capture", "RawPacket", "Span", "expand_paths", "open_capture"]

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
GZIP_MAGIC = b"\x1f\x8b"
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz", ".cap.gz", ".dmp")


class RawPacket(NamedTuple):
    """One record as read: capture time, link type, captured bytes, original length on the wire."""

    ts: float
    linktype: int
    data: bytes
    wirelen: int


#: ``(ts, linktype, buf, start, end, wirelen)``: one record's bytes are ``buf[start:end]``.
#: Readers hand out spans of their read buffer so the fast loop can decode without copying.
#: Read errors are caught by the readers (``Capture.read_failed``), which close the file at the end.
STREAM_ERRORS = (EOFError, zlib.error, OSError)
Span = tuple[float, int, bytes, int, int, int]


@dataclass
class Capture:
    """An opened capture: iterate it for :class:`RawPacket` (or call :meth:`spans`), once.

    Read the flags afterwards: ``truncated`` is set when the file ended inside a record (the
    records before the cut were all delivered); ``warnings`` holds one-line human messages;
    ``skipped_blocks`` counts pcapng blocks that carry no packet (statistics, name resolution,
    comments, secrets).
    """

    path: str
    format: str
    compressed: bool
    _records: Iterator[Span] | None = None
    truncated: bool = False
    warnings: list[str] = field(default_factory=list)
    skipped_blocks: dict[str, int] = field(default_factory=dict)
    #: TLS key logs found inside the capture (pcapng Decryption Secrets Blocks), as text
    secrets: list[str] = field(default_factory=list)
    linktypes: set[int] = field(default_factory=set)
    _stream: BinaryIO | None = None
    _raw: BinaryIO | None = None

    def position(self) -> int:
        """Bytes of the file consumed so far (compressed bytes for gzip), for progress bars."""
        try:
            return self._raw.tell() if self._raw is not None and not self._raw.closed else 0
        except (OSError, ValueError):
            return 0

    def __iter__(self) -> Iterator[RawPacket]:
        new = tuple.__new__
        for ts, linktype, buf, start, end, wirelen in self.spans():
            yield new(RawPacket, (ts, linktype, buf[start:end], wirelen))

    def spans(self) -> Iterator[Span]:
        """Every record as a :data:`Span` (no copy); the capture can be read only once."""
        if self._records is None:
            raise InputError(f"{self.path}: capture already consumed")
        records, self._records = self._records, None
        return records

    def read_failed(self, exc: BaseException) -> None:
        """Called by the readers when the file fails mid-way: what came before stands."""
        self.truncated = True
        if isinstance(exc, (EOFError, zlib.error, gzip.BadGzipFile)):
            self.warnings.append(f"{self.path}: compressed data ends early or is corrupt ({exc})")
        else:
            self.warnings.append(f"{self.path}: read error, stopped there ({exc})")

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


def _peek_magic(stream: BinaryIO, path: str) -> bytes:
    try:
        head = stream.read(4)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from exc
    return head


def open_capture(path: str | os.PathLike[str]) -> Capture:
    """Open ``path``; raise :class:`InputError` with one clear line if it is not a capture."""
    p = str(path)
    try:
        raw: BinaryIO = open(p, "rb")  # noqa: SIM115 - closed by Capture.close
    except OSError as exc:
        raise InputError(f"{p}: cannot open ({exc.strerror or exc})") from exc
    try:
        return _open(p, raw)
    except BaseException:
        raw.close()
        raise


def _open(p: str, raw: BinaryIO) -> Capture:
    from inspector.source import pcap, pcapng  # local import: both import Span from here

    compressed = False
    head = _peek_magic(raw, p)
    stream: BinaryIO = raw
    if head[:2] == GZIP_MAGIC:
        compressed = True
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
        head = _peek_magic(stream, p)
    # no extra buffering over gzip: a read of a big buffer that meets the cut of a truncated
    # gzip file raises and loses what it had decompressed; readers use read1 for bulk reads
    buffered = stream
    if head in PCAP_MAGICS:
        cap = Capture(p, "pcap", compressed, _stream=buffered, _raw=raw)
        cap._records = pcap.read_records(buffered, head, cap)
        return cap
    if head == PCAPNG_MAGIC:
        cap = Capture(p, "pcapng", compressed, _stream=buffered, _raw=raw)
        cap._records = pcapng.read_records(buffered, head, cap)
        return cap
    if not head:
        raise InputError(f"{p}: empty file, not a capture")
    if compressed and len(head) < 4:
        raise InputError(f"{p}: gzip file holds {len(head)} bytes, not a capture")
    raise InputError(f"{p}: not a pcap or pcapng capture (starts with {head.hex()})")


def expand_paths(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Files named directly, plus capture files found (sorted, recursively) in named folders."""
    out: list[str] = []
    for item in paths:
        p = Path(item)
        if p.is_dir():
            found = sorted(
                str(f)
                for f in p.rglob("*")
                if f.is_file() and f.name.lower().endswith(CAPTURE_SUFFIXES)
            )
            if not found:
                raise InputError(
                    f"{p}: folder holds no capture files ({', '.join(CAPTURE_SUFFIXES)})"
                )
            out.extend(found)
        elif p.exists():
            out.append(str(p))
        else:
            raise InputError(f"{p}: no such file or folder")
    return out
