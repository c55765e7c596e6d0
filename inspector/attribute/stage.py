"""The attribution stage: orient flows client -> server, name the server, say who runs it.

A pure function of the flows' evidence: it returns one :class:`Attribution` per flow (who the
client is, the server's name and owner, with provenance) and the ``lookups`` table; it changes no
earlier row. The database and any user tracker lists are loaded by the caller and passed in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from inspector.attribute.certs import CertIndex, CertOwner
from inspector.attribute.clients import ClientApp, client_app
from inspector.attribute.country import registry_country
from inspector.attribute.database import Database
from inspector.attribute.entities import Endpoint, describe_endpoint, entity_of
from inspector.attribute.importers.base import ListHit, TrackerList
from inspector.attribute.local import is_local
from inspector.attribute.names import DnsIndex, NameEvidence, choose_name
from inspector.attribute.orient import client_is_orig, guess_client
from inspector.attribute.psl import registrable_domain
from inspector.evidence import Endpoints, FlowEvidence, endpoints
from inspector.schema.dns import DnsRow
from inspector.schema.lookups import LookupRow

__all__ = ["Attribution", "AttributionResult", "Owner", "attribute"]

ListMatcher = Callable[[Sequence[TrackerList], str], list[ListHit]]


@dataclass(frozen=True, slots=True)
class Owner:
    """Who operates a destination, and the database row that says so."""

    organisation: str = ""
    category: str = "unknown"
    vendor: str = ""
    source: str = ""
    registrable: str = ""
    sdk_name: str = ""
    #: the owner's parent entity (Meta for WhatsApp); "" when no owner is known
    entity: str = ""
    #: the hosting provider ("hosted on X"), never the owner; "" when none is known
    host: str = ""
    #: "name", "address" or "certificate": where the owner came from ("" when no owner)
    owner_from: str = ""
    #: the matched pattern or network of the owner row
    pattern: str = ""
    #: date of the owner row (upstream snapshot or reference build date)
    date: str = ""

    @property
    def hosted_on(self) -> str:
        """``"hosted on Amazon Web Services (customers)"``, or "" when no host is known."""
        return f"hosted on {self.host}" if self.host else ""

    def endpoint(self, name: str) -> Endpoint:
        """The destination as :func:`inspector.attribute.entities.party_of` reads it."""
        owned = self.organisation and self.owner_from
        return Endpoint(
            name=name,
            owner=self.organisation if owned else "",
            entity=self.entity if owned else "",
            category=self.category,
            vendor=self.vendor,
            sdk_name=self.sdk_name,
            host=self.host,
            owner_from=self.owner_from,
            pattern=self.pattern,
            source=self.source,
            date=self.date,
        )


@dataclass(frozen=True, slots=True)
class Attribution:
    """Attribution's facts about one flow."""

    uid: str
    ends: Endpoints
    name: NameEvidence
    owner: Owner
    list_hits: str = ""
    country: str = ""
    #: the app the flow's own client fingerprint names (mvfst QUIC, User-Agent); None if none
    client_app: ClientApp | None = None


@dataclass
class AttributionResult:
    by_uid: dict[str, Attribution]
    client: str
    lookups: list[LookupRow]
    meta: dict[str, Any] = field(default_factory=dict)


def _certified(owner: Owner, found: CertOwner | None) -> Owner:
    """The owner a CA-verified certificate names, when the database named nobody."""
    if found is None:
        return owner
    entity = entity_of(found.organisation)
    return dataclasses.replace(
        owner,
        organisation=found.organisation,
        source=" | ".join(s for s in (found.source, owner.source) if s),
        entity=entity.name if entity else "",
        owner_from="certificate",
        pattern="",
        date="",
    )


def _with_lists(
    owner: Owner, name: str, lists: Sequence[TrackerList], match: ListMatcher
) -> tuple[Owner, str]:
    found = match(lists, name)
    hits = ";".join(f"{h.list_name}@{h.version}:{h.pattern}" for h in found)
    known = next((h for h in found if h.category not in ("", "unknown")), None)
    if known is not None and owner.category in ("", "unknown") and not owner.vendor:
        # the bundled database does not know the name: the user's list decides
        org = known.organisation or owner.organisation
        entity = entity_of(org) if org else None
        owner = dataclasses.replace(
            owner,
            organisation=org,
            category=known.category,
            source=f"list {known.list_name}@{known.version}: {known.pattern}",
            entity=entity.name if entity else "",
            owner_from=owner.owner_from or ("name" if org else ""),
            pattern=known.pattern,
            date="",
        )
    return owner, hits


