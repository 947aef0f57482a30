"""The recording file (DESIGN.md section 1): one CSV per session, all sensors, long format.

Reading validates every row and names the offending line in a one-line ``InputError``.
Writing appends rows and flushes (and fsyncs) at least once a second, so a killed process
loses at most the last second of data.
"""

from __future__ import annotations

import io
import math
import multiprocessing
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError

FORMAT_LINE = "# imu-knee recording 1"
COLUMNS = ["timestamp_s", "sensor", "acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
NUMBER_COLUMNS = [c for c in COLUMNS if c != "sensor"]
SENSOR_NAMES = ("left_shank", "right_shank", "left_thigh", "right_thigh")
GRAVITY_MPS2 = 9.80665
_MAX_HEADER_SCAN_LINES = 1000
_MAX_LINE_CHARS = 65536


@dataclass
class SensorStream:
    """All samples of one sensor: time (s), specific force (m/s²), angular rate (deg/s)."""

    name: str
    t_s: np.ndarray
    acc_mps2: np.ndarray
    gyr_dps: np.ndarray
    rate_hz: float
    device: str | None = None

    @property
    def side(self) -> str:
        return self.name.split("_")[0]

    @property
    def segment(self) -> str:
        return self.name.split("_")[1]

    def __len__(self) -> int:
        return len(self.t_s)


@dataclass
class Recording:
    """One session: a stream per sensor plus the file's metadata."""

    streams: dict[str, SensorStream]
    meta: dict[str, str] = field(default_factory=dict)
    leg_length_m: float | None = None
    path: Path | None = None

    @property
    def duration_s(self) -> float:
        if not self.streams:
            return 0.0
        start = min(s.t_s[0] for s in self.streams.values() if len(s))
        end = max(s.t_s[-1] for s in self.streams.values() if len(s))
        return float(end - start)


def estimate_rate_hz(t_s: np.ndarray) -> float:
    """Sample rate from timestamps: the median interval ignores gaps and jitter."""
    if len(t_s) < 2:
        return float("nan")
    dt = np.diff(t_s)
    dt = dt[dt > 0]
    if len(dt) == 0:
        return float("nan")
    return float(1.0 / np.median(dt))


# ----------------------------------------------------------------------------- reading


def _parse_kv(text: str) -> dict[str, str]:
    """``a=1 b="two words" c=x`` → dict; values may be quoted."""
    return {m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
            for m in re.finditer(r'(\w+)=(?:"([^"]*)"|(\S+))', text)}


@dataclass
class _Header:
    meta: dict[str, str]
    sensor_meta: dict[str, dict[str, str]]
    header_line_no: int  # 1-based line number of the column header
    header_offset: int = 0  # byte offset of the column header in the file


def _read_header(path: Path) -> _Header:
    meta: dict[str, str] = {}
    sensor_meta: dict[str, dict[str, str]] = {}
    with open(path, "rb") as fh:
        for line_no in range(1, _MAX_HEADER_SCAN_LINES + 1):
            offset = fh.tell()
            raw = fh.readline(_MAX_LINE_CHARS)
            if not raw:
                if line_no == 1:
                    raise InputError(f"{path}: the file is empty")
                raise InputError(f"{path}: no column header found (expected '{','.join(COLUMNS)}')")
            if len(raw) >= _MAX_LINE_CHARS and not raw.endswith(b"\n"):
                raise InputError(f"{path}: line {line_no}: line too long; not an imu-knee recording")
            if b"\x00" in raw:
                raise InputError(f"{path}: line {line_no}: binary data; not an imu-knee recording")
            line = raw.decode("utf-8", errors="replace").strip().lstrip("\ufeff")
            if not line:
                continue
            if line.startswith("#"):
                body = line[1:].strip()
                m = re.match(r"sensor:?\s+(\w+)\s*(.*)$", body)
                if m:
                    sensor_meta[m.group(1)] = _parse_kv(m.group(2))
                elif ":" in body:
                    key, value = body.split(":", 1)
                    meta[key.strip()] = value.strip()
                continue
            names = [c.strip() for c in line.split(",")]
            if names[: len(COLUMNS)] != COLUMNS:
                raise InputError(
                    f"{path}: line {line_no}: expected the header '{','.join(COLUMNS)}'"
                    f" but found '{line[:80]}'")
            return _Header(meta, sensor_meta, line_no, offset)
    raise InputError(f"{path}: no column header in the first {_MAX_HEADER_SCAN_LINES} lines")


@dataclass
class _BadLine:
    line_no: int
    rows_before: int  # valid data rows before this line
    message: str
    unterminated_last_line: bool  # a row cut short by a crash while it was written


def _first_bad_line(path: Path, header_line_no: int) -> _BadLine | None:
    """Slow path, only after the fast checks failed: find and describe the first bad line."""
    last_t = -math.inf
    rows = 0
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        for line_no, line in enumerate(fh, start=1):
            if line_no <= header_line_no:
                continue
            problem = _check_row(line, last_t)
            if isinstance(problem, str):
                last_line = not line.endswith("\n") and fh.read(1) == ""
                return _BadLine(line_no, rows, problem, last_line)
            if problem is not None:
                last_t = problem
                rows += 1
    return None


def _check_row(line: str, last_t: float) -> str | float | None:
    """A problem description, or the row's time if it is valid, or None for a blank line."""
    text = line.split("#", 1)[0].strip()
    if not text:
        return None
    cells = [c.strip() for c in text.split(",")]
    if len(cells) < len(COLUMNS):
        return f"expected {len(COLUMNS)} values, found {len(cells)}"
    if cells[1] not in SENSOR_NAMES:
        return f"unknown sensor name '{cells[1][:40]}' (expected one of {', '.join(SENSOR_NAMES)})"
    for col, cell in zip(COLUMNS, cells):
        if col == "sensor":
            continue
        try:
            value = float(cell)
        except ValueError:
            return f"{col} is not a number: '{cell[:40]}'"
        if not math.isfinite(value):
            return f"{col} is {cell} (gaps are missing rows, never NaN)"
    t = float(cells[0])
    if t < last_t:
        return f"timestamp_s goes backwards ({t} after {last_t})"
    return t


class _NeedsSlowCheck(Exception):
    """The fast vectorised checks found a problem; the slow scan will name the line."""


@dataclass
class _Rows:
    """The parsed data rows: a number column (N,) per NUMBER_COLUMNS entry and sensor codes."""

    columns: list[np.ndarray]
    codes: np.ndarray
    sensors: list[str]  # name of each code


def _parse_rows(path: Path, header: _Header, nrows: int | None = None) -> _Rows:
    """Parse and validate all rows: pyarrow's multi-threaded CSV reader when it is installed
    and the file is plain (no comments after the header), else pandas' C parser."""
    rows = _parse_rows_arrow(path, header) if nrows is None else None
    if rows is None:
        rows = _parse_rows_pandas(path, header, nrows)
    _check_rows(rows)
    return rows


def _parse_rows_pandas(path: Path, header: _Header, nrows: int | None) -> _Rows:
    import pandas as pd  # only here and for writing (recording live needs neither)

    if nrows == 0:
        return _no_rows()
    try:
        df = pd.read_csv(path, skiprows=header.header_line_no, header=None, comment="#",
                         usecols=range(len(COLUMNS)), names=COLUMNS, nrows=nrows,
                         dtype={"sensor": "category"}, engine="c", on_bad_lines="error")
    except pd.errors.EmptyDataError:
        return _no_rows()
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError):
        raise _NeedsSlowCheck() from None
    if any(df[col].dtype.kind not in "fi" for col in NUMBER_COLUMNS):
        raise _NeedsSlowCheck()
    if len(df) == 0:
        return _no_rows()
    return _Rows([df[c].to_numpy(dtype=np.float64) for c in NUMBER_COLUMNS],
                 df["sensor"].cat.codes.to_numpy(), [str(c) for c in df["sensor"].cat.categories])


