"""STUN and RTP dissectors over the shared real-capture corpus (skipped when it is absent).

Reference numbers: tshark 4.0.17 counts from EXPECTED.csv notes (``stun=N``, ``rtp=N``) and the
Princeton-Cabernet zoom-analysis unit tests (``test/zoom_pkt_test.cc``: the first packet of
``zoom_test.pcap`` is P2P video, SSRC 16778241, PT 98, RTP seq 26342).

Corpus facts these tests pin down (see the report of the media dissectors):
* ``ndpi/pcap/zoom.pcap`` carries no Zoom audio/video RTP at all: its 2019 flows hold hellos,
  keep-alives (SFU types 3/4), bandwidth probes (inner type 0x15 filled with 01/02/03 bytes) and
  one RTCP sender report (frame 689) in the 2019/2020 layout (inner header at offset 1); its
  2023 GTP-tunnelled flow holds type-0x15 control messages only.
* No capture in the corpus carries Zoom screen-share RTP (inner 0x0D/0x1E); screen share is
  covered by synthetic packets in test_zoom.py.
* ``signal.pcap`` has no STUN (TLS only); ``stun_zoom.pcapng`` is the Zoom *web* client, whose
  STUN is generic WebRTC with no vendor attribute.
"""

from __future__ import annotations

import functools
from collections import Counter

from inspector.dissect import rtp, stun
from inspector.schema.rtp import RtpRow
from inspector.schema.stun import StunRow
from tests.conftest import real_dir

PRINCETON = "other/Princeton-Cabernet_zoom-analysis/test_data/zoom_test.pcap"


@functools.cache
def rows(path: str) -> tuple[tuple[StunRow, ...], tuple[RtpRow, ...], tuple[object, ...]]:
    from inspector.pipeline import flow_views

    s: list[StunRow] = []
    r: list[RtpRow] = []
    w: list[object] = []
    for view in flow_views(str(real_dir() / path)):
        for row in [*stun.dissect(view), *rtp.dissect(view)]:
            (s if isinstance(row, StunRow) else r if isinstance(row, RtpRow) else w).append(row)
    return tuple(s), tuple(r), tuple(w)


def stun_rows(path: str) -> tuple[StunRow, ...]:
    return rows(path)[0]


def rtp_rows(path: str) -> tuple[RtpRow, ...]:
    return rows(path)[1]


def test_princeton_zoom_test_pcap_streams() -> None:
    got = {(r.framing, r.zoom_media, r.ssrc, r.payload_types) for r in rtp_rows(PRINCETON)}
    assert {
        ("zoom_p2p", "video", "01000401", "98"),  # zoom_pkt_test.cc: SSRC 16778241, PT 98
        ("zoom_p2p", "audio", "01000402", "99"),
        ("zoom_server", "video", "01000801", "98"),
        ("zoom_server", "audio", "01000802", "99"),
    } <= got
    first = next(r for r in rtp_rows(PRINCETON) if r.ssrc == "01000401" and r.payload_types == "98")
    assert first.frame == 1 and first.header_ext_profiles == "0xbede"
    assert {r.zoom_media for r in rtp_rows(PRINCETON)} == {"audio", "video"}
    assert rows(PRINCETON)[2] == ()


def test_ndpi_zoom_pcap_2019_rtcp_and_classic_stun() -> None:
    media = rtp_rows("ndpi/pcap/zoom.pcap")
    assert [(r.framing, r.zoom_media, r.kind, r.frame, r.ssrc, r.payload_types) for r in media] == [
        ("zoom_server_2020", "rtcp", "rtcp", 689, "01000402", "200;202")
    ]
    st = stun_rows("ndpi/pcap/zoom.pcap")
    assert len(st) == 18  # tshark: classicstun=18
    assert all(r.classic and r.vendor_hint == "zoom" for r in st)


def test_zoom_p2p_audio_and_video() -> None:
    media = rtp_rows("ndpi/pcap/zoom_p2p.pcapng")
    kinds = Counter((r.framing, r.zoom_media) for r in media)
    assert kinds[("zoom_p2p", "video")] >= 2 and kinds[("zoom_p2p", "audio")] >= 1
    audio = next(r for r in media if r.zoom_media == "audio")
    assert (audio.ts_step, audio.clock_guess, audio.codec_guess) == (960, "48000", "")
    assert all(r.ecb_suspected is False for r in media if r.kind == "rtp")
    st = stun_rows("ndpi/pcap/zoom_p2p.pcapng")
    # tshark's classicstun=133 also counts STUN quoted inside ICMP errors; 80 are real messages.
    assert len(st) == 80 and {r.vendor_hint for r in st} == {"zoom"}


