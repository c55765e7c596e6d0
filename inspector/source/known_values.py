"""Reads the user's ``--known-values`` files (the privacy stage only parses their text)."""

from __future__ import annotations

from collections.abc import Iterable

from inspector.errors import InputError
from inspector.privacy.known import parse_known_values
from inspector.privacy.rows import PrivacySettings

__all__ = ["privacy_settings", "read_known_values"]


def read_known_values(paths: Iterable[str]) -> list[str]:
    """The text of each file; :class:`InputError` (one line) when one cannot be read."""
    texts = []
    for p in paths:
        try:
            with open(p, encoding="utf-8", errors="replace") as fh:
                texts.append(fh.read())
        except OSError as exc:
            raise InputError(f"{p}: cannot read known values ({exc.strerror or exc})") from exc
    return texts


def privacy_settings(known_value_files: Iterable[str], show_values: bool) -> PrivacySettings:
    """The detectors' settings from the run's configuration."""
    known = [kv for text in read_known_values(known_value_files) for kv in parse_known_values(text)]
    return PrivacySettings(tuple(known), show_values)