def _no_rows() -> _Rows:
    return _Rows([np.empty(0) for _ in NUMBER_COLUMNS], np.empty(0, dtype=np.int8), [])


def _parse_rows_arrow(path: Path, header: _Header) -> _Rows | None:
    """The rows by pyarrow.csv from the header line on; None when pyarrow is missing or
    cannot read the file as plain CSV (then pandas, which knows comments, tries)."""
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
    except ImportError:
        return None
    read = pacsv.ReadOptions(use_threads=multiprocessing.parent_process() is None,
                             block_size=1 << 22)
    convert = pacsv.ConvertOptions(
        include_columns=COLUMNS, strings_can_be_null=False, quoted_strings_can_be_null=False,
        column_types={"sensor": pa.dictionary(pa.int32(), pa.string()),
                      **{c: pa.float64() for c in NUMBER_COLUMNS}})
    try:
        with pa.OSFile(str(path)) as fh:
            fh.seek(header.header_offset)
            table = pacsv.read_csv(fh, read_options=read, convert_options=convert)
    except (pa.ArrowException, OSError, ValueError):
        return None
    if table.column_names != COLUMNS or any(table.column(c).null_count for c in COLUMNS):
        return None
    sensor = table.column("sensor").unify_dictionaries().combine_chunks()
    if len(sensor) == 0:
        return _no_rows()
    return _Rows([table.column(c).to_numpy() for c in NUMBER_COLUMNS], sensor.indices.to_numpy(),
                 sensor.dictionary.to_pylist())


