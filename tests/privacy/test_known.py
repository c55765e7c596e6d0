"""Known values: the file format and every encoding they are looked for in."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import quote

import pytest

from inspector.privacy.known import match_known, parse_known_values
from inspector.privacy.request import Field

EMAIL = "Jane.Doe@Example.org"


def test_file_format() -> None:
    known = parse_known_values(f"# mine\n\nemail: {EMAIL}\n+49 151 1234 5678\nabc\n")
    assert [(k.label, k.value) for k in known] == [("email", EMAIL), ("", "+49 151 1234 5678")]


@pytest.mark.parametrize(
    ("value", "encoding"),
    [
        (f"prefix {EMAIL.lower()} suffix", "plain"),
        (quote(EMAIL), "url"),
        (base64.b64encode(EMAIL.encode()).decode(), "base64"),
        (base64.urlsafe_b64encode(EMAIL.encode()).decode().rstrip("="), "base64"),
        (hashlib.md5(EMAIL.lower().encode()).hexdigest(), "md5"),
        (hashlib.sha1(EMAIL.encode()).hexdigest().upper(), "sha1"),
        (hashlib.sha256(EMAIL.lower().encode()).hexdigest(), "sha256"),
    ],
)
def test_encodings(value: str, encoding: str) -> None:
    (kv,) = parse_known_values(f"email: {EMAIL}")
    assert [(k.label, enc) for k, enc in match_known(Field("f", "k", value), [kv])] == [
        ("email", encoding)
    ]


def test_phone_digits_hashed() -> None:
    (kv,) = parse_known_values("+49 151 1234 5678")
    digest = hashlib.sha256(b"+4915112345678").hexdigest()
    assert match_known(Field("f", "ph", digest), [kv])[0][1] == "sha256"


def test_other_values_do_not_match() -> None:
    (kv,) = parse_known_values(f"email: {EMAIL}")
    assert match_known(Field("f", "k", "john@example.org"), [kv]) == []
    assert match_known(Field("f", "k", hashlib.sha256(b"other").hexdigest()), [kv]) == []
