"""The plain-language headline summary of a session (or of the traffic outside any session):
the trackers it contacted, how its media and call set-up were protected, and the alerts found.

Sentences are built from the finding dictionaries of
:func:`inspector.report.html.report_context` (display-safe already) and a ``sessions`` row, whose
cells go through :func:`inspector.report.text.plain` here. (Moved out of ``html.py`` unchanged.)
"""

from __future__ import annotations

from typing import Any

from inspector.report.text import FINDING_TITLES, plain, verdict_phrase

__all__ = ["headlines"]

_ALERT_KINDS = (
    "personal_data",
    "plaintext_media",
    "plaintext_http",
    "cleartext_signalling",
    "ecb_suspected",
    "weak_tls",
    "cleartext_dns",
)


def _s(value: object) -> str:
    return plain(value)


def _bool(value: object) -> bool:
    try:
        return bool(value)
    except TypeError:  # pandas NA
        return False


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _tracker_lines(who: str, session: Any, findings: list[dict[str, Any]]) -> list[str]:
    trackers: dict[str, str] = {}
    for f in findings:
        if f["kind"] == "third_party_telemetry" and f["destination"] not in trackers:
            about = "; ".join(x for x in (f["organisation"], f["sdk"] or f["category"]) if x)
            trackers[f["destination"]] = (
                f"{f['destination']} ({about})" if about else f["destination"]
            )
    if trackers:
        n = len(trackers)
        noun = "tracker" if n == 1 else "trackers"
        return [f"{who} contacted {n} third-party {noun}: {_join(list(trackers.values()))}."]
    if session is not None:
        return [f"{who} contacted no third-party tracker known to the bundled database."]
    return []


def _media_lines(app: str, session: Any) -> list[str]:
    if session is None:
        return []
    lines: list[str] = []
    verdicts = [v for v in _s(session.media_verdicts).split(";") if v]
    if verdicts:
        kinds = _s(session.media_kinds).replace(";", ", ").replace("_", " ")
        label = f"Media ({kinds})" if kinds else "Media (audio/video)"
        lines.append(
            f"{label}: " + "; and partly ".join(verdict_phrase(v, app) for v in verdicts) + "."
        )
    else:
        lines.append("No audio or video flows were recognised in this session.")
    if _bool(session.peer_to_peer):
        lines.append("Some media went directly between participants (peer-to-peer).")
    return lines


def _kind_lines(app: str, findings: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    signalling = sorted({f["verdict"] for f in findings if f["kind"] == "signalling_encryption"})
    if signalling:
        phrases = "; and partly ".join(verdict_phrase(v, app) for v in signalling)
        lines.append(f"Call set-up (signalling): {phrases}.")
    for kind in _ALERT_KINDS:
        dests = sorted({f["destination"] for f in findings if f["kind"] == kind})
        if dests:
            shown = _join(dests[:5]) + (f" and {len(dests) - 5} more" if len(dests) > 5 else "")
            lines.append(f"{FINDING_TITLES[kind]}: {shown}.")
    first = sorted({f["destination"] for f in findings if f["kind"] == "first_party_telemetry"})
    if first:
        lines.append(f"Telemetry sent to the vendor's own services: {_join(first[:5])}.")
    return lines


def headlines(app: str, session: Any, findings: list[dict[str, Any]]) -> list[str]:
    who = f"This {app} session" if app else "Outside any conferencing session, the device"
    return (
        _tracker_lines(who, session, findings)
        + _media_lines(app, session)
        + _kind_lines(app, findings)
    )
