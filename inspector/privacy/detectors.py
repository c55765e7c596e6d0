"""Detectors of personal and device data in request fields: an ordered rule table.

Each :class:`Rule` names a category, a precise predicate on one field (its key and value) and
the source the rule rests on. Key patterns match the whole key (``fullmatch``), case-insensitive,
after the field name was reduced to its last component (``extinfo[5]`` -> position 5 of
``extinfo``). Rules that match on the value alone (e-mail, MAC, E.164 phone, IANA time zone,
Apple model identifiers) are listed as such. The first rule that matches a field wins.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from inspector.privacy.request import Field

__all__ = ["EXTINFO", "RULES", "Hit", "Rule", "detect_fields", "luhn_ok"]


@dataclass(frozen=True, slots=True)
class Hit:
    category: str
    field: str
    detector: str
    value: str


@dataclass(frozen=True, slots=True)
class Rule:
    name: str  #: detector name written to ``data_shared.detector``
    category: str
    match: Callable[[Field], bool]
    doc: str  #: the rule in words
    source: str  #: what the rule rests on


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX16 = re.compile(r"[0-9a-fA-F]{16}")
_MAC = re.compile(r"[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}")
# WHATWG HTML, "valid e-mail address" (section 4.10.5.1.5)
_EMAIL = re.compile(
    r"[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+"
)
_E164 = re.compile(r"\+[1-9]\d{7,14}")
_APPLE_MODEL = re.compile(
    r"(?:iPhone|iPad|iPod|iWatch|Watch|AppleTV|MacBookPro|MacBookAir|Mac)\d{1,2},\d{1,2}"
)
_OS_VERSION_TEXT = re.compile(
    r"(?:iOS|iPadOS|Android|Windows|Mac OS X|macOS|watchOS) ?\d+(?:[._]\d+)*"
)
_VERSION = re.compile(r"\d{1,3}(?:[._]\d{1,4}){0,3}")
_LOCALE = re.compile(r"[a-z]{2,3}(?:[-_][A-Z][a-z]{3})?[-_](?:[A-Z]{2}|\d{3})")
_MCC_MNC = re.compile(r"[2-7]\d{2}[-_ ]?\d{2,3}")
_SCREEN = re.compile(r"\d{3,5} ?[x×*] ?\d{3,5}")
_INT = re.compile(r"\d{1,15}")
_NUMBER = re.compile(r"\d{1,15}(?:\.\d{1,6})?")
_COORD = re.compile(r"-?\d{1,3}\.\d{3,12}")
_TZ_OFFSET = re.compile(r"(?:GMT|UTC)?[+-]\d{1,2}(?::?\d{2})?|[+-]?\d{1,5}")


def _key(pattern: str) -> Callable[[Field], bool]:
    rx = re.compile(pattern, re.IGNORECASE)
    return lambda f: bool(rx.fullmatch(f.key))


def _both(key: Callable[[Field], bool], value: re.Pattern[str]) -> Callable[[Field], bool]:
    return lambda f: key(f) and bool(value.fullmatch(f.value.strip()))


def luhn_ok(digits: str) -> bool:
    """The Luhn check (ISO/IEC 7812-1 annex B; the IMEI check digit, 3GPP TS 23.003 annex B)."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _uuid_not_zero(f: Field) -> bool:
    v = f.value.strip()
    return bool(_UUID.fullmatch(v)) and v.strip("0-") != ""


@cache
def _zones() -> frozenset[str]:
    import zoneinfo

    return frozenset(z for z in zoneinfo.available_timezones() if "/" in z)


def _iana_zone(f: Field) -> bool:
    return f.value.strip() in _zones()


def _imei(f: Field) -> bool:
    v = f.value.strip()
    return len(v) == 15 and luhn_ok(v)


