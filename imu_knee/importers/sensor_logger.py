"""Sensor Logger (Android/iOS app by Kelvin Choi, tszheichoi.com/sensorlogger): a zip or
folder with one CSV per sensor.

Format facts (github.com/tszheichoi/awesome-sensor-logger README, UNITS.md, COORDINATES.md,
CROSSPLATFORM.md):
- Every sensor file starts ``time,seconds_elapsed,…``; motion files are
  ``time,seconds_elapsed,z,y,x`` (note the z, y, x order). ``time`` is the UNIX epoch in
  nanoseconds (one clock for all files); ``seconds_elapsed`` counts from the start button and
  may be negative for buffered samples.
- ``Gyroscope.csv``: rad/s, same sign convention on both platforms.
- Android: ``Accelerometer.csv`` is acceleration *without* gravity, ``TotalAcceleration.csv``
  the raw accelerometer *with* gravity (m/s², +9.81 on the up axis at rest) — that one is used.
- iOS: only ``Accelerometer.csv`` (user acceleration without gravity) and ``Gravity.csv``;
  with "Standardise Units & Frames" off (default) both carry the iOS sign, opposite to Android
  on all three axes (flat on a table gravity points -z). Specific force is then
  -(Accelerometer + Gravity); with standardisation on it is Accelerometer + Gravity.
- ``Metadata.csv`` (older versions ``metadata.csv``) holds ``platform`` and, in newer
  versions, ``standardisation``, plus ``device name``.
- ``AccelerometerUncalibrated.csv`` (with gravity) is in g on iOS without standardisation and
  in m/s² otherwise; it is the last resort.
"""

from __future__ import annotations

import csv
import io

import numpy as np

from ..errors import InputError
from .model import ImportOptions, RawImport, Stream3
from .sources import Bundle, Member
from .table import read_columns, read_head, sniff_layout
from .timeline import merge_onto_acc, order_by_time

NAME = "sensorlogger"
_MOTION = {"gyroscope.csv", "totalacceleration.csv", "accelerometer.csv", "gravity.csv",
           "gyroscopeuncalibrated.csv", "accelerometeruncalibrated.csv"}


def _is_sl_table(member: Member) -> bool:
    head = read_head(member)
    layout = sniff_layout(head)
    cols = [c.lower() for c in layout.columns]
    return "seconds_elapsed" in cols or (cols[:1] == ["time"] and {"x", "y", "z"} <= set(cols))


def detect(bundle: Bundle) -> int:
    members = [m for m in bundle.candidates() if m.basename.lower() in _MOTION]
    for m in members:
        try:
            if _is_sl_table(m):
                return 4
        except InputError:
            continue
    return 0


def _one(bundle: Bundle, basename: str) -> Member | None:
    found = [m for m in bundle.members if m.basename.lower() == basename.lower()]
    if len(found) > 1:
        raise InputError(f"{bundle.label}: holds several {basename} files (several recordings?);"
                         " import one recording folder at a time")
    return found[0] if found else None


def _read_xyz(member: Member, notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    head = read_head(member)
    layout = sniff_layout(head)
    cols = [c.lower() for c in layout.columns]
    missing = [c for c in ("x", "y", "z") if c not in cols]
    if missing:
        raise InputError(f"{member.name}: no '{missing[0]}' column (expected time,seconds_elapsed,z,y,x)")
    wanted = {a: cols.index(a) for a in "xyz"}
    if "time" in cols:
        wanted["t"] = cols.index("time")
        scale = 1e-9
    elif "seconds_elapsed" in cols:
        wanted["t"] = cols.index("seconds_elapsed")
        scale = 1.0
    else:
        raise InputError(f"{member.name}: no 'time' or 'seconds_elapsed' column")
    data = read_columns(head, layout, wanted)
    notes += data.notes
    xyz = np.column_stack([data.values[a] for a in "xyz"])
    t, xyz, moved = order_by_time(data.values["t"] * scale, xyz)
    if moved:
        notes.append(f"{member.name}: {moved} sample(s) out of time order were sorted")
    return t, xyz


def read_metadata(bundle: Bundle) -> dict[str, str]:
    member = _one(bundle, "Metadata.csv")
    if member is None:
        return {}
    try:
        text = member.head().decode("utf-8-sig", errors="replace")
        rows = list(csv.reader(io.StringIO(text)))
    except (csv.Error, InputError):
        return {}
    if len(rows) < 2:
        return {}
    return {k.strip().lower(): v.strip() for k, v in zip(rows[0], rows[1])}


def _truthy(text: str | None) -> bool:
    return (text or "").strip().lower() in ("true", "1", "yes", "on")


def load(bundle: Bundle, options: ImportOptions) -> RawImport:
    notes: list[str] = []
    meta_sl = read_metadata(bundle)
    platform = meta_sl.get("platform", "").lower()
    standardised = _truthy(meta_sl.get("standardisation"))
    gyr_member = _one(bundle, "Gyroscope.csv") or _one(bundle, "GyroscopeUncalibrated.csv")
    if gyr_member is None:
        raise InputError(f"{bundle.label}: this Sensor Logger export has no Gyroscope.csv;"
                         " enable the gyroscope in Sensor Logger and record again")
    gyr_t, gyr = _read_xyz(gyr_member, notes)
    total = _one(bundle, "TotalAcceleration.csv")
    user = _one(bundle, "Accelerometer.csv")
    gravity = _one(bundle, "Gravity.csv")
    raw = _one(bundle, "AccelerometerUncalibrated.csv")
    unit = "mps2"
    if total is not None:
        acc_t, acc = _read_xyz(total, notes)
        acc_source, how = total.name, "TotalAcceleration.csv (with gravity)"
    elif user is not None and gravity is not None:
        ut, ua = _read_xyz(user, notes)
        gt, ga = _read_xyz(gravity, notes)
        acc_t, ua, ga, _, _ = merge_onto_acc(ut, ua, gt, ga)
        acc = ua + ga
        ios_sign = platform == "ios" or (not platform)
        if ios_sign and not standardised:
            acc = -acc
            if not platform:
                notes.append(f"{bundle.label}: no Metadata.csv; Accelerometer.csv + Gravity.csv"
                             " without TotalAcceleration.csv is taken as an iOS export (iOS sign)")
        acc_source, how = user.name, "Accelerometer.csv + Gravity.csv"
    elif raw is not None:
        acc_t, acc = _read_xyz(raw, notes)
        if platform == "ios" and not standardised:
            acc, unit = -acc, "g"
        acc_source, how = raw.name, "AccelerometerUncalibrated.csv"
    elif user is not None:
        raise InputError(f"{user.name}: Sensor Logger's Accelerometer.csv is acceleration without"
                         " gravity; imu-knee needs TotalAcceleration.csv (Android) or Gravity.csv"
                         " beside it (iOS): enable them in Sensor Logger")
    else:
        raise InputError(f"{bundle.label}: this Sensor Logger export has no accelerometer file"
                         " (TotalAcceleration.csv, or Accelerometer.csv with Gravity.csv)")
    device = meta_sl.get("device name") or None
    meta = {"source_app": "Sensor Logger", "source_file": bundle.label,
            "source_acc": how}
    if platform:
        meta["source_platform"] = platform + (" (standardised units and frames)" if standardised else "")
    return RawImport(app="Sensor Logger",
                     acc=Stream3(acc_t, acc, unit, acc_source, presorted=True),
                     gyr=Stream3(gyr_t, gyr, "rads", gyr_member.name, presorted=True),
                     device=f"Sensor Logger on {device}" if device else "Sensor Logger",
                     meta=meta, notes=notes)
