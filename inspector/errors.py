"""The one exception a parser may raise, and the usage error the CLI turns into exit code 2."""

from __future__ import annotations

__all__ = ["InputError", "OutputError", "ParseError"]


class ParseError(ValueError):
    """Raised by every parser in :mod:`inspector.dissect` for bytes it cannot accept.

    ``name`` is a short machine-readable reason (it becomes the ``name`` of a ``weird`` row),
    the message is the human detail.
    """

    def __init__(self, detail: str, name: str = "parse_error") -> None:
        super().__init__(detail)
        self.name = name
        self.detail = detail


class InputError(Exception):
    """The user gave something the tool cannot read (missing file, not a capture, bad option)."""


class OutputError(Exception):
    """The outputs could not be written (disk full, permission); OUTDIR is left as it was."""
