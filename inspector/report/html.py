"""``report.html``: one self-contained page a non-expert can read and an editor can check.

The page holds, per conferencing session, a plain-language headline summary, the findings ordered
by severity (each with its explanation, evidence, caveat and the Wireshark filter and frames that
back it) and a timeline of the session's flows; then charts of bytes per organisation and per
category, the caveats, the methods (database version, what each verdict means) and the packet
accounting.

Safety: the template is rendered by Jinja2 with autoescape on, every capture string first goes
through :func:`inspector.report.text.plain` (control characters made visible), charts are SVG
built with escaped text, and a Content-Security-Policy forbids scripts and any network access.
No JavaScript, no external fonts, stylesheets or images: the file opens offline and on a phone.
"""

from __future__ import annotations

import functools
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from inspector import __version__
from inspector.api import Result
from inspector.report.charts import (
    PARTY_COLOURS,
    ROLE_COLOURS,
    Bar,
    bar_chart,
    bytes_by,
    party_of,
    timeline,
)
from inspector.report.data_matrix import data_matrix
from inspector.report.destinations import (
    SORT_COLUMNS,
    destination_rows,
    destinations_frame,
    destinations_view,
)
from inspector.report.headlines import headlines
from inspector.report.text import (
    CONFIDENCE_TEXT,
    FINDING_TITLES,
    SEVERITY_ORDER,
    SEVERITY_TEXT,
    VERDICT_MEANING,
    VERDICT_SHORT,
    human_bytes,
    iso_time,
    plain,
)
from inspector.report.unread import GUIDE, HOW_TO_READ, headline, unread

__all__ = ["GENERAL_CAVEATS", "render_html", "report_context", "write_html"]

TEMPLATES = Path(__file__).resolve().parent / "templates"

GENERAL_CAVEATS = (
    "A capture shows who the device talked to, when, and how much; it does not show the content "
    "of encrypted traffic. Sizes and destinations are facts; what was inside is not known.",
    "Names come from the packets themselves (TLS server name, HTTP Host, DNS answers) and can be "
    "chosen by the software that sent them. Organisations and categories come from the bundled "
    "database, whose source is given for every match; a destination missing from it is not "
    "proof that it is harmless.",
    "Only the traffic in this capture is covered. Traffic from other devices, other networks, or "
    "before and after the capture is not.",
    "'End-to-end' can never be proven from the network alone: whether the keys are authentic is "
    "settled by comparing security codes between participants, or by reading the app's code.",
    "Country is where the server's address is registered at its regional internet registry, not "
    "where the server physically is.",
)


def _s(value: object) -> str:
    return plain(value)


def _int(value: object) -> int:
    return 0 if _s(value) == "" else int(value)  # type: ignore[call-overload]


def _duration(seconds: float) -> str:
    if seconds != seconds:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _sdk_by_uid(flows: pd.DataFrame, findings: pd.DataFrame) -> dict[str, Any]:
    """The ``sdk_name`` of the flows the findings name, by uid (read column-wise: a run can hold
    far more flows than findings, and a row-wise walk of a large table is slow)."""
    wanted: set[str] = set()
    if len(findings) and "uids" in findings:
        for cell in findings["uids"].dropna().tolist():
            wanted.update(str(cell).split(";"))
    if not wanted or "uid" not in flows:
        return {}
    sdk = flows["sdk_name"].tolist() if "sdk_name" in flows else [""] * len(flows)
    return {str(u): s for u, s in zip(flows["uid"].tolist(), sdk, strict=True) if u in wanted}


