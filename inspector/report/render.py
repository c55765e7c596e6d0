"""The output tables: every stage's records joined by uid into the rows people read.

Stages keep rows as captured (``orig`` sent the first packet). The published tables read client
-> server, so this join orients them: a flow whose client is its responder is written with the
two sides exchanged (``flipped`` says so), and the direction columns of its protocol rows with it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from inspector.findings import FlowRecord
from inspector.report.verdict_text import verdict_text
from inspector.schema.base import Row
from inspector.schema.flows import FlowRow

__all__ = ["flow_rows", "orient_rows"]

_DIRECTION_COLUMNS = ("from_orig", "client_is_orig")


def _oriented(conn: FlowRow) -> FlowRow:
    return dataclasses.replace(
        conn,
        orig_h=conn.resp_h,
        orig_p=conn.resp_p,
        resp_h=conn.orig_h,
        resp_p=conn.orig_p,
        orig_pkts=conn.resp_pkts,
        resp_pkts=conn.orig_pkts,
        orig_bytes=conn.resp_bytes,
        resp_bytes=conn.orig_bytes,
        orig_payload_bytes=conn.resp_payload_bytes,
        resp_payload_bytes=conn.orig_payload_bytes,
        history=conn.history.swapcase(),
    )


def flow_row(r: FlowRecord) -> FlowRow:
    """The published ``flows`` row of one flow."""
    conn = r.ev.conn if r.att.ends.client_is_orig else _oriented(r.ev.conn)
    a, v, owner, name = r.a, r.a.verdict, r.att.owner, r.att.name
    note = a.role.reason if a.role.rule == "encrypted_dns" else ""
    evidence, caveat = verdict_text(v.reason, v.facts, note)
    return dataclasses.replace(
        conn,
        server_name=name.name,
        server_name_source=name.source,
        server_name_candidates=";".join(name.candidates),
        name_evidence=name.detail,
        registrable_domain=owner.registrable,
        organisation=owner.organisation,
        category=a.category,
        entity=owner.entity,
        hosted_on=owner.hosted_on,
        vendor=owner.vendor,
        attribution_source=owner.source,
        list_hits=r.att.list_hits,
        country=r.att.country,
        flipped=not r.att.ends.client_is_orig,
        sdk_name=owner.sdk_name,
        app=a.app,
        app_reason=a.app_reason,
        peer_to_peer=a.p2p,
        party=str(a.role.party.party),
        party_reason=f"{a.role.party.rule}: {a.role.party.reason}".strip(": "),
        role=str(a.role.role),
        media_kinds=a.role.media_kinds,
        session_id=a.session_id,
        encryption_verdict=str(v.verdict),
        encryption_modifiers=";".join(v.modifiers),
        encryption_confidence=str(v.confidence),
        encryption_reason=v.reason,
        encryption_evidence=evidence,
        encryption_caveat=caveat,
        content_decrypted=r.ev.decrypted if r.ev.decrypted or r.ev.encrypted_content else None,
    )


def flow_rows(records: Sequence[FlowRecord]) -> list[FlowRow]:
    return [flow_row(r) for r in records]


def orient_rows(rows: Sequence[Row], flipped: frozenset[str]) -> list[Row]:
    """Protocol rows with their direction columns read client -> server."""
    if not rows or not flipped:
        return list(rows)
    names = {f.name for f in dataclasses.fields(rows[0])}  # type: ignore[arg-type]
    cols = [c for c in _DIRECTION_COLUMNS if c in names]
    if not cols:
        return list(rows)
    out: list[Row] = []
    for r in rows:
        if r.uid in flipped:  # type: ignore[attr-defined]
            changes = {c: (None if getattr(r, c) is None else not getattr(r, c)) for c in cols}
            r = dataclasses.replace(r, **changes)  # type: ignore[type-var]
        out.append(r)
    return out


def oriented_tables(
    tables: Mapping[str, Sequence[Row]], records: Sequence[FlowRecord]
) -> dict[str, list[Row]]:
    """Every packet-stage table, oriented; ``flows`` replaced by the published flow rows."""
    flipped = frozenset(r.ev.uid for r in records if not r.att.ends.client_is_orig)
    out: dict[str, list[Row]] = {}
    for name, rows in tables.items():
        out[name] = list(flow_rows(records)) if name == "flows" else orient_rows(rows, flipped)
    return out
