"""Importers for third-party tracker lists the user supplies at run time (never bundled).

``load_list("path")`` recognises the format from the file's content; ``"kind:path"`` forces one
(kinds: disconnect, duckduckgo, exodus, xray, hosts). Disconnect's entities file can be given
with its services file as ``disconnect:services.json,entities.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

from inspector.attribute.importers.base import ListHit, TrackerList, match
from inspector.attribute.importers.disconnect import load_disconnect
from inspector.attribute.importers.duckduckgo import load_duckduckgo
from inspector.attribute.importers.exodus import load_exodus
from inspector.attribute.importers.hosts import load_hosts
from inspector.attribute.importers.xray import load_xray
from inspector.errors import InputError

__all__ = ["KINDS", "ListHit", "TrackerList", "detect_kind", "load_list", "match"]

KINDS = ("disconnect", "duckduckgo", "exodus", "xray", "hosts")


def detect_kind(path: str) -> str:
    """The list format of ``path``, from its content."""
    try:
        head = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read tracker list ({exc.strerror or exc})") from exc
    if head.lstrip()[:1] not in (b"{", b"["):
        return "hosts"
    try:
        data = json.loads(head)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{path}: tracker list looks like JSON but does not parse ({exc})"
        ) from exc
    if isinstance(data, list):
        if data and isinstance(data[0], dict) and "doms" in data[0]:
            return "xray"
    elif isinstance(data, dict):
        if "categories" in data:
            return "disconnect"
        if "trackers" in data and ("entities" in data or "domains" in data):
            return "duckduckgo"
        if "trackers" in data:
            return "exodus"
        if "entities" in data:
            raise InputError(
                f"{path}: this is Disconnect's entities.json; give it with its "
                "services file: disconnect:services.json,entities.json"
            )
    raise InputError(
        f"{path}: unrecognised tracker list format (expected one of {', '.join(KINDS)})"
    )


def load_list(spec: str) -> TrackerList:
    """Load one user-named list; raise :class:`InputError` with one line when it cannot."""
    kind, sep, rest = spec.partition(":")
    if sep and kind in KINDS:
        paths = rest.split(",")
    else:
        paths = [spec]
        kind = detect_kind(spec)
    if kind == "disconnect":
        return load_disconnect(paths[0], paths[1] if len(paths) > 1 else None)
    loader = {
        "duckduckgo": load_duckduckgo,
        "exodus": load_exodus,
        "xray": load_xray,
        "hosts": load_hosts,
    }[kind]
    return loader(paths[0])
