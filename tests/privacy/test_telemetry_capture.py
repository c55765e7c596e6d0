"""End to end on the project's own TLS 1.3 telemetry capture (scripts/make_telemetry_capture.py):
every planted category reaches ``data_shared`` for Meta as a third party and nothing else does;
the HAR and mitmproxy files of the same requests give the same rows."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

import pytest

from inspector.api import analyze
from inspector.config import Config
from inspector.privacy import REQUESTS, data_shared
from inspector.source.har import read_har
from inspector.source.known_values import privacy_settings

ROOT = Path(__file__).resolve().parents[2]
CAPTURES = ROOT / "captures"
KEYS = str(CAPTURES / "telemetry-tls13.keys")
KNOWN = str(CAPTURES / "telemetry-known-values.txt")


def _script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "make_telemetry_capture", ROOT / "scripts" / "make_telemetry_capture.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PLANTED = _script().PLANTED


def _shared(path: str, **kw: object):  # type: ignore[no-untyped-def]
    return analyze(CAPTURES / path, Config(known_values=(KNOWN,), **kw)).data_shared  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("capture", "keylogs"),
    [("telemetry-tls13.pcapng", (KEYS,)), ("telemetry-tls13-dsb.pcapng", ())],
)
def test_planted_categories_and_nothing_else(capture: str, keylogs: tuple[str, ...]) -> None:
    shared = _shared(capture, keylogs=keylogs)
    assert set(shared["category"]) == PLANTED
    assert set(shared["destination"]) == {"graph.facebook.com"}
    assert set(shared["party"]) == {"third"}
    assert all("Meta" in org for org in shared["organisation"])
    assert all(shared["frames"].str.len() > 0)
    known = shared[shared["category"] == "known_value"]
    assert list(known["detector"]) == ["known_value:sha256:email"]


def test_values_masked_unless_asked() -> None:
    masked = _shared("telemetry-tls13.pcapng", keylogs=(KEYS,))
    ad = masked[masked["category"] == "advertising_id"]["value"].iloc[0]
    assert ad.startswith("5B") and "*" in ad and "9D2F" not in ad
    shown = _shared("telemetry-tls13.pcapng", keylogs=(KEYS,), show_values=True)
    ad = shown[shown["category"] == "advertising_id"]["value"].iloc[0]
    assert ad == "5B9D2F6A-3C1E-4E8B-9F0A-7D6C5B4A3921"


def test_without_keys_nothing_is_read() -> None:
    result = analyze(CAPTURES / "telemetry-tls13.pcapng", Config(known_values=(KNOWN,)))
    assert result.data_shared.empty and result.http.empty


def _key(rows) -> Counter[tuple[str, ...]]:  # type: ignore[no-untyped-def]
    return Counter((r.destination, r.category, r.field, r.detector, r.value) for r in rows)


def _imported(rows: list) -> Counter[tuple[str, ...]]:  # type: ignore[type-arg]
    settings = privacy_settings([KNOWN], False)
    return _key(data_shared([r for r in rows if r.TABLE == REQUESTS], [], settings))


def test_har_and_mitmproxy_give_the_same_rows() -> None:
    captured = _shared("telemetry-tls13.pcapng", keylogs=(KEYS,))
    expected = Counter(
        tuple(row)
        for row in captured[["destination", "category", "field", "detector", "value"]].itertuples(
            index=False
        )
    )
    assert _imported(read_har(str(CAPTURES / "telemetry.har"))) == expected
    pytest.importorskip("mitmproxy")
    from inspector.source.mitm import read_mitm

    assert _imported(read_mitm(str(CAPTURES / "telemetry.mitm"))) == expected


def test_internal_request_records_stay_internal() -> None:
    result = analyze(CAPTURES / "telemetry-tls13.pcapng", Config(keylogs=(KEYS,)))
    assert list(result.flows["service"]) == ["tls;http-in-tls"]
    assert REQUESTS not in result.summary["tables"] and REQUESTS not in result.tables
    assert set(result.http["inside_tls"]) == {True}
