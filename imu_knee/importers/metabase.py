"""MetaBase (MbientLab) CSV exports: one file per sensor of each board.

Format facts (MetaBase exports as seen in public analysis code and MbientLab's tutorials):
- File names ``<name>_<date>T<time>_<MAC>_Accelerometer[_<version>].csv`` and
  ``…_Gyroscope[_<version>].csv``.
- Header ``epoc (ms),timestamp (+1300),elapsed (s),x-axis (g),y-axis (g),z-axis (g)``;
  gyroscope ``x-axis (deg/s)`` …; older MetaWear apps wrote ``epoch (ms),time (-13:00),…``.
- Acceleration in g, angular rate in deg/s. Several samples share one epoch millisecond
  (samples arrive in packets and logged data is stamped per packet), so sample times are
  derived by spreading each run of equal stamps evenly to the next stamp.
- ``elapsed (s)`` counts from each file's own first sample, so it does not put the two files
  on one clock; the epoch does, and is used.
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import InputError
from .model import ImportOptions, RawImport, Stream3, paired_import
from .sources import Bundle, Member
from .table import read_columns, read_head, sniff_layout
from .timeline import order_by_time, spread_repeated

NAME = "metabase"
_KIND = re.compile(r"(accelerometer|gyroscope|gyro)(?:_[\d.]+)?\.csv$", re.IGNORECASE)
_MAC = re.compile(r"_([0-9A-Fa-f]{12})_")


def _columns(member: Member):
    head = read_head(member)
    layout = sniff_layout(head)
    cols = [c.lower() for c in layout.columns]
    return head, layout, cols


def _kind(member: Member) -> str | None:
    """'acc' or 'gyr' if the member is a MetaBase sensor file, else None."""
    try:
        _, _, cols = _columns(member)
    except InputError:
        return None
    if not cols or not re.match(r"^epoc?h?\s*\(ms\)$", cols[0]):
        return None
    units = {re.sub(r"^[xyz]-axis\s*", "", c) for c in cols if re.match(r"^[xyz]-axis", c)}
    if units == {"(g)"} or units == {"(m/s^2)"}:
        return "acc"
    if units == {"(deg/s)"} or units == {"(rad/s)"}:
        return "gyr"
    return None


def detect(bundle: Bundle) -> int:
    for m in bundle.candidates()[:50]:
        if _kind(m):
            return 4
    return 0


def _pair_key(member: Member) -> str:
    return _KIND.sub("", member.basename).rstrip("_- ").lower()


def load(bundle: Bundle, options: ImportOptions) -> RawImport:
    kinds = {m.inner: _kind(m) for m in bundle.text_members()}
    acc = [m for m in bundle.text_members() if kinds[m.inner] == "acc"]
    gyr = [m for m in bundle.text_members() if kinds[m.inner] == "gyr"]
    if bundle.primary is not None and kinds.get(bundle.primary.inner):
        # the named file decides which board; its partner comes from the same folder
        key = _pair_key(bundle.primary)
        acc = [m for m in acc if _pair_key(m) == key] or acc
        gyr = [m for m in gyr if _pair_key(m) == key] or gyr
    if not acc or not gyr:
        missing = "accelerometer" if not acc else "gyroscope"
        raise InputError(f"{bundle.label}: no MetaBase {missing} file found beside it"
                         " (expected a pair …_Accelerometer.csv and …_Gyroscope.csv)")
    if len(acc) > 1 or len(gyr) > 1:
        keys = sorted({_pair_key(m) for m in acc + gyr})
        if len(acc) == len(gyr) and len(keys) == len(acc):
            raise InputError(f"{bundle.label}: holds MetaBase files of {len(keys)} boards or"
                             " sessions; import one pair by naming its two files")
        raise InputError(f"{bundle.label}: cannot pair the MetaBase accelerometer and gyroscope"
                         " files; name the two files of one board")
    notes: list[str] = []
    acc_stream = _read(acc[0], "acc", notes)
    gyr_stream = _read(gyr[0], "gyr", notes)
    mac = _MAC.search(acc[0].basename)
    device = f"MbientLab MetaWear {mac.group(1).upper()}" if mac else "MbientLab MetaWear"
    return paired_import("MetaBase", acc_stream, gyr_stream,
                         f"{acc[0].name} + {gyr[0].basename}", device, notes)


def _read(member: Member, kind: str, notes: list[str]) -> Stream3:
    head, layout, cols = _columns(member)
    wanted = {"t": 0}
    for a in "xyz":
        idx = [i for i, c in enumerate(cols) if c.startswith(f"{a}-axis")]
        if not idx:
            raise InputError(f"{member.name}: no '{a}-axis' column")
        wanted[a] = idx[0]
    unit_text = re.sub(r"^x-axis\s*", "", cols[wanted["x"]])
    unit = {"(g)": "g", "(m/s^2)": "mps2", "(deg/s)": "dps", "(rad/s)": "rads"}[unit_text]
    data = read_columns(head, layout, wanted)
    notes += data.notes
    xyz = np.column_stack([data.values[a] for a in "xyz"])
    t, xyz, moved = _spread_sorted(data.values["t"] / 1000.0, xyz, member.name)
    if moved:
        notes.append(f"{member.name}: {moved} sample(s) out of time order were sorted")
    return Stream3(t, xyz, unit, member.name, presorted=True)


def _spread_sorted(t_s: np.ndarray, xyz: np.ndarray, what: str):
    order = np.argsort(t_s, kind="stable")
    moved = int((np.diff(t_s) < 0).sum()) if len(t_s) > 1 else 0
    t_s, xyz = t_s[order], xyz[order]
    t_s = spread_repeated(t_s, what)
    t_s, xyz, _ = order_by_time(t_s, xyz)
    return t_s, xyz, moved
