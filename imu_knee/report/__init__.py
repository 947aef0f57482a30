"""Session reports: ``imu-knee report REC.csv -o REPORT.html [--pdf REPORT.pdf]``.

- session.py: analyse a recording for a report (steps, summary, coaching, knee series) and
  the trend input :class:`EarlierSession` (date + per-metric medians of an earlier session).
- content.py: :class:`ReportContent`, the one place that decides what the report says.
- plots.py: the figures (matplotlib, Agg) as PNG bytes.
- html.py / pdf.py: the two renderers (self-contained HTML; PDF with reportlab).

    from imu_knee.report import make_report
    content = make_report("walk.csv", name="Ann", earlier=[EarlierSession(...)])
    Path("r.html").write_text(render_html(content), encoding="utf-8")
"""

from __future__ import annotations

from pathlib import Path

from ..recording import read_recording
from .content import ReportContent, build_content
from .html import render_html
from .pdf import render_pdf
from .session import EarlierSession, SessionData, analyse_session


def earlier_sessions_for(recording_path: Path) -> list[EarlierSession]:
    """Earlier sessions from the session history, when the history module provides them.

    Looks for ``imu_knee.history.earlier_sessions(recording_path)`` returning dicts or
    :class:`EarlierSession` objects (see :meth:`EarlierSession.from_dict`); an empty list
    when there is no history yet.
    """
    try:
        from .. import history  # type: ignore[attr-defined]
    except ImportError:
        return []
    fetch = getattr(history, "earlier_sessions", None)
    if fetch is None:
        return []
    out = []
    for item in fetch(recording_path) or []:
        out.append(item if isinstance(item, EarlierSession) else EarlierSession.from_dict(item))
    return out


def make_report(recording_path, *, name: str = "", notes: str = "", leg_length_m: float | None = None,
                earlier: list[EarlierSession] | None = None) -> ReportContent:
    """Read, analyse and coach a recording and decide the report's content."""
    rec = read_recording(recording_path)
    data = analyse_session(rec, leg_length_m=leg_length_m, earlier=earlier)
    return build_content(data, name=name, notes=notes)


__all__ = ["EarlierSession", "ReportContent", "SessionData", "analyse_session", "build_content",
           "earlier_sessions_for", "make_report", "render_html", "render_pdf"]
