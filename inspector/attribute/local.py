"""Is an address on the capturing host's side of the network? Used to pick the client end.

Local means: RFC 1918 private (10/8, 172.16/12, 192.168/16), shared CGNAT space 100.64/10
(RFC 6598), loopback (127/8, ::1), link-local (169.254/16, fe80::/10), unique local fc00::/7
(RFC 4193), multicast (224/4, ff00::/8), limited broadcast 255.255.255.255, and the unspecified
or "this network" sources (0.0.0.0/8, ::) used by DHCP and DAD. IPv4-mapped IPv6 addresses
(``::ffff:10.0.0.1``) are judged by their IPv4 address. Documentation ranges (192.0.2/24...) are
NOT local, so synthetic captures can use them as remote servers.
"""

from __future__ import annotations

import functools
import ipaddress

__all__ = ["LOCAL_NETWORKS", "is_local", "parse_addr"]

LOCAL_NETWORKS: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "224.0.0.0/4",
        "255.255.255.255/32",
        "0.0.0.0/8",
        "::1/128",
        "::/128",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    )
)
_V4 = tuple(n for n in LOCAL_NETWORKS if n.version == 4)
_V6 = tuple(n for n in LOCAL_NETWORKS if n.version == 6)


def parse_addr(addr: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address in ``addr`` (text; surrounding brackets allowed), or None if it is not one."""
    text = addr.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@functools.lru_cache(maxsize=1 << 16)
def is_local(addr: str) -> bool:
    """True when ``addr`` (text, brackets and zone id allowed) is local; False if invalid."""
    ip = parse_addr(addr)
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        else:
            return any(ip in n for n in _V6)
    return any(ip in n for n in _V4)
