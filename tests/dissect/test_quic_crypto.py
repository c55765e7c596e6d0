"""QUIC Initial key schedule, header protection and AEAD against the RFC test vectors."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.dissect.quic_crypto import (
    SALT_DRAFT_22,
    SALT_DRAFT_23,
    SALT_DRAFT_29,
    SALT_Q050,
    SALT_T050,
    SALT_T051,
    SALT_V1,
    SALT_V2,
    QuicVersion,
    aead_open,
    aead_seal,
    header_protection_mask,
    hkdf_expand_label,
    initial_keys,
    initial_secrets,
    is_gquic_version,
    is_grease_version,
    is_known_version,
    retry_integrity_tag,
    version_name,
    version_salt,
)
from inspector.errors import ParseError

DCID = bytes.fromhex("8394c8f03e515708")  # the DCID of every RFC 9001 / RFC 9369 example


def test_rfc9001_a1_initial_secrets() -> None:
    """RFC 9001 Appendix A.1: client_initial_secret and server_initial_secret."""
    client, server = initial_secrets(QuicVersion.V1, DCID)
    assert client.hex() == "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea"
    assert server.hex() == "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b"


def test_rfc9001_a1_keys() -> None:
    """RFC 9001 Appendix A.1: client and server key, iv, hp."""
    c = initial_keys(QuicVersion.V1, DCID)
    assert c.key.hex() == "1f369613dd76d5467730efcbe3b1a22d"
    assert c.iv.hex() == "fa044b2f42a3fd3b46fb255c"
    assert c.hp.hex() == "9f50449e04a0e810283a1e9933adedd2"
    s = initial_keys(QuicVersion.V1, DCID, server=True)
    assert s.key.hex() == "cf3a5331653c364c88f0f379b6067e37"
    assert s.iv.hex() == "0ac1493ca1905853b0bba03e"
    assert s.hp.hex() == "c206b8d9b9f0f37644430b490eeaa314"


def test_rfc9001_a2_a3_header_protection_masks() -> None:
    """RFC 9001 Appendix A.2 (client) and A.3 (server): sample -> mask."""
    c = initial_keys(QuicVersion.V1, DCID)
    assert header_protection_mask(
        c.hp, bytes.fromhex("d1b1c98dd7689fb8ec11d242b123dc9b")
    ).hex() == ("437b9aec36")
    s = initial_keys(QuicVersion.V1, DCID, server=True)
    assert header_protection_mask(
        s.hp, bytes.fromhex("2cd0991cd25b0aac406a5816b6394100")
    ).hex() == ("2ec0d8356a")


def test_rfc9369_a1_keys() -> None:
    """RFC 9369 Appendix A.1: v2 secrets and client/server key, iv, hp ("quicv2" labels)."""
    client, server = initial_secrets(QuicVersion.V2, DCID)
    assert client.hex() == "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b"
    assert server.hex() == "0263db1782731bf4588e7e4d93b7463907cb8cd8200b5da55a8bd488eafc37c1"
    c = initial_keys(QuicVersion.V2, DCID)
    assert (c.key.hex(), c.iv.hex(), c.hp.hex()) == (
        "8b1a0bc121284290a29e0971b5cd045d",
        "91f73e2351d8fa91660e909f",
        "45b95e15235d6f45a6b19cbcb0294ba9",
    )
    s = initial_keys(QuicVersion.V2, DCID, server=True)
    assert (s.key.hex(), s.iv.hex(), s.hp.hex()) == (
        "82db637861d55e1d011f19ea71d5d2a7",
        "dd13c276499c0249d3310652",
        "edf6d05c83121201b436e16877593c3a",
    )


def test_rfc9369_a2_header_protection_mask() -> None:
    """RFC 9369 Appendix A.2: v2 client sample -> mask."""
    c = initial_keys(QuicVersion.V2, DCID)
    assert header_protection_mask(
        c.hp, bytes.fromhex("ffe67b6abcdb4298b485dd04de806071")
    ).hex() == ("94a0c95e80")


def test_rfc9001_a5_chacha_key_expansion_labels() -> None:
    """RFC 9001 Appendix A.5: HKDF-Expand-Label of the ChaCha20 secret (hp key and ku)."""
    secret = bytes.fromhex("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b")
    assert hkdf_expand_label(secret, "quic key", b"", 32).hex() == (
        "c6d98ff3441c3fe1b2182094f69caa2ed4b716b65488960a7a984979fb23e1c8"
    )
    assert hkdf_expand_label(secret, "quic iv", b"", 12).hex() == "e0459b3474bdd0e44a41c144"
    assert hkdf_expand_label(secret, "quic ku", b"", 32).hex() == (
        "1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9"
    )


def test_rfc9001_a4_retry_integrity_tag() -> None:
    """RFC 9001 Appendix A.4: the Retry packet's integrity tag over the client's DCID."""
    retry = bytes.fromhex(
        "ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba"
    )
    assert retry_integrity_tag(QuicVersion.V1, DCID, retry[:-16]) == retry[-16:]


def test_rfc9369_a4_retry_integrity_tag() -> None:
    """RFC 9369 Appendix A.4: the v2 Retry integrity tag."""
    retry = bytes.fromhex(
        "cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6"
    )
    assert retry_integrity_tag(QuicVersion.V2, DCID, retry[:-16]) == retry[-16:]


@pytest.mark.parametrize(
    ("version", "salt"),
    [
        (0x00000001, SALT_V1),
        (0x6B3343CF, SALT_V2),
        (0xFF000016, SALT_DRAFT_22),  # draft-22
        (0xFF000017, SALT_DRAFT_23),  # draft-23
        (0xFF00001B, SALT_DRAFT_23),  # draft-27
        (0xFF00001C, SALT_DRAFT_23),  # draft-28
        (0xFF00001D, SALT_DRAFT_29),  # draft-29
        (0xFF000020, SALT_DRAFT_29),  # draft-32
        (0xFF000021, SALT_V1),  # draft-33
        (0xFF000022, SALT_V1),  # draft-34
        (0xFACEB001, SALT_DRAFT_22),  # mvfst-22
        (0xFACEB002, SALT_DRAFT_23),  # mvfst-27
        (0xFACEB00E, SALT_DRAFT_23),  # mvfst-exp
        (0x51303530, SALT_Q050),
        (0x54303530, SALT_T050),
        (0x54303531, SALT_T051),
    ],
)
def test_salt_by_version_follows_ndpi_thresholds(version: int, salt: bytes) -> None:
    assert version_salt(version) == salt


@pytest.mark.parametrize("version", [0x51303436, 0x51303433, 0x1A2A3A4A, 0xFF000023, 0x12345678])
def test_versions_without_salt(version: int) -> None:
    assert version_salt(version) is None
    with pytest.raises(ParseError) as info:
        initial_keys(version, DCID)
    assert info.value.name == "unsupported_version"


@pytest.mark.parametrize(
    ("version", "name"),
    [
        (0x00000001, "1"),
        (0x6B3343CF, "2"),
        (0xFF00001D, "draft-29"),
        (0xFACEB002, "mvfst-27"),
        (0xFACEB001, "mvfst-22"),
        (0xFACEB00E, "mvfst-exp"),
        (0x54303531, "T051"),
        (0x51303436, "Q046"),
        (0x1A2A3A4A, "0x1a2a3a4a"),
    ],
)
def test_version_names(version: int, name: str) -> None:
    assert version_name(version) == name


def test_version_classes() -> None:
    assert is_grease_version(0x1A2A3A4A) and is_grease_version(0xBABABABA)
    assert not is_grease_version(0x00000001)
    assert is_gquic_version(0x51303433) and is_gquic_version(0x54303531)
    assert not is_gquic_version(0x51585858)
    assert is_known_version(0xFF00001D) and is_known_version(0xFACEB00E)
    assert not is_known_version(0xBABABABA) and not is_known_version(0)


def test_aead_round_trip_and_tamper() -> None:
    keys = initial_keys(QuicVersion.V1, DCID)
    sealed = aead_seal(keys, 7, b"header", b"payload")
    assert aead_open(keys, 7, b"header", sealed) == b"payload"
    with pytest.raises(ParseError) as info:
        aead_open(keys, 8, b"header", sealed)
    assert info.value.name == "decrypt_failed"
    with pytest.raises(ParseError):
        aead_open(keys, 7, b"header", sealed[:10])


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=40),
    st.integers(0, (1 << 62) - 1),
    st.binary(max_size=64),
    st.binary(max_size=80),
)
def test_aead_open_any_bytes(dcid: bytes, pn: int, header: bytes, ciphertext: bytes) -> None:
    """Any DCID, packet number, header and ciphertext: a plaintext or ParseError, nothing else."""
    keys = initial_keys(QuicVersion.V1, dcid)
    with contextlib.suppress(ParseError):
        aead_open(keys, pn, header, ciphertext)
