"""Generate the project's synthetic captures (``python captures/generate.py``).

Each scenario is a deterministic function returning frames; regenerating gives identical bytes
(a test checks it). The captures model what the tool must recognise; they are not recordings of
real clients, and each scenario's docstring says what it stands for.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from craft import (
    Trace,
    app_data,
    channel_data,
    client_hello,
    dtls_client_hello,
    dtls_finish,
    dtls_server_flight,
    ecb_encrypt,
    gcm_encrypt,
    http_request,
    http_response,
    media_plaintext,
    opus_payload,
    quic_client_hello,
    quic_initial,
    rtp,
    server_hello_certificate,
    srtp,
    stun_message,
    write_pcap,
    xor_address,
    zoom_media,
)

HERE = Path(__file__).resolve().parent
CLIENT = "192.168.1.20"
RESOLVER = "192.168.1.1"


def zoom_2020(with_sdk: bool = True) -> Trace:
    """A 2020-style Zoom meeting: DNS + TLS signalling to zoom.us, UDP 8801 media in Zoom's
    framing with AES-128-ECB payloads, and the iOS Facebook SDK calling graph.facebook.com
    (``with_sdk=False``: the same meeting from the app version without the SDK)."""
    t = Trace()
    rnd = random.Random(2020)
    t.dns(CLIENT, RESOLVER, "zoom.us", [("A", "170.114.52.2")])
    t.tcp_session(
        CLIENT,
        50100,
        "170.114.52.2",
        443,
        [
            (True, client_hello("zoom.us", seed=11)),
            (False, server_hello_certificate(seed=12)),
            (True, app_data(300, 13)),
            (False, app_data(2000, 14)),
        ],
    )
    t.dns(CLIENT, RESOLVER, "zoomsjc144-195-44-2mmr.zoom.us", [("A", "144.195.44.2")], sport=53001)
    key = bytes(range(16))
    ssrc_a, ssrc_v = 0x1A2B3C4D, 0x5E6F7A8B
    for i in range(240):
        audio = ecb_encrypt(key, media_plaintext(rnd, 160))
        t.udp(
            CLIENT,
            60000,
            "144.195.44.2",
            8801,
            zoom_media("audio", i, i, rtp(1000 + i, i * 960, ssrc_a, 112, audio)),
            dt=0.02,
        )
        if i % 2 == 0:
            video = ecb_encrypt(key, media_plaintext(rnd, 1008))
            t.udp(
                CLIENT,
                60001,
                "144.195.44.2",
                8801,
                zoom_media(
                    "video",
                    i,
                    i // 2,
                    rtp(5000 + i // 2, i * 1500, ssrc_v, 98, video, marker=i % 10 == 0),
                ),
                dt=0.001,
            )
        if i % 4 == 0:
            tile = ecb_encrypt(key, media_plaintext(rnd, 800))
            t.udp(
                CLIENT,
                60002,
                "144.195.44.2",
                8801,
                zoom_media("screen", i, i // 4, rtp(7000 + i // 4, i * 750, 0x3C3C3C3C, 99, tile)),
                dt=0.001,
            )
        if i % 3 == 0:
            back = ecb_encrypt(key, media_plaintext(rnd, 160))
            t.udp(
                "144.195.44.2",
                8801,
                CLIENT,
                60000,
                zoom_media(
                    "audio", i, i, rtp(9000 + i, i * 960, 0x0BADF00D, 112, back), to_zoom=False
                ),
                dt=0.001,
            )
    if with_sdk:  # the Facebook SDK (removed from Zoom for iOS in March 2020)
        t.dns(
            CLIENT,
            RESOLVER,
            "graph.facebook.com",
            [("CNAME", "star.c10r.facebook.com"), ("A", "157.240.1.1")],
            sport=53002,
        )
        t.tcp_session(
            CLIENT,
            50200,
            "157.240.1.1",
            443,
            [
                (True, client_hello("graph.facebook.com", seed=21)),
                (False, server_hello_certificate(seed=22)),
                (True, app_data(700, 23)),
                (False, app_data(400, 24)),
            ],
        )
    t.tcp_session(
        CLIENT,
        50300,
        "93.184.216.34",
        80,
        [(True, http_request("example.com", "/status")), (False, http_response(200, b"fine"))],
    )
    return t


def _tls(
    t: Trace,
    server: str,
    port: int,
    name: str,
    seed: int,
    sport: int,
    up: int = 600,
    down: int = 1500,
) -> None:
    t.tcp_session(
        CLIENT,
        sport,
        server,
        port,
        [
            (True, client_hello(name, seed=seed)),
            (False, server_hello_certificate(seed=seed + 1)),
            (True, app_data(up, seed + 2)),
            (False, app_data(down, seed + 3)),
        ],
    )


def zoom_current() -> Trace:
    """A current Zoom meeting: TLS signalling, UDP 8801 media in Zoom's framing whose payloads
    are AES-256-GCM sealed with a per-packet nonce (what Zoom documents since client 5.0)."""
    t = Trace()
    rnd = random.Random(5)
    t.dns(CLIENT, RESOLVER, "us05web.zoom.us", [("A", "170.114.10.77")])
    _tls(t, "170.114.10.77", 443, "us05web.zoom.us", 31, 50110)
    key = bytes(range(32))
    for i in range(240):
        audio = gcm_encrypt(key, i, media_plaintext(rnd, 160))
        t.udp(
            CLIENT,
            61000,
            "170.114.10.78",
            8801,
            zoom_media("audio", i, i, rtp(2000 + i, i * 960, 0x11223344, 112, audio)),
            dt=0.02,
        )
        if i % 2 == 0:
            video = gcm_encrypt(key, 100_000 + i, media_plaintext(rnd, 1008))
            t.udp(
                CLIENT,
                61001,
                "170.114.10.78",
                8801,
                zoom_media("video", i, i // 2, rtp(7000 + i // 2, i * 1500, 0x55667788, 98, video)),
                dt=0.001,
            )
    return t


def _webrtc_call(
    t: Trace, peer: str, peer_port: int, local_port: int, seed: int, p2p: bool, packets: int = 220
) -> None:
    """STUN checks, a DTLS-SRTP handshake and SRTP audio between CLIENT and ``peer``."""
    rnd = random.Random(seed)
    user = b"a1b2:c3d4"
    for k in range(3):
        tx = bytes(rnd.getrandbits(8) for _ in range(12))
        attrs = [(0x0006, user), (0x0024, b"\x6e\x7f\x1e\xff"), (0x802A, b"\x00" * 8)]
        if k == 2:
            attrs.append((0x0025, b""))
        t.udp(CLIENT, local_port, peer, peer_port, stun_message(1, 0, tx, attrs))
        t.udp(
            peer,
            peer_port,
            CLIENT,
            local_port,
            stun_message(1, 2, tx, [(0x0020, xor_address(CLIENT, local_port))]),
            dt=0.02,
        )
        if p2p:  # both ends check in a peer-to-peer call
            tx2 = bytes(rnd.getrandbits(8) for _ in range(12))
            t.udp(
                peer,
                peer_port,
                CLIENT,
                local_port,
                stun_message(1, 0, tx2, [(0x0006, b"c3d4:a1b2"), (0x8029, b"\x00" * 8)]),
            )
            t.udp(
                CLIENT,
                local_port,
                peer,
                peer_port,
                stun_message(1, 2, tx2, [(0x0020, xor_address(peer, peer_port))]),
                dt=0.02,
            )
    t.udp(CLIENT, local_port, peer, peer_port, dtls_client_hello(seed))
    t.udp(peer, peer_port, CLIENT, local_port, dtls_server_flight(seed + 1), dt=0.03)
    t.udp(CLIENT, local_port, peer, peer_port, dtls_finish(seed + 2, 1))
    t.udp(peer, peer_port, CLIENT, local_port, dtls_finish(seed + 3, 3), dt=0.02)
    for i in range(packets):
        t.udp(
            CLIENT,
            local_port,
            peer,
            peer_port,
            srtp(3000 + i, i * 960, 0xA0A0A0A0, 111, rnd, 70 + rnd.randrange(40)),
            dt=0.02,
        )
        if i % 2 == 0:
            t.udp(
                peer,
                peer_port,
                CLIENT,
                local_port,
                srtp(8000 + i, i * 960, 0xB0B0B0B0, 111, rnd, 70 + rnd.randrange(40)),
                dt=0.001,
            )


def webrtc_sfu() -> Trace:
    """A Jitsi Meet call through the public meet.jit.si videobridge: ICE-lite SFU (only the
    client sends checks), DTLS-SRTP with the bridge, SRTP audio."""
    t = Trace()
    t.dns(CLIENT, RESOLVER, "meet.jit.si", [("A", "198.51.100.50")])
    _tls(t, "198.51.100.50", 443, "meet.jit.si", 41, 50120)
    _webrtc_call(t, "198.51.100.50", 10000, 51000, 42, p2p=False)
    return t


def webrtc_p2p() -> Trace:
    """A WebRTC call straight to another participant: both ends run ICE checks, DTLS-SRTP is
    negotiated between the two browsers; no vendor server is on the media path."""
    t = Trace()
    _webrtc_call(t, "203.0.113.77", 49170, 52000, 51, p2p=True)
    return t


def rtp_cleartext() -> Trace:
    """Unencrypted RTP: Opus audio in both directions between two SIP phones (plain RTP/AVP)."""
    t = Trace()
    rnd = random.Random(61)
    peer = "198.51.100.80"
    for i in range(250):
        t.udp(
            CLIENT,
            40000,
            peer,
            40002,
            rtp(
                100 + i,
                4000 + i * 960,
                0xC0FFEE01,
                111,
                opus_payload(rnd, 60 + rnd.randrange(30)),
                marker=i == 0,
            ),
            dt=0.02,
        )
        t.udp(
            peer,
            40002,
            CLIENT,
            40000,
            rtp(
                900 + i,
                7000 + i * 960,
                0xC0FFEE02,
                111,
                opus_payload(rnd, 60 + rnd.randrange(30)),
                marker=i == 0,
            ),
            dt=0.001,
        )
    return t


def teams_turn() -> Trace:
    """Microsoft Teams media through a Microsoft transport relay: TURN Allocate with Microsoft's
    STUN attributes, a channel bound to the far end, SRTP carried in ChannelData."""
    t = Trace()
    rnd = random.Random(71)
    relay = "52.113.40.10"
    t.dns(CLIENT, RESOLVER, "teams.microsoft.com", [("A", "52.113.194.132")])
    _tls(t, "52.113.194.132", 443, "teams.microsoft.com", 72, 50130)
    ms = [(0x8070, b"\x00\x00\x00\x06"), (0x8055, b"\x00\x00\x00\x01")]
    tx = bytes(rnd.getrandbits(8) for _ in range(12))
    t.udp(CLIENT, 50000, relay, 3478, stun_message(3, 0, tx, [(0x0019, b"\x11\x00\x00\x00"), *ms]))
    t.udp(
        relay,
        3478,
        CLIENT,
        50000,
        stun_message(
            3,
            2,
            tx,
            [
                (0x0016, xor_address("52.113.40.10", 52000)),
                (0x0020, xor_address("198.51.100.9", 50000)),
                (0x000D, b"\x00\x00\x02\x58"),
                *ms,
            ],
        ),
        dt=0.03,
    )
    tx = bytes(rnd.getrandbits(8) for _ in range(12))
    t.udp(
        CLIENT,
        50000,
        relay,
        3478,
        stun_message(
            9,
            0,
            tx,
            [(0x000C, b"\x40\x00\x00\x00"), (0x0012, xor_address("52.114.7.20", 3480)), *ms],
        ),
    )
    t.udp(relay, 3478, CLIENT, 50000, stun_message(9, 2, tx, ms), dt=0.03)
    for i in range(220):
        t.udp(
            CLIENT,
            50000,
            relay,
            3478,
            channel_data(0x4000, srtp(500 + i, i * 960, 0x7E7E7E7E, 111, rnd, 80)),
            dt=0.02,
        )
        if i % 2 == 0:
            t.udp(
                relay,
                3478,
                CLIENT,
                50000,
                channel_data(0x4000, srtp(600 + i, i * 960, 0x6D6D6D6D, 111, rnd, 80)),
                dt=0.001,
            )
    return t


def meet_quic() -> Trace:
    """Google Meet: signalling over QUIC to meet.google.com (ClientHello spread over two
    Initials), media as DTLS-SRTP to a Google Meet media address (142.250.82.0/24)."""
    t = Trace()
    t.dns(CLIENT, RESOLVER, "meet.google.com", [("A", "142.250.74.46")], qtype="A")
    ch = quic_client_hello("meet.google.com", 81)
    dcid, scid = bytes.fromhex("8a3c5e7f9b1d2e4f"), bytes.fromhex("c1c2c3c4")
    half = len(ch) // 2
    t.udp(CLIENT, 55000, "142.250.74.46", 443, quic_initial(dcid, scid, ch[half:], 1, half))
    t.udp(CLIENT, 55000, "142.250.74.46", 443, quic_initial(dcid, scid, ch[:half], 2, 0))
    rnd = random.Random(82)
    for _ in range(12):
        t.udp(
            "142.250.74.46",
            443,
            CLIENT,
            55000,
            bytes([0x40 | rnd.getrandbits(6)]) + bytes(rnd.getrandbits(8) for _ in range(300)),
            dt=0.02,
        )
    _webrtc_call(t, "142.250.82.35", 19305, 54000, 83, p2p=False)
    return t


def telemetry_heavy() -> Trace:
    """A conferencing client that talks to many third parties during a Zoom meeting: analytics,
    attribution, crash reporting, ads and feature flags, some only looked up in DNS."""
    t = Trace()
    t.dns(CLIENT, RESOLVER, "zoom.us", [("A", "170.114.52.2")])
    _tls(t, "170.114.52.2", 443, "zoom.us", 91, 50140)
    rnd = random.Random(92)
    for i in range(60):
        t.udp(
            CLIENT,
            62000,
            "170.114.52.9",
            8801,
            zoom_media(
                "audio",
                i,
                i,
                rtp(
                    10 + i,
                    i * 960,
                    0x01020304,
                    112,
                    gcm_encrypt(bytes(32), i, media_plaintext(rnd, 160)),
                ),
            ),
            dt=0.02,
        )
    trackers = [
        ("app-measurement.com", "142.250.1.10"),
        ("app.adjust.com", "185.151.204.8"),
        ("o1234.ingest.sentry.io", "34.120.195.249"),
        ("googleads.g.doubleclick.net", "142.250.1.20"),
        ("app.launchdarkly.com", "52.1.1.1"),
        ("api.mixpanel.com", "35.190.25.25"),
    ]
    for k, (name, addr) in enumerate(trackers):
        t.dns(CLIENT, RESOLVER, name, [("A", addr)], sport=53100 + k)
        _tls(t, addr, 443, name, 100 + k * 10, 50200 + k, up=900 + 100 * k)
    t.dns(CLIENT, RESOLVER, "graph.facebook.com", [("A", "157.240.1.1")], sport=53199)
    t.dns(CLIENT, RESOLVER, "api2.branch.io", [("A", "3.3.3.3")], sport=53198)
    return t


SCENARIOS: dict[str, Callable[[], Trace]] = {
    "zoom-2020": zoom_2020,
    "zoom-current": zoom_current,
    "webrtc-sfu": webrtc_sfu,
    "webrtc-p2p": webrtc_p2p,
    "rtp-cleartext": rtp_cleartext,
    "teams-turn": teams_turn,
    "meet-quic": meet_quic,
    "telemetry-heavy": telemetry_heavy,
    # for `inspector compare`: zoom-2020 is the app version with the SDK, this one without it
    "zoom-2020-no-sdk": lambda: zoom_2020(with_sdk=False),
}
#: The capture the README's quick start analyses.
SAMPLE = "zoom-2020"


def generate(outdir: Path = HERE) -> list[Path]:
    written = []
    for name, build in SCENARIOS.items():
        path = outdir / f"{name}.pcap"
        write_pcap(str(path), build().frames)
        written.append(path)
    return written


if __name__ == "__main__":
    for p in generate(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(p)
