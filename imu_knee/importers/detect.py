"""Recognise which app wrote an export: zip content, file names and header lines.

Each format module has ``detect(bundle) -> int`` (0 = not this format, higher = surer); the
best score wins. ``--format`` skips this step.
"""

from __future__ import annotations

from ..errors import InputError
from . import gaitmap_csv, metabase, movesense, phyphox, sensor_logger
from .sources import Bundle
from .table import read_head

FORMATS = {
    "phyphox": phyphox,
    "sensorlogger": sensor_logger,
    "metabase": metabase,
    "movesense": movesense,
    "gaitmap": gaitmap_csv,
}


def detect_format(bundle: Bundle) -> str:
    """The name of the best-matching format; ``InputError`` if none matches."""
    if bundle.kind in ("file", "files"):
        for member in bundle.candidates():
            read_head(member)  # empty, binary or endless-line files: say so, in one line
    scores = {name: module.detect(bundle) for name, module in FORMATS.items()}
    best = max(scores, key=scores.get)
    if scores[best] > 0:
        return best
    shown = bundle.candidates() if bundle.kind in ("file", "files") else bundle.members
    names = [m.inner for m in shown][:6]
    found = ", ".join(names) + (", …" if len(shown) > 6 else "")
    where = {"zip": "zip archive", "folder": "folder"}.get(bundle.kind, "file")
    raise InputError(f"{bundle.label}: no recognisable columns or export layout in this {where}"
                     f" (found: {found}); supported: phyphox, Sensor Logger, MetaBase, Movesense"
                     " Showcase and gaitmap-style CSV (or choose with --format)")
