"""Personal-data findings in words: "graph.facebook.com (Meta, third party) received: ..."."""

from __future__ import annotations

from collections.abc import Sequence

from inspector.findings import display_filter
from inspector.personal import DataFinding
from inspector.report.data_matrix import BY_ENDPOINT_KIND
from inspector.report.text import named_by
from inspector.schema.findings import FindingRow
from inspector.vocab import OUTSIDE, FindingKind

__all__ = ["data_rows"]

_PARTY = {"third": "third party", "first": "the app's own party", "": "party not determined"}


def _label(category: str) -> str:
    return category.replace("_", " ")


def _party(f: DataFinding) -> str:
    party = _PARTY.get(f.party, f.party)
    if f.party == "third" and f.flow_party == "unknown":
        # the flow's app is not identified: the party is the endpoint's kind in the database
        return f"{BY_ENDPOINT_KIND} in the capture"
    return party


def _explanation(f: DataFinding) -> str:
    party = _party(f)
    who = f"{f.destination} ({f.organisation or 'organisation unknown'}; {party})"
    fields = sorted({r.field for r in f.rows})
    shown = ", ".join(fields[:6]) + (f" and {len(fields) - 6} more" if len(fields) > 6 else "")
    return (
        f"{who} received: {', '.join(_label(c) for c in f.categories)}. Read from "
        f"{len(f.rows)} field(s) of the requests ({shown}), decrypted with the user's own keys or "
        "sent in cleartext; each detector's rule and source is in the data_shared table."
    )


def _row(f: DataFinding) -> FindingRow:
    recs = sorted(f.records, key=lambda r: r.ev.conn.ts)
    first = recs[0]
    frames = f.frames
    return FindingRow(
        finding_id="",
        session_id=first.a.session_id or OUTSIDE,
        app=first.a.app,
        finding=str(FindingKind.PERSONAL_DATA),
        severity=str(f.severity),
        destination=f.destination,
        organisation=f.organisation,
        category=";".join(f.categories),
        country=first.att.country,
        verdict=str(first.a.verdict.verdict),
        modifiers=";".join(first.a.verdict.modifiers),
        explanation=_explanation(f),
        evidence="; ".join(sorted({f"{r.category}: {r.field} ({r.detector})" for r in f.rows})),
        caveat="Values are masked unless --show-values; a detector matches field names and "
        "value shapes, so a field can be named like personal data without being it.",
        confidence="high",
        evidence_filter=display_filter(recs, frames),
        frames=";".join(str(n) for n in frames[:12]),
        file=f.file,
        uids=";".join(r.ev.uid for r in recs),
        flows=len(recs),
        bytes_to_server=sum(r.att.ends.client_bytes for r in recs),
        bytes_from_server=sum(r.att.ends.server_bytes for r in recs),
        first_seen=min(r.ev.conn.ts for r in recs),
        last_seen=max(r.ev.conn.ts + r.ev.conn.duration_s for r in recs),
        attribution_source=named_by(first.att.owner.source),
    )


def data_rows(findings: Sequence[DataFinding]) -> list[FindingRow]:
    """One findings row per destination that received personal data."""
    return [_row(f) for f in findings]