def _mac(f: Field) -> bool:
    v = f.value.strip().lower().replace("-", ":")
    return bool(_MAC.fullmatch(f.value.strip())) and v not in (
        "00:00:00:00:00:00",
        "ff:ff:ff:ff:ff:ff",
    )


def _screen_dim(f: Field) -> bool:
    v = f.value.strip()
    return v.isdigit() and 100 <= int(v) <= 10000


def _cores(f: Field) -> bool:
    v = f.value.strip()
    return v.isdigit() and 1 <= int(v) <= 512


def _coord(f: Field) -> bool:
    v = f.value.strip()
    if not _COORD.fullmatch(v):
        return False
    limit = 90 if f.key.startswith("lat") else 180
    return abs(float(v)) <= limit


def _latlon_pair(f: Field) -> bool:
    parts = [p.strip() for p in f.value.split(",")]
    return (
        len(parts) == 2
        and all(_COORD.fullmatch(p) for p in parts)
        and abs(float(parts[0])) <= 90
        and abs(float(parts[1])) <= 180
    )


def _text_value(f: Field) -> bool:
    v = f.value.strip()
    return 1 < len(v) <= 64 and not v.isdigit()


#: The ordered rule table.
RULES: tuple[Rule, ...] = (
    Rule(
        "advertising_id_key",
        "advertising_id",
        lambda f: (
            _key(r"idfa|gaid|aaid|adid|ad_?id|ifa|advertis(?:ing|er)_?id|google_?ad_?id")(f)
            and _uuid_not_zero(f)
        ),
        "key idfa/gaid/aaid/adid/ad_id/ifa/advertising_id/advertiser_id with a non-zero UUID",
        "Apple ASIdentifierManager.advertisingIdentifier and Google Play services "
        "AdvertisingIdClient.Info.getId() are UUIDs; the Facebook SDK sends `advertiser_id`",
    ),
    Rule(
        "vendor_id_key",
        "vendor_id",
        lambda f: _key(r"idfv|identifier_?for_?vendor|vendor_?id")(f) and _uuid_not_zero(f),
        "key idfv/identifierForVendor/vendor_id with a non-zero UUID",
        "Apple UIDevice.identifierForVendor is a UUID",
    ),
    Rule(
        "android_id_key",
        "android_id",
        _both(_key(r"android_?id|ssaid"), _HEX16),
        "key android_id/ssaid with 16 hexadecimal digits",
        "Android Settings.Secure.ANDROID_ID: a 64-bit number as a hex string",
    ),
    Rule(
        "imei_luhn",
        "imei",
        lambda f: _key(r"imei|device_?imei|meid")(f) and _imei(f),
        "key imei/device_imei/meid with 15 digits whose last is the Luhn check digit",
        "3GPP TS 23.003 section 6.2.1 and annex B (IMEI check digit)",
    ),
    Rule(
        "mac_address",
        "mac_address",
        _mac,
        "any value of six hex octets separated by ':' or '-' (not all 0 or all f)",
        "IEEE 802 EUI-48 canonical notation",
    ),
    Rule(
        "email_value",
        "email",
        lambda f: bool(_EMAIL.fullmatch(f.value.strip())),
        "any value that is a valid e-mail address",
        "WHATWG HTML, valid e-mail address (section 4.10.5.1.5)",
    ),
    Rule(
        "phone_e164",
        "phone_number",
        lambda f: bool(_E164.fullmatch(f.value.strip().replace(" ", ""))),
        "any value in E.164 form: '+', then 8 to 15 digits",
        "ITU-T E.164",
    ),
    Rule(
        "phone_key",
        "phone_number",
        lambda f: (
            _key(r"phone|phone_?number|msisdn|mobile|tel")(f)
            and 7 <= len(re.sub(r"[ ()-]", "", f.value.strip())) <= 15
            and re.sub(r"[ ()-]", "", f.value.strip()).lstrip("+").isdigit()
        ),
        "key phone/phone_number/msisdn/mobile/tel with 7 to 15 digits",
        "ITU-T E.164 (at most 15 digits)",
    ),
    Rule(
        "apple_model_identifier",
        "device_model",
        lambda f: bool(_APPLE_MODEL.fullmatch(f.value.strip())),
        "any value that is an Apple hardware model identifier such as iPhone12,1",
        "Apple sysctl hw.machine / utsname.machine identifiers",
    ),
    Rule(
        "device_model_key",
        "device_model",
        lambda f: (
            _key(r"device_?model|model|hw_?model|hardware_?model|hw\.machine|machine")(f)
            and _text_value(f)
        ),
        "key device_model/model/hw_model/machine with a text value",
        "Android android.os.Build.MODEL; Apple utsname.machine",
    ),
    Rule(
        "os_version_key",
        "os_version",
        lambda f: (
            _key(r"os_?version|system_?version|os_?ver|osv|platform_?version")(f)
            and bool(
                _VERSION.fullmatch(f.value.strip()) or _OS_VERSION_TEXT.fullmatch(f.value.strip())
            )
        ),
        "key os_version/system_version/osv/platform_version with a version number",
        "Android Build.VERSION.RELEASE; Apple UIDevice.systemVersion",
    ),
    Rule(
        "os_version_text",
        "os_version",
        lambda f: bool(_OS_VERSION_TEXT.fullmatch(f.value.strip())),
        "any value that is an OS name and version (iOS 13.3.1, Android 10, ...)",
        "Android Build.VERSION.RELEASE; Apple UIDevice.systemVersion",
    ),
    Rule(
        "iana_time_zone",
        "time_zone",
        _iana_zone,
        "any value that is an IANA time zone name with a '/' (Europe/Berlin)",
        "IANA time zone database (Python zoneinfo)",
    ),
    Rule(
        "time_zone_key",
        "time_zone",
        _both(_key(r"tz|time_?zone|timezone_?offset|tz_?offset|utc_?offset"), _TZ_OFFSET),
        "key tz/time_zone/tz_offset/utc_offset with an offset (GMT+1, +01:00, 3600)",
        "ISO 8601 UTC offsets",
    ),
    Rule(
        "locale_key",
        "locale",
        _both(_key(r"locale|lang|language|lc|device_?locale|user_?locale"), _LOCALE),
        "key locale/lang/language with a BCP 47 / POSIX locale (en_US, de-DE)",
        "BCP 47 (RFC 5646) language tags; POSIX locale names",
    ),
    Rule(
        "carrier_mcc_mnc",
        "carrier",
        _both(
            _key(r"mcc_?mnc|mccmnc|carrier|network_?operator|sim_?operator|operator|plmn"), _MCC_MNC
        ),
        "key mcc_mnc/carrier/network_operator/sim_operator with a 3-digit MCC (2xx-7xx) and "
        "2-3 digit MNC",
        "ITU-T E.212 (MCC and MNC)",
    ),
    Rule(
        "carrier_name_key",
        "carrier",
        _both(
            _key(r"carrier|carrier_?name|network_?operator_?name|operator_?name"),
            re.compile(r".*[A-Za-z].*"),
        ),
        "key carrier/carrier_name/operator_name with a text value",
        "Android TelephonyManager.getNetworkOperatorName; Apple CTCarrier.carrierName",
    ),
    Rule(
        "screen_size_text",
        "screen_size",
        _both(
            _key(r"screen|screen_?size|screen_?resolution|resolution|display|display_?size|sr|res"),
            _SCREEN,
        ),
        "key screen/resolution/display with WIDTHxHEIGHT",
        "Android DisplayMetrics; Apple UIScreen.bounds",
    ),
    Rule(
        "screen_dimension_key",
        "screen_size",
        lambda f: (
            _key(r"(?:screen|display)_?(?:width|height|w|h)|(?:width|height)_?(?:px|pixels)")(f)
            and _screen_dim(f)
        ),
        "key screen_width/screen_height/display_w/... with a number 100-10000",
        "Android DisplayMetrics; Apple UIScreen.bounds",
    ),
    Rule(
        "cpu_cores_key",
        "cpu_cores",
        lambda f: (
            _key(
                r"cpu_?cores|cores|core_?count|num_?cores|processor_?count|cpu_?count|hardware_?concurrency"
            )(f)
            and _cores(f)
        ),
        "key cpu_cores/core_count/processor_count/hardware_concurrency with 1-512",
        "Java Runtime.availableProcessors; Apple NSProcessInfo.processorCount",
    ),
    Rule(
        "disk_size_key",
        "disk_size",
        _both(
            _key(
                r"(?:total_?|free_?|available_?|remaining_?)?(?:disk|storage)(?:_?(?:space|size|total|free|available))?(?:_?(?:gb|mb|bytes))?"
            ),
            _NUMBER,
        ),
        "key disk/storage(_space/_size/_free...)(_gb/_mb/_bytes) with a number",
        "Apple NSFileSystemSize / NSFileSystemFreeSize; Android StatFs",
    ),
    Rule(
        "memory_size_key",
        "memory_size",
        _both(
            _key(
                r"(?:total_?|free_?|available_?)?(?:ram|memory|mem)(?:_?(?:size|total|free|available))?(?:_?(?:gb|mb|bytes))?|device_?memory"
            ),
            _NUMBER,
        ),
        "key ram/memory/mem(_size/_total...)/device_memory with a number",
        "Apple NSProcessInfo.physicalMemory; Android ActivityManager.MemoryInfo.totalMem",
    ),
    Rule(
        "latitude_longitude_key",
        "location",
        lambda f: _key(r"lat|latitude|lng|lon|long|longitude|geo_?lat|geo_?lon")(f) and _coord(f),
        "key lat/latitude/lon/lng/longitude with decimal degrees of 3+ decimals (about 100 m)",
        "WGS 84 decimal degrees",
    ),
    Rule(
        "location_pair_key",
        "location",
        lambda f: (
            _key(r"location|loc|geo|ll|latlng|latlon|coordinates|coords")(f) and _latlon_pair(f)
        ),
        "key location/geo/ll/latlng with 'LAT,LON' in decimal degrees of 3+ decimals",
        "WGS 84 decimal degrees",
    ),
)

