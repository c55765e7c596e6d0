"""Source stage: the only place that reads files. Bytes and timestamps in, nothing else."""

from inspector.source.open import Capture, RawPacket, expand_paths, open_capture

__all__ = ["Capture", "RawPacket", "expand_paths", "open_capture"]
