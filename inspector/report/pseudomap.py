"""The private map of a pseudonymised run: real address -> pseudonym, kept outside OUTDIR.

``analyze --pseudonymize`` (and ``live``) write it to the user's state folder
(``$XDG_STATE_HOME/conference-inspector/pseudonyms/<key_id>.json``, else
``~/.local/state/...``; readable by the user only), named by the random ``key_id`` that
``summary.json`` records. OUTDIR stays publishable; ``inspector evidence`` on that OUTDIR reads
the map back to rewrite the packets it exports with the same pseudonyms. When the map is not
on this machine, ``evidence --map FILE`` names it; without it nothing is exported.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from inspector.api import Result
from inspector.errors import InputError, OutputError
from inspector.report.pseudonymize import Pseudonymizer, pseudonymize_run

__all__ = ["keep_extended", "load_map", "map_folder", "publish", "save_map"]

_KEY = re.compile(r"[0-9a-f]{32}")


def map_folder() -> Path:
    """Where the maps are kept (the XDG state folder of the user)."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(Path.home(), ".local", "state")
    return Path(base) / "conference-inspector" / "pseudonyms"


def save_map(
    p: Pseudonymizer,
    key_id: str,
    inputs: list[dict[str, str]] | None = None,
    target: Path | None = None,
) -> Path:
    """Write the map (mode 0600, atomically); :class:`OutputError` when it cannot be.

    ``inputs``: where the captures were read (``path``, ``abspath``), which the published
    ``summary.json`` leaves out, so that ``inspector evidence`` finds them."""
    target = target or map_folder() / f"{key_id}.json"
    folder = target.parent
    doc = {"key_id": key_id, "inputs": inputs or [], **p.state()}
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".map-", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1, sort_keys=True)
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(
            f"cannot keep the pseudonym map in {folder}: {exc.strerror or exc} "
            "(set XDG_STATE_HOME to a writable folder); nothing was written"
        ) from exc
    return target


def publish(result: Result) -> Result:
    """``result`` pseudonymised, its map saved first (see the module doc)."""
    public, p = pseudonymize_run(result)
    inputs = [
        {"path": os.path.basename(i["path"]), "abspath": os.path.abspath(i["path"])}
        for i in result.summary.get("inputs", [])
        if isinstance(i, dict) and isinstance(i.get("path"), str) and i["path"]
    ]
    save_map(p, public.summary["pseudonymized"]["key_id"], inputs)
    return public


def load_map(
    summary: dict[str, Any], override: str | None = None
) -> tuple[Pseudonymizer, list[dict[str, str]], Path]:
    """The map of the run ``summary`` describes, where its captures were read and the map's
    path; :class:`InputError` when it is not here."""
    key_id = str((summary.get("pseudonymized") or {}).get("key_id", ""))
    path = Path(override) if override else map_folder() / f"{key_id}.json"
    if not override and not _KEY.fullmatch(key_id):
        raise InputError(
            "this OUTDIR is pseudonymised by an older version (no key_id): its packets cannot "
            "be exported with the same pseudonyms; run analyze --pseudonymize again"
        )
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(
            f"this OUTDIR is pseudonymised and its address map ({path}) is not on this machine; "
            "pass --map FILE (nothing exported: the packets carry the real addresses)"
        ) from exc
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read the pseudonym map ({exc})") from exc
    if not isinstance(doc, dict) or (key_id and doc.get("key_id") not in (key_id, None)):
        raise InputError(f"{path}: not the pseudonym map of this OUTDIR (key_id {key_id})")
    inputs = [i for i in doc.get("inputs", []) if isinstance(i, dict)]
    return Pseudonymizer.from_state(doc), inputs, path


def keep_extended(p: Pseudonymizer, summary: dict[str, Any], path: Path) -> None:
    """Save the map again after ``evidence`` gave pseudonyms to addresses the report does not
    name, so that every later export of the run uses the same ones."""
    key_id = str((summary.get("pseudonymized") or {}).get("key_id", ""))
    save_map(p, key_id, [i for i in summary.get("inputs", []) if isinstance(i, dict)], path)
