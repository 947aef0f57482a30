"""Recognise which app wrote an export: zip content, file names and header lines.

Each format module has ``detect(bundle) -> int`` (0 = not this format, higher = surer); the
best score wins. ``--format`` skips this step.
"""

from __future__ import annotations

from ..errors import InputError
from ..recording import FORMAT_LINE
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


def _is_recording(lines: list[str]) -> bool:
    first = next((ln.strip() for ln in lines if ln.strip()), "")
    header = next((ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")), "")
    return first.startswith(FORMAT_LINE) or header.replace(" ", "").startswith("timestamp_s,sensor,")


def detect_format(bundle: Bundle) -> str:
    """The name of the best-matching format; ``InputError`` if none matches."""
    if bundle.kind in ("file", "files"):
        for member in bundle.candidates():
            head = read_head(member)  # empty, binary or endless-line files: say so, in one line
            if _is_recording(head.lines):
                raise InputError(f"{member.name}: is already an imu-knee recording; no import"
                                 " needed (use it directly)")
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
