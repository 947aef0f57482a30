"""Storing analysed sessions in the history, and reading them back.

:func:`store_session` is the hook ``imu-knee analyze`` (and the batch) call after analysing a
recording: one transaction writes the session row, every per-step row, the per-session medians
used for trends and the coach's findings. Storing the same recording (same content hash) for
the same subject again replaces the earlier copy in that same transaction.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Mapping

import numpy as np
import pandas as pd

from ..errors import InputError
from .db import (STEP_NUMBER_COLUMNS, STEP_ORDER, STEP_TEXT_COLUMNS, TREND_METRICS, HistoryDB,
                 open_history)

DEFAULT_SUBJECT = "me"

# The metric and activity each coaching pattern is judged on, when a finding does not say.
PATTERN_METRIC = {
    "hard_landing": ("impact_g", "stairs_down"),
    "knee_wobble": ("frontal_wobble_dps", "level"),
    "heel_lift": ("shank_tilt_max_stance_deg", "stairs_down"),
    "incomplete_extension": ("knee_min_flexion_stance_deg", "level"),
    "long_strides": ("stride_length_m", "level"),
}

# Test hook: called inside the write transaction after the rows are written, before COMMIT.
AFTER_ROWS_HOOK = None

_STORED_COLUMNS = set(STEP_TEXT_COLUMNS) | set(STEP_NUMBER_COLUMNS)


@dataclass(frozen=True)
class StoredSession:
    session_id: int
    subject: str
    recorded_at: str
    n_steps: int
    replaced: bool  # True when an earlier copy of the same recording was replaced


@contextlib.contextmanager
def using_db(db: HistoryDB | str | os.PathLike | None, create: bool = True) -> Iterator[HistoryDB]:
    """Yield ``db`` if it is open already, else open it (path or default) and close it after."""
    if isinstance(db, HistoryDB):
        yield db
        return
    opened = open_history(db, create=create)
    try:
        yield opened
    finally:
        opened.close()


# ----------------------------------------------------------------------------- identity

def utc_text(when: dt.datetime | dt.date | str | float | None) -> str:
    """A time as 'YYYY-MM-DDTHH:MM:SSZ' (UTC); naive datetimes are taken as UTC; a number is
    a POSIX timestamp; None = now."""
    if when is None:
        when = dt.datetime.now(dt.timezone.utc)
    elif isinstance(when, (int, float)):
        when = dt.datetime.fromtimestamp(float(when), dt.timezone.utc)
    elif isinstance(when, str):
        text = when.strip()
        try:
            when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"date '{when}': expected ISO 8601, e.g. 2026-11-22 or "
                             "2026-11-22T08:30:00Z") from None
    elif isinstance(when, dt.date) and not isinstance(when, dt.datetime):
        when = dt.datetime(when.year, when.month, when.day)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _kv(text: str) -> dict[str, str]:
    return {m.group(1): m.group(2).strip('"') for m in re.finditer(r'(\w+)=("[^"]*"|\S+)', text)}


def session_identity(meta: Mapping[str, str] | None, path: str | os.PathLike | None
                     ) -> tuple[str | None, str]:
    """(subject, recorded_at) from a recording's metadata, else the file's time.

    Subject: ``# subject: id=...`` (or ``name=``), or a ``# subject_id:`` line; None if absent.
    Time: ``# start_utc:`` (written by importers), ``# recorded_at:`` or ``# date:``; else the
    file's modification time (when the recording was last written); else now.
    """
    meta = dict(meta or {})
    kv = _kv(str(meta.get("subject", "")))
    subject = kv.get("id") or kv.get("name") or meta.get("subject_id") or None
    for key in ("start_utc", "recorded_at", "date"):
        if meta.get(key):
            try:
                return subject, utc_text(str(meta[key]))
            except InputError:
                pass
    if path is not None:
        try:
            return subject, utc_text(os.stat(path).st_mtime)
        except OSError:
            pass
    return subject, utc_text(None)


# ----------------------------------------------------------------------------- writing

def _finite_or_none(x) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _json_safe(obj):
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return _finite_or_none(obj)
    if isinstance(obj, (str, int, bool)) or obj is None:
        return obj
    return str(obj)


def _finding_dicts(findings) -> list[dict]:
    out = []
    for f in findings or []:
        d = f.to_dict() if hasattr(f, "to_dict") else dict(f)
        if not d.get("pattern") or not d.get("side"):
            raise ValueError(f"a finding needs 'pattern' and 'side': {d!r}")
        out.append(_json_safe(d))
    return out


def finding_metric(finding: Mapping) -> tuple[str | None, str | None]:
    """(metric, activity) behind a finding: its strongest comparison, else the pattern's."""
    for comp in finding.get("evidence_detail") or []:
        if comp.get("metric") and comp.get("activity"):
            return comp["metric"], comp["activity"]
    return PATTERN_METRIC.get(finding.get("pattern"), (None, None))


