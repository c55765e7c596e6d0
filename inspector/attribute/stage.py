"""The attribution stage: orient flows client -> server, name the server, say who runs it.

Consumes the dissected tables, returns new ``flows`` rows (and per-protocol rows with their
direction columns swapped for flows that were turned around). Pure: the database and any user
tracker lists are loaded by the caller and passed in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from inspector.attribute.country import registry_country
from inspector.attribute.database import Database
from inspector.attribute.importers.base import ListHit, TrackerList
from inspector.attribute.local import is_local
from inspector.attribute.names import DnsIndex, choose_name
from inspector.attribute.orient import guess_client, needs_flip
from inspector.attribute.psl import registrable_domain
from inspector.schema.base import Row, index_by_uid
from inspector.schema.flows import FlowRow
from inspector.schema.lookups import LookupRow

__all__ = ["Attribution", "attribute"]

_DIRECTION_COLUMNS = ("from_orig", "client_is_orig")
_NAME_TABLES = ("tls", "quic", "http", "dtls")
ListMatcher = Callable[[Sequence[TrackerList], str], list[ListHit]]


@dataclass
class Attribution:
    rows: dict[str, list[Row]]
    client: str
    meta: dict[str, Any] = field(default_factory=dict)


def _flip(row: FlowRow) -> FlowRow:
    return dataclasses.replace(
        row,
        orig_h=row.resp_h,
        orig_p=row.resp_p,
        resp_h=row.orig_h,
        resp_p=row.orig_p,
        orig_pkts=row.resp_pkts,
        resp_pkts=row.orig_pkts,
        orig_bytes=row.resp_bytes,
        resp_bytes=row.orig_bytes,
        orig_payload_bytes=row.resp_payload_bytes,
        resp_payload_bytes=row.orig_payload_bytes,
        history=row.history.swapcase(),
        flipped=True,
    )


def _flip_directions(rows: list[Row], flipped: set[str]) -> list[Row]:
    if not rows or not flipped:
        return rows
    names = {f.name for f in dataclasses.fields(rows[0])}  # type: ignore[arg-type]
    cols = [c for c in _DIRECTION_COLUMNS if c in names]
    if not cols:
        return rows
    out: list[Row] = []
    for r in rows:
        if r.uid in flipped:  # type: ignore[attr-defined]
            changes = {c: (None if getattr(r, c) is None else not getattr(r, c)) for c in cols}
            r = dataclasses.replace(r, **changes)  # type: ignore[type-var]
        out.append(r)
    return out


def attribute(
    rows: Mapping[str, list[Row]],
    db: Database,
    client: str = "",
    lists: Sequence[TrackerList] = (),
    match_lists: ListMatcher | None = None,
) -> Attribution:
    """Orient, name and attribute every flow."""
    flows: list[FlowRow] = list(rows.get("flows", []))  # type: ignore[arg-type]
    chosen = client or guess_client(flows)
    evidence = index_by_uid(rows, _NAME_TABLES)
    dns = DnsIndex(rows.get("dns_answers", []))
    cache: dict[tuple[str, str], tuple[str, str, str, str, str, str]] = {}
    flipped: set[str] = set()
    out_flows: list[Row] = []
    for flow in flows:
        if needs_flip(flow, chosen, evidence):
            flow = _flip(flow)
            flipped.add(flow.uid)
        server = flow.resp_h
        ev = choose_name(flow.uid, server, flow.ts, evidence, dns)
        key = (ev.name.lower(), server)
        if key not in cache:
            cache[key] = _owner(db, ev.name, server)
        org, category, vendor, source, registrable, sdk = cache[key]
        hits = ""
        if lists and match_lists is not None and ev.name:
            found = match_lists(lists, ev.name)
            hits = ";".join(f"{h.list_name}@{h.version}:{h.pattern}" for h in found)
            known = next((h for h in found if h.category not in ("", "unknown")), None)
            if known is not None and category in ("", "unknown") and not vendor:
                # the bundled database does not know the name: the user's list decides
                org = known.organisation or org
                category = known.category
                source = f"list {known.list_name}@{known.version}: {known.pattern}"
        out_flows.append(
            dataclasses.replace(
                flow,
                server_name=ev.name,
                server_name_source=ev.source,
                server_name_candidates=";".join(ev.candidates),
                name_evidence=ev.detail,
                registrable_domain=registrable,
                organisation=org,
                category=category,
                vendor=vendor,
                attribution_source=source,
                list_hits=hits,
                sdk_name=sdk,
                country="" if is_local(server) else registry_country(server),
            )
        )
    new_rows: dict[str, list[Row]] = {"lookups": _lookups(rows.get("dns", []), out_flows, db)}
    for name, table_rows in rows.items():
        new_rows[name] = out_flows if name == "flows" else _flip_directions(table_rows, flipped)
    return Attribution(
        new_rows,
        chosen,
        {
            "client": chosen,
            "client_source": "--client" if client else "busiest local endpoint",
            "flows_flipped": len(flipped),
            "database_version": db.version,
            "database_built": db.built,
            "tracker_lists": [
                {"name": t.name, "version": t.version, "entries": len(t)} for t in lists
            ],
        },
    )


def _lookups(dns_rows: Sequence[Any], flows: Sequence[Any], db: Database) -> list[Row]:
    """One attributed row per distinct query name per file."""
    file_of = {f.uid: f.file for f in flows}
    named = {(f.file, (f.server_name or "").lower()) for f in flows}
    groups: dict[tuple[str, str], list[Any]] = {}
    for r in dns_rows:
        q = (r.query or "").rstrip(".")
        if q:
            groups.setdefault((file_of.get(r.uid, ""), q.lower()), []).append(r)
    out: list[Row] = []
    for (file, key), items in groups.items():
        items.sort(key=lambda r: r.ts)
        first = items[0]
        org, category, vendor, source, registrable, sdk = _owner(db, key, "")
        answered = next((r.answers for r in items if r.answers), "")
        frames: list[str] = []
        for r in items[:3]:
            for n in (r.frame, getattr(r, "response_frame", None)):
                if n and str(n) not in frames:
                    frames.append(str(n))
        out.append(
            LookupRow(
                ts=first.ts,
                uid=first.uid,
                query=first.query.rstrip("."),
                queries=len(items),
                answers=answered,
                registrable_domain=registrable,
                organisation=org,
                category=category if org else "unknown",
                vendor=vendor,
                sdk_name=sdk,
                attribution_source=source,
                connected=(file, key) in named,
                frames=";".join(frames),
                file=file,
            )
        )
    out.sort(key=lambda r: (r.file, r.ts))
    return out


def _owner(db: Database, name: str, server: str) -> tuple[str, str, str, str, str, str]:
    """(organisation, category, vendor, attribution_source, registrable_domain, sdk_name)."""
    name = name.removeprefix("*.")  # a certificate's wildcard names the domain below it
    registrable = registrable_domain(name) if name else ""
    if name:
        m = db.lookup_domain(name)
        if m is not None:
            source = f"domain {m.pattern} ({m.match}): {m.source}"
            return (m.organisation, m.category, m.vendor, source, registrable, m.sdk_name)
    r = db.lookup_ip(server)
    if r is not None:
        source = f"range {r.network}: {r.source}"
        return (r.organisation, r.category, r.vendor, source, registrable, "")
    if is_local(server):
        return ("local network", "", "", "private or link-local address", registrable, "")
    return ("", "unknown", "", "", registrable, "")
