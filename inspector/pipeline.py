"""Wires the stages; the only module that knows their order.

source -> decode -> flows -> dissect -> (attribute -> assess -> findings), one way.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from inspector import __version__
from inspector.config import Config
from inspector.decode import Decoder, Malformed
from inspector.dissect.registry import dissect_flow, load_dissectors
from inspector.flows.key import PROTO_NAMES, addr_text
from inspector.flows.table import Flow, FlowTable
from inspector.flows.view import FlowView
from inspector.schema.base import Row
from inspector.schema.flows import FlowRow
from inspector.schema.weird import WeirdRow
from inspector.source import expand_paths, open_capture

__all__ = ["Collected", "collect", "flow_views", "read_packets"]

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
        internal = sum(1 for w in self.rows.get("weird", []) if w.name == "internal_error")  # type: ignore[attr-defined]
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


def read_packets(
    path: str,
    config: Config,
    out: Collected,
    on_flow: Callable[[Flow], None],
    progress: Progress | None = None,
) -> None:
    """Source + decode + flows for one file; ``on_flow`` receives every ended flow."""
    cap = open_capture(path)
    size = os.path.getsize(path)
    decoder = Decoder()
    table = FlowTable(config.limits)
    decode = decoder.decode
    add = table.add
    skipped = out.skipped
    malformed = out.malformed
    weird = out.rows.setdefault("weird", [])
    ended = table.ended
    frame = 0
    decoded = 0
    for ts, linktype, data, _wirelen in cap:
        frame += 1
        try:
            d = decode(linktype, data, ts)
        except Malformed as m:
            malformed[m.name] = malformed.get(m.name, 0) + 1
            weird.append(WeirdRow(ts, "", m.name, m.detail, frame, "decode"))
            continue
        if d.__class__ is str:
            skipped[d] = skipped.get(d, 0) + 1  # type: ignore[index]
            continue
        decoded += 1
        add(d, ts, frame)  # type: ignore[arg-type]
        if ended:
            for flow in ended:
                on_flow(flow)
            ended.clear()
        if progress is not None and not frame & 0x3FFF:
            progress(path, cap.position(), size)
    table.close_all()
    for flow in ended:
        on_flow(flow)
    ended.clear()
    out.decoded += decoded
    out.flows_evicted += table.evicted
    out.fragments_evicted += decoder.fragments_evicted
    out.overlap_conflicts += table.overlap_conflicts
    for k, v in decoder.tunnels.items():
        out.tunnels[k] = out.tunnels.get(k, 0) + v
    if cap.skipped_blocks:
        for k, v in cap.skipped_blocks.items():
            if k == "bad_packet_block":
                malformed[k] = malformed.get(k, 0) + v
    out.inputs.append(
        {
            "path": path,
            "format": cap.format,
            "compressed": cap.compressed,
            "linktypes": sorted(cap.linktypes),
            "packets": frame,
            "truncated": cap.truncated,
            "pcapng_blocks_without_packets": dict(sorted(cap.skipped_blocks.items())),
        }
    )
    out.warnings.extend(cap.warnings)
    if progress is not None:
        progress(path, size, size)


def collect(
    paths: Iterable[str], config: Config | None = None, progress: Progress | None = None
) -> Collected:
    """Run source -> decode -> flows -> dissect over every capture; rows per table."""
    config = config or Config()
    dissectors = load_dissectors() if config.dissect else []
    out = Collected()
    flows = out.rows.setdefault("flows", [])
    for path in expand_paths(paths):
        file = os.path.basename(path)

        def on_flow(flow: Flow, file: str = file) -> None:
            rows = dissect_flow(flow.view(), dissectors) if dissectors else []
            services: list[str] = []
            for row in rows:
                out.add(row)
                t = row.TABLE
                if t != "weird" and t not in services and not t.endswith("_answers"):
                    services.append(t)
            flows.append(_flow_row(flow, ";".join(services), file))
            flow.release()

        read_packets(path, config, out, on_flow, progress)
    return out


def flow_views(path: str, config: Config | None = None) -> Iterator[FlowView]:
    """Every flow of one capture as dissectors see it (for dissector development and tests)."""
    config = config or Config(dissect=False)
    views: list[FlowView] = []

    def on_flow(flow: Flow) -> None:
        views.append(flow.view())
        flow.release()

    read_packets(path, config, Collected(), on_flow)
    yield from views
