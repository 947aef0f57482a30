"""The history: every analysed session in one SQLite file, trends over weeks, CSV export.

- db.py: location (``--db``, ``IMU_KNEE_HOME``, user data folder), schema with a version and
  migrations, transactions, one-line errors for damaged or locked files.
- store.py: :func:`store_session` (the hook called after each analysis), listing and loading.
- trends.py: :func:`weekly_trends`, :func:`trend_for_report`, :func:`persistent_findings`
  (the 4-6 week rule), :func:`baselines_from_history` (the coach's baselines).
- export.py: :func:`export_steps_csv`.
- plot.py: :func:`plot_trends` (matplotlib, imported only when plotting).
"""

from .db import (DB_FILENAME, HOME_ENV, SCHEMA_VERSION, HistoryDB, default_db_path,
                 open_history)
from .export import export_steps_csv
from .store import (DEFAULT_SUBJECT, StoredSession, list_sessions, load_findings, load_steps,
                    session_identity, store_session, subjects)
from .trends import (Persistence, baselines_from_history, persistent_findings, therapist_advice, trend_for_report,
                     weekly_trends)

__all__ = [
    "DB_FILENAME", "DEFAULT_SUBJECT", "baselines_from_history", "HOME_ENV", "SCHEMA_VERSION", "HistoryDB", "Persistence",
    "StoredSession", "default_db_path", "export_steps_csv", "list_sessions", "load_findings",
    "load_steps", "open_history", "persistent_findings", "session_identity", "store_session",
    "subjects", "therapist_advice", "trend_for_report", "weekly_trends",
]
