"""Charts for the HTML report, as inline SVG built in Python (no JavaScript, no fonts, no network).

Every label is escaped (and its control characters made visible) before it enters the SVG, so a
server name cannot inject markup. The SVGs scale to the page width (``viewBox``), labels sit
above their bars so that they stay readable on a phone, and each chart carries a ``<title>`` and
an ``aria-label`` for screen readers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import pandas as pd
from markupsafe import Markup, escape

from inspector.report.text import human_bytes, plain

__all__ = [
    "CATEGORY_COLOURS",
    "ROLE_COLOURS",
    "WIDTH",
    "Bar",
    "bar_chart",
    "bytes_by",
    "category_colour",
    "timeline",
]

WIDTH = 360
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"

THIRD_PARTY = ("analytics", "advertising", "social_sdk", "attribution", "crash_reporting")
CATEGORY_COLOURS = {
    **dict.fromkeys(THIRD_PARTY, "#c0392b"),
    "customer_support": "#e67e22",
    "feature_flags": "#e67e22",
    "first-party signalling": "#2471a3",
    "first-party media": "#1f618d",
    "first-party telemetry": "#8e44ad",
    "first-party web": "#5dade2",
    "cdn_cloud": "#7f8c8d",
    "os_services": "#95a5a6",
    "local network": "#27ae60",
}
ROLE_COLOURS = {
    "media": "#1f618d",
    "relay": "#2e86c1",
    "signalling": "#5dade2",
    "third-party telemetry": "#c0392b",
    "first-party telemetry": "#8e44ad",
    "web/API": "#7f8c8d",
    "dns": "#27ae60",
    "other": "#b3b6b7",
}
_DEFAULT = "#aab7b8"


#: Colours of the bar charts: by what the traffic is to the app under study (its party), not by
#: category name, so a vendor's own crash reporting is not drawn in tracker red.
PARTY_COLOURS = {
    "third-party tracker or telemetry": ROLE_COLOURS["third-party telemetry"],
    "vendor's own telemetry": ROLE_COLOURS["first-party telemetry"],
    "vendor service (signalling, media, relay)": ROLE_COLOURS["media"],
    "other (web, DNS, unknown)": _DEFAULT,
}
_SERVICE_ROLES = frozenset({"media", "relay", "signalling"})


def party_of(roles: Iterable[str], parties: Iterable[str] = ()) -> str:
    """The legend entry of a group of flows: third party if any flow is third-party telemetry
    (or the flows' ``party`` column says third), then vendor telemetry, then vendor service."""
    roles, parties = set(roles), {p.lower() for p in parties}
    if "third-party telemetry" in roles or parties & {"third", "third-party", "third_party"}:
        return "third-party tracker or telemetry"
    if "first-party telemetry" in roles:
        return "vendor's own telemetry"
    if roles & _SERVICE_ROLES:
        return "vendor service (signalling, media, relay)"
    return "other (web, DNS, unknown)"


def category_colour(category: str) -> str:
    return CATEGORY_COLOURS.get(category, _DEFAULT)


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    colour: str = "#2471a3"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(
    x: float,
    y: float,
    body: str,
    size: int = 13,
    anchor: str = "start",
    fill: str = "#1c2833",
    weight: str = "normal",
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}" font-weight="{weight}">{escape(body)}</text>'
    )


def _svg(height: float, title: str, body: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" '
        f'width="100%" role="img" aria-label="{escape(title)}" '
        f'font-family="{FONT}"><title>{escape(title)}</title>'
    )
    return Markup(head + "".join(body) + "</svg>")


def bar_chart(bars: Sequence[Bar], title: str, fmt: Callable[[float], str] = human_bytes) -> Markup:
    """Horizontal bars, label above each bar and the value at its end."""
    if not bars:
        return _svg(30, title, [_text(0, 20, "Nothing to show.", fill="#566573")])
    top = max(b.value for b in bars) or 1.0
    row = 40
    body: list[str] = []
    value_room = 80
    for i, b in enumerate(bars):
        y = i * row
        w = max(2.0, (WIDTH - value_room) * b.value / top)
        body.append(_text(0, y + 14, _clip(plain(b.label), 52), size=12))
        body.append(
            f'<rect x="0" y="{y + 19}" width="{w:.1f}" height="14" rx="2" '
            f'fill="{escape(b.colour)}"><title>{escape(plain(b.label))}: '
            f"{escape(fmt(b.value))}</title></rect>"
        )
        body.append(_text(w + 6, y + 31, fmt(b.value), size=12, fill="#34495e"))
    return _svg(len(bars) * row + 4, title, body)


