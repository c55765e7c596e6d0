"""inspector.attribute.local: which addresses are on the capturing host's side."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.attribute.local import is_local


@pytest.mark.parametrize(
    "addr",
    [
        "10.0.0.1",
        "10.255.255.255",
        "172.16.0.1",
        "172.31.255.254",
        "192.168.1.10",
        "100.64.0.1",  # CGNAT, RFC 6598
        "100.127.255.254",
        "127.0.0.1",
        "169.254.10.20",
        "224.0.0.251",  # mDNS multicast
        "239.255.255.250",  # SSDP
        "255.255.255.255",
        "0.0.0.0",
        "::1",
        "::",
        "fc00::1",
        "fd12:3456:789a::1",
        "fe80::1",
        "fe80::1%en0",
        "[fe80::1]",
        "ff02::fb",
        "::ffff:192.168.1.1",
    ],
)
def test_local(addr: str) -> None:
    assert is_local(addr) is True


@pytest.mark.parametrize(
    "addr",
    [
        "8.8.8.8",
        "170.114.0.1",
        "52.112.0.1",
        "172.32.0.1",  # just outside 172.16/12
        "172.15.255.255",
        "100.128.0.1",  # just outside 100.64/10
        "192.0.2.1",  # documentation ranges stay remote for synthetic captures
        "198.51.100.7",
        "203.0.113.9",
        "2001:db8::1",
        "2001:4860:4860::8888",
        "::ffff:8.8.8.8",
        "not-an-address",
        "",
        "1.2.3",
    ],
)
def test_not_local(addr: str) -> None:
    assert is_local(addr) is False


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=50), st.ip_addresses().map(str)))
def test_any_text_gives_a_bool(text: str) -> None:
    assert isinstance(is_local(text), bool)
