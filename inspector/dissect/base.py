"""The dissector contract: a pure function from a :class:`FlowView` to table rows.

A dissector never raises: every :class:`ParseError` becomes a :class:`WeirdRow` via :func:`weird`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from inspector.errors import ParseError
from inspector.flows.view import Datagram, FlowView, Stream
from inspector.schema.base import Row
from inspector.schema.weird import WeirdRow

__all__ = ["Datagram", "Dissector", "FlowView", "ParseError", "Stream", "weird"]

#: ``dissect(view) -> rows``; rows may include :class:`WeirdRow`.
Dissector = Callable[[FlowView], Sequence[Row]]


def weird(
    view: FlowView, err: ParseError, source: str, ts: float | None = None, frame: int = 0
) -> WeirdRow:
    """A weird row for ``err`` raised while dissecting ``view``."""
    return WeirdRow(
        ts=view.ts if ts is None else ts,
        uid=view.uid,
        name=f"{source}_{err.name}",
        detail=err.detail[:500],
        frame=frame,
        source=source,
    )
