"""Personal and device data in HTTP requests: pure detectors, no I/O.

``data_shared_rows(request, context, settings)`` turns one request into ``data_shared`` rows;
``fill_destinations(rows, flows)`` adds the destination, organisation and party once flows are
attributed. The rule table is :data:`inspector.privacy.detectors.RULES`.
"""

from __future__ import annotations

from inspector.privacy.detectors import RULES, Hit, Rule, detect_fields, luhn_ok
from inspector.privacy.known import KnownValue, match_known, parse_known_values
from inspector.privacy.request import REQUESTS, Field, Request, RequestSeen, request_fields
from inspector.privacy.rows import (
    Destination,
    PrivacySettings,
    data_shared,
    data_shared_rows,
    destinations_from_flows,
    fill_destinations,
    mask,
)

__all__ = [
    "REQUESTS",
    "RULES",
    "Destination",
    "Field",
    "Hit",
    "KnownValue",
    "PrivacySettings",
    "Request",
    "RequestSeen",
    "Rule",
    "data_shared",
    "data_shared_rows",
    "destinations_from_flows",
    "detect_fields",
    "fill_destinations",
    "luhn_ok",
    "mask",
    "match_known",
    "parse_known_values",
    "request_fields",
]
