"""Session reports: ``imu-knee report REC.csv -o REPORT.html [--pdf REPORT.pdf]``.

- session.py: analyse a recording for a report (steps, summary, coaching, knee series) and
  the trend input :class:`EarlierSession` (date + per-metric medians of an earlier session).
- content.py: :class:`ReportContent`, the one place that decides what the report says.
- plots.py: the figures (matplotlib, Agg) as PNG bytes (a long session's in two processes).
- html.py / pdf.py: the two renderers (self-contained HTML; PDF with reportlab).

    from imu_knee.report import make_report
    content = make_report("walk.csv", name="Ann", earlier=[EarlierSession(...)])
    Path("r.html").write_text(render_html(content), encoding="utf-8")
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import InputError
from ..recording import Recording, read_recording
from .content import ReportContent, build_content
from .html import render_html
from .session import EarlierSession, SessionData, analyse_session


@dataclass
class HistoryInput:
    """What the session history contributes to a report."""

    earlier: list[EarlierSession] = field(default_factory=list)
    persisting: list[str] = field(default_factory=list)
    see_therapist: list[str] = field(default_factory=list)
    note: str = ""


def history_for(rec: Recording, db=None, subject: str | None = None) -> HistoryInput:
    """Earlier sessions (recorded before this one) and the 4-6 week rule from the history.

    Uses ``imu_knee.history`` (``trend_for_report`` and ``persistent_findings``); no database
    gives an empty input. A history that cannot be read does not stop the report: the reason
    is returned in ``note`` and shown in the report.
    """
    try:
        from ..history import DEFAULT_SUBJECT, persistent_findings, session_identity, trend_for_report
    except ImportError:
        return HistoryInput()
    meta_subject, recorded_at = session_identity(rec.meta, rec.path)
    who = subject or meta_subject or DEFAULT_SUBJECT  # as `imu-knee analyze` stores it
    try:
        earlier = [EarlierSession.from_dict(d) for d in trend_for_report(db, subject=who, before=recorded_at)]
        persisting = persistent_findings(db, who, now=recorded_at) if earlier else []
    except InputError as exc:
        return HistoryInput(note=f"The session history could not be read ({exc}).")
    return HistoryInput(earlier, [p.message() for p in persisting],
                        [p.message() for p in persisting if p.advise_therapist])


def render_pdf(content: ReportContent) -> tuple[bytes, int]:
    """The PDF bytes and page count (reportlab is imported only when a PDF is asked for)."""
    from .pdf import render_pdf as _render

    return _render(content)


def make_report(recording_path, *, name: str = "", notes: str = "", leg_length_m: float | None = None,
                earlier: list[EarlierSession] | None = None) -> ReportContent:
    """Read, analyse and coach a recording and decide the report's content (``earlier``:
    the trend input; None = none)."""
    rec = read_recording(recording_path)
    data = analyse_session(rec, leg_length_m=leg_length_m, earlier=earlier)
    return build_content(data, name=name, notes=notes)


__all__ = ["EarlierSession", "HistoryInput", "ReportContent", "SessionData", "analyse_session",
           "build_content", "history_for", "make_report", "render_html", "render_pdf"]
