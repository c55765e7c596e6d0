"""Exodus Privacy tracker signatures (``trackers.json``), with guards on their regexes.

Shape: ``{"trackers": {"<id>": {"name", "network_signature", "categories": [...], ...}}}`` (a
list of tracker objects is accepted too). ``network_signature`` is a ``|``-separated regex over
host names, matched unanchored (``re.search``). Exodus data is not bundled (see its licence
note); the user's copy is loaded at run time.

Each top-level alternative of a signature is handled on its own:

* a plain domain (``\\.facebook\\.com``, ``appsflyer\\.com``, ``.*\\.estimote\\.com``, optionally
  ``$``-anchored) becomes a suffix entry, so matching is a dict lookup. This matches at label
  boundaries: ``facebook.com`` and ``graph.facebook.com`` but not ``notfacebook.com`` (stricter
  than the substring search Exodus performs, which would also hit the look-alike). An unescaped
  ``.`` between labels (``event.split.io``) is read as the dot it was meant to be.
  ``^name$`` becomes an exact entry.
* anything else is compiled with :mod:`re` (case-insensitive) and matched with ``search``, only
  against names of at most 253 characters, after these guards (a refused alternative is listed in
  :attr:`TrackerList.rejected` with its reason, the rest of the file still loads):
  longer than 500 characters; a quantified group that itself contains a quantifier or an
  alternation (``(a+)+``, ``(.*)*``, ``(a?)+``, ``(a|aa)+``: catastrophic backtracking);
  a backreference; more than two unbounded or three variable quantifiers (``a?a?a?a?aaaa``,
  ``a*a*a*b``: polynomial or exponential blow-up); not compilable. Accepted patterns take at
  most ~0.1 s on a 253-character adversarial name.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from inspector.attribute.database import UNKNOWN
from inspector.attribute.importers.base import (
    MAX_NAME,
    RegexSignature,
    TrackerList,
    content_version,
    pick_category,
    read_json,
)
from inspector.errors import InputError

__all__ = [
    "CATEGORY_MAP",
    "MAX_PATTERN",
    "MAX_UNBOUNDED",
    "MAX_VARIABLE",
    "load_exodus",
    "pathological",
    "simple_domain",
    "split_alternatives",
]

#: Longest alternative accepted as a regex.
MAX_PATTERN = 500
#: Most unbounded quantifiers (``*``, ``+``, ``{n,}``, ``{m,n}`` with n > 20) per alternative.
MAX_UNBOUNDED = 2
#: Most quantifiers with a choice (``*``, ``+``, ``?``, ``{m,n}`` with m < n) per alternative.
MAX_VARIABLE = 3
_BIG_BOUND = 20
#: Exodus category -> vocabulary. Location, profiling and identification SDKs collect data about
#: the user for measurement, so they are analytics here.
CATEGORY_MAP = {
    "Advertisement": "advertising",
    "Analytics": "analytics",
    "Crash reporting": "crash_reporting",
    "Identification": "analytics",
    "Location": "analytics",
    "Profiling": "analytics",
}
_LABEL = r"(?:[A-Za-z0-9_]|\\-|-)+"
_SIMPLE = re.compile(
    rf"(?P<pre>\^|\\\.|\.\*\\\.|\.\*|\.)?(?P<body>{_LABEL}(?:(?:\\\.|\.){_LABEL})+)(?P<post>\$)?"
)
_BRACES = re.compile(r"\{(\d*)(,?)(\d*)\}")


def split_alternatives(signature: str) -> list[str]:
    """Split on top-level ``|`` (not inside a group, a class or after a backslash)."""
    parts: list[str] = []
    depth = 0
    start = 0
    i = 0
    in_class = False
    while i < len(signature):
        c = signature[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if signature[i + 1 : i + 2] == "]":
                i += 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth = max(0, depth - 1)
        elif c == "|" and depth == 0:
            parts.append(signature[start:i])
            start = i + 1
        i += 1
    parts.append(signature[start:])
    return [p for p in parts if p]


@dataclass(frozen=True, slots=True)
class _Quant:
    big: bool  # may repeat more than once
    variable: bool  # min != max: the engine has choices to backtrack over
    unbounded: bool  # no upper bound, or one above _BIG_BOUND
    end: int  # index after the quantifier


def _quantifier(p: str, i: int) -> _Quant | None:
    """The quantifier at ``p[i]`` (``*``, ``+``, ``?``, ``{m,n}``...), or None."""
    if i >= len(p):
        return None
    c = p[i]
    if c in "*+":
        q = _Quant(True, True, True, i + 1)
    elif c == "?":
        q = _Quant(False, True, False, i + 1)
    elif c == "{":
        m = _BRACES.match(p, i)
        if m is None or not (m.group(1) or m.group(3)):
            return None
        lo = int(m.group(1) or "0")
        hi = None if m.group(2) and not m.group(3) else int(m.group(3) or m.group(1))
        q = _Quant(
            hi is None or hi > 1,
            hi is None or hi != lo,
            hi is None or hi > _BIG_BOUND,
            m.end(),
        )
    else:
        return None
    if q.end < len(p) and p[q.end] in "?+":  # lazy or possessive suffix
        return _Quant(q.big, q.variable, q.unbounded, q.end + 1)
    return q


def _group_prefix(p: str, i: int) -> int:
    """Skip ``?:``, ``?P<name>``, ``?=``, ``?<!``, inline flags... after an opening paren."""
    if p[i : i + 1] != "?":
        return i
    if p.startswith("?P<", i):
        end = p.find(">", i)
        return end + 1 if end > 0 else len(p)
    if p.startswith(("?<=", "?<!"), i):
        return i + 3
    j = i + 1
    while j < len(p) and (p[j].isalpha() or p[j] == "-"):
        j += 1
    return j + 1 if p[j : j + 1] in (":", "=", "!") else j


def _class_end(p: str, i: int) -> int:
    """The index after the character class that opens at ``p[i]`` (``[``)."""
    j = i + 1
    if p[j : j + 1] == "^":
        j += 1
    if p[j : j + 1] == "]":
        j += 1
    while j < len(p) and p[j] != "]":
        j += 2 if p[j] == "\\" else 1
    return j + 1


@dataclass
class _Scan:
    """One pass over a pattern: groups open, quantifiers counted, the first refusal kept."""

    p: str
    frames: list[list[bool]] = field(default_factory=lambda: [[False, False]])
    variable: int = 0
    unbounded: int = 0

    def escape(self, i: int) -> tuple[int, str | None, _Quant | None]:
        if self.p[i + 1 : i + 2].isdigit() and self.p[i + 1] != "0":
            return i, "backreference", None
        return i + 2, None, None

    def open(self, i: int) -> tuple[int, str | None, _Quant | None]:
        self.frames.append([False, False])  # per open group: [has quantifier, has |]
        return _group_prefix(self.p, i + 1), None, None

    def close(self, i: int) -> tuple[int, str | None, _Quant | None]:
        if len(self.frames) == 1:
            return i, "unbalanced parenthesis", None
        has_quant, has_alt = self.frames.pop()
        q = _quantifier(self.p, i + 1)
        if q is not None and q.big and (has_quant or has_alt):
            return i, "nested quantifier", None
        self.frames[-1][0] = self.frames[-1][0] or has_quant or q is not None
        return (q.end if q is not None else i + 1), None, q

    def alternative(self, i: int) -> tuple[int, str | None, _Quant | None]:
        self.frames[-1][1] = True
        return i + 1, None, None

    def other(self, i: int) -> tuple[int, str | None, _Quant | None]:
        q = _quantifier(self.p, i)
        if q is None:
            return i + 1, None, None
        self.frames[-1][0] = True  # any quantifier, even ?, counts for nesting: (a?)+ is refused
        return q.end, None, q

    def step(self, i: int) -> tuple[int, str | None, _Quant | None]:
        c = self.p[i]
        if c == "[":
            return _class_end(self.p, i), None, None
        handler = {"\\": self.escape, "(": self.open, ")": self.close, "|": self.alternative}
        return handler.get(c, self.other)(i)

    def count(self, q: _Quant | None) -> str | None:
        if q is not None:
            self.variable += q.variable
            self.unbounded += q.unbounded
        if self.unbounded > MAX_UNBOUNDED:
            return f"more than {MAX_UNBOUNDED} unbounded quantifiers"
        if self.variable > MAX_VARIABLE:
            return f"more than {MAX_VARIABLE} variable quantifiers"
        return None


def pathological(pattern: str) -> str | None:
    """Why ``pattern`` is refused as a regex, or None when it is acceptable."""
    if len(pattern) > MAX_PATTERN:
        return f"longer than {MAX_PATTERN} characters"
    if "(?P=" in pattern:
        return "backreference"
    scan = _Scan(pattern)
    i = 0
    while i < len(pattern):
        i, why, q = scan.step(i)
        why = why or scan.count(q)
        if why:
            return why
    return None


def simple_domain(pattern: str) -> tuple[str, str] | None:
    """``(domain, "suffix"|"exact")`` when the alternative is a plain domain, else None."""
    m = _SIMPLE.fullmatch(pattern)
    if m is None:
        return None
    domain = m.group("body").replace("\\-", "-").replace("\\.", ".").lower()
    if m.group("pre") == "^":
        return (domain, "exact") if m.group("post") else None
    return domain, "suffix"


def _trackers(data: object, path: str | Path) -> list[dict[str, object]]:
    items = data.get("trackers") if isinstance(data, dict) else data
    if isinstance(items, dict):
        items = list(items.values())
    if not isinstance(items, list):
        raise InputError(f'{path}: not an Exodus trackers.json (no "trackers")')
    for t in items:
        if not isinstance(t, dict):
            raise InputError(f"{path}: not an Exodus trackers.json (a tracker is not an object)")
    return items


def load_exodus(path: str | Path, name: str = "exodus") -> TrackerList:
    """Load Exodus ``trackers.json``; :class:`InputError` (one line) if it is not one."""
    data, raw = read_json(path, "Exodus trackers.json")
    entries: dict[str, tuple[str, str]] = {}
    exact: dict[str, tuple[str, str]] = {}
    regexes: list[RegexSignature] = []
    rejected: list[str] = []
    for tracker in _trackers(data, path):
        signature = tracker.get("network_signature")
        if not isinstance(signature, str) or not signature.strip():
            continue
        org = str(tracker.get("name") or f"Exodus tracker {tracker.get('id', '?')}")
        cats = tracker.get("categories")
        cat_list = cats if isinstance(cats, list) else []
        category = pick_category(CATEGORY_MAP.get(str(c), UNKNOWN) for c in cat_list)
        for alt in split_alternatives(signature.strip()):
            simple = simple_domain(alt)
            if simple is not None:
                domain, how = simple
                if len(domain) <= MAX_NAME:
                    (exact if how == "exact" else entries).setdefault(domain, (org, category))
                    continue
            why = pathological(alt)
            if why is None:
                try:
                    with warnings.catch_warnings():  # "possible nested set" FutureWarnings
                        warnings.simplefilter("ignore", FutureWarning)
                        compiled = re.compile(alt, re.IGNORECASE)
                    regexes.append(RegexSignature(alt, compiled, org, category))
                    continue
                except (re.error, OverflowError, RecursionError) as err:
                    why = f"does not compile ({err})"
            rejected.append(f"{alt[:80]}: {why}")
    if not entries and not exact and not regexes:
        raise InputError(f"{path}: not an Exodus trackers.json (no network signatures)")
    return TrackerList(
        name=name,
        version=content_version(raw),
        source_path=str(path),
        entries=dict(sorted(entries.items())),
        exact=dict(sorted(exact.items())),
        regexes=tuple(regexes),
        rejected=tuple(rejected),
    )
