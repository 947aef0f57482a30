"""The Review page's slow work, off the GUI thread: the report, the history trend, storing.

Plain functions (no Qt) that the page runs in a :class:`Job` (a QThread):

- :func:`export_report`: the same path as ``imu-knee report`` (it analyses the recording file).
- :func:`load_trend` / :func:`trend_html`: this subject's weekly medians of the main metrics
  and the 4-6 week rule (``imu_knee.history``).
- :func:`save_to_history`: the session stored as ``imu-knee analyze`` stores it.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from PySide6.QtCore import QThread

# the metrics the trend shows, with their label, unit and digits
TREND_METRICS = (("impact_g", "impact", " g", 2), ("stride_length_m", "stride", " m", 2),
                 ("knee_min_flexion_stance_deg", "knee ext.", "°", 0),
                 ("frontal_range_deg", "frontal range", "°", 1))
TREND_WEEKS = 6


class Job(QThread):
    """Runs ``fn()`` in its own thread and keeps ``ok`` and ``payload`` (the result, or a
    one-line error). Nothing Python crosses threads in a signal: the page listens to Qt's own
    ``finished`` signal (queued to the GUI thread) and reads these attributes there.
    ``on_ok``/``on_fail``/``after`` are for the page to call then."""

    def __init__(self, fn, on_ok, on_fail, after=None, parent=None):
        super().__init__(parent)
        self.fn, self.on_ok, self.on_fail, self.after = fn, on_ok, on_fail, after
        self.ok, self.payload, self.completed = False, None, False

    def run(self) -> None:
        from imu_knee.errors import InputError
        try:
            self.payload, self.ok = self.fn(), True
        except InputError as exc:
            self.payload = str(exc)
        except Exception as exc:  # a failed export must never take the window down
            self.payload = f"{type(exc).__name__}: {exc}"
        finally:
            self.completed = True  # before Qt emits ``finished``


def report_outputs(chosen: str) -> tuple[Path, Path | None]:
    """The files one save-dialog answer gives: ``x.pdf`` -> (x.html, x.pdf), else (x.html, None)."""
    p = Path(chosen)
    if p.suffix.lower() == ".pdf":
        return p.with_suffix(".html"), p
    return (p if p.suffix.lower() in (".html", ".htm") else p.with_suffix(".html")), None


def export_report(recording: str, html: Path, pdf: Path | None, leg_length_m: float | None,
                  db=None) -> list[str]:
    """Write the report as ``imu-knee report`` does (overwrites: the page asked first)."""
    from imu_knee.commands import report

    args = argparse.Namespace(recording=Path(recording), output=Path(html), pdf=pdf, name="", notes="",
                              leg_length=leg_length_m, db=db, subject=None, no_history=False,
                              earlier=None, force=True, quiet=True)
    report.run(args)
    return [str(html)] + ([str(pdf)] if pdf else [])


@dataclass
class Trend:
    subject: str
    weekly: pd.DataFrame
    advice: list[str] = field(default_factory=list)      # persisting findings (the 4-6 week rule)
    therapist: list[str] = field(default_factory=list)


def load_trend(meta=None, path=None, db=None) -> Trend:
    """This subject's weekly trend of the main metrics and the persisting findings.
    ``meta``/``path``: the recording's (they name the subject as ``imu-knee analyze`` does)."""
    from imu_knee.history import (DEFAULT_SUBJECT, default_db_path, persistent_findings,
                                  session_identity, weekly_trends)

    subject = session_identity(meta, path)[0] if (meta is not None or path) else None
    subject = subject or DEFAULT_SUBJECT
    if isinstance(db, (str, Path, type(None))) and not default_db_path(db).is_file():
        return Trend(subject, pd.DataFrame())          # no history yet: nothing to compare
    weekly = weekly_trends(db, subject=subject)
    weekly = weekly[weekly["metric"].isin([m[0] for m in TREND_METRICS])] if len(weekly) else weekly
    persisting = persistent_findings(db, subject) if len(weekly) else []
    return Trend(subject, weekly, [p.message() for p in persisting],
                 [p.message() for p in persisting if p.advise_therapist])


def _fmt(v, unit: str, digits: int) -> str:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return "—"
    return f"{v:.{digits}f}{unit}" if math.isfinite(v) else "—"


def trend_html(trend: Trend) -> str:
    """A small table: per metric and side (level walking first) the last weeks' medians."""
    w = trend.weekly
    head = f"<p>Subject <b>{_esc(trend.subject)}</b>. "
    if w is None or w.empty:
        return head + ("No earlier sessions in the history yet. Use <i>Save to history</i> after "
                       "a session to start the trend.</p>")
    weeks = sorted(w["week_start"].unique())[-TREND_WEEKS:]
    w = w[w["week_start"].isin(weeks)]
    parts = [head + f"Weekly medians, last {len(weeks)} week(s).</p>",
             "<table cellspacing='0' cellpadding='3'><tr><th align='left'>metric</th>"
             "<th align='left'>leg</th><th align='left'>activity</th>"
             + "".join(f"<th>{pd.Timestamp(d).strftime('%d %b')}</th>" for d in weeks) + "</tr>"]
    for metric, label, unit, digits in TREND_METRICS:
        m = w[w["metric"] == metric]
        if m.empty:
            continue
        acts = sorted(m["activity"].unique(), key=lambda a: (a != "level", a))[:2]
        for (side, act), d in m[m["activity"].isin(acts)].groupby(["side", "activity"], sort=True):
            by_week = dict(zip(d["week_start"], d["median"]))
            parts.append(f"<tr><td>{label}</td><td>{side}</td><td>{act}</td>" + "".join(
                f"<td align='right'>{_fmt(by_week.get(k), unit, digits)}</td>" for k in weeks) + "</tr>")
    parts.append("</table>")
    for text in trend.advice:
        strong = text in trend.therapist
        parts.append(f"<p>{'⚠ <b>' if strong else ''}{_esc(text)}{'</b>' if strong else ''}</p>")
    return "".join(parts)


def save_to_history(recording: str, leg_length_m: float | None, db=None):
    """Analyse the recording file and store it in the history, as ``imu-knee analyze`` does."""
    from imu_knee.analysis.engine import analyze_recording
    from imu_knee.batch.hooks import store_session
    from imu_knee.recording import read_recording

    rec = read_recording(recording)
    steps, summary = analyze_recording(rec, leg_length_m=leg_length_m)
    return store_session(recording, rec, steps, summary, db=db)


def _esc(text) -> str:
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
