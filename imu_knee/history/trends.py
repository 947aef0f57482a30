"""Trends over weeks, and the 4-6 week rule (COACHING.md "Safety and when to get help").

- :func:`weekly_trends`: per metric, side and activity, the median of each week's session
  medians (weeks start on Monday, UTC).
- :func:`trend_for_report`: earlier sessions' medians, for the report's trend section.
- :func:`persistent_findings`: a coaching finding that has shown up in every session that
  could show it for at least :data:`PERSIST_DAYS` days, with its metric not improved, gets the
  advice to see a physical therapist.

Reads only the per-session medians stored with every session, so a query over hundreds of
sessions stays fast.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError
from .db import default_db_path
from .store import (PATTERN_METRIC, load_findings, load_session_medians, parse_utc, using_db,
                    utc_text)

PERSIST_DAYS = 28             # 4 weeks: the start of COACHING.md's "4-6 weeks"
MIN_STEPS = 3                 # a session "measured" a metric with at least this many steps
EDGE_DAYS = 7                 # first / last week of a run are compared
IMPROVEMENT_FRACTION = 0.05   # improved = better by 5 % of the first week's value ...
# ... and by at least this much (the metric's noise between sessions).
IMPROVEMENT_MIN = {
    "impact_g": 0.1, "loading_rate_gps": 5.0, "frontal_range_deg": 1.0,
    "frontal_wobble_dps": 3.0, "shank_tilt_max_stance_deg": 1.0,
    "knee_min_flexion_stance_deg": 1.0, "knee_flexion_ic_deg": 1.0, "stride_length_m": 0.03,
    "step_height_m": 0.01,
}
# Which way is better: "lower" (a high value is the problem) or "higher".
BETTER = {"shank_tilt_max_stance_deg": "higher"}

PATTERN_WORDS = {
    "hard_landing": "hard landings",
    "knee_wobble": "the knee moving side to side (caving in or pushing out)",
    "heel_lift": "heels lifting / stiff ankles",
    "incomplete_extension": "the knee not straightening",
    "long_strides": "long strides",
}
ACTIVITY_WORDS = {"level": "level walking", "stairs_up": "going up stairs",
                  "stairs_down": "going down stairs"}
METRIC_WORDS = {
    "impact_g": "landing impact", "loading_rate_gps": "loading rate",
    "frontal_range_deg": "side-to-side shin range", "frontal_wobble_dps": "side-to-side wobble",
    "shank_tilt_max_stance_deg": "forward lean of the shin",
    "knee_min_flexion_stance_deg": "knee bend at its straightest",
    "knee_flexion_ic_deg": "knee bend at contact", "stride_length_m": "stride length",
    "step_height_m": "step height",
}
UNITS = {"_g": (" g", 2), "_gps": (" g/s", 0), "_deg": ("°", 1), "_dps": ("°/s", 0), "_m": (" m", 2)}


def fmt_value(value: float | None, metric: str) -> str:
    if value is None or not np.isfinite(value):
        return "-"
    for suffix, (unit, digits) in UNITS.items():
        if metric.endswith(suffix):
            return f"{value:.{digits}f}{unit}"
    return f"{value:.2f}"


def _before_text(before) -> str | None:
    return None if before is None else utc_text(before)


def week_start(recorded_at: pd.Series) -> pd.Series:
    """Monday (a date) of the UTC week of each ISO time."""
    t = pd.to_datetime(recorded_at, utc=True).dt.tz_localize(None).dt.normalize()
    return (t - pd.to_timedelta(t.dt.day_of_week, unit="D")).dt.date


def weekly_trends(db=None, subject: str | None = None, metric: str | None = None,
                  min_steps: int = MIN_STEPS) -> pd.DataFrame:
    """Per subject, metric, side, activity and week: ``sessions``, ``steps`` and ``median``
    (the median of that week's per-session medians, so one long walk does not outweigh the
    others). Sessions with fewer than ``min_steps`` steps measuring the metric are left out."""
    m = load_session_medians(db, subject=subject, metric=metric)
    cols = ["subject", "metric", "side", "activity", "week_start", "sessions", "steps", "median"]
    m = m[m["n_steps"] >= min_steps]
    if m.empty:
        return pd.DataFrame(columns=cols)
    m = m.assign(week_start=week_start(m["recorded_at"]))
    g = m.groupby(["subject", "metric", "side", "activity", "week_start"], sort=True)
    out = g.agg(sessions=("session_id", "nunique"), steps=("n_steps", "sum"),
                median=("median", "median")).reset_index()
    return out[cols]


def trend_for_report(db=None, subject: str | None = None, before=None) -> list[dict]:
    """Earlier sessions for a report's trend: one dict per stored session, oldest first.

    ``db``: an open HistoryDB, a path, or None (default location; no database = []).
    ``subject``: only this subject's sessions (None = all). ``before``: only sessions recorded
    strictly before this time (datetime, ISO text or POSIX time; None = all), e.g. the
    recording being reported on, so it is not compared with itself.

    Each dict::

        {"session_id": 12, "subject": "me", "recorded_at": "2026-11-02T08:30:00Z",
         "date": "2026-11-02", "source": "walk.csv", "n_steps": 84,
         "medians": {"left": {"stairs_down": {"impact_g": 2.91, ...}, "level": {...}},
                     "right": {...}},
         "steps": {"left": {"stairs_down": 12, "level": 30}, ...},
         "findings": [{"pattern": "hard_landing", "side": "left"}, ...]}

    ``medians[side][activity][metric]`` is the session's median of that per-step column
    (DESIGN.md section 2 names, plus ``shank_tilt_max_stance_deg``); a metric that was not
    measured is absent. ``steps[side][activity]`` is the number of steps of that kind.
    """
    if not _exists(db):
        return []
    before_text = _before_text(before)
    with using_db(db, create=False) as hdb:
        sessions = _sessions(hdb, subject, before_text, "id, subject, recorded_at, source, n_steps")
        medians = load_session_medians(hdb, subject=subject, before=before_text)
        findings = load_findings(hdb, subject=subject, before=before_text)
    out: dict[int, dict] = {}
    for sid, subj, when, source, n in sessions:
        out[sid] = {"session_id": sid, "subject": subj, "recorded_at": when, "date": when[:10],
                    "source": source, "n_steps": n, "medians": {}, "steps": {}, "findings": []}
    for r in medians.itertuples(index=False):
        entry = out[r.session_id]
        entry["medians"].setdefault(r.side, {}).setdefault(r.activity, {})[r.metric] = \
            round(float(r.median), 4)
        counts = entry["steps"].setdefault(r.side, {})
        counts[r.activity] = max(counts.get(r.activity, 0), int(r.n_steps))
    for r in findings.itertuples(index=False):
        out[r.session_id]["findings"].append({"pattern": r.pattern, "side": r.side})
    return list(out.values())


def baselines_from_history(db=None, subject: str | None = None, before=None,
                           min_steps: int = MIN_STEPS):
    """The coach's :class:`~imu_knee.coach.Baselines` from stored sessions: per metric, side
    and activity the median of the per-session medians (sessions with at least
    ``min_steps`` such steps), only sessions recorded before ``before``. Same rule as
    ``Baselines.from_step_tables``, without loading any per-step rows. No database = empty."""
    from ..coach import Baselines

    if not _exists(db):
        return Baselines()
    m = load_session_medians(db, subject=subject, before=_before_text(before))
    n_sessions = int(m["session_id"].nunique()) if len(m) else 0
    m = m[m["n_steps"] >= min_steps]
    medians = {(r.metric, r.side, r.activity): float(r.median)
               for r in m.groupby(["metric", "side", "activity"])["median"].median()
               .reset_index().itertuples(index=False)}
    return Baselines(medians, n_sessions)


def _sessions(hdb, subject, before, columns="id, subject, recorded_at") -> list[tuple]:
    where, params = [], []
    if subject is not None:
        where.append("subject = ?")
        params.append(subject)
    if before is not None:
        where.append("recorded_at < ?")
        params.append(before)
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    return hdb.query(f"SELECT {columns} FROM sessions{clause} ORDER BY recorded_at, id", params)


def _exists(db) -> bool:
    from .db import HistoryDB
    if isinstance(db, HistoryDB):
        return True
    return default_db_path(db).is_file()


@dataclass
class Persistence:
    """A finding that kept showing up; ``advise_therapist`` when it did not improve."""

    subject: str
    pattern: str
    side: str
    metric: str
    activity: str
    first_at: str
    last_at: str
    sessions: int
    first_value: float | None
    last_value: float | None
    improved: bool
    session_ids: list[int] = field(default_factory=list)

    @property
    def days(self) -> float:
        return (parse_utc(self.last_at) - parse_utc(self.first_at)).total_seconds() / 86400.0

    @property
    def weeks(self) -> float:
        return self.days / 7.0

    @property
    def advise_therapist(self) -> bool:
        return self.days >= PERSIST_DAYS and not self.improved

    def message(self) -> str:
        what = PATTERN_WORDS.get(self.pattern, self.pattern.replace("_", " "))
        where = f"{self.side} leg, {ACTIVITY_WORDS.get(self.activity, self.activity)}"
        span = (f"for {self.weeks:.0f} week(s) ({self.first_at[:10]} to {self.last_at[:10]},"
                f" {self.sessions} sessions)")
        values = (f"{METRIC_WORDS.get(self.metric, self.metric)}"
                  f" {fmt_value(self.first_value, self.metric)} in the first week,"
                  f" {fmt_value(self.last_value, self.metric)} in the last")
        head = f"{what[0].upper()}{what[1:]} ({where})"
        if self.improved:
            return f"{head}: seen in every session {span}, but improving ({values}); keep going."
        if not self.advise_therapist:
            return (f"{head}: seen in every session {span} ({values}); keep following the"
                    " advice and check again in a week or two.")
        return (f"{head}: seen in every session {span} without improvement ({values}). If you"
                " have been following the advice for 4-6 weeks without improvement, or if pain"
                " increases, see a physical therapist.")

    def to_dict(self) -> dict:
        return {"subject": self.subject, "pattern": self.pattern, "side": self.side,
                "metric": self.metric, "activity": self.activity, "first_at": self.first_at,
                "last_at": self.last_at, "weeks": round(self.weeks, 1), "sessions": self.sessions,
                "first_value": self.first_value, "last_value": self.last_value,
                "improved": self.improved, "advise_therapist": self.advise_therapist,
                "message": self.message()}


def improved(metric: str, first: float | None, last: float | None) -> bool:
    """True when ``last`` is better than ``first`` by more than the metric's noise."""
    if first is None or last is None or not (np.isfinite(first) and np.isfinite(last)):
        return False
    gain = (last - first) if BETTER.get(metric) == "higher" else (first - last)
    return gain >= max(IMPROVEMENT_FRACTION * abs(first), IMPROVEMENT_MIN.get(metric, 0.0))


