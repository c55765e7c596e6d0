"""report.html: self-contained, every capture string inert, readable summary and findings."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

from inspector.api import Result
from inspector.report.html import GENERAL_CAVEATS, render_html, report_context
from inspector.schema import load_all
from inspector.tables import empty_frame
from tests.report.hostile import SCRIPT

ALLOWED_TAGS = {
    "thead",
    "tbody",
    "label",
    "input",  # radio buttons that sort the Destinations table (CSS only, no form, no script)
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "header",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "p",
    "span",
    "nav",
    "a",
    "main",
    "section",
    "ul",
    "li",
    "strong",
    "em",
    "article",
    "dl",
    "dt",
    "dd",
    "code",
    "br",
    "svg",
    "text",
    "rect",
    "line",
    "i",
    "details",
    "summary",
    "table",
    "tr",
    "td",
    "th",
    "footer",
}


class Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> Collect:
    c = Collect()
    c.feed(page)
    c.close()
    return c


def page_of(out: Path) -> str:
    return (out / "report.html").read_text(encoding="utf-8")


def test_hostile_names_are_inert(hostile_out: Path) -> None:
    page = page_of(hostile_out)
    doc = parse(page)
    tags = {t for t, _a in doc.tags}
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
    assert {a.get("type") for t, a in doc.tags if t == "input"} <= {"radio"}
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "\x1b" not in page and "\u202e" not in page and "\x07" not in page
    text = "".join(doc.text)
    assert SCRIPT in text  # shown to the reader as text
    assert "\\x1b[31mred" in text and "evil\\u202etxt.exe" in text
    assert "[bold red]markup[/]" in text or "bold red]markup[/" in text
    for _tag, attrs in doc.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), name
            if name in ("href", "src", "action", "xlink:href"):
                assert (value or "").startswith("#"), value


def test_self_contained(sample_out: Path) -> None:
    page = page_of(sample_out)
    doc = parse(page)
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:|//|file:)", page)
    assert "@import" not in page and "url(" not in page
    assert not any(t in ("script", "link", "img", "iframe", "object", "embed") for t, _ in doc.tags)
    csp = [
        a for t, a in doc.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert csp and "default-src 'none'" in (csp[0]["content"] or "")
    assert any(t == "meta" and a.get("name") == "viewport" for t, a in doc.tags)


def test_headline_summary(sample_out: Path) -> None:
    text = " ".join(" ".join(parse(page_of(sample_out)).text).split())
    assert (
        "This Zoom session contacted 1 third-party tracker: graph.facebook.com "
        "(Meta Platforms, Inc.; Facebook SDK" in text
    )
    assert re.search(
        r"Media \([a-z ,/]+\): encrypted with Zoom's own scheme; nothing shows it is end-to-end\.",
        text,
    )
    assert "Call set-up (signalling): encrypted with TLS up to the server" in text
    assert "Unencrypted web request: example.com." in text


def test_findings_ordered_with_explanation_and_evidence(
    sample_out: Path, sample_result: Result
) -> None:
    page = page_of(sample_out)
    doc = parse(page)
    ids = [a["id"] for t, a in doc.tags if t == "article"]
    findings = sample_result.findings
    rank = {"high": 0, "medium": 1, "low": 2, "info": 3}
    expected = sorted(
        findings["finding_id"],
        key=lambda i: (rank[findings.set_index("finding_id").loc[i, "severity"]], i),
    )
    assert ids == expected
    text = " ".join(" ".join(doc.text).split())
    for f in findings.itertuples():
        assert " ".join(f.explanation.split()) in text
        assert f.evidence_filter in text
        for frame in f.frames.split(";"):
            assert frame in text
    assert "inspector evidence" in text


def test_methods_caveats_accounting(sample_out: Path, sample_result: Result) -> None:
    text = " ".join(html.unescape(" ".join(parse(page_of(sample_out)).text)).split())
    att = sample_result.summary["attribution"]
    assert att["database_version"] in text and att["database_built"] in text
    for caveat in GENERAL_CAVEATS:
        assert " ".join(caveat.split()) in text
    for code in ("PLAINTEXT", "TRANSPORT_TLS", "PROPRIETARY_ENCRYPTED", "LIKELY_E2E"):
        assert code in text
    pk = sample_result.summary["packets"]
    assert f"Packets read {pk['total']}" in text
    assert f"Decoded (IP, TCP/UDP/ICMP) {pk['decoded']}" in text
    assert "Bytes exchanged per organisation" in page_of(sample_out)


def test_charts_inline(sample_out: Path) -> None:
    page = page_of(sample_out)
    assert page.count("<svg") == 3  # organisation, category, one session timeline
    assert "Meta Platforms, Inc." in page


def test_empty_result_renders() -> None:
    tables = {name: empty_frame(name) for name in load_all()}
    summary = {"inputs": [], "packets": {"total": 0}, "flows": 0}
    page = render_html(Result(tables, summary))
    assert "No conferencing session was recognised" in page
    assert report_context(Result(tables, summary))["findings_total"] == 0


def test_findings_outside_sessions(no_session_result: Result) -> None:
    assert len(no_session_result.sessions) == 0 and len(no_session_result.findings) > 0
    page = render_html(no_session_result)
    doc = parse(page)
    assert "No conferencing session was recognised" in page
    assert '<section id="outside">' in page
    ids = [a["id"] for t, a in doc.tags if t == "article"]
    assert ids == list(no_session_result.findings["finding_id"])
    assert "&lt;script&gt;" in page and "<script" not in page
    assert "<ul></ul>" not in page  # no empty "in short" box


def test_personal_data_outside_sessions_has_its_headline() -> None:
    """A capture with no session whose only finding is personal data: the outside section
    opens with a line naming the destination, not an empty box."""
    import inspector
    from inspector.config import Config

    root = Path(__file__).resolve().parents[2] / "captures"
    keys = (str(root / "telemetry-tls13.keys"),)
    result = inspector.analyze(str(root / "telemetry-tls13.pcapng"), Config(keylogs=keys))
    page = render_html(result)
    assert "<ul></ul>" not in page
    assert "<li>Personal data sent to a destination: graph.facebook.com.</li>" in page


#: the destinations rows as the template wrote them before they were built in Python
_DEST_LOOP = (
    '{% for d in destinations %}<tr style="{% for i, head in dest_columns %}--r{{ i }}:'
    '{{ d[\'r\' ~ i] }};{% endfor %}"><td class="dname"><span class="mono">'
    '{{ d.destination }}</span>{% if d.address != d.destination %}<br><span class="note mono">'
    '{{ d.address }}</span>{% endif %}<br><span class="note">{{ d.ports }}</span></td><td>'
    "{{ d.organisation }}</td><td>{{ d.party }}</td><td>{{ d.category }}</td><td>{{ d.country }}"
    '</td><td class="num">{{ d.sent }}</td><td class="num">{{ d.received }}</td>'
    '<td class="num">{{ d.flows }}</td><td>{{ d.verdicts }}</td><td>{{ d.apps }}</td>'
    '<td class="note">{{ d.first_seen }}<br>to {{ d.last_seen }}</td></tr>\n'
    "{% else %}<tr><td>No flows.</td></tr>{% endfor %}\n"
)


def test_destination_rows_equal_the_template_loop(hostile_result: Result) -> None:
    import jinja2

    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    for result in (hostile_result, Result({n: empty_frame(n) for n in load_all()}, {}, [])):
        ctx = report_context(result)
        want = env.from_string(_DEST_LOOP).render(**ctx)
        assert str(ctx["destination_rows"]) == want


def test_run_pages_split_blocks_like_groupby() -> None:
    import pandas as pd

    from inspector.report.html import _by_file

    frame = pd.DataFrame({"file": pd.array(["a", "a", "b", None], dtype="string"), "x": range(4)})
    split = _by_file(Result({"t": frame}, {}, []))["t"]
    assert list(split) == ["a", "b", ""]
    assert split["a"]["x"].tolist() == [0, 1] and split[""]["x"].tolist() == [3]
    interleaved = frame.assign(file=pd.array(["a", "b", "a", "b"], dtype="string"))
    split = _by_file(Result({"t": interleaved}, {}, []))["t"]
    assert split["a"]["x"].tolist() == [0, 2] and split["b"]["x"].tolist() == [1, 3]