def test_stun_vendor_hints() -> None:
    expected = {
        "ndpi/pcap/teams.pcap": "microsoft",
        "ndpi/pcap/skype-conference-call.pcap": "microsoft",
        "ndpi/pcap/whatsapp_login_call.pcap": "whatsapp",
        "ndpi/pcap/whatsapp_voice_and_message.pcap": "whatsapp",
        "ndpi_4.2/pcap/stun_facebook.pcapng": "facebook",
        "ndpi/pcap/stun.pcap": "facebook",
        "ndpi/pcap/viber.pcap": "viber",
        "ndpi/pcap/stun_dtls_rtp.pcapng": "google",
    }
    for path, vendor in expected.items():
        hints = Counter(r.vendor_hint for r in stun_rows(path))
        assert hints[vendor] >= 1, (path, hints)


def test_stun_counts_match_tshark() -> None:
    # (path, tshark stun + classicstun from EXPECTED.csv notes)
    for path, n in (
        ("ndpi/pcap/stun_zoom.pcapng", 24),
        ("ndpi/pcap/stun_tcp_multiple_msgs_same_pkt.pcap", 6),
        ("ndpi/pcap/teams.pcap", 63),
        ("ndpi/pcap/skype-conference-call.pcap", 14),
        ("ndpi/pcap/stun_classic.pcap", 2),
        ("ndpi_4.2/pcap/hangout.pcap", 19),
        ("zeek/traces/tls/webrtc-stun.pcap", 10),
    ):
        assert len(stun_rows(path)) == n, path
    tcp = stun_rows("ndpi/pcap/stun_tcp_multiple_msgs_same_pkt.pcap")
    assert {r.transport for r in tcp} == {"tcp"}
    # tshark counts 43 (stun) + relayed messages we also report as framing "stun_data".
    relayed = stun_rows("ndpi/pcap/stun_dtls_rtp.pcapng")
    assert len([r for r in relayed if r.framing != "stun_data"]) == 43


def test_stun_zoom_web_client_and_signal() -> None:
    web = stun_rows("ndpi/pcap/stun_zoom.pcapng")
    assert {(r.method, r.vendor_hint) for r in web} == {("binding", "")}
    assert all(r.username for r in web if r.msg_class == "request")
    assert stun_rows("ndpi/pcap/signal.pcap") == ()


def test_plain_rtp_streams() -> None:
    media = rtp_rows("ndpi/pcap/rtp.pcapng")
    plain = [r for r in media if r.framing == "plain"]
    assert sum(r.packets for r in plain if r.kind == "rtp") == 69  # tshark: rtp=69 (UDP)
    # and the 17 one-way TCP segments 40252 -> 5000 framed as RFC 4571 (2-byte length 04bc,
    # then RTP PT 8): tshark -Y 'tcp.port==40252 && tcp.len>0' counts 17
    tcp = [r for r in media if r.framing == "rfc4571"]
    assert [(r.packets, r.codec_guess) for r in tcp] == [(17, "g711")]
    assert {r.framing for r in media} == {"plain", "rfc4571"}
    assert any(r.codec_guess == "opus" and "TOC 0x48" in r.codec_evidence for r in media)


def test_discord_and_whatsapp_rtp() -> None:
    discord = [r for r in rtp_rows("ndpi/pcap/discord.pcap") if r.kind == "rtp"]
    assert len(discord) >= 20 and sum(r.packets for r in discord) >= 0.9 * 273
    assert all(r.codec_guess == "" for r in discord)  # payloads are encrypted
    whatsapp = rtp_rows("ndpi/pcap/whatsapp_login_call.pcap")
    assert sum(r.packets for r in whatsapp if r.kind == "rtp") == 629  # tshark: rtp=629


def test_teams_srtcp_and_srtp_tag() -> None:
    media = rtp_rows("ndpi/pcap/teams.pcap")
    control = [r for r in media if r.kind == "rtcp"]
    assert control and {(r.srtcp_e_flag, r.srtcp_index_offset) for r in control} == {("1", -14)}
    assert {r.srtp_tag_guess for r in media if r.kind == "rtp"} == {"10"}


