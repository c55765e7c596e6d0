"""The TLS and DTLS dissectors over the shared real-capture corpus, compared with tshark.

Skips cleanly when ../shared/captures/real is absent. Acceptance bar: every server name tshark
found in a TLS (DTLS) ClientHello is a ``sni`` of our ``tls`` (``dtls``) table for that capture.
"""

from __future__ import annotations

import functools
import shutil
import subprocess

import pytest

from inspector.dissect import dtls, tls
from inspector.pipeline import flow_views
from inspector.schema.base import Row
from inspector.schema.dtls import DtlsRow
from inspector.schema.tls import TlsRow
from inspector.schema.weird import WeirdRow
from tests.conftest import expected_rows, real_dir, split_list


@functools.cache
def _rows(path: str) -> tuple[Row, ...]:
    out: list[Row] = []
    for view in flow_views(str(real_dir() / path)):
        out.extend(tls.dissect(view))
        out.extend(dtls.dissect(view))
    return tuple(out)


def _tls(path: str) -> list[TlsRow]:
    return [r for r in _rows(path) if isinstance(r, TlsRow)]


def _dtls(path: str) -> list[DtlsRow]:
    return [r for r in _rows(path) if isinstance(r, DtlsRow)]


def test_every_tshark_sni_is_a_tls_sni() -> None:
    misses: list[str] = []
    checked = 0
    for row in expected_rows():
        names = split_list(row["snis_by_tshark"])
        if not names:
            continue
        found = {r.sni for r in _tls(row["path"])}
        misses += [f"{row['path']}: {n}" for n in names if n not in found]
        checked += len(names)
    assert checked > 100
    assert misses == []


def test_every_tshark_dtls_sni_is_a_dtls_sni() -> None:
    misses: list[str] = []
    for row in expected_rows():
        names = split_list(row["dtls_snis"])
        found = {r.sni for r in _dtls(row["path"])} if names else set()
        misses += [f"{row['path']}: {n}" for n in names if n not in found]
    assert misses == []


def test_every_capture_with_client_hellos_gives_rows() -> None:
    empty = [
        r["path"]
        for r in expected_rows()
        if (int(r["n_clienthello_tcp"] or 0) and not _tls(r["path"]))
        or (int(r["n_clienthello_dtls"] or 0) and not _dtls(r["path"]))
    ]
    assert empty == []


def test_real_ech_outer_name() -> None:
    """zeek tls13-ech.pcap: real ECH to Cloudflare, outer SNI cloudflare-ech.com."""
    rows = _tls("zeek/traces/tls/tls13-ech.pcap")
    assert len(rows) == 2
    assert {(r.sni, r.ech, r.version) for r in rows} == {("cloudflare-ech.com", "real", "TLS 1.3")}


def test_esni_with_plain_sni() -> None:
    rows = _tls("ndpi/pcap/tls_esni_sni_both.pcap")
    assert {r.ech for r in rows} == {"esni"}
    assert all(r.sni.endswith(".com") for r in rows)


def test_chrome_kyber_key_share_is_post_quantum() -> None:
    (row,) = _tls("zeek/traces/tls/chrome-1250-tls-x25519-kyber.pcap")
    assert row.sni == "lh3.google.com" and row.post_quantum is True
    assert row.key_share_groups.split(";")[0] == "X25519Kyber768Draft00"
    assert row.ech == "grease"


def test_ja4_known_answer_from_suricata_verify() -> None:
    """OISF/suricata-verify tests/ja4-tls-quic/test.yaml: tls.ja4 of this capture's TCP flow."""
    (row,) = _tls("suricata-verify/ja4-tls-quic/input.pcap")
    assert row.sni == "cloudflare-quic.com"
    assert row.ja4 == "t13d1516h2_8daaf6152771_e5627efa2ab1"


def test_handshakes_fragmented_across_records() -> None:
    rows = _tls("wireshark/captures/tls-fragmented-handshakes.pcap.gz")
    assert len(rows) == 100
    assert all(r.client_hello_complete for r in rows)


def test_client_hello_with_a_missing_segment() -> None:
    """ndpi tls_missing_ch_frag.pcap: the second CH segment was never captured."""
    rows = _rows("ndpi/pcap/tls_missing_ch_frag.pcap")
    (row,) = [r for r in rows if isinstance(r, TlsRow)]
    assert row.client_hello_complete is False and row.ja4 == ""
    assert row.server_hello_seen and row.version == "TLS 1.3"
    assert [r.name for r in rows if isinstance(r, WeirdRow)] == ["tls_incomplete_client_hello"]


def test_dtls_certificate_fragments() -> None:
    rows = _dtls("ndpi/pcap/dtls_certificate_fragments.pcap")
    subjects = {r.cert_subject for r in rows}
    assert "CN=*.discord.gg" in subjects
    assert any("opera-mini.net" in s for s in subjects)
    assert all(r.client_hello_complete for r in rows)


def test_webrtc_self_signed_dtls_certificate() -> None:
    (row,) = _dtls("zeek/traces/tls/webrtc-stun.pcap")
    assert row.cert_subject == "CN=a" and row.cert_self_signed is True
    assert row.srtp_profile == "SRTP_AES128_CM_HMAC_SHA1_80" and row.null_srtp is False


def test_udt_dtls_cookie_exchange() -> None:
    (row,) = _dtls("wireshark/captures/udt-dtls.pcapng.gz")
    assert row.sni == "ws-test" and row.hello_verify_request is True
    assert row.cert_self_signed is True and row.handshake_complete is True


@pytest.mark.parametrize(
    ("path", "version"),
    [
        ("zeek/traces/tls/dtls13-wolfssl.pcap", "DTLS 1.3"),
        ("zeek/traces/tls/dtls1_0.pcap", "DTLS 1.0"),
    ],
)
def test_dtls_versions(path: str, version: str) -> None:
    rows = _dtls(path)
    assert rows and rows[0].version == version


def test_sslv2_client_hello_and_weak_negotiation() -> None:
    (row,) = _tls("ndpi/pcap/google_ssl.pcap")
    assert row.client_hello_complete and row.version == "TLS 1.0"
    assert row.weak == "TLS<=1.1;RC4;static-RSA"
    assert row.cert_subject.startswith("CN=www.google.com")


TSHARK_JA3_CAPTURES = (
    "ndpi/pcap/teams.pcap",
    "ndpi/pcap/stun_zoom.pcapng",
    "ndpi/pcap/dtls_certificate_fragments.pcap",
    "zeek/traces/tls/chrome-1250-tls-x25519-kyber.pcap",
    "zeek/traces/tls/tls13-ech.pcap",
    "wireshark/captures/udt-dtls.pcapng.gz",
)


@pytest.mark.parametrize("path", TSHARK_JA3_CAPTURES)
def test_ja3_strings_agree_with_tshark(path: str) -> None:
    """Differential check: Wireshark's tls/dtls.handshake.ja3_full for every ClientHello."""
    tshark = shutil.which("tshark")
    if tshark is None:
        pytest.skip("tshark not installed")
    out = subprocess.run(
        [
            tshark,
            "-r",
            str(real_dir() / path),
            "-Y",
            "tls.handshake.type==1 || dtls.handshake.type==1",
            "-T",
            "fields",
            "-e",
            "tls.handshake.ja3_full",
            "-e",
            "dtls.handshake.ja3_full",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    theirs = {x for line in out.splitlines() for x in line.split("\t") if x}
    ours = {r.ja3 for r in _rows(path) if isinstance(r, TlsRow | DtlsRow) and r.ja3}
    assert ours and ours == theirs
