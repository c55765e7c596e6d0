"""The app registry as assessment reads it: a re-export of :mod:`inspector.apps`.

The registry lives in a neutral module so attribution (party) and assessment (apps, verdicts)
read the same single :class:`AppProfile` per app without importing each other.
"""

from __future__ import annotations

from inspector.apps import (
    APPS,
    UNKNOWN_WEBRTC,
    ZOOM_CAVEAT,
    AppProfile,
    app_profile,
    profile,
    profile_for_stun,
    profile_for_vendor,
)

__all__ = [
    "APPS",
    "UNKNOWN_WEBRTC",
    "ZOOM_CAVEAT",
    "AppProfile",
    "app_profile",
    "profile",
    "profile_for_stun",
    "profile_for_vendor",
]