def attribute(
    evidence: Sequence[FlowEvidence],
    db: Database,
    client: str = "",
    lists: Sequence[TrackerList] = (),
    match_lists: ListMatcher | None = None,
) -> AttributionResult:
    """Orient, name and attribute every flow."""
    chosen = client or guess_client(ev.conn for ev in evidence)
    dns = DnsIndex(a for ev in evidence for a in ev.dns_answers)
    certs = CertIndex(evidence)
    cache: dict[tuple[str, str], Owner] = {}
    out: dict[str, Attribution] = {}
    flipped = 0
    for ev in evidence:
        ends = endpoints(ev.conn, client_is_orig(ev, chosen))
        flipped += not ends.client_is_orig
        name = choose_name(ev, ends.server_h, dns)
        key = (name.name.lower(), ends.server_h)
        if key not in cache:
            cache[key] = owner_of(db, name.name, ends.server_h)
        owner, hits = cache[key], ""
        if not owner.organisation and len(certs):
            found = (
                certs.owner(ev.conn.file, name.name)
                if name.name
                else certs.owner_of_address(ev.conn.file, ends.server_h)
            )
            owner = _certified(owner, found)
        if lists and match_lists is not None and name.name:
            owner, hits = _with_lists(owner, name.name, lists, match_lists)
        country = "" if is_local(ends.server_h) else registry_country(ends.server_h)
        out[ev.uid] = Attribution(ev.uid, ends, name, owner, hits, country, client_app(ev))
    file_of = {ev.uid: ev.conn.file for ev in evidence}
    named = {(ev.conn.file, out[ev.uid].name.name.lower()) for ev in evidence}
    lookups = _lookups([r for ev in evidence for r in ev.dns], file_of, named, db)
    meta = {
        "client": chosen,
        "client_source": "--client" if client else "busiest local endpoint",
        "flows_flipped": flipped,
        "database_version": db.version,
        "database_built": db.built,
        "tracker_lists": [{"name": t.name, "version": t.version, "entries": len(t)} for t in lists],
    }
    return AttributionResult(out, chosen, lookups, meta)


def _lookups(
    dns_rows: Sequence[DnsRow],
    file_of: dict[str, str],
    named: set[tuple[str, str]],
    db: Database,
) -> list[LookupRow]:
    """One attributed row per distinct query name per file."""
    groups: dict[tuple[str, str], list[DnsRow]] = {}
    for r in dns_rows:
        q = (r.query or "").rstrip(".")
        if q:
            groups.setdefault((file_of.get(r.uid, ""), q.lower()), []).append(r)
    out: list[LookupRow] = []
    for (file, key), items in groups.items():
        items.sort(key=lambda r: r.ts)
        first = items[0]
        o = owner_of(db, key, "")
        answered = next((r.answers for r in items if r.answers), "")
        frames: list[str] = []
        for r in items[:3]:
            for n in (r.frame, r.response_frame):
                if n and str(n) not in frames:
                    frames.append(str(n))
        out.append(
            LookupRow(
                ts=first.ts,
                uid=first.uid,
                query=first.query.rstrip("."),
                queries=len(items),
                answers=answered,
                registrable_domain=o.registrable,
                organisation=o.organisation,
                category=o.category if o.organisation else "unknown",
                vendor=o.vendor,
                sdk_name=o.sdk_name,
                entity=o.entity,
                hosted_on=o.hosted_on,
                attribution_source=o.source,
                connected=(file, key) in named,
                frames=";".join(frames),
                file=file,
            )
        )
    out.sort(key=lambda r: (r.file, r.ts))
    return out


def owner_of(db: Database, name: str, server: str) -> Owner:
    """Who operates ``name`` (else the address ``server``), who hosts it, with the rows' sources.

    :func:`~inspector.attribute.entities.describe_endpoint` decides: a hosting provider's
    namespace or customer range only fills ``host``, never the organisation.
    """
    name = name.removeprefix("*.")  # a certificate's wildcard names the domain below it
    registrable = registrable_domain(name) if name else ""
    ep = describe_endpoint(db, name, server)
    if ep.owner or ep.host:
        return Owner(
            ep.owner,
            ep.category,
            ep.vendor,
            ep.source,
            registrable,
            ep.sdk_name,
            ep.entity,
            ep.host,
            ep.owner_from,
            ep.pattern,
            ep.date,
        )
    if is_local(server):
        return Owner("local network", "", "", "private or link-local address", registrable, "")
    return Owner("", "unknown", "", "", registrable, "")
