"""A run's per-capture pages, rendered by the worker that analysed the capture.

In a run of several captures each capture has its page (``files/NNN-name.html``,
:func:`inspector.report.html.write_run_html`), and a capture's page shows only that capture's
rows. The worker that analysed a capture therefore renders its page at once, from the capture's
own result, and sends back the page's text: the main process then only writes it.

The page is what :func:`inspector.report.html.file_result` cuts from the run's union, except for
one thing a worker cannot know: ``finding_id`` is numbered through the run
(:mod:`inspector.batch_union`), so it depends on how many findings the earlier captures have. The
worker renders the ``i``-th finding of its capture as ``F<nonce><i:07d>``, where ``nonce`` is a
random token of the run that no capture can contain; the main process replaces each such marker
by the finding's run-wide id (``F{offset + i:04d}``) when it writes the page. Findings are sorted
on the page by id within a severity; the markers sort as the final ids do while those have four
digits, so a capture whose ids reach five digits is rendered again by the main process instead.

The worker also makes its capture's rows of ``report.csv`` (:func:`report_rows`); the main
process stacks them and numbers the ``Finding ID`` column through the run, as the union does.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from inspector.api import Result
from inspector.batch_union import FileOutcome, file_entry, stack

__all__ = ["Prebuilt", "new_nonce", "page_text", "render_page", "report_rows", "with_ids"]

#: a capture's findings are renumbered in the page only while the run's ids have four digits
_MAX_ID = 9999


@dataclass
class Prebuilt:
    """What the workers of a run of several captures made for the outputs."""

    nonce: str
    pages: dict[int, str] = field(default_factory=dict)  #: capture index -> page text
    #: the run's ``report.csv`` rows (ids numbered through the run); None: made from the union
    report: pd.DataFrame | None = None


def new_nonce() -> str:
    return secrets.token_hex(8)


def _page_result(o: FileOutcome, nonce: str) -> Result:
    """The one-capture :class:`Result` its run page shows (as ``file_result`` would cut it)."""
    from inspector.report.html import PAGE_TABLES

    r = o.result
    assert r is not None
    tables = {}
    for name, frame in r.tables.items():
        if name not in PAGE_TABLES:
            continue
        frame = stack(name, [(o, frame)])
        if name == "findings" and len(frame):
            marks = [f"F{nonce}{i:07d}" for i in range(1, len(frame) + 1)]
            frame["finding_id"] = pd.array(marks, dtype="string")
        tables[name] = frame
    entry = file_entry(o)
    summary: dict[str, Any] = {
        **{k: v for k, v in entry.items() if k not in ("path", "merged")},
        "inputs": list(r.summary.get("inputs", [])),
        "pseudonymized": False,
        "run_page": True,
    }
    return Result(tables, summary, [f"{o.file}: {w}" for w in r.warnings])


def render_page(o: FileOutcome, outdir_hint: str, nonce: str) -> str:
    """The text of a capture's run page, finding ids as markers (see the module docstring)."""
    from inspector.report.html import render_html

    return render_html(_page_result(o, nonce), outdir_hint=outdir_hint)


def report_rows(o: FileOutcome) -> pd.DataFrame:
    """The capture's rows of ``report.csv`` (ids of the capture alone; see the module docstring)."""
    from inspector.report.csvout import report_frame

    assert o.result is not None
    findings = o.result.tables.get("findings")
    if findings is None or not len(findings):
        return pd.DataFrame()
    return report_frame(stack("findings", [(o, findings)]))


def run_report(frames: list[pd.DataFrame]) -> pd.DataFrame | None:
    """The run's ``report.csv`` rows from the captures' (in run order), ids renumbered."""
    present = [f for f in frames if len(f)]
    if not present:
        return None
    frame = pd.concat(present, ignore_index=True)
    frame["Finding ID"] = [f"F{i:04d}" for i in range(1, len(frame) + 1)]
    return frame


def with_ids(text: str, nonce: str, offset: int) -> str:
    """A rendered page with each finding marker replaced by its run-wide id."""
    return re.sub(
        f"F{re.escape(nonce)}([0-9]{{7}})", lambda m: f"F{offset + int(m.group(1)):04d}", text
    )


def page_text(
    pages: dict[int, str] | None, nonce: str, entry: dict[str, Any], offset: int
) -> str | None:
    """The final text of the page a worker rendered for this ``files`` entry, or None when the
    main process must render it (no page sent, or ids past four digits)."""
    text = (pages or {}).get(int(entry.get("index", 0)))
    if text is None or not nonce or offset + int(entry.get("findings", 0) or 0) > _MAX_ID:
        return None
    return with_ids(text, nonce, offset)
