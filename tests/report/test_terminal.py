"""Terminal view: compact per-session tables; capture strings never act on the terminal."""

from __future__ import annotations

import io
import json

from rich.console import Console

from inspector.api import Result
from inspector.report import terminal
from inspector.report.cli_support import render_terminal
from inspector.report.terminal import findings_table, print_report, safe_text, summary_lines
from tests.report.hostile import ESCAPE, FORMULA, SCRIPT


def rendered(result: Result, **kwargs: bool) -> str:
    buf = io.StringIO()
    render_terminal(result, buf, outdir="OUT", **kwargs)
    return buf.getvalue()


def test_plain_stream_has_no_escape_sequences(hostile_result: Result) -> None:
    out = rendered(hostile_result)
    for ch in ("\x1b", "\x07", "\x08", "\r", "\u202e", "\x9b"):
        assert ch not in out, repr(ch)
    assert "\\x1b[31mred" in out
    assert "<script>alert" in out
    assert "outputs written to OUT" in out
    buf = io.StringIO()
    print_report(hostile_result, terminal.make_console(buf, width=200))
    wide = buf.getvalue()
    assert "bell\\x07back\\x08cr\\rnul" in wide
    assert "evil\\u202etxt.exe" in wide


def test_colour_terminal_prints_no_escape_from_capture(hostile_result: Result) -> None:
    buf = io.StringIO()
    console = Console(
        file=buf,
        force_terminal=True,
        color_system="truecolor",
        width=160,
        highlight=False,
        emoji=False,
    )
    print_report(hostile_result, console)
    out = buf.getvalue()
    assert ESCAPE not in out  # the capture's own colour code never reaches the terminal
    assert "\\x1b[31mred" in out
    for ch in ("\x07", "\x08", "\r", "\u202e"):
        assert ch not in out, repr(ch)
    # rich markup in a capture string is shown, not applied
    assert "markup[/" in out


def test_markup_in_capture_strings_is_not_interpreted() -> None:
    import pandas as pd

    frame = pd.DataFrame(
        {
            "finding_id": ["F0001"],
            "severity": ["high"],
            "finding": ["plaintext_http"],
            "destination": ["[bold red]x[/] [link=http://evil]y[/link]"],
            "organisation": ["[/]"],
            "verdict": ["PLAINTEXT"],
        }
    )
    buf = io.StringIO()
    Console(file=buf, width=200, force_terminal=True).print(findings_table(frame, "[red]t"))
    out = buf.getvalue()
    assert "[bold red]x[/]" in out and "[link=http://evil]y[/link]" in out and "[red]t" in out
    assert "\x1b]8;" not in out  # no hyperlink escape


def test_per_session_tables(sample_result: Result) -> None:
    out = rendered(sample_result)
    assert out.startswith(summary_lines(sample_result)[0])
    assert "Session S1 Zoom" in out
    for fid, dest in zip(
        sample_result.findings["finding_id"], sample_result.findings["destination"], strict=True
    ):
        assert fid in out
        assert dest[:16] in out
    assert "third-party tracker" in out


def test_quiet_prints_nothing(sample_result: Result) -> None:
    assert rendered(sample_result, quiet=True) == ""


def test_json_for_scripts(hostile_result: Result) -> None:
    out = rendered(hostile_result, as_json=True)
    doc = json.loads(out)
    assert doc["outdir"] == "OUT"
    assert doc["summary"]["packets"]["total"] > 0
    assert len(doc["findings"]) == len(hostile_result.findings)
    assert len(doc["sessions"]) == len(hostile_result.sessions)
    destinations = {f["destination"] for f in doc["findings"]}
    assert SCRIPT in destinations and ESCAPE in destinations
    assert any(d.startswith(FORMULA[:10]) for d in destinations)
    assert "\x1b" not in out  # JSON escapes it as \u001b
    assert json.dumps(doc)  # no NaN anywhere


def test_safe_text_reexported() -> None:
    assert terminal.safe_text is safe_text
    assert safe_text("\x1b[2J") == "\\x1b[2J"


def test_findings_outside_sessions(no_session_result: Result) -> None:
    out = rendered(no_session_result)
    assert "Outside any session" in out
    for fid in no_session_result.findings["finding_id"]:
        assert fid in out


def _render(result: Result, width: int) -> str:
    buf = io.StringIO()
    print_report(result, terminal.make_console(buf, width=width))
    return buf.getvalue()


def test_narrow_terminal_never_breaks_a_name_mid_word(sample_result: Result) -> None:
    """Host names are shown whole or cut once with an ellipsis, never folded onto two lines."""
    for width in (50, 60, 80):
        text = _render(sample_result, width)
        assert all(len(line) <= width for line in text.splitlines()), width
        words = {w for line in text.splitlines() for w in line.split()}
        for dest in sample_result.tables["findings"]["destination"]:
            whole = dest in words
            cut = any(w.endswith("…") and dest.startswith(w[:-1]) and len(w) > 4 for w in words)
            assert whole or cut, (width, dest)
            # a fold would leave the name's tail at the start of a later line
            tail = dest[len(dest) // 2 :]
            assert not any(w == tail for w in words), (width, dest)


def test_session_line_counts_one_flow() -> None:
    from types import SimpleNamespace

    s = SimpleNamespace(
        session_id="S1", app="Zoom", duration_s=1.0, flows=1, bytes_total=10, weakest_verdict=""
    )
    assert ", 1 flow," in terminal.session_line(s)