def test_turn_over_tcp_relayed_media() -> None:
    media = rtp_rows("ndpi/pcap/stun_dtls_rtp.pcapng")
    assert {r.framing for r in media} == {"plain", "stun_data"}


def test_no_weird_rows_on_media_captures() -> None:
    for path in (
        "ndpi/pcap/teams.pcap",
        "ndpi/pcap/stun.pcap",
        "ndpi/pcap/zoom_p2p.pcapng",
        "ndpi/pcap/whatsapp_login_call.pcap",
        "ndpi/pcap/skype-conference-call.pcap",
        "ndpi/pcap/discord.pcap",
    ):
        assert rows(path)[2] == (), path


# --- issue 11: codec structure on real VoIP captures, RTCP readability, DTLS inside TURN -----


def _tshark(args: list[str]) -> list[list[str]]:
    import shutil
    import subprocess

    if shutil.which("tshark") is None:
        import pytest

        pytest.skip("tshark not installed")
    out = subprocess.run(
        ["tshark", *args], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def test_sip_pcap_g711_alaw_silence_has_no_tag_but_too_few_packets() -> None:
    # tshark: 9 RTP packets, PT 8 (PCMA), 160-byte payloads of d5/55 (A-law silence).
    got = _tshark(["-r", str(real_dir() / "ndpi/pcap/sip.pcap"), "-d", "udp.port==30000,rtp",
                   "-Y", "rtp.p_type==8", "-T", "fields", "-e", "rtp.ssrc"])  # fmt: skip
    (row,) = [r for r in rtp_rows("ndpi/pcap/sip.pcap") if r.kind == "rtp"]
    assert row.packets == len(got) == 9 and row.payload_types == "8"
    assert row.codec_match_fraction == 1.0 and row.srtp_tag_guess == "0"
    assert row.srtp_tag_plausible is False
    assert row.codec_guess == ""  # the codec is named from 10 packets on (TAXONOMY)


def test_sip_pcap_rtcp_only_flow_is_readable() -> None:
    got = _tshark(["-r", str(real_dir() / "ndpi/pcap/sip.pcap"), "-d", "udp.port==30001,rtcp",
                   "-Y", "rtcp", "-T", "fields", "-e", "rtcp.pt"])  # fmt: skip
    assert got == [["200,202,203"]]  # tshark decodes SR + SDES + BYE
    (row,) = [r for r in rtp_rows("ndpi/pcap/sip.pcap") if r.kind == "rtcp"]
    assert row.payload_types == "200;202;203" and row.rtcp_readable_fraction == 1.0
    assert row.srtcp_e_flag == ""


def test_rtp_pcapng_h263_and_opus_pass_their_structure_tests() -> None:
    rows = {(r.payload_types, r.codec_guess) for r in rtp_rows("ndpi/pcap/rtp.pcapng")}
    assert ("34", "h263") in rows and ("111", "opus") in rows
    h263 = next(r for r in rtp_rows("ndpi/pcap/rtp.pcapng") if r.codec_guess == "h263")
    assert h263.codec_match_fraction == 1.0 and "RFC 2190" in h263.codec_evidence


def test_dtls_handshake_inside_turn_over_tcp_is_seen() -> None:
    from inspector.dissect import dtls
    from inspector.pipeline import flow_views
    from inspector.schema.dtls import DtlsRow

    rows = [
        r
        for v in flow_views(str(real_dir() / "ndpi/pcap/stun_dtls_rtp.pcapng"))
        for r in dtls.dissect(v)
        if isinstance(r, DtlsRow)
    ]
    tcp = [r for r in rows if r.carried_in == "tcp_stun_data"]
    assert len(tcp) == 1 and tcp[0].use_srtp == "selected"
    assert tcp[0].srtp_profile == "SRTP_AES128_CM_HMAC_SHA1_80"
    assert tcp[0].cert_subject == "CN=WebRTC" and tcp[0].client_hello_complete
    plain = [r for r in rows if r.carried_in == "plain"]
    # tshark decodes the plain UDP handshake: ClientHello in frame 3, server flight in frame 4
    got = _tshark(["-r", str(real_dir() / "ndpi/pcap/stun_dtls_rtp.pcapng"), "-Y",
                   "dtls.handshake.type==1", "-T", "fields", "-e", "frame.number"])  # fmt: skip
    assert [int(x[0]) for x in got] == [plain[0].frame] == [3]
