"""phyphox (RWTH Aachen) exports: a zip with one CSV per export set, or a bare CSV.

Format facts (phyphox-android ``DataExport.java``, phyphox-ios ``ExperimentExportSet.swift``):
- CSV variants: comma + decimal point, tab + point, semicolon + point, tab + decimal comma,
  semicolon + decimal comma. Header names are quoted (``"Time (s)"``); numbers are written
  as ``0.000000000E0`` (e.g. ``9.806650000E0``, decimal mark replaced in the comma variants).
- The zip holds ``<set name>.csv`` per export set plus ``meta/device.csv`` and ``meta/time.csv``.
  The built-in "Acceleration (with g)" and "Gyroscope" experiments name their set "Raw Data";
  a "simple experiment" names them "Accelerometer", "Gyroscope", "Linear Acceleration".
- Columns: ``Time (s)``, ``Acceleration x (m/s^2)`` …, ``Gyroscope x (rad/s)`` …,
  ``Linear Acceleration x (m/s^2)`` for "Acceleration without g" (gravity removed: refused).
  Each sensor has its own time column; a set holding two sensors has two time columns, and
  the shorter columns are padded with ``NaN`` at the end.
Names may be translated, so columns are recognised by unit and axis letter, not by wording.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .model import ImportOptions, RawImport, Stream3
from .sources import Bundle, Member, split_member
from .table import Layout, TextHead, read_columns, read_head, sniff_layout

NAME = "phyphox"
_UNIT = re.compile(r"\(([^()]*)\)\s*$")
_UNITS = {"s": "s", "m/s^2": "mps2", "m/s²": "mps2", "m/s2": "mps2", "ms^-2": "mps2",
          "rad/s": "rads", "deg/s": "dps", "°/s": "dps"}


def unit_of(column: str) -> str | None:
    m = _UNIT.search(column)
    return _UNITS.get(m.group(1).strip().lower().replace(" ", "")) if m else None


def axis_of(column: str) -> str | None:
    stem = _UNIT.sub("", column).strip().lower()
    tokens = [t for t in re.split(r"[\s_\-]+", stem) if t]
    axes = [t for t in tokens if t in ("x", "y", "z")]
    return axes[-1] if len(axes) == 1 else None


@dataclass
class Group:
    """A time column and the x/y/z columns of one sensor that follow it."""

    kind: str  # "acc", "linacc" or "gyr"
    time_index: int
    axis_index: dict[str, int]
    unit: str
    member: Member
    head: TextHead
    layout: Layout


def find_groups(head: TextHead, layout: Layout) -> list[Group]:
    groups: list[Group] = []
    time_index = None
    cols: dict[str, dict[str, int]] = {}
    names: dict[str, list[str]] = {}

    def close():
        if time_index is None:
            return
        for unit, axes in cols.items():
            if set(axes) != {"x", "y", "z"}:
                continue
            if unit == "mps2":
                linear = any("linear" in n.lower() or "linea" in n.lower() for n in names[unit])
                kind = "linacc" if linear else "acc"
            else:
                kind = "gyr"
            groups.append(Group(kind, time_index, dict(axes), unit, head.member, head, layout))

    for i, name in enumerate(layout.columns):
        unit = unit_of(name)
        if unit == "s":
            close()
            time_index, cols, names = i, {}, {}
            continue
        axis = axis_of(name)
        if unit in ("mps2", "rads", "dps") and axis and time_index is not None:
            cols.setdefault(unit, {}).setdefault(axis, i)
            names.setdefault(unit, []).append(name)
    close()
    return groups


MAX_SPLIT_BYTES = 512 * 1024 ** 2


def _member_groups(member: Member, split: bool = False) -> list[Group]:
    head = read_head(member)
    layout = sniff_layout(head)
    groups = find_groups(head, layout)
    if split and groups and layout.quoted_header:
        parts = _sets_of_bare_csv(member)
        if len(parts) > 1:
            return [g for part in parts for g in find_groups(read_head(part), sniff_layout(read_head(part)))]
    return groups


def _sets_of_bare_csv(member: Member) -> list[Member]:
    """A bare phyphox CSV of several export sets holds them one after another, each with its
    own quoted header line (data lines never start with a quote)."""
    if member.size > MAX_SPLIT_BYTES:
        return [member]
    data = member.read_all()
    starts = [m.start() for m in re.finditer(rb'(?m)^"', data)]
    if len(starts) < 2:
        return [member]
    starts[0] = 0
    return split_member(member, starts, data)


def _is_meta(member: Member) -> bool:
    """phyphox's own metadata files (``meta/device.csv``, ``meta/time.csv``)."""
    return "/meta/" in "/" + member.inner.replace("\\", "/")


