"""Which dissectors run, in which order. The pipeline runs each once per ended flow."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from inspector.dissect.base import Dissector
from inspector.flows.view import FlowView
from inspector.schema.base import Row
from inspector.schema.weird import WeirdRow

__all__ = ["DISSECTOR_MODULES", "dissect_flow", "load_dissectors"]

#: (name, module) of every dissector; each module exposes ``dissect(view) -> list[Row]``.
DISSECTOR_MODULES: tuple[tuple[str, str], ...] = (
    ("dns", "inspector.dissect.dns"),
    ("http", "inspector.dissect.http"),
    ("tls", "inspector.dissect.tls"),
    ("quic", "inspector.dissect.quic"),
    ("dtls", "inspector.dissect.dtls"),
    ("stun", "inspector.dissect.stun"),
    ("rtp", "inspector.dissect.rtp"),
    ("content", "inspector.dissect.content"),
    ("signalling", "inspector.dissect.sigtext"),
    ("signatures", "inspector.dissect.signatures"),
)


def load_dissectors() -> list[tuple[str, Dissector]]:
    return [(name, importlib.import_module(mod).dissect) for name, mod in DISSECTOR_MODULES]


def dissect_flow(view: FlowView, dissectors: Sequence[tuple[str, Dissector]]) -> list[Row]:
    """Rows of every dissector for one flow.

    Dissectors are written never to raise; should one still fail on some input, the failure is
    recorded as an ``internal_error`` weird row naming the dissector (and counted in the summary)
    so that one bad flow never ends the run and the bug stays visible.
    """
    rows: list[Row] = []
    for name, fn in dissectors:
        try:
            rows.extend(fn(view))
        except Exception as exc:  # a bug in a dissector: keep the run, report it as data
            rows.append(
                WeirdRow(
                    view.ts,
                    view.uid,
                    "internal_error",
                    f"{name} dissector failed: {type(exc).__name__}: {exc}"[:500],
                    0,
                    name,
                )
            )
    return rows