def _finding(r: Any, sdk_of: Mapping[str, Any], outdir_hint: str) -> dict[str, Any]:
    uids = [u for u in _s(r.uids).split(";") if u]
    sdk = next((_s(sdk_of[u]) for u in uids if u in sdk_of and _s(sdk_of[u])), "")
    verdict = _s(r.verdict)
    category = _s(r.category).replace("_", " ")
    who = [_s(r.organisation) or "organisation not in the database", sdk]
    if category and category != "unknown":
        who.append(category)
    if _s(r.country):
        who.append(f"address registered in {_s(r.country)}")
    return {
        "who": " · ".join(x for x in who if x),
        "id": _s(r.finding_id),
        "severity": _s(r.severity) or "info",
        "kind": _s(r.finding),
        "title": FINDING_TITLES.get(_s(r.finding), _s(r.finding).replace("_", " ")),
        "destination": _s(r.destination),
        "organisation": _s(r.organisation),
        "category": category,
        "country": _s(r.country),
        "verdict": verdict,
        "verdict_short": VERDICT_SHORT.get(verdict, verdict),
        "modifiers": _s(r.modifiers).replace(";", ", "),
        "explanation": _s(r.explanation),
        "evidence": _s(r.evidence),
        "caveat": _s(r.caveat),
        "confidence": _s(r.confidence),
        "filter": _s(r.evidence_filter),
        "frames": _s(r.frames).replace(";", ", "),
        "file": _s(r.file),
        "flows": _int(r.flows),
        "sent": human_bytes(_int(r.bytes_to_server)),
        "received": human_bytes(_int(r.bytes_from_server)),
        "first_seen": iso_time(r.first_seen),
        "last_seen": iso_time(r.last_seen),
        "source": _s(r.attribution_source),
        "sdk": sdk,
        "command": f"inspector evidence {shlex.quote(outdir_hint)} {_s(r.finding_id)} "
        f"-o {_s(r.finding_id)}.pcap",
    }


