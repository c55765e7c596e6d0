"""inspector.attribute.psl: eTLD+1 from the offline Public Suffix List, IP literals."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.attribute.psl import is_ip_literal, psl_version, registrable_domain


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("www.example.co.uk", "example.co.uk"),
        ("example.com", "example.com"),
        ("graph.facebook.com", "facebook.com"),
        ("us04web.zoom.us", "zoom.us"),
        ("mobile.pipe.aria.microsoft.com", "microsoft.com"),
        ("EXAMPLE.COM.", "example.com"),
        ("_dmarc.example.com", "example.com"),
        ("d1234.cloudfront.net", "cloudfront.net"),  # ICANN section only by default
        ("a.b.c.kawasaki.jp", "b.c.kawasaki.jp"),  # wildcard rule *.kawasaki.jp
        ("city.kawasaki.jp", "city.kawasaki.jp"),  # exception rule !city.kawasaki.jp
        ("bücher.de", "bücher.de"),
        ("www.xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("host.unknowntld", "host.unknowntld"),  # unknown TLDs count as public suffixes
    ],
)
def test_registrable_domain(name: str, expected: str) -> None:
    assert registrable_domain(name) == expected


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".",
        "com",
        "co.uk",
        "localhost",
        "1.2.3.4",
        "[2001:db8::1]",
        "::1",
        "1.2.3",  # numeric "TLD"
        "a..b.com",
        ".example.com",
        "exa mple.com",
        "ex\x00.com",
        "a/b.com",
        "x" * 64 + ".com",  # label longer than 63
        ("a." * 127) + "com",  # longer than 253
    ],
)
def test_no_registrable_domain(name: str) -> None:
    assert registrable_domain(name) == ""


def test_private_section_on_request() -> None:
    assert registrable_domain("d1234.cloudfront.net", private=True) == "d1234.cloudfront.net"
    assert registrable_domain("cloudfront.net", private=True) == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.2.3.4", True),
        ("1.2.3.4.", True),
        ("::1", True),
        ("[2001:db8::1]", True),
        ("fe80::1%eth0", True),
        ("::ffff:1.2.3.4", True),
        ("1.2.3", False),
        ("256.1.1.1", False),
        ("example.com", False),
        ("", False),
    ],
)
def test_is_ip_literal(text: str, expected: bool) -> None:
    assert is_ip_literal(text) is expected


def test_version_names_the_package() -> None:
    assert psl_version().startswith("publicsuffixlist ")


_LABEL = st.from_regex(r"[a-z0-9][a-z0-9-]{0,10}", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_string(text: str) -> None:
    result = registrable_domain(text)
    assert isinstance(result, str)
    if result:
        assert text.strip().lower().rstrip(".").endswith(result)


@settings(max_examples=200, deadline=None)
@given(st.lists(_LABEL, min_size=1, max_size=5), st.sampled_from(["com", "co.uk", "org", "de"]))
def test_result_is_a_suffix_of_the_name(labels: list[str], suffix: str) -> None:
    name = ".".join([*labels, suffix])
    result = registrable_domain(name)
    assert result == f"{labels[-1]}.{suffix}"
    assert registrable_domain(result) == result