def persistent_findings(db=None, subject: str | None = None, now=None,
                        min_days: float = 7.0) -> list[Persistence]:
    """Findings that have shown up in every session able to show them, up to the latest one,
    over at least ``min_days`` days (per subject, pattern and side; a finding on ``both``
    sides counts for each). Sessions that could not show the finding (its metric measured in
    fewer than :data:`MIN_STEPS` steps on that side and activity, e.g. no stairs that day) do
    not break the run; a session that measured it without the finding does. ``now``: only
    sessions recorded up to then. ``advise_therapist`` is set from :data:`PERSIST_DAYS` days
    on when the metric did not improve between the run's first and last week."""
    if not _exists(db):
        return []
    before = None if now is None else utc_text(parse_utc(utc_text(now)) + dt.timedelta(seconds=1))
    with using_db(db, create=False) as hdb:
        findings = load_findings(hdb, subject=subject, before=before)
        if findings.empty:
            return []
        medians = load_session_medians(hdb, subject=subject, before=before)
        sessions = _sessions(hdb, subject, before)
    measured: dict[tuple, float] = {}
    for r in medians.itertuples(index=False):
        if r.n_steps >= MIN_STEPS:
            measured[(r.session_id, r.side, r.activity, r.metric)] = float(r.median)
    # expand "both" to each side
    rows = []
    for r in findings.itertuples(index=False):
        for side in (("left", "right") if r.side == "both" else (r.side,)):
            rows.append((r.subject, r.session_id, r.pattern, side, r.metric, r.activity))
    f = pd.DataFrame(rows, columns=["subject", "session_id", "pattern", "side", "metric", "activity"])
    out: list[Persistence] = []
    by_subject: dict[str, list[tuple[int, str]]] = {}
    for sid, subj, when in sessions:
        by_subject.setdefault(subj, []).append((sid, when))
    for (subj, pattern, side), group in f.groupby(["subject", "pattern", "side"], sort=True):
        metric, activity = _usual_metric(group, pattern)
        present = set(group["session_id"])
        run: list[tuple[int, str]] = []
        for sid, when in reversed(by_subject.get(subj, [])):
            if sid in present:
                run.append((sid, when))
            elif (sid, side, activity, metric) in measured:
                break  # measured, and the finding was not there: the run ends
        if len(run) < 2:
            continue
        run.reverse()
        first_t, last_t = parse_utc(run[0][1]), parse_utc(run[-1][1])
        if (last_t - first_t).total_seconds() < min_days * 86400:
            continue
        first_vals = [measured[k] for sid, w in run
                      if (parse_utc(w) - first_t).days < EDGE_DAYS
                      and (k := (sid, side, activity, metric)) in measured]
        last_vals = [measured[k] for sid, w in run
                     if (last_t - parse_utc(w)).days < EDGE_DAYS
                     and (k := (sid, side, activity, metric)) in measured]
        first_v = float(np.median(first_vals)) if first_vals else None
        last_v = float(np.median(last_vals)) if last_vals else None
        out.append(Persistence(subj, pattern, side, metric, activity, run[0][1], run[-1][1],
                               len(run), first_v, last_v, improved(metric, first_v, last_v),
                               [sid for sid, _ in run]))
    return out


def _usual_metric(group: pd.DataFrame, pattern: str) -> tuple[str, str]:
    known = group.dropna(subset=["metric", "activity"])
    if len(known):
        pair = known.groupby(["metric", "activity"]).size().sort_values(ascending=False).index[0]
        return str(pair[0]), str(pair[1])
    return PATTERN_METRIC.get(pattern, ("impact_g", "level"))


def therapist_advice(db=None, subject: str | None = None, now=None) -> list[Persistence]:
    """Only the persisting findings that call for a physical therapist."""
    return [p for p in persistent_findings(db, subject, now) if p.advise_therapist]


__all__ = ["baselines_from_history", "weekly_trends", "trend_for_report", "persistent_findings", "therapist_advice",
           "Persistence", "improved", "fmt_value", "PERSIST_DAYS", "InputError"]
