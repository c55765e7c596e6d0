"""Every detector rule matches its example and rejects its near miss (one case per rule)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.privacy.detectors import EXTINFO, RULES, detect_fields, luhn_ok
from inspector.privacy.request import Field

UUID = "5B9D2F6A-3C1E-4E8B-9F0A-7D6C5B4A3921"

#: rule name -> (matching field, near miss)
CASES: dict[str, tuple[Field, Field]] = {
    "advertising_id_key": (
        Field("q", "idfa", UUID),
        Field("q", "idfa", "0" * 8 + "-0000-0000-0000-" + "0" * 12),
    ),
    "vendor_id_key": (Field("q", "idfv", UUID), Field("q", "idfv", "not-a-uuid")),
    "android_id_key": (
        Field("q", "android_id", "9774d56d682e549c"),
        Field("q", "android_id", "9774d56d682e549"),
    ),
    "imei_luhn": (Field("q", "imei", "490154203237518"), Field("q", "imei", "490154203237519")),
    "mac_address": (Field("q", "x", "3c:22:fb:12:34:56"), Field("q", "x", "00:00:00:00:00:00")),
    "email_value": (Field("q", "x", "jane@example.org"), Field("q", "x", "jane@")),
    "phone_e164": (Field("q", "x", "+4915112345678"), Field("q", "x", "+49")),
    "phone_key": (Field("q", "phone", "030 1234567"), Field("q", "phone", "12")),
    "apple_model_identifier": (Field("q", "x", "iPhone12,1"), Field("q", "x", "iPhone")),
    "device_model_key": (Field("q", "device_model", "Pixel 4a"), Field("q", "device_model", "4")),
    "os_version_key": (Field("q", "os_version", "13.3.1"), Field("q", "os_version", "latest")),
    "os_version_text": (Field("q", "x", "Android 10"), Field("q", "x", "Android")),
    "iana_time_zone": (Field("q", "x", "Europe/Berlin"), Field("q", "x", "Europe/Atlantis")),
    "time_zone_key": (Field("q", "tz", "GMT+1"), Field("q", "tz", "Berlin")),
    "locale_key": (Field("q", "locale", "en_US"), Field("q", "locale", "english")),
    "carrier_mcc_mnc": (Field("q", "mcc_mnc", "262-01"), Field("q", "mcc_mnc", "999-01")),
    "carrier_name_key": (
        Field("q", "carrier_name", "ExampleTel"),
        Field("q", "carrier_name", "12"),
    ),
    "screen_size_text": (Field("q", "screen", "1170x2532"), Field("q", "screen", "big")),
    "screen_dimension_key": (Field("q", "screen_width", "828"), Field("q", "screen_width", "12")),
    "cpu_cores_key": (Field("q", "cpu_cores", "6"), Field("q", "cpu_cores", "0")),
    "disk_size_key": (Field("q", "free_disk_space", "42.5"), Field("q", "free_disk_space", "lots")),
    "memory_size_key": (Field("q", "ram_mb", "4096"), Field("q", "ram_mb", "some")),
    "latitude_longitude_key": (Field("q", "lat", "52.520008"), Field("q", "lat", "52.5")),
    "location_pair_key": (Field("q", "ll", "52.520,13.404"), Field("q", "ll", "52.5,13.4")),
}


def test_every_rule_has_a_case_and_a_source() -> None:
    assert {r.name for r in RULES} == set(CASES)
    assert all(r.doc and r.source for r in RULES)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_rule_matches_its_example_and_not_its_near_miss(rule) -> None:  # type: ignore[no-untyped-def]
    hit, miss = CASES[rule.name]
    assert rule.match(hit)
    assert not rule.match(miss)
    found = detect_fields([hit])
    assert found and found[0].category == rule.category


def test_facebook_extinfo_positions() -> None:
    values = [
        "i2",
        "app",
        "1",
        "1",
        "13.3.1",
        "iPhone12,1",
        "en_US",
        "GMT+1",
        "Tel",
        "828",
        "1792",
        "2.00",
        "6",
        "64",
        "42",
        "Europe/Berlin",
    ]
    fields = [Field(f"form:extinfo[{i}]", "extinfo", v, i, "extinfo") for i, v in enumerate(values)]
    hits = detect_fields(fields)
    assert {h.field: h.category for h in hits} == {
        f"form:extinfo[{i}]": c for i, c in EXTINFO.items()
    }
    assert all(h.detector == "facebook_extinfo" for h in hits)


def test_luhn() -> None:
    assert luhn_ok("79927398713") and not luhn_ok("79927398710") and not luhn_ok("12a")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30), st.text(max_size=80))
def test_detectors_never_raise(key: str, value: str) -> None:
    for hit in detect_fields([Field("q", key.lower(), value)]):
        assert hit.value == value
