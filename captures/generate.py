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

from craft import (  # noqa: E402
    Trace,
    app_data,
    client_hello,
    ecb_encrypt,
    http_request,
    http_response,
    media_plaintext,
    rtp,
    server_hello_certificate,
    write_pcap,
    zoom_media,
)

HERE = Path(__file__).resolve().parent
CLIENT = "192.168.1.20"
RESOLVER = "192.168.1.1"


def zoom_2020() -> Trace:
    """A 2020-style Zoom meeting: DNS + TLS signalling to zoom.us, UDP 8801 media in Zoom's
    framing with AES-128-ECB payloads, and the iOS Facebook SDK calling graph.facebook.com."""
    t = Trace()
    rnd = random.Random(2020)
    t.dns(CLIENT, RESOLVER, "zoom.us", [("A", "170.114.52.2")])
    t.tcp_session(CLIENT, 50100, "170.114.52.2", 443,
                  [(True, client_hello("zoom.us", seed=11)),
                   (False, server_hello_certificate(seed=12)),
                   (True, app_data(300, 13)), (False, app_data(2000, 14))])
    t.dns(CLIENT, RESOLVER, "zoomsjc144-195-44-2mmr.zoom.us", [("A", "144.195.44.2")],
          sport=53001)
    key = bytes(range(16))
    ssrc_a, ssrc_v = 0x1A2B3C4D, 0x5E6F7A8B
    for i in range(240):
        audio = ecb_encrypt(key, media_plaintext(rnd, 160))
        t.udp(CLIENT, 60000, "144.195.44.2", 8801,
              zoom_media("audio", i, i, rtp(1000 + i, i * 960, ssrc_a, 112, audio)), dt=0.02)
        if i % 2 == 0:
            video = ecb_encrypt(key, media_plaintext(rnd, 1008))
            t.udp(CLIENT, 60001, "144.195.44.2", 8801,
                  zoom_media("video", i, i // 2, rtp(5000 + i // 2, i * 1500, ssrc_v, 98, video,
                                                     marker=i % 10 == 0)), dt=0.001)
        if i % 3 == 0:
            back = ecb_encrypt(key, media_plaintext(rnd, 160))
            t.udp("144.195.44.2", 8801, CLIENT, 60000,
                  zoom_media("audio", i, i, rtp(9000 + i, i * 960, 0x0BADF00D, 112, back),
                             to_zoom=False), dt=0.001)
    t.dns(CLIENT, RESOLVER, "graph.facebook.com",
          [("CNAME", "star.c10r.facebook.com"), ("A", "157.240.1.1")], sport=53002)
    t.tcp_session(CLIENT, 50200, "157.240.1.1", 443,
                  [(True, client_hello("graph.facebook.com", seed=21)),
                   (False, server_hello_certificate(seed=22)),
                   (True, app_data(700, 23)), (False, app_data(400, 24))])
    t.tcp_session(CLIENT, 50300, "93.184.216.34", 80,
                  [(True, http_request("example.com", "/status")),
                   (False, http_response(200, b"fine"))])
    return t


SCENARIOS: dict[str, Callable[[], Trace]] = {
    "zoom-2020": zoom_2020,
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