def _text_column(steps: pd.DataFrame, col: str, n: int) -> list:
    if col not in steps:
        return [None] * n
    return [None if v is None or (isinstance(v, float) and v != v) else str(v)
            for v in steps[col].tolist()]


def _extra_value(v):
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, (np.integer,)):
        return int(v)
    if v is None or isinstance(v, (str, int, bool)):
        return v
    return None if pd.isna(v) else str(v)


def _step_rows(session_id: int, steps: pd.DataFrame) -> list[tuple]:
    """The rows for the ``steps`` table, NaN as NULL, unknown columns as JSON."""
    n = len(steps)
    if n == 0:
        return []
    numbers = np.full((n, len(STEP_NUMBER_COLUMNS)), np.nan)
    for j, c in enumerate(STEP_NUMBER_COLUMNS):
        if c in steps:
            numbers[:, j] = pd.to_numeric(steps[c], errors="coerce").to_numpy(dtype=float)
    cells = numbers.astype(object)
    cells[~np.isfinite(numbers)] = None
    side, activity = _text_column(steps, "side", n), _text_column(steps, "activity", n)
    sensor, flags = _text_column(steps, "event_sensor", n), _text_column(steps, "flags", n)
    extra_cols = [c for c in steps.columns if c not in _STORED_COLUMNS]
    if extra_cols:
        columns = [steps[c].tolist() for c in extra_cols]
        extras = []
        for values in zip(*columns):
            d = {c: x for c, v in zip(extra_cols, values) if (x := _extra_value(v)) is not None}
            extras.append(json.dumps(d) if d else None)
    else:
        extras = [None] * n
    return [(session_id, i, side[i], activity[i], *cells[i].tolist(), sensor[i], flags[i],
             extras[i]) for i in range(n)]


def session_medians(steps: pd.DataFrame) -> list[tuple[str, str, str, float, int]]:
    """(side, activity, metric, median, n_steps) for every metric measured in a session."""
    metrics = [m for m in TREND_METRICS if m in steps]
    if steps.empty or "side" not in steps or "activity" not in steps or not metrics:
        return []
    values = steps[metrics].apply(pd.to_numeric, errors="coerce").astype(float)
    keys = [steps["side"].astype(str), steps["activity"].astype(str)]
    grouped = values.groupby(keys, sort=True)
    medians, counts = grouped.median(), grouped.count()
    med, cnt = medians.to_numpy(dtype=float), counts.to_numpy(dtype=int)
    out = []
    for i, (side, activity) in enumerate(counts.index):
        for j, metric in enumerate(metrics):
            if cnt[i, j]:
                out.append((side, activity, metric, float(med[i, j]), int(cnt[i, j])))
    return out


