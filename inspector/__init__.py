"""conference-inspector: what a video-conferencing client really does on the network."""

from __future__ import annotations

__version__ = "0.1.0"

from inspector.api import Result, analyze

__all__ = ["Result", "__version__", "analyze"]
