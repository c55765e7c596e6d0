"""Wires the stages; the only module that knows their order.

source -> decode -> flows -> dissect -> evidence -> attribute -> assess -> findings -> render,
one way. :func:`collect` runs the packet stages, :func:`run_stages` everything after them;
``api``, ``cli`` and ``live`` call these two and nothing else of the stages.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from inspector import __version__
from inspector.config import Config
from inspector.decode import Decoder, Malformed
from inspector.dissect.base import Dissector
from inspector.dissect.keylog import KeyLog
from inspector.dissect.registry import dissect_flow, load_dissectors
from inspector.dissect.tlsdecrypt import make_dissector, make_key_check
from inspector.errors import InputError
from inspector.flows.fastloop import feed_spans
from inspector.flows.key import PROTO_NAMES, addr_text
from inspector.flows.table import Flow, FlowTable
from inspector.flows.view import FlowView
from inspector.schema.base import Row
from inspector.schema.flows import FlowRow
from inspector.schema.http import HttpRow
from inspector.schema.signalling import SignallingRow
from inspector.schema.weird import WeirdRow
from inspector.source import expand_paths, open_capture

__all__ = [
    "Collected",
    "Ingest",
    "collect",
    "flow_views",
    "imported_tables",
    "read_packets",
    "run_stages",
]

Progress = Callable[[str, int, int], None]


@dataclass
class Collected:
    """Everything the packet stages produced: rows per table plus packet accounting."""

    rows: dict[str, list[Row]] = field(default_factory=dict)
    decoded: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    malformed: dict[str, int] = field(default_factory=dict)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    flows_evicted: int = 0
    fragments_evicted: int = 0
    overlap_conflicts: int = 0
    tunnels: dict[str, int] = field(default_factory=dict)

    def add(self, row: Row) -> None:
        self.rows.setdefault(row.TABLE, []).append(row)

    @property
    def total(self) -> int:
        return self.decoded + sum(self.skipped.values()) + sum(self.malformed.values())

    def summary(self) -> dict[str, Any]:
        weird = self.rows.get("weird", [])
        internal = sum(1 for w in weird if isinstance(w, WeirdRow) and w.name == "internal_error")
        return {
            "tool": "conference-inspector",
            "version": __version__,
            "inputs": self.inputs,
            "packets": {
                "total": self.total,
                "decoded": self.decoded,
                "skipped": dict(sorted(self.skipped.items())),
                "skipped_total": sum(self.skipped.values()),
                "malformed": dict(sorted(self.malformed.items())),
                "malformed_total": sum(self.malformed.values()),
            },
            "flows": len(self.rows.get("flows", [])),
            "flows_evicted": self.flows_evicted,
            "fragments_evicted": self.fragments_evicted,
            "tcp_overlap_conflicts": self.overlap_conflicts,
            "tunnels": dict(sorted(self.tunnels.items())),
            "tables": {k: len(v) for k, v in sorted(self.rows.items())},
            "internal_errors": internal,
            "warnings": self.warnings,
        }


def _flow_row(flow: Flow, services: str, file: str) -> FlowRow:
    return FlowRow(
        uid=flow.uid,
        ts=flow.first_ts,
        proto=PROTO_NAMES.get(flow.proto, str(flow.proto)),
        orig_h=addr_text(flow.orig),
        orig_p=flow.orig_p,
        resp_h=addr_text(flow.resp),
        resp_p=flow.resp_p,
        duration_s=round(flow.last_ts - flow.first_ts, 6),
        orig_pkts=flow.orig_pkts,
        resp_pkts=flow.resp_pkts,
        orig_bytes=flow.orig_bytes,
        resp_bytes=flow.resp_bytes,
        orig_payload_bytes=flow.orig_payload,
        resp_payload_bytes=flow.resp_payload,
        history=flow.history,
        service=services,
        end_reason=flow.end_reason,
        tunnel=flow.tunnel,
        first_frame=flow.first_frame,
        last_frame=flow.last_frame,
        file=file,
    )


#: Tables that describe a flow without naming a protocol in it.
_NOT_A_SERVICE = frozenset({"weird", "content", "dns_answers"})


def _service_of(row: Row) -> str:
    """The protocol a dissector row shows in its flow ("" for descriptive tables)."""
    if isinstance(row, HttpRow) and row.inside_tls:
        return "http-in-tls"
    if isinstance(row, SignallingRow):
        return row.protocol
    internal = row.TABLE.startswith("_")  # e.g. _requests: handed to the privacy stage
    return "" if internal or row.TABLE in _NOT_A_SERVICE else row.TABLE


class Ingest:
    """Decode + flows + dissection for one packet source, fed packet by packet.

    Files feed it in bulk (:func:`read_packets`), live capture one frame at a time; both give the
    same rows for the same packets. :meth:`snapshot` gives provisional rows for the flows still
    open, without ending them (for live refreshes).
    """

    def __init__(
        self,
        config: Config,
        out: Collected,
        file: str,
        dissectors: Sequence[tuple[str, Dissector]],
        keyed: Callable[[Callable[[], FlowView]], bool] | None = None,
    ) -> None:
        self.config = config
        self.out = out
        self.file = file
        self.dissectors = dissectors
        self.decoder = Decoder()
        self.table = FlowTable(config.limits, config.shard, keyed)
        self.frame = 0
        self.decoded = 0
        self._weird = out.rows.setdefault("weird", [])
        self._flows = out.rows.setdefault("flows", [])

    def _rows_for(self, flow: Flow) -> tuple[list[Row], FlowRow]:
        rows = dissect_flow(flow.view(), self.dissectors) if self.dissectors else []
        services: list[str] = []
        for row in rows:
            t = _service_of(row)
            if t and t not in services:
                services.append(t)
        return rows, _flow_row(flow, ";".join(services), self.file)

    def _ended(self) -> None:
        ended = self.table.ended
        for flow in ended:
            rows, flow_row = self._rows_for(flow)
            for row in rows:
                self.out.add(row)
            self._flows.append(flow_row)
            flow.release()
        ended.clear()

    def feed(self, ts: float, linktype: int, data: bytes) -> None:
        """Account one captured frame."""
        self.frame += 1
        out = self.out
        try:
            d = self.decoder.decode(linktype, data, ts)
        except Malformed as m:
            out.malformed[m.name] = out.malformed.get(m.name, 0) + 1
            self._weird.append(WeirdRow(ts, "", m.name, m.detail, self.frame, "decode"))
            return
        if d.__class__ is str:
            out.skipped[d] = out.skipped.get(d, 0) + 1
            return
        self.decoded += 1
        self.table.add(d, ts, self.frame)  # type: ignore[arg-type]
        if self.table.ended:
            self._ended()

    def finish(self) -> None:
        """End every open flow and fold the counters into the collected output."""
        self.table.close_all()
        self._ended()
        out = self.out
        out.decoded += self.decoded
        self.decoded = 0
        out.flows_evicted += self.table.evicted
        out.fragments_evicted += self.decoder.fragments_evicted
        out.overlap_conflicts += self.table.overlap_conflicts
        for k, v in self.decoder.tunnels.items():
            out.tunnels[k] = out.tunnels.get(k, 0) + v

    def snapshot(self) -> Collected:
        """A copy of everything so far, with provisional rows for the flows still open."""
        snap = Collected(
            rows={k: list(v) for k, v in self.out.rows.items()},
            decoded=self.out.decoded + self.decoded,
            skipped=dict(self.out.skipped),
            malformed=dict(self.out.malformed),
            inputs=list(self.out.inputs),
            warnings=list(self.out.warnings),
            flows_evicted=self.table.evicted,
            fragments_evicted=self.decoder.fragments_evicted,
            overlap_conflicts=self.table.overlap_conflicts,
            tunnels=dict(self.decoder.tunnels),
        )
        for flow in sorted(self.table.flows.values(), key=lambda f: f.first_frame):
            rows, flow_row = self._rows_for(flow)
            for row in rows:
                snap.add(row)
            snap.rows.setdefault("flows", []).append(
                dataclasses.replace(flow_row, end_reason="open")
            )
        return snap


def read_packets(
    path: str,
    config: Config,
    out: Collected,
    dissectors: Sequence[tuple[str, Dissector]] = (),
    progress: Progress | None = None,
    keylog: KeyLog | None = None,
) -> Ingest:
    """Source + decode + flows + dissect for one file.

    ``keylog`` also follows the key logs the capture itself carries (pcapng secrets blocks).
    """
    cap = open_capture(path)
    if keylog is not None:
        keylog.follow(cap.secrets)
    size = os.path.getsize(path)
    keyed = make_key_check(keylog) if keylog is not None and dissectors else None
    ingest = Ingest(config, out, os.path.basename(path), dissectors, keyed)
    tick = (lambda: progress(path, cap.position(), size)) if progress is not None else None
    # the fast loop handles packets of known flows itself and hands every other packet to
    # ingest.feed, so both give the same tables (tests/flows/test_fastloop.py)
    feed_spans(ingest, cap.spans(), tick)
    ingest.finish()
    if cap.skipped_blocks.get("bad_packet_block"):
        n = cap.skipped_blocks["bad_packet_block"]
        out.malformed["bad_packet_block"] = out.malformed.get("bad_packet_block", 0) + n
    out.inputs.append(
        {
            "path": path,
            "format": cap.format,
            "compressed": cap.compressed,
            "linktypes": sorted(cap.linktypes),
            "packets": ingest.frame,
            "truncated": cap.truncated,
            "pcapng_blocks_without_packets": dict(sorted(cap.skipped_blocks.items())),
        }
    )
    out.warnings.extend(cap.warnings)
    if progress is not None:
        progress(path, size, size)
    return ingest


def collect(
    paths: Iterable[str], config: Config | None = None, progress: Progress | None = None
) -> Collected:
    """Run source -> decode -> flows -> dissect over every capture; rows per table."""
    config = config or Config()
    keylog = KeyLog(read_keylogs(config.keylogs))
    dissectors = load_dissectors() if config.dissect else []
    if dissectors:
        dissectors.append(("tls_decrypt", make_dissector(keylog)))
    out = Collected()
    out.rows.setdefault("flows", [])
    for path in expand_paths(paths):
        read_packets(path, config, out, dissectors, progress, keylog)
    return out


def read_keylogs(paths: Iterable[str]) -> list[str]:
    """The text of each user-named TLS key log; :class:`InputError` with one line otherwise."""
    texts = []
    for p in paths:
        try:
            with open(p, encoding="utf-8", errors="replace") as fh:
                texts.append(fh.read())
        except OSError as exc:
            raise InputError(f"{p}: cannot read key log ({exc.strerror or exc})") from exc
    return texts


def flow_views(path: str, config: Config | None = None) -> Iterator[FlowView]:
    """Every flow of one capture as dissectors see it (for dissector development and tests)."""
    views: list[FlowView] = []

    def grab(view: FlowView) -> list[Row]:
        views.append(view)
        return []

    read_packets(path, config or Config(), Collected(), [("view", grab)])
    yield from views


def run_stages(collected: Collected, config: Config) -> dict[str, Any]:
    """evidence -> attribute -> assess -> findings -> render, over the packet stages' tables.

    Replaces ``collected.rows`` with the published tables and returns the attribution metadata
    for the summary. User tracker lists named in ``config`` are read here (configuration).
    """
    from inspector.assess.helpers import helper_findings
    from inspector.assess.stage import assess
    from inspector.attribute.database import bundled_database
    from inspector.attribute.importers import load_list, match
    from inspector.attribute.stage import attribute
    from inspector.dissect.keylog import DECRYPTED
    from inspector.evidence import build_evidence
    from inspector.findings import (
        FlowRecord,
        build_findings,
        build_lookup_findings,
        build_sessions,
    )
    from inspector.personal import build_data_findings, raise_for_personal_data
    from inspector.privacy import REQUESTS, data_shared
    from inspector.report.findings_text import finding_rows
    from inspector.report.personal_text import data_rows
    from inspector.report.render import oriented_tables
    from inspector.source.known_values import privacy_settings

    lists = [load_list(spec) for spec in config.tracker_lists]
    requests = collected.rows.pop(REQUESTS, [])  # decrypted/cleartext requests (not an output)
    marks = collected.rows.pop(DECRYPTED, [])  # flows a logged secret opened (not an output)
    evidence = build_evidence(collected.rows, marks)
    att = attribute(evidence, bundled_database(), config.client, lists, match)
    assessed = assess(evidence, att.by_uid)
    records = [FlowRecord(ev, att.by_uid[ev.uid], assessed.by_uid[ev.uid]) for ev in evidence]
    rows = oriented_tables(collected.rows, records)
    settings = privacy_settings(config.known_values, config.show_values)
    shared = data_shared(requests, rows["flows"], settings)  # type: ignore[arg-type]
    rows["data_shared"] = list(shared)
    helpers = helper_findings(rows["flows"], rows.get("http", []))  # type: ignore[arg-type]
    helpers += data_rows(build_data_findings(shared, records))
    findings = build_findings(records, assessed.sessions)
    raise_for_personal_data(findings, shared)
    lookups = build_lookup_findings(att.lookups, records, assessed.sessions)
    rows["lookups"] = list(att.lookups)
    rows["findings"] = list(finding_rows(findings, lookups, helpers))
    rows["sessions"] = list(build_sessions(records, assessed.sessions))
    collected.rows = rows
    return att.meta


def imported_tables(config: Config) -> dict[str, list[Row]]:
    """``http`` and ``data_shared`` rows of the HAR (``config.har``) and mitmproxy
    (``config.mitm``) files: read by the source stage, their requests through the same privacy
    detectors as decrypted ones, destinations named from the bundled database (an imported
    request has no flow to attribute). Rows carry their file in ``source``."""
    from inspector.attribute.database import bundled_database, normalise_name
    from inspector.privacy import REQUESTS, RequestSeen, data_shared, fill_destinations
    from inspector.privacy.rows import destination_of_name
    from inspector.source.har import read_har
    from inspector.source.known_values import privacy_settings
    from inspector.source.mitm import read_mitm

    rows = [r for p in config.har for r in read_har(p)]
    rows += [r for p in config.mitm for r in read_mitm(p)]
    requests = [r for r in rows if r.TABLE == REQUESTS and isinstance(r, RequestSeen)]
    db = bundled_database()
    dests = {}
    for seen in requests:
        if seen.uid not in dests:
            host = seen.request.host
            name = normalise_name(host.rsplit(":", 1)[0] if host.count(":") == 1 else host)
            match = db.lookup_domain(name) if name else None
            dests[seen.uid] = destination_of_name(name or host, match)
    settings = privacy_settings(config.known_values, config.show_values)
    shared = fill_destinations(data_shared(requests, [], settings), dests)
    return {"http": [r for r in rows if isinstance(r, HttpRow)], "data_shared": list(shared)}
