"""JA3 and JA4 client fingerprints of a parsed ClientHello.

* JA3 (salesforce/ja3 README): ``SSLVersion,Ciphers,Extensions,EllipticCurves,PointFormats``
  as decimal numbers joined with ``-``, GREASE values (RFC 8701) removed; the hash is its MD5.
* JA4 (FoxIO-LLC/ja4 ``technical_details/JA4.md``): ``{t|q|d}{version}{d|i}{nn ciphers}
  {nn extensions}{alpn first+last}_{sha256(sorted ciphers)[:12]}_{sha256(sorted extensions
  without SNI/ALPN "_" signature algorithms in wire order)[:12]}``, GREASE ignored everywhere.

Two spec points where FoxIO's implementations are vaguer than the text, followed here as the
text says: a single-character first ALPN value counts as both first and last character, and
for DTLS the *newest* offered version wins (0xFEFC DTLS 1.3 is newer than 0xFEFD DTLS 1.2
although numerically smaller).
"""

from __future__ import annotations

import hashlib

from inspector.dissect.tls_ext import ClientHello
from inspector.dissect.tls_names import is_grease

__all__ = ["ja3", "ja3_hash", "ja4", "ja4_raw"]

_JA4_VERSIONS = {
    0x0304: "13",
    0x0303: "12",
    0x0302: "11",
    0x0301: "10",
    0x0300: "s3",
    0x0002: "s2",
    0xFEFF: "d1",
    0xFEFD: "d2",
    0xFEFC: "d3",
}
_EMPTY_HASH = "000000000000"


def _dash(values: tuple[int, ...] | list[int]) -> str:
    return "-".join(str(v) for v in values)


def ja3(ch: ClientHello) -> str:
    """The JA3 string (not hashed)."""
    return ",".join(
        (
            str(ch.legacy_version),
            _dash([c for c in ch.cipher_suites if not is_grease(c)]),
            _dash([t for t in ch.extension_types if not is_grease(t)]),
            _dash([g for g in ch.supported_groups if not is_grease(g)]),
            _dash(list(ch.ec_point_formats)),
        )
    )


def ja3_hash(ch: ClientHello) -> str:
    """MD5 (hex) of :func:`ja3`."""
    return hashlib.md5(ja3(ch).encode("ascii"), usedforsecurity=False).hexdigest()


def _version_rank(version: int) -> int:
    """Order versions by age; DTLS code points count down (0xFEFF < 0xFEFD < 0xFEFC)."""
    if version & 0xFF00 == 0xFE00:
        return 0x10000 + (0xFF - (version & 0xFF))
    return version


def _ja4_version(ch: ClientHello) -> str:
    offered = [v for v in ch.supported_versions if not is_grease(v)]
    version = max(offered, key=_version_rank) if offered else ch.legacy_version
    return _JA4_VERSIONS.get(version, "00")


def _alnum(byte: int) -> bool:
    return 0x30 <= byte <= 0x39 or 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A


def _ja4_alpn(ch: ClientHello) -> str:
    if not ch.alpn_raw or not ch.alpn_raw[0]:
        return "00"
    first = ch.alpn_raw[0]
    if _alnum(first[0]) and _alnum(first[-1]):
        return chr(first[0]) + chr(first[-1])
    hexed = first.hex()
    return hexed[0] + hexed[-1]


def _hash12(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:12]


def _parts(ch: ClientHello, transport: str, original: bool) -> tuple[str, str, str]:
    if transport not in ("t", "q", "d"):
        raise ValueError(f"transport must be 't', 'q' or 'd', not {transport!r}")
    ciphers = [c for c in ch.cipher_suites if not is_grease(c)]
    exts = [t for t in ch.extension_types if not is_grease(t)]
    sigs = [s for s in ch.signature_algorithms if not is_grease(s)]
    sni = "d" if 0x0000 in exts else "i"
    head = (
        f"{transport}{_ja4_version(ch)}{sni}"
        f"{min(len(ciphers), 99):02d}{min(len(exts), 99):02d}{_ja4_alpn(ch)}"
    )
    if not original:
        ciphers.sort()
        exts = sorted(t for t in exts if t not in (0x0000, 0x0010))
    cipher_text = ",".join(f"{c:04x}" for c in ciphers)
    ext_text = ",".join(f"{t:04x}" for t in exts)
    if exts and sigs:
        ext_text += "_" + ",".join(f"{s:04x}" for s in sigs)
    return head, cipher_text, ext_text


def ja4(ch: ClientHello, transport: str = "t", original: bool = False) -> str:
    """The JA4 fingerprint (``original=True``: the JA4_o variant, wire order kept).

    ``transport`` is ``"t"`` (TLS over TCP), ``"q"`` (QUIC) or ``"d"`` (DTLS).
    """
    head, ciphers, exts = _parts(ch, transport, original)
    return (
        f"{head}_{_hash12(ciphers) if ciphers else _EMPTY_HASH}"
        f"_{_hash12(exts) if exts else _EMPTY_HASH}"
    )


def ja4_raw(ch: ClientHello, transport: str = "t", original: bool = False) -> str:
    """The JA4_r (or JA4_ro) fingerprint: the same fields before hashing."""
    head, ciphers, exts = _parts(ch, transport, original)
    return f"{head}_{ciphers}_{exts}"