def store_session(steps: pd.DataFrame, summary: Mapping, *, db=None, findings=None,
                  subject: str | None = None, recorded_at=None, source=None,
                  source_sha256: str | None = None) -> StoredSession:
    """Store one analysed session in the history (one transaction) and return its id.

    ``steps``/``summary``: what ``analyze_recording`` returned. ``findings``: the coach's
    findings (objects with ``to_dict()`` or dicts); default ``summary["findings"]``.
    ``subject``: whose session (default :data:`DEFAULT_SUBJECT`). ``recorded_at``: when it was
    recorded (datetime, ISO text or POSIX time; default now) - see :func:`session_identity`.
    ``source``: the recording's path; ``source_sha256``: its content hash (computed from
    ``source`` when that file exists). A recording already stored for this subject (same
    hash) is replaced, not duplicated. ``db``: an open :class:`HistoryDB`, a path, or None for
    the default location. Errors (locked, damaged database) are one-line InputErrors and
    leave the database as it was.
    """
    if not isinstance(steps, pd.DataFrame):
        raise TypeError("steps must be a pandas DataFrame")
    finding_list = _finding_dicts(summary.get("findings") if findings is None else findings)
    subject = (subject or DEFAULT_SUBJECT).strip() or DEFAULT_SUBJECT
    when = utc_text(recorded_at)
    if source_sha256 is None and source is not None and Path(source).is_file():
        source_sha256 = file_sha256(source)
    summary_json = json.dumps(_json_safe(dict(summary)), allow_nan=False)
    duration = _finite_or_none(summary.get("duration_s"))
    medians = session_medians(steps)
    stored_now = utc_text(None)
    with using_db(db) as hdb, hdb.transaction() as con:
        replaced = False
        old = None
        if source_sha256 is not None:
            old = con.execute("SELECT id FROM sessions WHERE subject = ? AND source_sha256 = ?",
                              (subject, source_sha256)).fetchone()
        values = (subject, when, stored_now, None if source is None else str(source),
                  source_sha256, duration, int(len(steps)), summary_json)
        if old is not None:
            session_id, replaced = int(old[0]), True
            for table in ("steps", "session_metrics", "findings"):
                con.execute(f"DELETE FROM {table} WHERE session_id = ?", (session_id,))
            con.execute("UPDATE sessions SET subject=?, recorded_at=?, stored_at=?, source=?,"
                        " source_sha256=?, duration_s=?, n_steps=?, summary_json=? WHERE id=?",
                        values + (session_id,))
        else:
            cur = con.execute("INSERT INTO sessions (subject, recorded_at, stored_at, source,"
                              " source_sha256, duration_s, n_steps, summary_json)"
                              " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", values)
            session_id = int(cur.lastrowid)
        rows = _step_rows(session_id, steps)
        if rows:
            marks = ", ".join("?" * len(rows[0]))
            con.executemany(f"INSERT INTO steps VALUES ({marks})", rows)
        con.executemany("INSERT INTO session_metrics VALUES (?, ?, ?, ?, ?, ?)",
                        [(session_id, *m) for m in medians])
        for f in finding_list:
            metric, activity = finding_metric(f)
            con.execute("INSERT INTO findings (session_id, pattern, side, metric, activity,"
                        " confidence, evidence, finding_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (session_id, f["pattern"], f["side"], metric, activity,
                         _finite_or_none(f.get("confidence")), f.get("evidence"),
                         json.dumps(f, allow_nan=False)))
        if AFTER_ROWS_HOOK is not None:
            AFTER_ROWS_HOOK()
    return StoredSession(session_id, subject, when, int(len(steps)), replaced)


# ----------------------------------------------------------------------------- reading

def _subject_clause(subject: str | None, before: str | None = None, alias: str = "s"
                    ) -> tuple[str, list]:
    where, params = [], []
    if subject is not None:
        where.append(f"{alias}.subject = ?")
        params.append(subject)
    if before is not None:
        where.append(f"{alias}.recorded_at < ?")
        params.append(before)
    return (" WHERE " + " AND ".join(where)) if where else "", params


