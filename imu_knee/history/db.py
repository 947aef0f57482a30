"""The history database: one SQLite file, its location, schema, migrations and transactions.

Location (first that applies): ``--db PATH`` (``explicit``), the ``IMU_KNEE_HOME`` environment
variable (a folder; the file is ``history.sqlite`` in it), else the platform's user data
folder: ``$XDG_DATA_HOME/imu-knee`` or ``~/.local/share/imu-knee`` on Linux,
``%APPDATA%\\imu-knee`` on Windows, ``~/Library/Application Support/imu-knee`` on macOS.

Safety rules, all enforced here:

- every write runs in one transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``); a crash or a kill
  in the middle leaves the file as it was before the transaction (SQLite's rollback journal);
- a file that is not an SQLite database, a damaged one, a database of another program, or one
  written by a newer imu-knee gives a one-line :class:`InputError` and is never changed;
- a database another program holds locked makes us wait ``timeout_s`` and then gives a
  one-line :class:`InputError` (nothing is written).

The schema version lives in ``PRAGMA user_version``; ``PRAGMA application_id`` marks the file
as an imu-knee history. :data:`MIGRATIONS` upgrades older files step by step, each step in its
own transaction.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
from pathlib import Path
from typing import Callable, Iterator

from ..errors import InputError

DB_FILENAME = "history.sqlite"
HOME_ENV = "IMU_KNEE_HOME"
APPLICATION_ID = 0x494B4E45  # "IKNE"
DEFAULT_TIMEOUT_S = 5.0

# Per-step columns stored as real columns (DESIGN.md section 2 plus the coach's shank tilt and
# the engine's extras); any other column of a steps table goes into ``extra_json``.
STEP_TEXT_COLUMNS = ("side", "activity", "event_sensor", "flags")
STEP_NUMBER_COLUMNS = (
    "ic_s", "to_s", "stride_length_m", "step_height_m", "impact_g", "loading_rate_gps",
    "knee_flexion_ic_deg", "knee_min_flexion_stance_deg", "frontal_range_deg",
    "frontal_wobble_dps", "shank_tilt_max_stance_deg", "impact_rate_hz",
)
STEP_ORDER = (
    "side", "ic_s", "to_s", "activity", "stride_length_m", "step_height_m", "impact_g",
    "loading_rate_gps", "knee_flexion_ic_deg", "knee_min_flexion_stance_deg",
    "frontal_range_deg", "frontal_wobble_dps", "shank_tilt_max_stance_deg", "impact_rate_hz",
    "event_sensor", "flags",
)
# Metrics summarised per session (median per side and activity) for fast trends.
TREND_METRICS = (
    "stride_length_m", "step_height_m", "impact_g", "loading_rate_gps", "knee_flexion_ic_deg",
    "knee_min_flexion_stance_deg", "frontal_range_deg", "frontal_wobble_dps",
    "shank_tilt_max_stance_deg",
)


def _schema_v1(con: sqlite3.Connection) -> None:
    step_cols = ",\n  ".join(
        [f"{c} TEXT" for c in ("side", "activity")]
        + [f"{c} REAL" for c in STEP_NUMBER_COLUMNS]
        + ["event_sensor TEXT", "flags TEXT", "extra_json TEXT"])
    script = f"""
CREATE TABLE sessions (
  id INTEGER PRIMARY KEY,
  subject TEXT NOT NULL,
  recorded_at TEXT NOT NULL,          -- ISO 8601 UTC, 'YYYY-MM-DDTHH:MM:SSZ'
  stored_at TEXT NOT NULL,
  source TEXT,                        -- recording path as given
  source_sha256 TEXT,                 -- content hash: the same recording is stored once
  duration_s REAL,
  n_steps INTEGER NOT NULL,
  summary_json TEXT NOT NULL
);
CREATE INDEX sessions_by_subject_time ON sessions(subject, recorded_at);
CREATE UNIQUE INDEX sessions_unique_source ON sessions(subject, source_sha256)
  WHERE source_sha256 IS NOT NULL;
CREATE TABLE steps (
  session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  step_no INTEGER NOT NULL,
  {step_cols},
  PRIMARY KEY (session_id, step_no)
) WITHOUT ROWID;
CREATE TABLE session_metrics (
  session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  side TEXT NOT NULL,
  activity TEXT NOT NULL,
  metric TEXT NOT NULL,
  median REAL NOT NULL,
  n_steps INTEGER NOT NULL,
  PRIMARY KEY (session_id, side, activity, metric)
) WITHOUT ROWID;
CREATE TABLE findings (
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  pattern TEXT NOT NULL,
  side TEXT NOT NULL,
  metric TEXT,                        -- the metric and activity behind the finding
  activity TEXT,
  confidence REAL,
  evidence TEXT,
  finding_json TEXT NOT NULL
);
CREATE INDEX findings_by_session ON findings(session_id);
"""
    # One statement at a time: executescript() would commit the open transaction.
    for statement in script.split(";\n"):
        if statement.strip():
            con.execute(statement)


# MIGRATIONS[k] takes a database at schema version k to version k + 1.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_schema_v1]
SCHEMA_VERSION = len(MIGRATIONS)


def default_db_path(explicit: str | os.PathLike | None = None) -> Path:
    """Where the history lives: ``explicit``, else ``$IMU_KNEE_HOME/history.sqlite``, else
    ``history.sqlite`` in the platform's user data folder (see the module docstring)."""
    if explicit:
        return Path(explicit).expanduser()
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home).expanduser() / DB_FILENAME
    return user_data_dir() / DB_FILENAME