def _check_rows(rows: _Rows) -> None:
    """The vectorised checks; any failure leaves naming the line to the slow scan."""
    if len(rows.codes) == 0:
        return
    if not all(np.isfinite(col).all() for col in rows.columns):
        raise _NeedsSlowCheck()
    if set(rows.sensors) - set(SENSOR_NAMES):
        raise _NeedsSlowCheck()
    if np.any(np.diff(rows.columns[0]) < 0):
        raise _NeedsSlowCheck()


def read_recording(path: str | os.PathLike, check_units: bool = True) -> Recording:
    """Read and validate a recording CSV.

    Raises ``InputError`` (one line, naming the line of the file) on anything the format
    forbids: no header, NaN, text in a number column, unknown sensor, decreasing time.
    With ``check_units`` an accelerometer whose gravity reads about 1 (g, not m/s²) is refused.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a recording file")
    header = _read_header(path)
    try:
        rows = _parse_rows(path, header)
    except _NeedsSlowCheck:
        bad = _first_bad_line(path, header.header_line_no)
        if bad is None:
            raise InputError(f"{path}: the file changed while it was read") from None
        if not bad.unterminated_last_line:
            raise InputError(f"{path}: line {bad.line_no}: {bad.message}") from None
        # A crash while writing cut the last row short: keep every complete row before it.
        try:
            rows = _parse_rows(path, header, nrows=bad.rows_before)
        except _NeedsSlowCheck:
            raise InputError(f"{path}: line {bad.line_no}: {bad.message}") from None
    if len(rows.codes) == 0:
        raise InputError(f"{path}: the recording holds no samples")
    streams: dict[str, SensorStream] = {}
    for name, (t_s, acc, gyr) in _split_by_sensor(rows).items():
        smeta = header.sensor_meta.get(name, {})
        rate = _float_or_none(smeta.get("rate_hz")) or estimate_rate_hz(t_s)
        streams[name] = SensorStream(name=name, t_s=t_s, acc_mps2=acc, gyr_dps=gyr,
                                     rate_hz=float(rate), device=smeta.get("device"))
    streams = {n: streams[n] for n in SENSOR_NAMES if n in streams}
    rec = Recording(streams=streams, meta=header.meta, path=path,
                    leg_length_m=_leg_length_from_meta(header.meta))
    if check_units:
        check_acc_units(rec)
    return rec


# rows split per sensor in blocks of this many: a block's columns stay in the CPU cache while
# every sensor's samples are gathered from them (one pass over each column, not one per sensor)
SPLIT_BLOCK_ROWS = 1 << 15


def _split_by_sensor(rows: _Rows) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Each sensor's (t_s (n,), acc (n, 3), gyr (n, 3)), samples in file order; a sensor
    without rows is left out."""
    counts = [int(np.count_nonzero(rows.codes == code)) for code in range(len(rows.sensors))]
    split = {code: (np.empty(n), np.empty((n, 3)), np.empty((n, 3)))
             for code, n in enumerate(counts) if n}
    filled = dict.fromkeys(split, 0)
    for start in range(0, len(rows.codes), SPLIT_BLOCK_ROWS):
        block = slice(start, start + SPLIT_BLOCK_ROWS)
        codes = rows.codes[block]
        t_s, *axes = (column[block] for column in rows.columns)  # acc x, y, z, gyr x, y, z
        for code, (t_out, acc_out, gyr_out) in split.items():
            which = np.flatnonzero(codes == code)
            into = slice(filled[code], filled[code] + len(which))
            t_out[into] = t_s[which]
            for k in range(3):
                acc_out[into, k] = axes[k][which]
                gyr_out[into, k] = axes[3 + k][which]
            filled[code] = into.stop
    return {rows.sensors[code]: arrays for code, arrays in split.items()}