def list_sessions(db=None, subject: str | None = None) -> pd.DataFrame:
    """All stored sessions, oldest first: id, subject, recorded_at, source, n_steps,
    duration_s and ``findings`` (e.g. 'hard_landing:left, knee_wobble:both')."""
    where, params = _subject_clause(subject)
    with using_db(db, create=False) as hdb:
        rows = hdb.query(
            "SELECT s.id, s.subject, s.recorded_at, s.source, s.n_steps, s.duration_s,"
            " (SELECT group_concat(f.pattern || ':' || f.side, ', ') FROM findings f"
            "  WHERE f.session_id = s.id)"
            f" FROM sessions s{where} ORDER BY s.recorded_at, s.id", params)
    return pd.DataFrame(rows, columns=["session_id", "subject", "recorded_at", "source",
                                       "n_steps", "duration_s", "findings"]).fillna(
        {"findings": ""})


def subjects(db=None) -> list[str]:
    with using_db(db, create=False) as hdb:
        return [r[0] for r in hdb.query("SELECT DISTINCT subject FROM sessions ORDER BY subject")]


def load_steps(db=None, subject: str | None = None,
               session_ids: Iterable[int] | None = None) -> pd.DataFrame:
    """Every stored per-step row with its session's id, subject, date and source, in the
    order sessions were recorded; extra columns that were stored come back as columns."""
    where, params = _subject_clause(subject)
    if session_ids is not None:
        ids = [int(i) for i in session_ids]
        where += (" AND " if where else " WHERE ") + \
            f"s.id IN ({', '.join('?' * len(ids)) or 'NULL'})"
        params += ids
    number_cols = [c for c in STEP_NUMBER_COLUMNS]
    select = ", ".join(f"t.{c}" for c in ("side", "activity", *number_cols, "event_sensor",
                                           "flags", "extra_json"))
    with using_db(db, create=False) as hdb:
        rows = hdb.query(
            f"SELECT s.id, s.subject, s.recorded_at, s.source, {select}"
            f" FROM steps t JOIN sessions s ON s.id = t.session_id{where}"
            " ORDER BY s.recorded_at, s.id, t.step_no", params)
    head = ["session_id", "subject", "recorded_at", "source"]
    df = pd.DataFrame(rows, columns=head + ["side", "activity", *number_cols, "event_sensor",
                                            "flags", "extra_json"])
    for c in number_cols:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    extras = df.pop("extra_json")
    if extras.notna().any():
        extra = pd.DataFrame([json.loads(x) if isinstance(x, str) and x else {} for x in extras],
                             index=df.index)
        for c in extra.columns:
            df[c] = extra[c]
    order = head + [c for c in STEP_ORDER if c in df] + \
        [c for c in df.columns if c not in head and c not in STEP_ORDER]
    return df[order]


def load_findings(db=None, subject: str | None = None, before: str | None = None) -> pd.DataFrame:
    """session_id, recorded_at, pattern, side, metric, activity, confidence, evidence."""
    where, params = _subject_clause(subject, before)
    with using_db(db, create=False) as hdb:
        rows = hdb.query(
            "SELECT s.id, s.subject, s.recorded_at, f.pattern, f.side, f.metric, f.activity,"
            " f.confidence, f.evidence FROM findings f JOIN sessions s ON s.id = f.session_id"
            f"{where} ORDER BY s.recorded_at, s.id, f.id", params)
    return pd.DataFrame(rows, columns=["session_id", "subject", "recorded_at", "pattern", "side",
                                       "metric", "activity", "confidence", "evidence"])


def load_session_medians(db=None, subject: str | None = None, before: str | None = None,
                         metric: str | None = None) -> pd.DataFrame:
    """Per-session medians: session_id, subject, recorded_at, side, activity, metric, median,
    n_steps (one row per measured combination)."""
    where, params = _subject_clause(subject, before)
    if metric is not None:
        where += (" AND " if where else " WHERE ") + "m.metric = ?"
        params.append(metric)
    with using_db(db, create=False) as hdb:
        rows = hdb.query(
            "SELECT s.id, s.subject, s.recorded_at, m.side, m.activity, m.metric, m.median,"
            " m.n_steps FROM session_metrics m JOIN sessions s ON s.id = m.session_id"
            f"{where} ORDER BY s.recorded_at, s.id", params)
    return pd.DataFrame(rows, columns=["session_id", "subject", "recorded_at", "side",
                                       "activity", "metric", "median", "n_steps"])