def bytes_by(
    flows: pd.DataFrame,
    column: str,
    empty_label: str,
    limit: int = 10,
    colour: Callable[[str, pd.DataFrame], str] | None = None,
) -> list[Bar]:
    """Bytes (both directions) per value of ``column``, largest first, the rest as "others"."""
    if flows.empty:
        return []
    total = flows["orig_bytes"].fillna(0).astype("int64") + flows["resp_bytes"].fillna(0).astype(
        "int64"
    )
    keys = flows[column].fillna("").astype(str).replace("", empty_label)
    sums = total.groupby(keys).sum().sort_values(ascending=False, kind="stable")
    bars: list[Bar] = []
    for key, value in sums.iloc[:limit].items():
        subset = flows[keys == key]
        bars.append(Bar(str(key), float(value), colour(str(key), subset) if colour else "#2471a3"))
    rest = sums.iloc[limit:]
    if len(rest):
        bars.append(Bar(f"{len(rest)} others", float(rest.sum()), _DEFAULT))
    return bars


def _tick_step(span: float) -> float:
    for step in (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200):
        if span / step <= 6:
            return float(step)
    return 3600.0 * max(1, round(span / 3600 / 6))


def _tick_label(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def timeline(
    flows: pd.DataFrame, start: float, end: float, title: str, max_rows: int = 30
) -> tuple[Markup, int]:
    """A bar per flow from its first to its last packet; returns (svg, flows not shown).

    When there are more than ``max_rows`` flows the largest (by bytes) are drawn, in time order.
    """
    if flows.empty:
        return _svg(30, title, [_text(0, 20, "No flows.", fill="#566573")]), 0
    data = flows.assign(
        bytes_both=flows["orig_bytes"].fillna(0).astype("int64")
        + flows["resp_bytes"].fillna(0).astype("int64")
    )
    hidden = max(0, len(data) - max_rows)
    if hidden:
        data = data.nlargest(max_rows, "bytes_both", keep="first")
    data = data.sort_values(["ts", "uid"], kind="stable")
    span = max(end - start, 1e-3)
    top = 24
    row = 30
    body: list[str] = []
    step = _tick_step(span)
    n = 0
    while n * step <= span + 1e-9:
        x = WIDTH * (n * step) / span
        body.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" '
            f'y2="{top + row * len(data)}" stroke="#d5d8dc" stroke-width="1"/>'
        )
        anchor = "end" if x > WIDTH - 30 else "start"
        body.append(
            _text(
                x + (2 if anchor == "start" else -2),
                12,
                _tick_label(n * step),
                size=11,
                anchor=anchor,
                fill="#566573",
            )
        )
        n += 1
    for i, f in enumerate(data.itertuples(index=False)):
        y = top + i * row
        t0 = float(f.ts) - start
        dur = float(f.duration_s) if f.duration_s == f.duration_s else 0.0
        x = WIDTH * max(0.0, t0) / span
        w = max(3.0, WIDTH * dur / span)
        x = min(x, WIDTH - w)
        role = plain(getattr(f, "role", "")) or "other"
        dest = plain(getattr(f, "server_name", "")) or plain(f.resp_h)
        label = f"{_clip(dest, 36)} · {role} · {human_bytes(f.bytes_both)}"
        colour = ROLE_COLOURS.get(role, _DEFAULT)
        body.append(_text(0, y + 10, label, size=11))
        body.append(
            f'<rect x="{x:.1f}" y="{y + 14}" width="{w:.1f}" height="9" rx="2" '
            f'fill="{colour}"><title>{escape(dest)} ({escape(role)}): '
            f"{t0:.3f} s to {t0 + dur:.3f} s</title></rect>"
        )
    return _svg(top + row * len(data) + 4, title, body), hidden
