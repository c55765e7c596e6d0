"""Local helper web servers: websites that talk to a service on the user's own machine.

Desktop apps (Zoom's macOS helper in 2019 is the known case) run a small web server on a local
port so that web pages can launch or drive them. A browser marks each request a web page makes
with the page's ``Origin`` (fetch/XHR, POST) and usually its ``Referer`` (also plain ``<img>`` or
``<script>`` loads); on a capture of the loopback interface, such a request to a local port whose
Origin or Referer names another site means that site talked to the local service.

A request counts when all of these hold:

- it is cleartext HTTP over TCP (``http`` table) to a loopback address (127.0.0.0/8, ::1, their
  IPv4-mapped forms) or to the client's own address (source and destination the same host);
- the server port is not 80 or 443 (a regular web server the user opened on purpose);
- it is not a CONNECT and its target host (``http.host``) is empty, ``localhost``, a loopback
  address or the server's own address: requests naming another host are sent to a local proxy
  (mitmproxy, Burp...) on the user's behalf, not to a helper;
- its Origin, else also its Referer, is an http/https/ws/wss URL whose host is not local
  (localhost, ``*.localhost``, a loopback address, or the server's or client's own address).
  ``Origin: null`` (sandboxed frames, local files) and extension origins (``chrome-extension:``)
  name no website and are not counted.

One finding per (file, session, server address and port), with every site listed.
"""

from __future__ import annotations

import ipaddress
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from inspector.schema.findings import FindingRow
from inspector.schema.flows import FlowRow
from inspector.schema.http import HttpRow
from inspector.vocab import OUTSIDE

__all__ = [
    "STANDARD_WEB_PORTS",
    "WEB_SCHEMES",
    "helper_findings",
    "is_loopback_host",
    "site_of",
]

#: Ports of ordinary web servers: requests to them are not treated as helper calls.
STANDARD_WEB_PORTS = frozenset({80, 443})
#: Schemes of origins that are websites (extension and file origins are not).
WEB_SCHEMES = frozenset({"http", "https", "ws", "wss"})
MAX_FRAMES = 12
MAX_URI = 120


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip().strip("[]").split("%", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def is_loopback_host(host: str) -> bool:
    """True for ``localhost``, ``*.localhost`` and loopback addresses (no port, brackets ok)."""
    name = host.strip().rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    ip = _ip(name)
    return ip is not None and ip.is_loopback


def _same_addr(a: str, b: str) -> bool:
    ia, ib = _ip(a), _ip(b)
    return ia is not None and ia == ib


def _split_host(authority: str) -> str:
    """The host part of ``host[:port]`` / ``[v6]:port`` (lower case, no brackets)."""
    text = authority.strip().lower()
    if text.startswith("["):
        return text[1:].split("]", 1)[0]
    if text.count(":") == 1:
        return text.split(":", 1)[0]
    return text  # bare host, or an unbracketed IPv6 address


def site_of(value: str) -> str:
    """The web origin (``scheme://host[:port]``) an Origin or Referer value names, or ""."""
    text = value.strip()
    if not text or text.lower() == "null":
        return ""
    try:
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return ""
    if scheme not in WEB_SCHEMES or not host:
        return ""
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}" + (f":{port}" if port is not None else "")


@dataclass
class _Group:
    server_h: str
    server_p: int
    sites: dict[str, list[str]] = field(default_factory=dict)  # site -> headers that named it
    frames: list[int] = field(default_factory=list)
    flows: dict[str, FlowRow] = field(default_factory=dict)
    server_is_resp: dict[str, bool] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    requests_total: int = 0
    accepted: bool = False


def _is_local_pair(server_h: str, client_h: str) -> bool:
    return is_loopback_host(server_h) or _same_addr(server_h, client_h)


def _host_is_local(host: str, server_h: str, client_h: str) -> bool:
    if not host:
        return True
    name = _split_host(host)
    return is_loopback_host(name) or _same_addr(name, server_h) or _same_addr(name, client_h)