def detect(bundle: Bundle) -> int:
    score = 0
    members = [m for m in bundle.candidates() if not _is_meta(m)]
    for m in members[:20]:
        try:
            head = read_head(m)
            layout = sniff_layout(head)
        except InputError:
            continue
        if find_groups(head, layout):
            score = max(score, 3 if layout.quoted_header else 2)
    if score and any(_is_meta(m) for m in bundle.members):
        score += 1
    return score


def load(bundle: Bundle, options: ImportOptions) -> RawImport:
    members = [m for m in (bundle.candidates() if bundle.kind == "file" else bundle.text_members())
               if not _is_meta(m)]
    groups: list[Group] = []
    for m in members:
        try:
            groups += _member_groups(m, split=m.archive is None)
        except InputError:
            if bundle.kind == "file":
                raise
    acc = [g for g in groups if g.kind == "acc"]
    lin = [g for g in groups if g.kind == "linacc"]
    gyr = [g for g in groups if g.kind == "gyr"]
    if not acc:
        if lin:
            raise InputError(f"{bundle.label}: this phyphox export holds linear acceleration"
                             " ('Acceleration without g', gravity removed); imu-knee needs the"
                             " accelerometer with g: export 'Acceleration (with g)' or a simple"
                             " experiment with the Accelerometer")
        raise InputError(f"{bundle.label}: no phyphox accelerometer columns found"
                         " (expected 'Time (s)' and 'Acceleration x/y/z (m/s^2)')")
    if not gyr:
        raise InputError(f"{bundle.label}: this phyphox export has no gyroscope columns"
                         " ('Gyroscope x/y/z (rad/s)'); export an experiment that records both,"
                         " e.g. a simple experiment with Accelerometer and Gyroscope")
    notes: list[str] = []
    acc_stream = _read_group(acc[0], notes)
    gyr_stream = _read_group(gyr[0], notes)
    meta = {"source_app": "phyphox", "source_file": bundle.label}
    device = _device_name(bundle)
    if lin:
        notes.append(f"{bundle.label}: linear acceleration columns ignored; the accelerometer"
                     " with g is used")
    return RawImport(app="phyphox", acc=acc_stream, gyr=gyr_stream, device=device, meta=meta,
                     notes=notes)


def _read_group(group: Group, notes: list[str]) -> Stream3:
    wanted = {"time": group.time_index, **{a: i for a, i in group.axis_index.items()}}
    cols = read_columns(group.head, group.layout, wanted)
    notes += cols.notes
    xyz = np.column_stack([cols.values[a] for a in "xyz"])
    return Stream3(t_s=cols.values["time"], xyz=xyz, unit=group.unit, source=group.member.name)


def _device_name(bundle: Bundle) -> str | None:
    found = [m for m in bundle.members if m.inner.replace("\\", "/").endswith("meta/device.csv")]
    if not found:
        return "phyphox"
    try:
        text = found[0].head().decode("utf-8", errors="replace")
        sep = "\t" if "\t" in text.split("\n", 1)[0] else ";" if ";" in text.split("\n", 1)[0] else ","
        props = {row[0]: row[1] for row in csv.reader(io.StringIO(text), delimiter=sep) if len(row) >= 2}
    except (csv.Error, InputError):
        return "phyphox"
    parts = [props.get(k, "").strip() for k in ("deviceBrand", "deviceModel")]
    parts = [p for p in parts if p and p.lower() != "null"]
    return "phyphox on " + " ".join(parts) if parts else "phyphox"
