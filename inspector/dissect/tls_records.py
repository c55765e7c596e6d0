"""TLS records read without their handshake: a session that began before the capture did.

A TLS byte stream is a sequence of records, each a 5-byte header (content type, record version,
length; RFC 5246 section 6.2.1, RFC 8446 section 5.1) and that many bytes. When a capture
starts after the handshake, each direction still opens on a record boundary if the capture
started between records, and the headers alone say "TLS": content types 20-24, one record
version 0x0300-0x0304 throughout (TLS 1.3 keeps the legacy 0x0303), lengths up to
2^14 + 2048 (RFC 5246 section 6.2.3). Version, cipher suite and server name are in the
handshake, which is not there.
"""

from __future__ import annotations

from dataclasses import dataclass

from inspector.errors import ParseError

__all__ = ["APPLICATION_DATA", "RecordRun", "parse_records"]

#: TLS content types (IANA TLS ContentType registry): change_cipher_spec .. heartbeat
_TYPES = frozenset({20, 21, 22, 23, 24})
APPLICATION_DATA = 23
#: RFC 5246 section 6.2.3: TLSCiphertext.length <= 2^14 + 2048
MAX_RECORD = (1 << 14) + 2048
_MAX_RECORDS = 10_000
#: bytes of printable ASCII that open an application-data record whose cipher leaves it
#: readable (a NULL cipher suite): ciphertext opens so with probability (98/256)^16 < 1e-6
_READABLE = 16
_TEXT = frozenset(range(0x20, 0x7F)) | {0x09, 0x0A, 0x0D}


@dataclass(frozen=True, slots=True)
class RecordRun:
    """The records found back to back from offset 0 of one direction's bytes."""

    version: int  #: the record-layer version every header carried (e.g. 0x0303)
    types: tuple[int, ...]  #: content type of each record, in order
    offsets: tuple[int, ...]  #: stream offset of each record header
    end: int  #: offset just past the last complete record (== len(data) when all parsed)
    cut: bool  #: the data ended inside the last record (counted in ``types``)


def _header(data: bytes, pos: int, version: int | None) -> tuple[int, int, int]:
    ctype, ver = data[pos], int.from_bytes(data[pos + 1 : pos + 3], "big")
    length = int.from_bytes(data[pos + 3 : pos + 5], "big")
    if ctype not in _TYPES:
        raise ParseError(f"content type {ctype} at offset {pos}", "tls_record_type")
    if ver >> 8 != 3 or ver & 0xFF > 4 or (version is not None and ver != version):
        raise ParseError(f"record version 0x{ver:04x} at offset {pos}", "tls_record_version")
    if not 0 < length <= MAX_RECORD:
        raise ParseError(f"record length {length} at offset {pos}", "tls_record_length")
    return ctype, ver, length


def _readable(data: bytes, pos: int, length: int) -> bool:
    """An application-data record body that opens with readable text: not ciphertext."""
    head = data[pos + 5 : pos + 5 + min(length, 64)]
    return len(head) >= _READABLE and all(b in _TEXT for b in head)


def parse_records(data: bytes) -> RecordRun:
    """The TLS records of ``data`` from offset 0 (see module doc). Walking stops at the end of
    the data or at the first header that is not a record; raises :class:`ParseError` when the
    data does not open with one complete record."""
    types: list[int] = []
    offsets: list[int] = []
    version: int | None = None
    pos, cut = 0, False
    while pos + 5 <= len(data) and len(types) < _MAX_RECORDS:
        try:
            ctype, version, length = _header(data, pos, version)
        except ParseError:
            if not types:
                raise
            break
        if ctype == APPLICATION_DATA and _readable(data, pos, length):
            # records are framed but not encrypted (NULL cipher): never called TLS protection
            raise ParseError(f"readable application data at offset {pos}", "tls_record_readable")
        types.append(ctype)
        offsets.append(pos)
        if pos + 5 + length > len(data):
            cut = True
            break
        pos += 5 + length
    if not types or (cut and len(types) == 1) or version is None:
        raise ParseError(f"no complete TLS record in {len(data)} bytes", "tls_record_short")
    return RecordRun(version, tuple(types), tuple(offsets), pos, cut)
