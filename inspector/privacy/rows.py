"""``data_shared`` rows from a request, value masking, and destinations filled after attribution."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from inspector.privacy.detectors import detect_fields
from inspector.privacy.known import KnownValue, match_known
from inspector.privacy.request import RequestSeen, request_fields
from inspector.schema.data_shared import DataSharedRow

__all__ = [
    "THIRD_PARTY_CATEGORIES",
    "Destination",
    "PrivacySettings",
    "data_shared",
    "data_shared_rows",
    "destination_of_name",
    "destinations_from_flows",
    "fill_destinations",
    "mask",
]

#: flow categories that name a third party (see the ``flows.category`` column)
THIRD_PARTY_CATEGORIES = frozenset(
    {
        "analytics",
        "advertising",
        "crash_reporting",
        "attribution",
        "social_sdk",
        "customer_support",
        "feature_flags",
        "cdn_cloud",
        "os_services",
    }
)


@dataclass(frozen=True, slots=True)
class PrivacySettings:
    """What the detectors need from the run's configuration."""

    known_values: tuple[KnownValue, ...] = ()
    show_values: bool = False


@dataclass(frozen=True, slots=True)
class Destination:
    name: str
    organisation: str
    party: str  #: ``first``, ``third`` or ""


def mask(value: str) -> str:
    """Keep the first and last two characters of values longer than 8; mask the rest."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 4) + value[-2:]


def data_shared_rows(seen: RequestSeen, settings: PrivacySettings) -> list[DataSharedRow]:
    """One row per personal-data item found in the request ``seen`` (pure; never raises)."""
    fields = request_fields(seen.request)
    out: list[DataSharedRow] = []

    def row(category: str, field: str, detector: str, value: str) -> DataSharedRow:
        return DataSharedRow(
            uid=seen.uid,
            ts=seen.ts,
            destination=seen.request.host if seen.source != "capture" else "",
            category=category,
            field=field,
            detector=detector,
            value=value if settings.show_values else mask(value),
            frames=seen.frames,
            http_version=seen.http_version,
            stream_id=seen.stream_id,
            source=seen.source,
        )

    for hit in detect_fields(fields):
        out.append(row(hit.category, hit.field, hit.detector, hit.value))
    if settings.known_values:
        found = [
            (f, kv, enc) for f in fields for kv, enc in match_known(f, list(settings.known_values))
        ]
        for f, kv, enc in found:
            if any(_inside(g.field, f.field) and k is kv for g, k, _ in found):
                continue  # a JSON text whose member carries the value: report the member only
            label = f"known_value:{enc}" + (f":{kv.label}" if kv.label else "")
            out.append(row("known_value", f.field, label, f.value))
    return out


def _inside(inner: str, outer: str) -> bool:
    """True when field ``inner`` was read from JSON nested in field ``outer``."""
    return inner != outer and inner.startswith(outer) and inner[len(outer)] in ".["


def data_shared(
    requests: Iterable[RequestSeen], flows: Iterable[object], settings: PrivacySettings
) -> list[DataSharedRow]:
    """The ``data_shared`` table: every request's rows, destinations filled from ``flows``."""
    rows = [
        r
        for seen in requests
        if isinstance(seen, RequestSeen)
        for r in data_shared_rows(seen, settings)
    ]
    return fill_destinations(rows, flows)


def destination_of_name(name: str, match: object | None) -> Destination:
    """The destination of a request imported without a flow (HAR, mitmproxy): its host, and the
    organisation and party of the bundled database's row ``match`` for it (a ``DomainMatch``)
    decided as for a flow's database row (a vendor's own name is first party, a tracker, SDK,
    CDN/cloud or OS service third party); a hosting provider's customer namespace names no
    organisation."""
    from inspector.attribute.database import DomainMatch

    if not isinstance(match, DomainMatch) or match.hosting:
        return Destination(name, "", "")
    party = "first" if match.vendor else "third" if match.category in THIRD_PARTY_CATEGORIES else ""
    return Destination(name, match.organisation, party)


def destinations_from_flows(flows: Iterable[object]) -> dict[str, Destination]:
    """``{uid: Destination}`` from attributed ``flows`` rows (``FlowRow``)."""
    from inspector.schema.flows import FlowRow

    out: dict[str, Destination] = {}
    for flow in flows:
        if not isinstance(flow, FlowRow):
            continue
        party = flow.party if flow.party not in ("", "unknown") else ""
        if not party:  # no party decided for the flow's own app: the database row's kind
            party = (
                "first"
                if flow.vendor
                else "third"
                if flow.category in THIRD_PARTY_CATEGORIES
                else ""
            )
        out[flow.uid] = Destination(flow.server_name, flow.organisation, party)
    return out


def fill_destinations(
    rows: Sequence[DataSharedRow], flows: Iterable[object] | Mapping[str, Destination]
) -> list[DataSharedRow]:
    """``rows`` with destination, organisation and party from the attributed flows.

    ``flows`` are ``FlowRow`` records (after attribution) or a ready ``{uid: Destination}``.
    Rows whose flow is unknown keep their values; a row that already has a destination (an
    imported HAR entry names its host) keeps it when the flow has no name.
    """
    dests = flows if isinstance(flows, Mapping) else destinations_from_flows(flows)
    out = []
    for r in rows:
        d = dests.get(r.uid)
        if d is None:
            out.append(r)
            continue
        out.append(
            dataclasses.replace(
                r,
                destination=d.name or r.destination,
                organisation=d.organisation or r.organisation,
                party=d.party or r.party,
            )
        )
    return out
