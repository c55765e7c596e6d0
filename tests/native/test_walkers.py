"""The compiled record walkers read hostile files exactly as the reference readers do.

Whatever the bytes, both give the same records and leave the same flags on the capture
(truncated, warnings, skipped blocks, link types, key logs), or raise the same InputError.
Inputs: small pcap and pcapng files with several interfaces, simple and obsolete packet blocks
and a secrets block, then cut anywhere, bit-flipped, overwritten with runs, or gzip-compressed
and cut (a stream that fails mid-way).
"""

from __future__ import annotations

import gzip
import struct
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from inspector import _native
from inspector.errors import InputError
from inspector.source import open_capture
from tests.native.paths import selected
from tests.source import epb, idb, opt, pcap_bytes, pcapng_block, shb, spb

_FRAMES = [bytes(range(i, i + 60 + 7 * i)) for i in range(6)]


def _pcapng(order: str) -> bytes:
    blocks = [
        shb(order),
        idb(1, order),
        idb(101, order, tsresol=9, snaplen=50),
        epb(0, 1_000_000, _FRAMES[0], order),
        epb(1, 2_000_000_000, _FRAMES[1], order),
        spb(_FRAMES[2], order),
        pcapng_block(2, struct.pack(order + "HHIIII", 1, 0, 0, 7, 10, 10) + bytes(12), order),
        pcapng_block(10, struct.pack(order + "II", 0x544C534B, 9) + b"CLIENT_R\n\0\0\0", order),
        pcapng_block(5, bytes(8) + opt(0, b"", order), order),
        epb(5, 3, _FRAMES[3], order),  # no such interface
        shb(order),
        idb(113, order),
        epb(0, 4_000_000, _FRAMES[4], order),
    ]  # fmt: skip
    return b"".join(blocks)


def _pcap(order: str) -> bytes:
    return pcap_bytes([(1.5 + i, f) for i, f in enumerate(_FRAMES)], order=order)


def _read(path: str) -> Any:
    try:
        cap = open_capture(path)
        records = [(t, lt, b[s:e], w) for t, lt, b, s, e, w in cap.spans()]
    except InputError as exc:
        return ("InputError", str(exc))
    flags = (cap.truncated, cap.warnings, cap.skipped_blocks, cap.linktypes, cap.secrets)
    return records, flags


def _both(data: bytes, suffix: str) -> tuple[Any, Any]:
    before = _native.core
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / f"f{suffix}")
        Path(path).write_bytes(data)
        try:
            selected("native")
            native = _read(path)
            selected("pure")
            pure = _read(path)
        finally:
            _native.core = before
    return native, pure


mutation = st.one_of(
    st.tuples(st.just("cut"), st.integers(0, 2000), st.just(b"")),
    st.tuples(st.just("flip"), st.integers(0, 2000), st.integers(0, 7)),
    st.tuples(st.just("run"), st.integers(0, 2000), st.sampled_from([b"\x00" * 4, b"\xff" * 4])),
)


def _mutate(data: bytes, muts: list[tuple[str, int, Any]]) -> bytes:
    for kind, pos, arg in muts:
        pos %= max(len(data), 1)
        if kind == "cut":
            data = data[:pos]
        elif kind == "flip" and data:
            data = data[:pos] + bytes([data[pos] ^ (1 << arg)]) + data[pos + 1 :]
        elif kind == "run":
            data = data[:pos] + arg + data[pos + len(arg) :]
    return data


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["pcap", "pcapng"]),
    st.sampled_from(["<", ">"]),
    st.lists(mutation, max_size=4),
    st.booleans(),
)
def test_mutated_files_read_alike(kind: str, order: str, muts: list[Any], gz: bool) -> None:
    data = _mutate((_pcap if kind == "pcap" else _pcapng)(order), muts)
    if gz:
        whole = gzip.compress(data, mtime=0)
        data = whole[: max(10, len(whole) - (len(muts) * 7))]  # often cut inside the stream
    native, pure = _both(data, ".gz" if gz else "")
    assert native == pure


def test_unmutated_files_give_every_packet() -> None:
    for kind, build in (("pcap", _pcap), ("pcapng", _pcapng)):
        for order in "<>":
            native, pure = _both(build(order), "")
            assert native == pure
            records, flags = native
            assert len(records) == (6 if kind == "pcap" else 5), (kind, records)
            assert not flags[0]
    _, flags = _both(_pcapng("<"), "")[0]
    assert flags[2] == {"bad_packet_block": 1, "decryption_secrets": 1, "interface_statistics": 1}
    assert flags[4] == ["CLIENT_R\n"]
