"""The report's destinations x data-categories matrix, from the ``data_shared`` table.

Rows are destinations (with organisation and party), columns the categories of personal data any
of them received; a cell counts the items found and links to their evidence (field, detector,
masked value, frames, where the request was read). Display-safe plain values; the template
escapes them. Empty when ``data_shared`` has no rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from inspector.report.text import plain

__all__ = ["CATEGORY_LABELS", "PARTY_LABELS", "data_matrix"]

#: column headings; a category not listed is shown with its underscores as spaces
CATEGORY_LABELS = {
    "advertising_id": "advertiser id",
    "vendor_id": "vendor id (IDFV)",
    "android_id": "Android id",
    "imei": "IMEI",
    "mac_address": "MAC address",
    "device_model": "device model",
    "os_version": "OS version",
    "time_zone": "time zone",
    "locale": "locale",
    "carrier": "carrier",
    "screen_size": "screen size",
    "cpu_cores": "CPU cores",
    "disk_size": "disk size",
    "memory_size": "memory size",
    "location": "location",
    "email": "e-mail",
    "phone_number": "phone number",
    "known_value": "your own values",
}

PARTY_LABELS = {"third": "third party", "first": "the app's own party"}

#: a destination's evidence list shows at most this many items per category
MAX_ITEMS = 20


def _label(category: str) -> str:
    return CATEGORY_LABELS.get(category, category.replace("_", " "))


def _where(row: Any) -> str:
    source = plain(row.source) or "capture"
    frames = [n for n in plain(row.frames).split(";") if n]
    if source == "capture":
        return f"frames {', '.join(frames)}" if frames else "capture"
    return f"imported from {source}"


def _item(row: Any) -> dict[str, str]:
    return {
        "field": plain(row.field),
        "detector": plain(row.detector),
        "value": plain(row.value),
        "where": _where(row),
        "version": plain(row.http_version),
    }


def _filter(frames: Iterable[str]) -> str:
    nums = sorted({int(n) for n in frames if n.isdigit()})
    return f"frame.number in {{{' '.join(map(str, nums))}}}" if nums else ""


def _groups(shared: pd.DataFrame) -> dict[tuple[str, str, str], dict[str, list[Any]]]:
    """``{(destination, organisation, party): {category: [rows]}}``."""
    groups: dict[tuple[str, str, str], dict[str, list[Any]]] = {}
    for r in shared.itertuples(index=False):
        key = (plain(r.destination) or "(unnamed)", plain(r.organisation), plain(r.party))
        groups.setdefault(key, {}).setdefault(plain(r.category), []).append(r)
    return groups


def _ordered(present: set[str]) -> list[str]:
    order = list(CATEGORY_LABELS)
    return sorted(present, key=lambda c: (order.index(c) if c in order else len(order), c))


#: the party when no flow's own rules decided it (no app identified; or an imported request):
#: it is the bundled database's kind of endpoint, as personal_text words it for the finding
BY_ENDPOINT_KIND = (
    "third party by the kind of endpoint the bundled database lists; the app that sent it is "
    "not identified"
)


def _party_label(party: str, items: list[Any], decided: frozenset[str] | None) -> str:
    if decided is not None and party == "third" and not any(plain(r.uid) in decided for r in items):
        return BY_ENDPOINT_KIND
    return PARTY_LABELS.get(party, "party not determined")


def _row_view(
    key: tuple[str, str, str],
    by_cat: dict[str, list[Any]],
    categories: list[str],
    anchor: str,
    decided: frozenset[str] | None = None,
) -> dict[str, Any]:
    dest, org, party = key
    items = [r for rows in by_cat.values() for r in rows]
    return {
        "destination": dest,
        "organisation": org or "organisation unknown",
        "party": _party_label(party, items, decided),
        "third": party == "third",
        "anchor": anchor,
        "sources": sorted({plain(r.source) or "capture" for r in items}),
        "summary": ", ".join(_label(c) for c in categories if c in by_cat),
        "filter": _filter(n for r in items for n in plain(r.frames).split(";")),
        "cells": [(len(by_cat.get(c, [])), f"{anchor}-c{j}") for j, c in enumerate(categories)],
        "details": [
            (f"{anchor}-c{j}", _label(c), [_item(r) for r in by_cat[c][:MAX_ITEMS]], len(by_cat[c]))
            for j, c in enumerate(categories)
            if c in by_cat
        ],
    }


def data_matrix(shared: pd.DataFrame | None, flows: pd.DataFrame | None = None) -> dict[str, Any]:
    """``{"categories": [(key, label)], "rows": [...]}`` for the template; rows sorted third
    party first, then by the number of categories received. ``flows``: the flows whose own
    rules decided their party (``third``/``first``); a "third party" no such flow backs is
    worded as the database's kind of endpoint."""
    if shared is None or shared.empty:
        return {"categories": [], "rows": []}
    decided: frozenset[str] | None = None
    if flows is not None and "party" in flows:
        decided = frozenset(flows.loc[flows["party"].isin(["third", "first"]), "uid"].astype(str))
    groups = _groups(shared)
    categories = _ordered({c for by_cat in groups.values() for c in by_cat})
    keys = sorted(groups, key=lambda k: (k[2] != "third", -len(groups[k]), k[0]))
    rows = [
        _row_view(k, groups[k], categories, f"pd{i}", decided) for i, k in enumerate(keys, start=1)
    ]
    return {"categories": [(c, _label(c)) for c in categories], "rows": rows}
