"""HAR and mitmproxy importers: rows with provenance, clear errors, hostile documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.errors import InputError
from inspector.privacy.request import RequestSeen
from inspector.schema.http import HttpRow
from inspector.source.har import parse_har, read_har

HAR = Path(__file__).resolve().parents[2] / "captures" / "telemetry.har"


def test_har_rows_have_provenance() -> None:
    rows = read_har(str(HAR))
    http = [r for r in rows if isinstance(r, HttpRow)]
    seen = [r for r in rows if isinstance(r, RequestSeen)]
    assert len(http) == len(seen) == 2
    assert {r.source for r in http} == {"har:telemetry.har"}
    assert http[0].host == "graph.facebook.com" and http[0].inside_tls and http[0].status == 200
    assert http[0].uid == http[1].uid and http[0].uid.startswith("H")
    assert seen[1].request.body.startswith(b"{")


def test_bad_har_is_an_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.har"
    bad.write_text("{}")
    with pytest.raises(InputError, match="not a HAR"):
        read_har(str(bad))
    with pytest.raises(InputError, match="cannot read"):
        read_har(str(tmp_path / "missing.har"))


def test_mitm_without_package_or_bad_file(tmp_path: Path) -> None:
    from inspector.source.mitm import read_mitm

    bad = tmp_path / "x.mitm"
    bad.write_bytes(b"garbage")
    with pytest.raises(InputError):
        read_mitm(str(bad))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(json_values, max_size=5))
def test_hostile_entries_never_raise(entries: list) -> None:  # type: ignore[type-arg]
    doc = json.dumps({"log": {"entries": entries}})
    rows = parse_har(doc, "h.har")
    assert len(rows) <= 2 * len(entries)
