"""inspector.attribute.country: RIR registration country (offline iptocc), not a geolocation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.attribute import country
from inspector.attribute.country import REGISTRY_COUNTRY_DOC, registry_country, registry_version


@pytest.mark.parametrize(
    ("addr", "expected"),
    [
        ("170.114.0.1", "US"),  # Zoom, registered with ARIN
        ("52.112.0.1", "US"),  # Microsoft Teams
        ("8.8.8.8", "US"),
        ("1.1.1.1", "AU"),  # APNIC-registered although anycast everywhere
        ("2001:4860:4860::8888", "US"),
        ("::ffff:8.8.8.8", "US"),  # IPv4-mapped IPv6 is looked up as IPv4
        ("[2001:4860:4860::8888]", "US"),
    ],
)
def test_registered_country(addr: str, expected: str) -> None:
    assert registry_country(addr) == expected


@pytest.mark.parametrize(
    "addr",
    [
        "10.0.0.1",
        "192.168.1.1",
        "172.16.0.1",
        "100.64.0.1",
        "127.0.0.1",
        "169.254.1.1",
        "192.0.2.1",  # documentation
        "224.0.0.251",  # multicast
        "255.255.255.255",
        "0.0.0.0",
        "::1",
        "fe80::1%eth0",
        "fd00::1",
        "2001:db8::1",
        "ff02::1",
        "not an address",
        "",
    ],
)
def test_private_reserved_or_invalid_is_empty(addr: str) -> None:
    assert registry_country(addr) == ""


def test_documentation_says_registry_not_geolocation() -> None:
    for doc in (country.__doc__ or "", REGISTRY_COUNTRY_DOC):
        assert "RIR" in doc or "Regional Internet Registry" in doc
        assert "NOT a geolocation" in doc
    assert registry_version().startswith("iptocc ")


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=60), st.ip_addresses().map(str)))
def test_any_text_gives_empty_or_two_letters(text: str) -> None:
    result = registry_country(text)
    assert result == "" or (len(result) == 2 and result.isupper())
