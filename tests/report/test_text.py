"""Display-safe text and the shared plain-language vocabulary."""

from __future__ import annotations

import unicodedata

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.report.text import (
    FINDING_TITLES,
    VERDICT_MEANING,
    VERDICT_SHORT,
    human_bytes,
    iso_time,
    plain,
    safe_text,
    verdict_phrase,
)


def test_safe_text_makes_controls_visible() -> None:
    assert safe_text("\x1b[31mred") == "\\x1b[31mred"
    assert safe_text("a\tb\nc\rd") == "a\\tb\\nc\\rd"
    assert safe_text("bell\x07\x00\x7f") == "bell\\x07\\x00\\x7f"
    assert safe_text("\x9b31m") == "\\x9b31m"  # C1 CSI, an escape on some terminals
    assert safe_text("evil\u202etxt.exe") == "evil\\u202etxt.exe"
    assert safe_text("a\u200bb\ufeff") == "a\\u200bb\\ufeff"
    assert safe_text("lone \udcff") == "lone \\udcff"
    assert safe_text("Ünïcødé-名前 zoom.us") == "Ünïcødé-名前 zoom.us"
    assert safe_text(None) == "" and safe_text(float("nan")) == "" and safe_text(12) == "12"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_safe_text_output_has_no_control_or_format_chars(text: str) -> None:
    out = safe_text(text)
    for ch in out:
        assert unicodedata.category(ch) not in ("Cc", "Cs", "Zl", "Zp"), repr(ch)
        assert ch not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"
    out.encode("utf-8")  # always encodable


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E)))
def test_safe_text_is_identity_on_printable_ascii(text: str) -> None:
    assert safe_text(text) == text


def test_plain_missing_values() -> None:
    assert plain(pd.NA) == "" and plain(None) == "" and plain(float("nan")) == ""
    assert plain("x\x1b") == "x\\x1b"


def test_human_bytes_and_time() -> None:
    assert human_bytes(0) == "0 bytes"
    assert human_bytes(999) == "999 bytes"
    assert human_bytes(1253) == "1.3 kB"
    assert human_bytes(209_806) == "209.8 kB"
    assert human_bytes(5_000_000_000_000) == "5000.0 GB"
    assert iso_time(1_700_000_000.001) == "2023-11-14 22:13:20.001 UTC"
    assert iso_time(None) == "" and iso_time(float("nan")) == ""


def test_vocabulary_is_complete() -> None:
    assert set(VERDICT_SHORT) == set(VERDICT_MEANING)
    from inspector.vocab import FindingKind, Verdict

    assert set(Verdict) == set(VERDICT_MEANING)
    assert set(FindingKind) == set(FINDING_TITLES)
    import dataclasses

    from inspector.schema.findings import FindingRow

    doc = next(f for f in dataclasses.fields(FindingRow) if f.name == "finding").metadata["doc"]
    for kind in FINDING_TITLES:
        assert kind in doc


def test_verdict_phrase_names_the_app() -> None:
    assert verdict_phrase("PROPRIETARY_ENCRYPTED", "Zoom") == (
        "encrypted with Zoom's own scheme; nothing shows it is end-to-end"
    )
    assert "vendor's" in verdict_phrase("HOP_BY_HOP_SRTP")
    assert verdict_phrase("", "Zoom") == "not assessed"


def test_plain_remembers_str_but_not_subclasses() -> None:
    """A ``str`` is made safe once and remembered; a subclass (Markup) takes the general path
    and gives the same text."""
    from markupsafe import Markup

    for _ in range(2):
        assert plain("evil\u202etxt") == "evil\\u202etxt"
        assert plain(Markup("evil\u202etxt")) == "evil\\u202etxt"
    assert plain("") == "" and plain(12) == "12" and plain(1.5) == "1.5"
