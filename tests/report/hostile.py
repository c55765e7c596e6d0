"""A small capture whose names are hostile to spreadsheets, browsers and terminals.

Built with the project's own ``captures/craft.py`` (imported by path; it is not a package):
a Zoom signalling flow opens a session, then DNS answers, TLS SNIs and HTTP Hosts carry a
spreadsheet formula, HTML/script, terminal escape codes, other control bytes and bidi overrides.
"""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

__all__ = [
    "BIDI",
    "ESCAPE",
    "FORMULA",
    "HOSTILE",
    "SCRIPT",
    "craft",
    "write_hostile_capture",
    "write_no_session_capture",
]

ROOT = Path(__file__).resolve().parents[2]

FORMULA = '=HYPERLINK("http://evil","x")'
SCRIPT = "<script>alert(1)</script>"
ESCAPE = "\x1b[31mred"
BIDI = "evil\u202etxt.exe"
#: Every hostile name, as it is written into the packets.
HOSTILE = (
    FORMULA,
    SCRIPT,
    ESCAPE,
    "+SUM(1+1)",
    "-2+3",
    "@SUM(1)",
    "\tTAB=1+1",
    "bell\x07back\x08cr\rnul",
    "[bold red]markup[/]",
    BIDI,
    "Ünïcødé-名前",
)
CLIENT = "192.168.1.20"
RESOLVER = "192.168.1.1"


@cache
def craft() -> ModuleType:
    """``captures/craft.py`` loaded as a module."""
    path = ROOT / "captures" / "craft.py"
    spec = importlib.util.spec_from_file_location("inspector_test_craft", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def write_hostile_capture(path: Path) -> Path:
    """Write the hostile capture to ``path`` (deterministic bytes) and return it."""
    c = craft()
    t = c.Trace()
    t.dns(CLIENT, RESOLVER, "zoom.us", [("A", "170.114.52.2")])
    t.tcp_session(
        CLIENT,
        50100,
        "170.114.52.2",
        443,
        [
            (True, c.client_hello("zoom.us", seed=11)),
            (False, c.server_hello_certificate(seed=12)),
            (True, c.app_data(300, 13)),
            (False, c.app_data(2000, 14)),
        ],
    )
    for i, name in enumerate(HOSTILE):
        server = f"93.184.{216 + i // 200}.{10 + i % 200}"
        # HTTP Host: becomes a plaintext_http finding whose destination is the name.
        t.tcp_session(
            CLIENT,
            51000 + i,
            server,
            80,
            [(True, c.http_request(name, "/" + name)), (False, c.http_response(200, b"ok"))],
        )
        # TLS SNI to another address (flows.server_name, tls.server_name).
        t.tcp_session(
            CLIENT,
            52000 + i,
            f"198.51.100.{10 + i}",
            443,
            [(True, c.client_hello(name, seed=30 + i)), (False, c.server_hello_certificate())],
        )
    # A DNS answer for a hostile owner name (label bytes; the dissector escapes them).
    t.dns(
        CLIENT,
        RESOLVER,
        "x.example",
        [("CNAME", FORMULA + ".example"), ("A", "203.0.113.5")],
        sport=53010,
    )
    c.write_pcap(str(path), t.frames)
    return path


def write_no_session_capture(path: Path) -> Path:
    """No conferencing app at all: one DNS lookup and one cleartext HTTP request."""
    c = craft()
    t = c.Trace()
    t.dns(CLIENT, RESOLVER, "example.com", [("A", "93.184.216.34")])
    t.tcp_session(
        CLIENT,
        50300,
        "93.184.216.34",
        80,
        [(True, c.http_request(SCRIPT, "/")), (False, c.http_response(200, b"ok"))],
    )
    c.write_pcap(str(path), t.frames)
    return path
