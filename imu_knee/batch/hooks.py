"""The hook ``imu-knee analyze`` calls after analysing one recording."""

from __future__ import annotations

import os

import pandas as pd

from ..history import StoredSession, session_identity
from ..history import store_session as _store
from ..history.store import file_sha256
from .worker import coach_findings


def store_session(recording_path: str | os.PathLike, rec, steps: pd.DataFrame, summary: dict,
                  *, db=None, subject: str | None = None, findings=None,
                  recorded_at=None) -> StoredSession:
    """Store one analysed recording in the history (one transaction).

    ``rec``: the Recording (its metadata gives subject and date, see
    :func:`imu_knee.history.session_identity`); ``steps``/``summary``: from
    ``analyze_recording``; ``findings``: default the summary's, else the coach run on the
    steps. ``db``: path, open HistoryDB or None (default location). Raises InputError when the
    database is damaged or locked (nothing is written then).
    """
    meta_subject, meta_time = session_identity(getattr(rec, "meta", None), recording_path)
    if findings is None:
        findings = coach_findings(steps, summary, rec)
    return _store(steps, summary, db=db, findings=findings, subject=subject or meta_subject,
                  recorded_at=recorded_at or meta_time, source=str(recording_path),
                  source_sha256=file_sha256(recording_path) if os.path.isfile(recording_path)
                  else None)