def _foreign_sites(row: HttpRow, server_h: str, client_h: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for header, value in (("Origin", _str(row.origin)), ("Referer", _str(row.referer))):
        site = site_of(value)
        if not site:
            continue
        host = urlsplit(site).hostname or ""
        if is_loopback_host(host) or _same_addr(host, server_h) or _same_addr(host, client_h):
            continue
        out.append((site, header))
    return out


def _status(row: HttpRow) -> int | None:
    value = row.status
    return int(value) if isinstance(value, numbers.Integral) else None


def _flag(value: Any) -> bool:
    """``client_is_orig`` as a bool; unknown (None, pandas NA) counts as True."""
    try:
        return True if value is None else bool(value)
    except TypeError:  # pandas.NA
        return True


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _request_frame(row: HttpRow) -> int:
    """The frame that completes the request head (where Wireshark shows it), else the first."""
    frames = [int(x) for x in _str(row.frames).split(";") if x.strip().isdigit()]
    return frames[-1] if frames else int(row.frame or 0)


def _text(row: HttpRow) -> str:
    uri = _str(row.uri)
    if len(uri) > MAX_URI:
        uri = uri[:MAX_URI] + "..."
    status = _status(row)
    shown = f"-> {status}" if status is not None else "no response seen"
    return f"{_str(row.method)} {uri} {shown}"


def _filter(g: _Group) -> str:
    ip = "ipv6" if ":" in g.server_h else "ip"
    return f"{ip}.addr=={g.server_h} && tcp.dstport=={g.server_p} && tcp.len>0"


def _dest(g: _Group) -> str:
    host = f"[{g.server_h}]" if ":" in g.server_h else g.server_h
    return f"{host}:{g.server_p}"


def _row(g: _Group, finding_id: str, session_id: str) -> FindingRow:
    flows = sorted(g.flows.values(), key=lambda f: (float(f.ts), str(f.uid)))
    f = flows[0]
    sites = list(g.sites)
    dest = _dest(g)
    who = f"A website ({sites[0]})" if len(sites) == 1 else f"Websites ({', '.join(sites)})"
    n = g.requests_total
    explanation = (
        f"{who} sent {n} request{'s' if n != 1 else ''} to a local helper service on {dest}; "
        "such services let web pages drive a desktop app, as Zoom's macOS helper did in 2019. "
        "The capture shows the requests were made, not what the service did with them."
    )
    evidence = "; ".join(f"{site} ({', '.join(hs)} header)" for site, hs in g.sites.items())
    evidence += f"; requests: {' | '.join(g.requests)}"
    if n > len(g.requests):
        evidence += f" | ...(+{n - len(g.requests)})"
    to_server = from_server = 0
    for x in flows:
        sent, got = int(x.orig_bytes), int(x.resp_bytes)
        if not g.server_is_resp[x.uid]:
            sent, got = got, sent
        to_server += sent
        from_server += got
    return FindingRow(
        finding_id=finding_id,
        session_id=session_id,
        app=f.app,
        finding="local_helper",
        severity="high" if g.accepted else "medium",
        destination=dest,
        organisation=f.organisation,
        category=f.category,
        country="",
        verdict=f.encryption_verdict,
        modifiers=f.encryption_modifiers,
        explanation=explanation,
        evidence=evidence,
        caveat=(
            "Origin and Referer are set by the browser and name the page that made the "
            "request (a local program could also forge them). The network view cannot tell "
            "which app runs the service or what it did; a 2xx status (severity high) shows "
            "it answered the website."
        ),
        confidence="high",
        evidence_filter=_filter(g),
        frames=";".join(str(x) for x in g.frames[:MAX_FRAMES]),
        file=_str(f.file),
        uids=";".join(str(x.uid) for x in flows),
        flows=len(flows),
        bytes_to_server=to_server,
        bytes_from_server=from_server,
        first_seen=min(float(x.ts) for x in flows),
        last_seen=max(float(x.ts) + float(x.duration_s) for x in flows),
        attribution_source=f.attribution_source,
    )


def helper_findings(
    flows_rows: Iterable[FlowRow], http_rows: Sequence[HttpRow], first_id: int = 1
) -> list[FindingRow]:
    """``local_helper`` findings from the ``flows`` and ``http`` rows (any stage: raw or assessed).

    Findings are numbered ``F{first_id:04d}`` on, in (file, session, destination) order.
    """
    by_uid = {f.uid: f for f in flows_rows}
    groups: dict[tuple[str, str, str, int], _Group] = {}
    for row in http_rows:
        f = by_uid.get(row.uid)
        if f is None or f.proto != "tcp" or _str(row.method).upper() == "CONNECT":
            continue
        server_is_resp = _flag(row.client_is_orig)
        if server_is_resp:
            server_h, server_p, client_h = f.resp_h, int(f.resp_p), f.orig_h
        else:
            server_h, server_p, client_h = f.orig_h, int(f.orig_p), f.resp_h
        if server_p in STANDARD_WEB_PORTS or not _is_local_pair(server_h, client_h):
            continue
        if not _host_is_local(_str(row.host), server_h, client_h):
            continue
        sites = _foreign_sites(row, server_h, client_h)
        if not sites:
            continue
        session = f.session_id or OUTSIDE
        g = groups.setdefault(
            (str(f.file), session, server_h, server_p), _Group(server_h, server_p)
        )
        for site, header in sites:
            headers = g.sites.setdefault(site, [])
            if header not in headers:
                headers.append(header)
        frame = _request_frame(row)
        if frame and frame not in g.frames:
            g.frames.append(frame)
        g.flows[f.uid] = f
        g.server_is_resp[f.uid] = server_is_resp
        g.requests_total += 1
        if len(g.requests) < 3:
            g.requests.append(_text(row))
        status = _status(row)
        if status is not None and 200 <= status < 300:
            g.accepted = True
    keys = sorted(groups, key=lambda k: (k[0], k[1] == "outside", k[1], _dest(groups[k])))
    return [_row(groups[k], f"F{i:04d}", k[1]) for i, k in enumerate(keys, first_id)]
