"""Request fields, data_shared rows, masking and destinations filled after attribution."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.privacy import (
    Destination,
    PrivacySettings,
    Request,
    RequestSeen,
    data_shared_rows,
    fill_destinations,
    mask,
    parse_known_values,
    request_fields,
)
from tests.factories import flow

UUID = "5B9D2F6A-3C1E-4E8B-9F0A-7D6C5B4A3921"


def _seen(req: Request) -> RequestSeen:
    return RequestSeen("C1", 1.0, "4;5", "HTTP/2", 3, req)


def test_fields_from_every_part_of_a_request() -> None:
    body = json.dumps({"device": {"model": "Pixel 4a", "tags": ["a", {"lat": "52.520008"}]}})
    req = Request(
        "POST",
        "t.example",
        "/e?idfa=" + UUID,
        (("Cookie", "sid=1; em=jane@example.org"), ("X-Locale", "de_DE"), ("User-Agent", "ua")),
        body.encode(),
        "application/json",
    )
    fields = {f.field: f.value for f in request_fields(req)}
    assert fields["query:idfa"] == UUID
    assert fields["cookie:em"] == "jane@example.org"
    assert fields["header:x-locale"] == "de_DE"
    assert "header:user-agent" not in fields
    assert fields["json:device.model"] == "Pixel 4a"
    assert fields["json:device.tags[1].lat"] == "52.520008"


def test_rows_are_masked_and_carry_the_context() -> None:
    req = Request("GET", "t.example", "/e?idfa=" + UUID + "&email=jane@example.org", ())
    rows = data_shared_rows(_seen(req), PrivacySettings())
    assert {(r.category, r.field) for r in rows} == {
        ("advertising_id", "query:idfa"),
        ("email", "query:email"),
    }
    assert all(r.uid == "C1" and r.frames == "4;5" and r.stream_id == 3 for r in rows)
    assert all(UUID not in r.value and "jane" not in r.value for r in rows)
    shown = data_shared_rows(_seen(req), PrivacySettings(show_values=True))
    assert UUID in {r.value for r in shown}


def test_known_value_in_nested_json_is_reported_once() -> None:
    known = tuple(parse_known_values("email: jane@example.org"))
    form = "ud=" + json.dumps({"em": "jane@example.org"})
    req = Request("POST", "t", "/", (), form.encode(), "application/x-www-form-urlencoded")
    rows = [
        r
        for r in data_shared_rows(_seen(req), PrivacySettings(known))
        if r.category == "known_value"
    ]
    assert [(r.field, r.detector) for r in rows] == [("form:ud.em", "known_value:plain:email")]


def test_mask() -> None:
    assert mask("abc") == "***" and mask("0123456789") == "01******89"


def test_fill_destinations() -> None:
    req = Request("GET", "t.example", "/?idfa=" + UUID, ())
    rows = data_shared_rows(_seen(req), PrivacySettings())
    third = flow(
        uid="C1", server_name="graph.facebook.com", organisation="Meta", category="social_sdk"
    )
    (row,) = fill_destinations(rows, [third])
    assert (row.destination, row.organisation, row.party) == ("graph.facebook.com", "Meta", "third")
    (row,) = fill_destinations(rows, {"C1": Destination("zoom.us", "Zoom", "first")})
    assert row.party == "first"
    assert fill_destinations(rows, {}) == rows


@settings(max_examples=200, deadline=None)
@given(
    st.text(max_size=60),
    st.binary(max_size=300),
    st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain", ""]),
)
def test_never_raises(path: str, body: bytes, ctype: str) -> None:
    req = Request("POST", "h", path, (("Cookie", path),), body, ctype)
    data_shared_rows(_seen(req), PrivacySettings(tuple(parse_known_values("secret-value"))))


def test_deeply_nested_json_does_not_recurse_without_bound() -> None:
    deep = b"[" * 60000 + b"]" * 60000
    req = Request("POST", "h", "/?x=" + "[" * 5000, (), deep, "application/json")
    rows = data_shared_rows(_seen(req), PrivacySettings(tuple(parse_known_values("[[[[["))))
    assert all(r.category == "known_value" for r in rows)
