"""Movesense Showcase app CSV (acc and gyro files of one sensor).

Format facts (MovesenseShowcase-iOS ``Recorder.swift``, ``RecorderFileJson.swift``,
``CsvEncodingTests.swift``; Movesense ``/Meas/Acc`` and ``/Meas/Gyro`` resources):
- One file per resource, named ``<start ISO-8601>_<serial>_<resource>_stream.csv`` with
  resource ``acc`` or ``gyro`` (the same files exist for ``ecg``, ``heartRate``, ``magn``).
- Header ``timestamp,x,y,z``. Each notification becomes rows: its first row carries the
  packet timestamp, the following rows of the same packet have an empty timestamp
  (``599025762,0.313,-0.313,9.928`` then ``,0.284,-0.315,9.949``…).
- The timestamp is the sensor's millisecond clock at the packet's first sample (shared by
  acc and gyro of one sensor). Acceleration in m/s² (specific force: +9.8 up at rest),
  angular rate in deg/s.
Sample times: each packet's samples are spread evenly from its stamp to the next packet's.
Exports that repeat the packet stamp on every row are handled the same way.
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import InputError
from .model import ImportOptions, RawImport, Stream3, paired_import
from .sources import Bundle, Member
from .table import read_columns, read_head, sniff_layout
from .timeline import fill_forward, order_by_time, spread_repeated

NAME = "movesense"
_SERIAL = re.compile(r"(?:^|_)(\d{9,12})(?:_|$)")


def _resource(member: Member) -> str | None:
    name = member.basename.lower()
    if re.search(r"(^|[_\-. ])(meas_?)?acc([_\-. ]|$)", name):
        return "acc"
    if re.search(r"(^|[_\-. ])(meas_?)?gyro([_\-. ]|$)", name):
        return "gyr"
    return None


def _is_movesense(member: Member) -> bool:
    try:
        head = read_head(member)
        cols = [c.lower() for c in sniff_layout(head).columns]
    except InputError:
        return False
    return cols[:4] == ["timestamp", "x", "y", "z"]


def detect(bundle: Bundle) -> int:
    for m in bundle.candidates()[:50]:
        if _resource(m) and _is_movesense(m):
            return 3
    return 0


def load(bundle: Bundle, options: ImportOptions) -> RawImport:
    files = [m for m in bundle.text_members() if _resource(m) and _is_movesense(m)]
    if bundle.primary is not None and bundle.primary in files:
        serial = _SERIAL.search(bundle.primary.basename)
        if serial:
            files = [m for m in files if serial.group(1) in m.basename] or files
    acc = [m for m in files if _resource(m) == "acc"]
    gyr = [m for m in files if _resource(m) == "gyr"]
    if not acc or not gyr:
        missing = "acc" if not acc else "gyro"
        raise InputError(f"{bundle.label}: no Movesense {missing} file found beside it"
                         " (expected …_acc_stream.csv and …_gyro_stream.csv of one sensor)")
    if len(acc) > 1 or len(gyr) > 1:
        raise InputError(f"{bundle.label}: holds several Movesense acc or gyro files;"
                         " name the two files of one sensor and one recording")
    notes: list[str] = []
    acc_stream = _read(acc[0], "mps2", notes)
    gyr_stream = _read(gyr[0], "dps", notes)
    serial = _SERIAL.search(acc[0].basename)
    device = f"Movesense {serial.group(1)}" if serial else "Movesense"
    return paired_import("Movesense Showcase", acc_stream, gyr_stream,
                         f"{acc[0].name} + {gyr[0].basename}", device, notes)


def _read(member: Member, unit: str, notes: list[str]) -> Stream3:
    head = read_head(member)
    layout = sniff_layout(head)
    data = read_columns(head, layout, {"t": 0, "x": 1, "y": 2, "z": 3}, allow_missing=("t",))
    notes += data.notes
    t_ms = fill_forward(data.values["t"], member.name)
    known = np.isfinite(t_ms)
    if not known.all():
        notes.append(f"{member.name}: {int((~known).sum())} row(s) before the first timestamp dropped")
    xyz = np.column_stack([data.values[a] for a in "xyz"])[known]
    t_ms = t_ms[known]
    if len(t_ms) > 1 and np.any(np.diff(t_ms) < 0):
        raise InputError(f"{member.name}: line {int(data.line_no[known][np.flatnonzero(np.diff(t_ms) < 0)[0] + 1])}:"
                         " the timestamp goes backwards (sensor restarted?)")
    t_s = spread_repeated(t_ms / 1000.0, member.name)
    t_s, xyz, _ = order_by_time(t_s, xyz)
    return Stream3(t_s, xyz, unit, member.name, presorted=True)