def _float_or_none(text: str | None) -> float | None:
    if text is None:
        return None
    m = re.match(r"\s*([-+]?\d+(?:\.\d*)?)", text)
    return float(m.group(1)) if m else None


def _leg_length_from_meta(meta: dict[str, str]) -> float | None:
    subject = meta.get("subject", "")
    kv = _parse_kv(subject)
    value = _float_or_none(kv.get("leg_length_m"))
    return value if value and 0.3 < value < 1.5 else None


def gravity_reading(acc: np.ndarray) -> float:
    """Median magnitude of (N, 3) accelerometer samples: about 9.81 in m/s², about 1 in g
    (NaN when there are none)."""
    return float(np.median(np.linalg.norm(acc, axis=1))) if len(acc) else float("nan")


# the unit check reads gravity from at most about this many samples per sensor (evenly spread):
# a median over 20,000 samples tells 9.81 from 1 as surely as over a whole hour's 360,000
UNIT_CHECK_SAMPLES = 20_000


def check_acc_units(rec: Recording) -> None:
    """Refuse accelerometer data that is plainly in g (or another unit) instead of m/s²."""
    for s in rec.streams.values():
        g = gravity_reading(s.acc_mps2[::max(1, len(s) // UNIT_CHECK_SAMPLES)])
        if 0.5 < g < 2.0:
            raise InputError(
                f"{rec.path}: {s.name}: gravity reads {g:.2f}, so the acceleration looks like"
                f" it is in g, not m/s²; convert it with 'imu-knee import {rec.path} --acc-unit g"
                " -o FIXED.csv'")
        if not 4.0 < g < 30.0:
            raise InputError(
                f"{rec.path}: {s.name}: gravity reads {g:.2f} instead of about 9.81 m/s²;"
                " check the accelerometer units")


# ----------------------------------------------------------------------------- writing


def format_header(sensors: dict[str, dict[str, object]] | None = None,
                  meta: dict[str, object] | None = None, with_columns: bool = True) -> str:
    """The metadata lines and the column header.

    ``sensors`` maps a sensor name to its attributes (e.g. ``{"rate_hz": 200, "device": ...}``);
    ``meta`` holds other ``key: value`` lines (``subject`` may be a dict of attributes).
    """
    lines = [FORMAT_LINE]
    for name, attrs in (sensors or {}).items():
        if name not in SENSOR_NAMES:
            raise ValueError(f"unknown sensor name {name!r}")
        lines.append(f"# sensor: {name} {_format_kv(attrs)}".rstrip())
    for key, value in (meta or {}).items():
        text = _format_kv(value) if isinstance(value, dict) else str(value)
        lines.append(f"# {key}: {' '.join(text.split())}")
    if with_columns:
        lines.append(",".join(COLUMNS))
    return "\n".join(lines) + "\n"


def _format_kv(attrs: dict[str, object]) -> str:
    parts = []
    for key, value in attrs.items():
        text = str(value)
        parts.append(f'{key}="{text}"' if (" " in text or not text) else f"{key}={text}")
    return " ".join(parts)


def format_rows(sensor: str, t_s: np.ndarray, acc_mps2: np.ndarray, gyr_dps: np.ndarray) -> str:
    """CSV rows for one sensor's samples (no trailing header)."""
    buf = io.StringIO()
    data = np.column_stack([np.asarray(t_s, dtype=float), acc_mps2, gyr_dps])
    for row in data.tolist():
        buf.write("%.6f,%s,%.5f,%.5f,%.5f,%.4f,%.4f,%.4f\n" % (row[0], sensor, *row[1:]))
    return buf.getvalue()


class RecordingWriter:
    """Append samples to a recording file; flushed and fsynced at least once a second.

    A background thread flushes whatever is buffered every ``flush_interval_s`` so that a
    crash, a kill or a pulled plug loses at most that much. Use as a context manager.
    """

    def __init__(self, path: str | os.PathLike, sensors: dict[str, dict[str, object]] | None = None,
                 meta: dict[str, object] | None = None, flush_interval_s: float = 0.5,
                 overwrite: bool = True):
        self.path = Path(path)
        if self.path.exists() and not overwrite:
            raise InputError(f"{self.path}: exists already; choose another name")
        self._fh = open(self.path, "w", encoding="utf-8", newline="\n")
        self._lock = threading.Lock()
        self._pending: list[str] = []
        self._last_t: dict[str, float] = {}
        self._closed = False
        self.rows_written = 0
        self._fh.write(format_header(sensors, meta))
        self._sync()
        self._interval_s = flush_interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._flush_loop, name="recording-flush", daemon=True)
        self._thread.start()

    def append(self, sensor: str, t_s, acc_mps2, gyr_dps) -> None:
        """Append a block of samples of one sensor (arrays of shape (N,), (N,3), (N,3))."""
        if sensor not in SENSOR_NAMES:
            raise ValueError(f"unknown sensor name {sensor!r}")
        t = np.atleast_1d(np.asarray(t_s, dtype=float))
        acc = np.asarray(acc_mps2, dtype=float).reshape(-1, 3)
        gyr = np.asarray(gyr_dps, dtype=float).reshape(-1, 3)
        if not (len(t) == len(acc) == len(gyr)):
            raise ValueError("t_s, acc_mps2 and gyr_dps must have the same length")
        if len(t) == 0:
            return
        finite = np.isfinite(t) & np.isfinite(acc).all(axis=1) & np.isfinite(gyr).all(axis=1)
        t, acc, gyr = t[finite], acc[finite], gyr[finite]
        text = format_rows(sensor, t, acc, gyr)
        with self._lock:
            if self._closed:
                raise ValueError("the recording is closed")
            self._pending.append(text)
            self.rows_written += len(t)

    def _flush_loop(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.flush()

    def _sync(self) -> None:
        self._fh.flush()
        try:
            os.fsync(self._fh.fileno())
        except OSError:
            pass

    def flush(self) -> None:
        """Write what is buffered to disk now."""
        with self._lock:
            if self._closed:
                return
            if self._pending:
                self._fh.write("".join(self._pending))
                self._pending.clear()
            self._sync()

    def close(self) -> None:
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)
        self.flush()
        with self._lock:
            if not self._closed:
                self._closed = True
                self._fh.close()

    def __enter__(self) -> "RecordingWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_recording(path: str | os.PathLike, rec: Recording, meta: dict[str, object] | None = None) -> None:
    """Write a whole recording, rows merged in time order across sensors."""
    import pandas as pd

    sensors = {n: {k: v for k, v in (("device", s.device), ("rate_hz", _round_rate(s.rate_hz)))
                   if v is not None}
               for n, s in rec.streams.items()}
    all_meta: dict[str, object] = dict(meta or {})
    if rec.leg_length_m and "subject" not in all_meta:
        all_meta["subject"] = {"leg_length_m": rec.leg_length_m}
    names = list(rec.streams)
    t = np.concatenate([rec.streams[n].t_s for n in names])
    which = np.concatenate([np.full(len(rec.streams[n]), i) for i, n in enumerate(names)])
    acc = np.concatenate([rec.streams[n].acc_mps2 for n in names])
    gyr = np.concatenate([rec.streams[n].gyr_dps for n in names])
    order = np.lexsort((which, t))
    label = np.array(names, dtype=object)[which[order]]
    df = pd.DataFrame({
        "timestamp_s": np.round(t[order], 6), "sensor": label,
        "acc_x": np.round(acc[order, 0], 5), "acc_y": np.round(acc[order, 1], 5),
        "acc_z": np.round(acc[order, 2], 5), "gyr_x": np.round(gyr[order, 0], 4),
        "gyr_y": np.round(gyr[order, 1], 4), "gyr_z": np.round(gyr[order, 2], 4)})
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(format_header(sensors, all_meta, with_columns=False))
        df.to_csv(fh, index=False, lineterminator="\n")


def _round_rate(rate_hz: float) -> float | int | None:
    if rate_hz is None or not math.isfinite(rate_hz):
        return None
    return int(round(rate_hz)) if abs(rate_hz - round(rate_hz)) < 0.05 else round(rate_hz, 2)