def user_data_dir() -> Path:
    """The per-user data folder for imu-knee (stdlib rule, no extra dependency)."""
    if sys.platform.startswith("win"):
        base = os.environ.get("APPDATA") or str(Path.home() / "AppData" / "Roaming")
        return Path(base) / "imu-knee"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "imu-knee"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "imu-knee"


def _explain(exc: sqlite3.Error, path: Path, timeout_s: float) -> InputError:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return InputError(
            f"history database {path} is locked by another program (waited {timeout_s:g} s);"
            " close the other imu-knee or program using it and try again")
    if "not a database" in text or "malformed" in text or "encrypted" in text:
        return InputError(
            f"history database {path} is damaged or not a database ({exc}); it was left"
            " untouched: move it aside (or use --db / IMU_KNEE_HOME for another file) and"
            " analyse again")
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return InputError(f"history database {path}: cannot write there ({exc})")
    if "disk" in text and "full" in text:
        return InputError(f"history database {path}: the disk is full; nothing was stored")
    return InputError(f"history database {path}: {exc}")


class HistoryDB:
    """An open history database. Use :func:`open_history` to get one.

    ``db.transaction()`` is a context manager around one write transaction; ``db.query(sql,
    params)`` runs a read. SQLite errors come out as one-line :class:`InputError`.
    """

    def __init__(self, con: sqlite3.Connection, path: Path, timeout_s: float):
        self.con = con
        self.path = path
        self.timeout_s = timeout_s

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "HistoryDB":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        """Turn SQLite errors into one-line InputErrors."""
        try:
            yield
        except sqlite3.Error as exc:
            raise _explain(exc, self.path, self.timeout_s) from None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is stored, or (error, crash, kill) none of it."""
        with self.errors():
            self.con.execute("BEGIN IMMEDIATE")
            try:
                yield self.con
            except BaseException:
                if self.con.in_transaction:
                    self.con.rollback()
                raise
            self.con.commit()

    def query(self, sql: str, params=()) -> list[tuple]:
        with self.errors():
            return self.con.execute(sql, params).fetchall()


def open_history(path: str | os.PathLike | None = None, *, create: bool = True,
                 timeout_s: float | None = None) -> HistoryDB:
    """Open (and, with ``create``, make) the history database and bring its schema up to date.

    ``path``: a file; ``None`` = :func:`default_db_path`. With ``create=False`` a missing file
    is an :class:`InputError` (reading commands never make an empty database).
    ``timeout_s``: how long to wait for a database another program holds locked (default
    :data:`DEFAULT_TIMEOUT_S`).
    """
    path = default_db_path(path)
    timeout_s = DEFAULT_TIMEOUT_S if timeout_s is None else float(timeout_s)
    if path.exists() and path.is_dir():
        raise InputError(f"history database {path} is a folder, expected a file")
    if not path.exists():
        if not create:
            raise InputError(f"no history database at {path} yet (analyse a recording first,"
                             " or give --db PATH / set IMU_KNEE_HOME)")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot make the folder for the history database {path.parent}: "
                             f"{exc.strerror or exc}") from None
    try:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves (explicit transactions).
        con = sqlite3.connect(str(path), timeout=timeout_s, isolation_level=None)
    except sqlite3.Error as exc:
        raise _explain(exc, path, timeout_s) from None
    db = HistoryDB(con, path, timeout_s)
    try:
        with db.errors():
            con.execute("PRAGMA foreign_keys = ON")
            _check_and_migrate(db)
    except BaseException:
        con.close()
        raise
    return db


def _check_and_migrate(db: HistoryDB) -> None:
    con = db.con
    # Reading the header first: a file that is not a database fails here, before any write.
    version = con.execute("PRAGMA user_version").fetchone()[0]
    app_id = con.execute("PRAGMA application_id").fetchone()[0]
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if app_id != APPLICATION_ID and (tables or version):
        raise InputError(f"{db.path} is an SQLite database of another program, not an imu-knee"
                         " history; it was left untouched (give another --db PATH)")
    if version > SCHEMA_VERSION:
        raise InputError(f"history database {db.path} was written by a newer imu-knee (schema"
                         f" {version}, this one knows {SCHEMA_VERSION}); update imu-knee")
    while version < SCHEMA_VERSION:
        with db.transaction():
            # Re-read inside the write lock: another process may have migrated meanwhile.
            version = con.execute("PRAGMA user_version").fetchone()[0]
            if version >= SCHEMA_VERSION:
                break
            MIGRATIONS[version](con)
            version += 1
            con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            con.execute(f"PRAGMA user_version = {version}")
