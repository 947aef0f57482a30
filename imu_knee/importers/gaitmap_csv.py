"""gaitmap-style CSV: columns ``acc_x … gyr_z`` in m/s² and deg/s (gaitmap's convention).

Two layouts:
- flat: one header line with ``acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z`` and optionally a time
  column (``t_s``, ``time_s``, ``timestamp_s``, ``time``, ``t``: seconds) or a sample index;
- two header rows as gaitmap's example data (``imu_sample.csv``): ``sensor,left_sensor,…`` then
  ``axis,acc_x,…``, first column the sample index. ``--sensor-column`` picks the sensor.
Without a time column the sample index (or the row number) divided by ``--rate`` gives time.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .model import ImportOptions, RawImport, Stream3
from .sources import Bundle, Member
from .table import first_content_line, read_columns, read_head, sniff_layout, split_cells

NAME = "gaitmap"
AXES = ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")
TIME_NAMES = ("t_s", "time_s", "timestamp_s", "time", "t")
INDEX_NAMES = ("", "index", "sample", "samples", "n", "unnamed: 0")


def _two_row(member: Member) -> bool:
    head = read_head(member)
    first = first_content_line(head)
    if first is None or first + 1 >= len(head.lines):
        return False
    layout = sniff_layout(head, first)
    second = split_cells(head.lines[first + 1], layout.sep)
    return layout.columns[:1] == ["sensor"] and second[:1] == ["axis"] and set(AXES) <= set(second)


def _flat(member: Member) -> bool:
    head = read_head(member)
    cols = [c.lower() for c in sniff_layout(head).columns]
    return set(AXES) <= set(cols)


def detect(bundle: Bundle) -> int:
    for m in bundle.candidates()[:20]:
        try:
            if _two_row(m) or _flat(m):
                return 3
        except InputError:
            continue
    return 0


def load(bundle: Bundle, options: ImportOptions) -> RawImport:
    members = [m for m in bundle.candidates() if _safe(_two_row, m) or _safe(_flat, m)]
    if not members:
        raise InputError(f"{bundle.label}: no gaitmap-style columns (acc_x … gyr_z) found")
    if len(members) > 1:
        raise InputError(f"{bundle.label}: holds several gaitmap-style CSV files; name one")
    member = members[0]
    head = read_head(member)
    notes: list[str] = []
    if _two_row(member):
        first = first_content_line(head)
        layout = sniff_layout(head, first, header_rows=2)
        sensors = layout.columns
        axes = split_cells(head.lines[first + 1], layout.sep)
        names = sorted({s for s, a in zip(sensors[1:], axes[1:]) if a in AXES})
        chosen = options.sensor_column
        if chosen is None:
            if len(names) != 1:
                raise InputError(f"{member.name}: holds sensors {', '.join(names)};"
                                 " choose one with --sensor-column")
            chosen = names[0]
        elif chosen not in names:
            raise InputError(f"{member.name}: no sensor '{chosen}' (it holds {', '.join(names)})")
        wanted = {a: next(i for i, (s, x) in enumerate(zip(sensors, axes)) if s == chosen and x == a)
                  for a in AXES if any(s == chosen and x == a for s, x in zip(sensors, axes))}
        if len(wanted) != 6:
            raise InputError(f"{member.name}: sensor '{chosen}' lacks some of {', '.join(AXES)}")
        wanted["index"] = 0
        time_kind = "index"
    else:
        layout = sniff_layout(head)
        cols = [c.lower() for c in layout.columns]
        wanted = {a: cols.index(a) for a in AXES}
        time_kind = "row"
        for name in TIME_NAMES:
            if name in cols:
                wanted["time"] = cols.index(name)
                time_kind = "time"
                break
        else:
            if cols and cols[0] in INDEX_NAMES:
                wanted["index"] = 0
                time_kind = "index"
        chosen = None
        if options.sensor_column:
            notes.append(f"{member.name}: --sensor-column ignored (one sensor per file)")
    data = read_columns(head, layout, wanted)
    notes += data.notes
    if time_kind == "time":
        t_s = data.values["time"]
        if options.rate_hz:
            notes.append(f"{member.name}: --rate ignored; the file has a time column")
    else:
        if not options.rate_hz:
            raise InputError(f"{member.name}: no time column; give the sample rate with --rate HZ"
                             " (gaitmap's example data is 204.8 Hz)")
        index = data.values["index"] if time_kind == "index" else (data.line_no - data.line_no[0]).astype(float)
        t_s = index / options.rate_hz
    acc = np.column_stack([data.values[a] for a in AXES[:3]])
    gyr = np.column_stack([data.values[a] for a in AXES[3:]])
    meta = {"source_app": "gaitmap-style CSV", "source_file": member.name}
    if chosen:
        meta["source_sensor"] = chosen
    return RawImport(app="gaitmap-style CSV", acc=Stream3(t_s, acc, "mps2", member.name),
                     gyr=Stream3(t_s.copy(), gyr, "dps", member.name), device=None, meta=meta,
                     notes=notes)


def _safe(check, member: Member) -> bool:
    try:
        return check(member)
    except InputError:
        return False