def _sort(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(findings, key=lambda f: (SEVERITY_ORDER.get(f["severity"], 9), f["id"]))


#: Flows drawn in a session's timeline (the largest by bytes; the page says "top N of M").
TIMELINE_ROWS = 15


def finding_groups(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings of the same kind and organisation together (in the order of their first, most
    serious member), so that thirteen near-identical cards become one expandable line."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for f in items:
        g = groups.setdefault(
            (f["kind"], f["organisation"]),
            {"title": f["title"], "organisation": f["organisation"], "severity": f["severity"]},
        )
        g.setdefault("items", []).append(f)
    for g in groups.values():
        names = list(dict.fromkeys(f["destination"] for f in g["items"]))
        g["count"] = len(g["items"])
        g["destinations"] = ", ".join(names[:3]) + (
            f" and {len(names) - 3} more" if len(names) > 3 else ""
        )
    return list(groups.values())


def _session_view(
    s: Any, flows: pd.DataFrame, by_session: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    sid = _s(s.session_id)
    app = _s(s.app)
    fl = flows[flows["session_id"].fillna("") == sid] if len(flows) else flows
    start, end = float(s.start_ts), float(s.end_ts)
    svg, hidden = timeline(fl, start, end, f"Timeline of the flows of session {sid}", TIMELINE_ROWS)
    shown_roles = (
        {_s(r) or "other" for r in fl["role"].tolist()} if len(fl) and "role" in fl else set()
    )
    items = _sort(by_session.get(sid, []))
    return {
        "id": sid,
        "app": app,
        "client": _s(s.client),
        "start": iso_time(start),
        "end": iso_time(end),
        "duration": _duration(float(s.duration_s)),
        "flows": _int(s.flows),
        "media_flows": _int(s.media_flows),
        "bytes": human_bytes(_int(s.bytes_total)),
        "weakest": _s(s.weakest_verdict),
        "weakest_meaning": VERDICT_MEANING.get(_s(s.weakest_verdict), ""),
        "headlines": headlines(app, s, items),
        "findings": items,
        "groups": finding_groups(items),
        "counts": {k: sum(1 for f in items if f["severity"] == k) for k in SEVERITY_ORDER},
        "timeline": svg,
        "timeline_hidden": hidden,
        "timeline_total": len(fl),
        "legend": [(r, c) for r, c in ROLE_COLOURS.items() if r in shown_roles],
    }


def _packets_view(pk: dict[str, Any]) -> dict[str, Any]:
    return {
        "total": pk.get("total", 0),
        "decoded": pk.get("decoded", 0),
        "skipped_total": pk.get("skipped_total", 0),
        "malformed_total": pk.get("malformed_total", 0),
        "skipped": [(_s(k), v) for k, v in pk.get("skipped", {}).items()],
        "malformed": [(_s(k), v) for k, v in pk.get("malformed", {}).items()],
    }


def _inputs_view(summary: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "name": _s(Path(str(i.get("path", ""))).name),
            "format": _s(i.get("format", "")),
            "packets": i.get("packets", 0),
            "truncated": bool(i.get("truncated", False)),
        }
        for i in summary.get("inputs", [])
    ]


def _charts(flows: pd.DataFrame) -> tuple[list[Bar], list[Bar]]:
    def colour_of(key: str, subset: pd.DataFrame) -> str:
        roles = subset["role"].fillna("").astype(str).tolist() if "role" in subset else []
        parties = subset["party"].fillna("").astype(str).tolist() if "party" in subset else []
        return PARTY_COLOURS[party_of(roles, parties)]

    flows = _narrow(flows, _CHART_COLUMNS)  # bytes_by cuts the frame once per bar

    org_bars = bytes_by(flows, "organisation", "unknown organisation", colour=colour_of)
    cat_bars = [
        Bar(b.label.replace("_", " "), b.value, b.colour)
        for b in bytes_by(flows, "category", "unknown", colour=colour_of)
    ]
    return org_bars, cat_bars


def _methods_view(result: Result, n_flows: int, outdir_hint: str) -> dict[str, Any]:
    """The Methods part: vocabularies, database, client, packet accounting, warnings."""
    summary = result.summary
    att = summary.get("attribution", {})
    pk = summary.get("packets", {})
    return {
        "verdicts": [(k, VERDICT_SHORT[k], v) for k, v in VERDICT_MEANING.items()],
        "severities": list(SEVERITY_TEXT.items()),
        "confidences": list(CONFIDENCE_TEXT.items()),
        "database_version": _s(att.get("database_version", "")),
        "database_built": _s(att.get("database_built", "")),
        "tracker_lists": [_s(x) for x in att.get("tracker_lists", [])],
        "client": _s(att.get("client", "")),
        "client_source": _s(att.get("client_source", "")),
        "packets": _packets_view(pk),
        "flows_total": summary.get("flows", n_flows),
        "flows_evicted": summary.get("flows_evicted", 0),
        "fragments_evicted": summary.get("fragments_evicted", 0),
        "overlap_conflicts": summary.get("tcp_overlap_conflicts", 0),
        "internal_errors": summary.get("internal_errors", 0),
        "warnings": [_s(w) for w in result.warnings or summary.get("warnings", [])],
        "pseudonymized": bool(summary.get("pseudonymized")),
        "outdir_hint": outdir_hint,
        #: a capture's page in a run of several: link back to the run's table of captures
        "run_index": "../report.html" if summary.get("run_page") else "",
    }


#: the flows' columns each part of the page reads (it works on those only: cutting and walking a
#: large table costs by its number of columns)
_CHART_COLUMNS = ("organisation", "category", "orig_bytes", "resp_bytes", "role", "party")
_TIMELINE_COLUMNS = (
    "session_id",
    "ts",
    "uid",
    "duration_s",
    "orig_bytes",
    "resp_bytes",
    "role",
    "server_name",
    "resp_h",
)
_UNREAD_COLUMNS = ("content_decrypted", "server_name", "resp_h", "proto", "uid")


def _narrow(flows: pd.DataFrame, wanted: tuple[str, ...]) -> pd.DataFrame:
    """``flows`` with only the ``wanted`` columns it has (in that order)."""
    return flows[[c for c in wanted if c in flows.columns]]


def _charts_context(flows: pd.DataFrame) -> dict[str, Any]:
    org_bars, cat_bars = _charts(flows)
    drawn = {b.colour for b in org_bars + cat_bars}
    return {
        "org_chart": bar_chart(org_bars, "Bytes exchanged per organisation"),
        "cat_chart": bar_chart(cat_bars, "Bytes exchanged per category"),
        "org_rows": [(_s(b.label), human_bytes(b.value)) for b in org_bars],
        "cat_rows": [(_s(b.label), human_bytes(b.value)) for b in cat_bars],
        "party_colours": [(p, c) for p, c in PARTY_COLOURS.items() if c in drawn],
    }


def _destinations_context(
    tables: Mapping[str, pd.DataFrame], flows: pd.DataFrame
) -> dict[str, Any]:
    frame = tables.get("destinations")
    rows = destinations_view(frame if frame is not None else destinations_frame(flows))
    columns = [(i, head) for i, (head, _v, _k, _b) in enumerate(SORT_COLUMNS)]
    return {
        "destinations": rows,
        "destination_rows": destination_rows(rows, len(columns)),
        "dest_columns": columns,
        "dest_default_sort": 5,  # Sent: the frame's own order is by bytes
        "dest_open_max": 12,  # a longer table starts folded, behind a one-line summary
    }


def _personal_context(tables: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    shared, flows = tables.get("data_shared"), tables.get("flows")
    if shared is not None and len(shared) and flows is not None:
        # a run's per-capture page: this capture's flows, and the imported (HAR/mitmproxy) rows
        keep = shared["uid"].isin(flows["uid"]) | (shared["source"].fillna("") != "capture")
        shared = shared[keep]
    matrix = data_matrix(shared, flows)
    closed = unread(None if flows is None else _narrow(flows, _UNREAD_COLUMNS))
    return {
        "pd_categories": matrix["categories"],
        "pd_rows": matrix["rows"],
        "unread": closed,
        "unread_headline": headline(closed),
        "unread_how": HOW_TO_READ,
        "unread_guide": GUIDE,
    }


def report_context(result: Result, outdir_hint: str = "OUTDIR") -> dict[str, Any]:
    """Everything the template shows, as plain (display-safe, not yet HTML-escaped) values."""
    tables = result.tables
    flows = tables.get("flows", pd.DataFrame())
    findings_df = tables.get("findings", pd.DataFrame())
    sessions_df = tables.get("sessions", pd.DataFrame())
    sdk_of = _sdk_by_uid(flows, findings_df) if len(flows) else {}
    findings = [_finding(r, sdk_of, outdir_hint) for r in findings_df.itertuples(index=False)]
    by_session: dict[str, list[dict[str, Any]]] = {}
    for f, r in zip(findings, findings_df.itertuples(index=False), strict=True):
        by_session.setdefault(_s(r.session_id) or "outside", []).append(f)
    timeline_flows = _narrow(flows, _TIMELINE_COLUMNS)  # cut once per session
    sessions = [
        _session_view(s, timeline_flows, by_session) for s in sessions_df.itertuples(index=False)
    ]
    known = {sess["id"] for sess in sessions}
    outside = _sort([f for sid, items in by_session.items() if sid not in known for f in items])

    summary = result.summary
    caveats: dict[str, list[str]] = {}
    for f in findings:
        if f["caveat"]:
            caveats.setdefault(f["caveat"], []).append(f["id"])
    apps = sorted({s["app"] for s in sessions if s["app"]})
    return {
        "title": "Network report" + (f": {', '.join(apps)}" if apps else ""),
        "version": __version__,
        "inputs": _inputs_view(summary),
        "first_seen": iso_time(float(flows["ts"].min())) if len(flows) else "",
        "sessions": sessions,
        "outside": outside,
        "outside_groups": finding_groups(outside),
        "outside_headlines": headlines("", None, outside) if outside else [],
        "findings_total": len(findings),
        **_destinations_context(tables, flows),
        **_personal_context(tables),
        **_charts_context(flows),
        "role_colours": list(ROLE_COLOURS.items()),
        "general_caveats": GENERAL_CAVEATS,
        "caveats": [(text, ids) for text, ids in caveats.items()],
        **_methods_view(result, len(flows), outdir_hint),
    }


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def warm_templates() -> None:
    """Compile the report templates now (the batch worker server, before it forks)."""
    for name in ("report.html.j2", "index.html.j2"):
        _environment().get_template(name)


def render_html(result: Result, outdir_hint: str = "OUTDIR") -> str:
    """The report page as text."""
    return (
        _environment().get_template("report.html.j2").render(**report_context(result, outdir_hint))
    )


def write_html(result: Result, path: str | Path, outdir_hint: str = "OUTDIR") -> Path:
    """Write ``report.html`` to ``path`` (UTF-8) and return the path."""
    out = Path(path)
    text = render_html(result, outdir_hint)
    out.write_bytes(text.encode("utf-8", "backslashreplace"))
    return out


# ---- a run of several captures: an index page and one page per capture


#: the tables :func:`report_context` reads (a run's per-capture pages get only these)
PAGE_TABLES = ("flows", "findings", "sessions", "destinations", "data_shared")


def file_page_name(entry: Mapping[str, Any]) -> str:
    """``files/003-name.html``: numbered, with the capture name reduced to safe characters."""
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(entry.get("file", "")))
    return f"files/{int(entry.get('index', 0)):03d}-{stem[:80]}.html"


def _by_file(result: Result) -> dict[str, dict[str, pd.DataFrame]]:
    """table -> file -> that file's rows (split once for all the pages of a run).

    A run's tables hold each capture's rows as one block (:func:`inspector.batch_union.union`
    stacks them in input order), so a table is cut at the changes of its ``file`` column; a
    table whose files are interleaved is grouped instead."""
    out: dict[str, dict[str, pd.DataFrame]] = {}
    for name, frame in result.tables.items():
        if "file" in frame.columns and len(frame):
            out[name] = _split_blocks(frame) or {
                str(k): g.reset_index(drop=True)
                for k, g in frame.groupby(frame["file"].fillna("").astype(str), sort=False)
            }
    return out


def _split_blocks(frame: pd.DataFrame) -> dict[str, pd.DataFrame] | None:
    """``file`` -> rows, when each file's rows are one contiguous block (else None)."""
    files = frame["file"].fillna("").astype(str).to_numpy(dtype=object)
    starts = [0, *(i for i in range(1, len(files)) if files[i] != files[i - 1])]
    names = [str(files[i]) for i in starts]
    if len(set(names)) != len(names):
        return None
    bounds = [*starts, len(files)]
    return {
        n: frame.iloc[bounds[k] : bounds[k + 1]].reset_index(drop=True) for k, n in enumerate(names)
    }


def file_result(
    result: Result,
    entry: Mapping[str, Any],
    split: Mapping[str, Mapping[str, pd.DataFrame]] | None = None,
    empty: dict[str, pd.DataFrame] | None = None,
) -> Result:
    """The part of a run's :class:`Result` that belongs to one capture, as a one-file result.

    ``empty``: each table's empty frame, filled in here (shared by the pages of a run)."""
    file = str(entry.get("file", ""))
    split = _by_file(result) if split is None else split
    empty = {} if empty is None else empty
    tables = {}
    for name, frame in result.tables.items():
        if name in split:
            frame = split[name].get(file)
            if frame is None:
                if name not in empty:
                    empty[name] = result.tables[name].iloc[0:0].reset_index(drop=True)
                frame = empty[name]
        tables[name] = frame
    inputs = [
        i for i in result.summary.get("inputs", []) if Path(str(i.get("path", ""))).name == file
    ]
    summary = {
        **{k: v for k, v in entry.items() if k not in ("path", "merged")},
        "inputs": inputs,
        "pseudonymized": result.summary.get("pseudonymized", False),
        "run_page": True,
    }
    warnings = [w for w in result.warnings if w.startswith(f"{file}: ")]
    return Result(tables, summary, warnings)


def index_context(result: Result) -> dict[str, Any]:
    """What ``index.html.j2`` shows: one row per capture of the run."""
    rows = []
    for e in result.summary.get("files", []):
        ok = e.get("status") != "failed"
        worst = str(e.get("worst_verdict", ""))
        rows.append(
            {
                "index": e.get("index", 0),
                "file": _s(e.get("file", "")),
                "status": _s(e.get("status", "")),
                "reason": _s(e.get("reason", "")),
                "packets": e.get("packets", {}).get("total", 0) if ok else "",
                "flows": e.get("flows", "") if ok else "",
                "apps": ", ".join(_s(a) for a in e.get("apps", [])),
                "findings": e.get("findings", "") if ok else "",
                "worst": VERDICT_SHORT.get(worst, _s(worst)),
                "worst_code": _s(worst),
                "page": file_page_name(e) if ok else "",
            }
        )
    pk = result.summary.get("packets", {})
    return {
        "title": f"Network report: {len(rows)} captures",
        "version": __version__,
        "rows": rows,
        "failed": sum(r["status"] == "failed" for r in rows),
        "partial": sum(r["status"] == "partial" for r in rows),
        "packets_total": pk.get("total", 0),
        "findings_total": len(result.tables.get("findings", ())),
        "pseudonymized": bool(result.summary.get("pseudonymized")),
    }


def _write_page(job: tuple[Result, Path, str]) -> Path:
    return write_html(*job)


def write_run_html(
    result: Result,
    outdir: str | Path,
    outdir_hint: str = "OUTDIR",
    jobs: int = 1,
    pool: Any = None,
    rendered: tuple[dict[int, str], str] | None = None,
) -> list[Path]:
    """``report.html`` as a table of the run's captures, linking to ``files/NNN-name.html``.

    ``jobs`` > 1 renders the per-capture pages in that many processes (those of ``pool``,
    a :class:`concurrent.futures.Executor`, when given). ``rendered``: (capture index -> page
    text, nonce), the pages the batch workers rendered (:mod:`inspector.batch_pages`).
    """
    from inspector.batch_pages import page_text

    out = Path(outdir)
    # a page shows these tables only (report_context): the others are not cut per capture
    shown = {n: f for n, f in result.tables.items() if n in PAGE_TABLES}
    result = Result(shown, result.summary, result.warnings)
    sent, nonce = rendered or ({}, "")
    todo, done, offset = [], [], 0
    for e in result.summary.get("files", []):
        if e.get("status") == "failed":
            continue
        page = out / file_page_name(e)
        page.parent.mkdir(parents=True, exist_ok=True)
        text = page_text(sent, nonce, e, offset)
        offset += int(e.get("findings", 0) or 0)
        if text is not None:
            page.write_bytes(text.encode("utf-8", "backslashreplace"))
            done.append(page)
        else:
            todo.append((e, page))
    split = _by_file(result) if todo else {}
    empty: dict[str, pd.DataFrame] = {}
    pages = [(file_result(result, e, split, empty), page, outdir_hint) for e, page in todo]
    if jobs > 1 and len(pages) > 1:
        chunk = max(1, len(pages) // (4 * jobs))
        if pool is not None:
            written = list(pool.map(_write_page, pages, chunksize=chunk))
        else:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            from inspector.workers import PRELOAD

            ctx = mp.get_context("forkserver")
            ctx.set_forkserver_preload(list(PRELOAD))
            with ProcessPoolExecutor(min(jobs, len(pages)), mp_context=ctx) as own:
                written = list(own.map(_write_page, pages, chunksize=chunk))
    else:
        written = [_write_page(p) for p in pages]
    text = _environment().get_template("index.html.j2").render(**index_context(result))
    index = out / "report.html"
    index.write_bytes(text.encode("utf-8", "backslashreplace"))
    return [index, *done, *written]