#: Facebook SDK ``extinfo`` array: position -> category (positions not listed are app data).
EXTINFO: dict[int, str] = {
    4: "os_version",
    5: "device_model",
    6: "locale",
    7: "time_zone",
    8: "carrier",
    9: "screen_size",
    10: "screen_size",
    12: "cpu_cores",
    13: "disk_size",
    14: "disk_size",
    15: "time_zone",
}
EXTINFO_SOURCE = (
    "Facebook iOS SDK FBSDKAppEventsDeviceInfo (extinfo v2: i2, bundle id, long and short "
    "version, OS version, machine, language, time zone abbreviation, carrier, width, height, "
    "density, cores, total and free disk GB, time zone name)"
)


def _extinfo(f: Field) -> str | None:
    if f.parent != "extinfo" or f.index is None or f.index not in EXTINFO:
        return None
    return EXTINFO[f.index] if f.value.strip() not in ("", "NoCarrier") else None


def detect_fields(fields: list[Field]) -> list[Hit]:
    """Every field some rule matches, first rule winning; one hit per (category, field)."""
    hits: list[Hit] = []
    seen: set[tuple[str, str]] = set()
    for f in fields:
        category = _extinfo(f)
        found = (category, "facebook_extinfo") if category else None
        if found is None:
            rule = next((r for r in RULES if r.match(f)), None)
            found = (rule.category, rule.name) if rule else None
        if found and (found[0], f.field) not in seen:
            seen.add((found[0], f.field))
            hits.append(Hit(found[0], f.field, found[1], f.value))
    return hits
