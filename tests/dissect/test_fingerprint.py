"""JA3 / JA4 known-answer vectors and GREASE handling."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect.fingerprint import ja3, ja3_hash, ja4, ja4_raw
from inspector.dissect.tls_ext import ClientHello, parse_client_hello
from tests.dissect.tls_factory import (
    RFC8448_CLIENT_HELLO,
    alpn_ext,
    client_hello_body,
    ext,
    groups_ext,
    point_formats_ext,
    sigalgs_ext,
    sni_ext,
    versions_ext,
)

# ------------------------------------------------------------------ JA3
# Known answers from the salesforce/ja3 README ("769,47-53-5-...,0-10-11,23-24-25,0 -->
# ada70206e40642a3e4461f35503241d5" and "769,4-5-10-9-100-98-3-6-19-18-99,,, -->
# de350869b8c85de67a350c8d186f11e6"), rebuilt as real ClientHellos.
JA3_README_CIPHERS = (47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4)


def test_ja3_readme_vector_with_extensions() -> None:
    body = client_hello_body(
        [sni_ext("example.com"), groups_ext(23, 24, 25), point_formats_ext(0)],
        ciphers=JA3_README_CIPHERS,
        version=0x0301,
    )
    ch = parse_client_hello(body)
    assert ja3(ch) == "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0"
    assert ja3_hash(ch) == "ada70206e40642a3e4461f35503241d5"


def test_ja3_readme_vector_without_extensions() -> None:
    body = client_hello_body(
        ciphers=(4, 5, 10, 9, 100, 98, 3, 6, 19, 18, 99), version=0x0301, no_extensions=True
    )
    ch = parse_client_hello(body)
    assert ja3(ch) == "769,4-5-10-9-100-98-3-6-19-18-99,,,"
    assert ja3_hash(ch) == "de350869b8c85de67a350c8d186f11e6"


def test_ja3_ignores_grease_everywhere() -> None:
    plain = client_hello_body(
        [sni_ext("example.com"), groups_ext(23, 24, 25), point_formats_ext(0)],
        ciphers=JA3_README_CIPHERS,
        version=0x0301,
    )
    greased = client_hello_body(
        [
            ext(0x1A1A),
            sni_ext("example.com"),
            groups_ext(0xAAAA, 23, 24, 25),
            point_formats_ext(0),
            ext(0xFAFA, b"\x00"),
        ],
        ciphers=(0x0A0A, *JA3_README_CIPHERS),
        version=0x0301,
    )
    assert ja3_hash(parse_client_hello(greased)) == ja3_hash(parse_client_hello(plain))


# ------------------------------------------------------------------ JA4
# FoxIO-LLC/ja4 technical_details/JA4.md "Example" and rust/ja4/src/tls.rs
# test_client_stats_into_out: 15 ciphers, 16 extensions, ALPN h2, TLS 1.3 ->
# t13d1516h2_8daaf6152771_e5627efa2ab1 (JA4_o: t13d1516h2_acb858a92679_18f69afefd3d).
SPEC_CIPHERS = (
    0x1301,
    0x1302,
    0x1303,
    0xC02B,
    0xC02F,
    0xC02C,
    0xC030,
    0xCCA9,
    0xCCA8,
    0xC013,
    0xC014,
    0x009C,
    0x009D,
    0x002F,
    0x0035,
)
SPEC_EXTENSIONS = (
    0x001B,
    0x0000,
    0x0033,
    0x0010,
    0x4469,
    0x0017,
    0x002D,
    0x000D,
    0x0005,
    0x0023,
    0x0012,
    0x002B,
    0xFF01,
    0x000B,
    0x000A,
    0x0015,
)
SPEC_SIGALGS = (0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601)


def _spec_extension(ext_type: int, grease: bool = False) -> bytes:
    if ext_type == 0x0000:
        return sni_ext("example.com")
    if ext_type == 0x0010:
        return alpn_ext(b"h2", b"http/1.1")
    if ext_type == 0x000D:
        algs = (0x5A5A, *SPEC_SIGALGS) if grease else SPEC_SIGALGS
        return sigalgs_ext(*algs)
    if ext_type == 0x002B:
        return versions_ext(*((0x7A7A,) if grease else ()), 0x0304, 0x0303)
    if ext_type == 0x000A:
        return groups_ext(0x1D, 0x17, 0x18)
    return ext(ext_type, b"\x00\x00")


def _spec_hello(grease: bool = False) -> ClientHello:
    exts = [_spec_extension(t, grease) for t in SPEC_EXTENSIONS]
    ciphers: tuple[int, ...] = SPEC_CIPHERS
    if grease:
        exts = [ext(0x2A2A), *exts, ext(0xCACA, b"\x00")]
        ciphers = (0x9A9A, *SPEC_CIPHERS)
    return parse_client_hello(client_hello_body(exts, ciphers=ciphers))


def test_ja4_spec_example() -> None:
    ch = _spec_hello()
    assert ja4(ch) == "t13d1516h2_8daaf6152771_e5627efa2ab1"
    assert ja4_raw(ch) == (
        "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_"
        "0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_"
        "0403,0804,0401,0503,0805,0501,0806,0601"
    )
    assert ja4(ch, original=True) == "t13d1516h2_acb858a92679_18f69afefd3d"


def test_ja4_ignores_grease_values() -> None:
    assert ja4(_spec_hello(grease=True)) == "t13d1516h2_8daaf6152771_e5627efa2ab1"
    assert ja4(_spec_hello(grease=True), original=True) == ja4(_spec_hello(), original=True)


def test_ja4_spec_hash_without_signature_algorithms() -> None:
    """JA4.md: the extension list alone hashes to 6d807ffa2a79 (no trailing underscore)."""
    exts = [_spec_extension(t) for t in SPEC_EXTENSIONS if t != 0x000D]
    exts.append(ext(0x000D, b"\x00\x00"))  # present but empty: no algorithms
    ch = parse_client_hello(client_hello_body(exts, ciphers=SPEC_CIPHERS))
    assert ja4(ch).endswith("_6d807ffa2a79")


def test_ja4_transport_and_versions() -> None:
    ch = _spec_hello()
    assert ja4(ch, "q").startswith("q13d")
    dtls = parse_client_hello(client_hello_body([versions_ext(0xFEFD, 0xFEFC)], version=0xFEFD))
    assert ja4(dtls, "d").startswith("dd3i")  # DTLS 1.3 is the newest, though numerically lower
    old = parse_client_hello(client_hello_body(version=0x0300, no_extensions=True))
    assert ja4(old).startswith("ts3i") and ja4(old).endswith("_000000000000")
    odd = parse_client_hello(client_hello_body(version=0x0909, no_extensions=True))
    assert ja4(odd).startswith("t00i")
    with pytest.raises(ValueError):
        ja4(ch, "x")


def test_ja4_empty_cipher_list() -> None:
    ch = parse_client_hello(client_hello_body([sni_ext("a.b")], ciphers=()))
    assert ja4(ch) == "t12d000100_000000000000_000000000000"


@pytest.mark.parametrize(
    ("protocol", "expected"),
    [
        (b"h2", "h2"),
        (b"http/1.1", "h1"),
        (b"x", "xx"),
        (b"", "00"),
        (b"\xab", "ab"),
        (b"\xab\xcd", "ad"),
        (b"\x30\xab", "3b"),
        (b"\x30\x31\xab\xcd", "3d"),
        (b"\x30\xab\xcd\x31", "01"),
    ],
)
def test_ja4_alpn_characters(protocol: bytes, expected: str) -> None:
    """JA4.md "ALPN Extension Value", including its hex examples for non-alphanumeric bytes."""
    ch = parse_client_hello(client_hello_body([alpn_ext(protocol)]))
    assert ja4(ch)[8:10] == expected


def test_ja4_without_alpn() -> None:
    ch = parse_client_hello(client_hello_body([sni_ext("a.b")]))
    assert ja4(ch)[8:10] == "00"


def test_rfc8448_client_hello_raw_fingerprints() -> None:
    """Fields read off RFC 8448 section 3 by hand."""
    ch = parse_client_hello(RFC8448_CLIENT_HELLO[4:])
    assert ja4_raw(ch) == (
        "t13d030900_1301,1302,1303_000a,000d,001c,0023,002b,002d,0033,ff01_"
        "0403,0503,0603,0203,0804,0805,0806,0401,0501,0601,0201,0402,0502,0602,0202"
    )
    expected = "771,4865-4867-4866,0-65281-10-35-51-43-13-45-28,29-23-24-25-256-257-258-259-260,"
    assert ja3(ch) == expected
    assert ja3_hash(ch) == hashlib.md5(expected.encode()).hexdigest()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 0xFFFF), max_size=30),
    st.lists(st.integers(0, 0xFFFF), max_size=20, unique=True),
    st.sampled_from("tqd"),
)
def test_fingerprints_have_fixed_shape(
    ciphers: list[int], ext_types: list[int], transport: str
) -> None:
    ch = ClientHello(
        0x0303, bytes(32), b"", tuple(ciphers), b"\x00", tuple((t, b"") for t in ext_types)
    )
    a, b, c = ja4(ch, transport).split("_")
    assert len(a) == 10 and len(b) == len(c) == 12 and a[0] == transport
    assert len(ja3_hash(ch)) == 32
