"""Findings about personal data: which destination received which categories of it.

A pure function of the ``data_shared`` rows (built from requests read with the user's own keys,
or sent in cleartext) and the assessed flows. One finding per (file, destination); its severity
follows whose party the destination is. Tracker findings whose flows carried personal data are
raised to high: the data went to a third party, not only the connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from inspector.findings import Finding, FlowRecord
from inspector.schema.data_shared import DataSharedRow
from inspector.vocab import FindingKind, Severity

__all__ = ["DataFinding", "build_data_findings", "raise_for_personal_data"]

#: Severity of a personal-data finding by the destination's party for the flow's app.
PARTY_SEVERITY = {"third": Severity.HIGH, "first": Severity.LOW}


@dataclass
class DataFinding:
    destination: str
    organisation: str
    party: str
    file: str
    #: the party the flow's own rules decided (``unknown`` when its app is not identified;
    #: ``party`` then comes from the database row's kind of endpoint)
    flow_party: str = ""
    records: list[FlowRecord] = field(default_factory=list)
    rows: list[DataSharedRow] = field(default_factory=list)

    @property
    def severity(self) -> Severity:
        return PARTY_SEVERITY.get(self.party, Severity.MEDIUM)

    @property
    def categories(self) -> list[str]:
        return sorted({r.category for r in self.rows})

    @property
    def frames(self) -> list[int]:
        out: list[int] = []
        for r in self.rows:
            for n in r.frames.split(";"):
                if n.isdigit() and int(n) not in out:
                    out.append(int(n))
        return out


def build_data_findings(
    rows: Sequence[DataSharedRow], records: Sequence[FlowRecord]
) -> list[DataFinding]:
    """One finding per (file, destination) that received personal data over a captured flow."""
    by_uid = {r.ev.uid: r for r in records}
    groups: dict[tuple[str, str], DataFinding] = {}
    for row in rows:
        rec = by_uid.get(row.uid)
        if rec is None:
            continue  # imported from a HAR or mitmproxy file: no flow in this capture
        dest = row.destination or rec.destination
        key = (rec.ev.conn.file, dest)
        g = groups.get(key)
        if g is None:
            flow_party = str(rec.a.role.party.party)
            g = DataFinding(dest, row.organisation, row.party, rec.ev.conn.file, flow_party)
            groups[key] = g
        if rec not in g.records:
            g.records.append(rec)
        g.rows.append(row)
    return list(groups.values())


def raise_for_personal_data(groups: Sequence[Finding], rows: Sequence[DataSharedRow]) -> None:
    """Third-party tracker findings whose flows carried personal data become high."""
    carried = {r.uid for r in rows}
    for g in groups:
        if g.kind == FindingKind.THIRD_PARTY_TELEMETRY and any(
            r.ev.uid in carried for r in g.records
        ):
            g.severity = Severity.HIGH
            g.personal_data = True
