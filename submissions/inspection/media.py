"""Describe an image or an audio file from its bytes: dimensions with Pillow, duration with mutagen.

Only headers are read (Pillow opens lazily and never decodes pixels here); failures become None.
"""

from pathlib import Path

import mutagen
from PIL import Image, UnidentifiedImageError


def image_info(path: Path) -> dict | None:
    """Return {"format", "width", "height"} of an image, or None when it cannot be read."""
    try:
        with Image.open(path) as image:
            return {"format": image.format or "", "width": image.width, "height": image.height}
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def audio_info(path: Path) -> dict | None:
    """Return {"format", "seconds", "sample_rate"} of an audio file, or None when it cannot be read."""
    try:
        audio = mutagen.File(path)
    except (mutagen.MutagenError, OSError, ValueError):
        return None
    if audio is None or audio.info is None:
        return None
    return {
        "format": type(audio).__name__,
        "seconds": round(float(getattr(audio.info, "length", 0) or 0), 2),
        "sample_rate": getattr(audio.info, "sample_rate", None),
    }
