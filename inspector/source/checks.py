"""Checks of the command line's inputs and output folder, run before any packet is read.

Each check raises :class:`InputError` with one line the CLI prints before exiting with 2. None of
them changes the output folder (the write probe creates and removes one file in it or in the
nearest existing parent).
"""

from __future__ import annotations

import ipaddress
import os
import tempfile
import zlib
from collections.abc import Iterable
from pathlib import Path

from inspector.dissect.keylog import parse_keylog_all
from inspector.errors import InputError

__all__ = [
    "GZIP_PROBE_BYTES",
    "check_captures",
    "check_client",
    "check_imports",
    "check_keylogs",
    "check_outdir",
    "client_seen",
]

#: Decompressed bytes the gzip probe reads; a stream that breaks before this holds no full packet.
GZIP_PROBE_BYTES = 64
_GZIP_MAGIC = b"\x1f\x8b"


def check_outdir(outdir: str) -> None:
    """``outdir`` is a folder (or can be made) that this user can write into."""
    p = Path(outdir)
    if p.exists() and not p.is_dir():
        raise InputError(f"{outdir}: exists and is not a folder; name a folder for -o")
    target = p if p.is_dir() else _nearest_existing_parent(p)
    if not target.is_dir():
        raise InputError(f"{outdir}: cannot create it ({target} is not a folder)")
    _probe_write(target, outdir)


def _nearest_existing_parent(p: Path) -> Path:
    parent = p.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def _probe_write(folder: Path, outdir: str) -> None:
    try:
        fd, probe = tempfile.mkstemp(prefix=".inspector-probe-", dir=folder)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"{outdir}: cannot write there ({reason}: {folder})") from exc
    os.close(fd)
    os.unlink(probe)


def check_client(text: str) -> str:
    """The ``--client`` value as a canonical address ('' when not given)."""
    if not text:
        return ""
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        raise InputError(
            f"--client {text!r} is not an IPv4 or IPv6 address (e.g. 192.168.1.20)"
        ) from None


def check_keylogs(paths: Iterable[str], allow_empty: bool = False) -> None:
    """Every ``--keylog`` file is readable and holds at least one NSS key log line.

    ``allow_empty`` (live capture): an empty file is accepted, since the client under study
    writes its keys while the capture runs; text that is not a key log is still refused."""
    for p in paths:
        try:
            with open(p, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        except OSError as exc:
            raise InputError(f"{p}: cannot read key log ({exc.strerror or exc})") from exc
        if allow_empty and not text.strip():
            continue
        masters, tls13, other = parse_keylog_all(text)
        if not masters and not tls13 and not other:
            raise InputError(
                f"{p}: no line in NSS key log format (LABEL <64 hex client random> <hex secret>), "
                "not a TLS key log"
            )


def check_imports(har: Iterable[str], mitm: Iterable[str]) -> None:
    """Every ``--har`` and ``--mitm`` file reads as one (a HAR document, a mitmproxy flow file
    with the optional extra installed)."""
    from inspector.source.har import read_har
    from inspector.source.mitm import read_mitm

    for path in har:
        read_har(path)
    for path in mitm:
        read_mitm(path)


def check_captures(files: Iterable[str]) -> None:
    """A gzip-compressed capture whose stream breaks before its first packet is refused."""
    for f in files:
        try:
            with open(f, "rb") as fh:
                head = fh.read(2)
                if head != _GZIP_MAGIC:
                    continue
                fh.seek(0)
                _probe_gzip(f, fh.read(1 << 16))
        except OSError as exc:
            raise InputError(f"{f}: cannot open ({exc.strerror or exc})") from exc


def _probe_gzip(path: str, data: bytes) -> None:
    d = zlib.decompressobj(wbits=31)
    try:
        out = d.decompress(data, GZIP_PROBE_BYTES)
    except zlib.error as exc:
        raise InputError(f"{path}: gzip data is corrupt before the first packet ({exc})") from None
    if len(out) < GZIP_PROBE_BYTES and not d.eof and len(data) < (1 << 16):
        raise InputError(f"{path}: gzip file ends after {len(out)} bytes, before the first packet")


def client_seen(client: str, flows_h: Iterable[str]) -> bool:
    """Whether the ``--client`` address is an endpoint of at least one flow."""
    return client in set(flows_h)
