"""conference-inspector: what a video-conferencing client really does on the network."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from inspector.api import Result, analyze

__all__ = ["Result", "__version__", "analyze"]


def __getattr__(name: str) -> Any:
    # imported on first use, so that the command line can start its worker processes before
    # it imports pandas (inspector.cli)
    if name in ("Result", "analyze"):
        from inspector import api

        return getattr(api, name)
    raise AttributeError(f"module 'inspector' has no attribute {name!r}")
