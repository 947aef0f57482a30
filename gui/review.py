"""Review after a session or a replay: summary, findings, history trend and the exports."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QFileDialog, QFrame, QGroupBox, QHBoxLayout, QLabel, QMessageBox,
                               QPushButton, QScrollArea, QVBoxLayout, QWidget)

from . import review_jobs as jobs
from .panels import exercise_html, _esc
from .step_table import StepTable
from .units import Units

NOT_YET = "not available yet"
NO_FILE = ("no recording file for this session: replay a file, or switch recording on in Live"
           " (the report and the history analyse the recorded file)")


def summary_html(steps: pd.DataFrame, units: Units, duration_s: float | None) -> str:
    """Counts and medians per leg and activity, from the engine's step rows."""
    if steps.empty:
        return "<p>No steps were found.</p>"
    parts = [f"<p><b>{len(steps)} steps</b>" + (f" in {duration_s:.0f} s" if duration_s else "") + "</p>"]
    parts.append("<table cellspacing='0' cellpadding='4'><tr><th align='left'>leg</th><th align='left'>activity</th>"
                 "<th>steps</th><th>impact g</th><th>stride</th><th>knee ext. °</th><th>frontal range °</th></tr>")
    for (side, act), d in steps.groupby(["side", "activity"], sort=True):
        med = d.median(numeric_only=True)
        parts.append(
            f"<tr><td>{side}</td><td>{act}</td><td align='right'>{len(d)}</td>"
            f"<td align='right'>{_m(med.get('impact_g'), '{:.2f}')}</td>"
            f"<td align='right'>{units.length(med.get('stride_length_m', math.nan))}</td>"
            f"<td align='right'>{_m(med.get('knee_min_flexion_stance_deg'), '{:.0f}')}</td>"
            f"<td align='right'>{_m(med.get('frontal_range_deg'), '{:.1f}')}</td></tr>")
    parts.append("</table><p style='color:gray'>medians per leg and activity</p>")
    return "".join(parts)


def findings_html(result) -> str:
    if result is None:
        return "<p>Not assessed yet.</p>"
    out = []
    if not result.findings:
        out.append("<p>Nothing worth flagging in this session.</p>")
    for f in result.findings:
        title = f.title or f.pattern.replace("_", " ")
        out.append(f"<h3>{_esc(title)} — {f.side} leg (confidence {f.confidence_label})</h3>"
                   f"<p>{_esc(f.evidence)}</p><p><b>Cue:</b> {_esc(f.cue)}</p>")
        if f.resembles:
            out.append(f"<p><b>Resembles:</b> {_esc(f.resembles)}</p>")
        for ex in f.exercises[:2]:
            out.append(exercise_html(ex))
    if result.not_assessed:
        out.append("<p style='color:gray'><b>Not assessed:</b> " + "; ".join(
            f"{_esc(n.pattern.replace('_', ' '))} ({_esc(n.reason)})" for n in result.not_assessed) + "</p>")
    out.append(f"<p style='color:gray; font-size:11px'>{_esc(result.safety)}</p>")
    return "".join(out)


class ReviewPage(QWidget):
    def __init__(self, units: Units, parent=None):
        super().__init__(parent)
        self.units = units
        self.steps = pd.DataFrame()
        lay = QHBoxLayout(self)
        left = QVBoxLayout()
        self.summary_box = QGroupBox("Summary")
        sl = QVBoxLayout(self.summary_box)
        self.summary = QLabel("Replay a recording or record a session to see its summary.")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.RichText)
        sl.addWidget(self.summary)
        left.addWidget(self.summary_box)
        hist = QGroupBox("History trend")
        hl = QVBoxLayout(hist)
        self.history = QLabel("The trend over earlier sessions shows after a session.")
        self.history.setWordWrap(True)
        self.history.setTextFormat(Qt.RichText)
        hl.addWidget(self.history)
        left.addWidget(hist)
        buttons = QHBoxLayout()
        self.export_steps = QPushButton("Export steps (CSV)…")
        self.export_steps.clicked.connect(self._export_steps)
        self.export_report = QPushButton("Export report (HTML/PDF)…")
        self.export_report.setEnabled(False)
        self.export_report.setToolTip(NO_FILE)
        self.export_report.clicked.connect(self._ask_report)
        self.save_history = QPushButton("Save to history")
        self.save_history.setEnabled(False)
        self.save_history.setToolTip(NO_FILE)
        self.save_history.clicked.connect(self.save_to_history)
        buttons.addWidget(self.export_steps)
        buttons.addWidget(self.export_report)
        buttons.addWidget(self.save_history)
        buttons.addStretch(1)
        left.addLayout(buttons)
        self.job_note = QLabel("")
        self.job_note.setObjectName("muted")
        self.job_note.setWordWrap(True)
        left.addWidget(self.job_note)
        self.table = StepTable(units)
        left.addWidget(self.table, 1)
        lay.addLayout(left, 3)
        fbox = QGroupBox("Findings")
        fl = QVBoxLayout(fbox)
        self.findings = QLabel("")
        self.findings.setWordWrap(True)
        self.findings.setTextFormat(Qt.RichText)
        self.findings.setAlignment(Qt.AlignTop)
        self.findings.setTextInteractionFlags(Qt.TextSelectableByMouse)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setWidget(self.findings)
        fl.addWidget(scroll)
        lay.addWidget(fbox, 2)
        self.export_steps.setEnabled(False)
        self.recording_path: str | None = None
        self.meta = None
        self.leg_length_m: float | None = None
        self.db = None                      # history location: None = as `imu-knee analyze`
        self.jobs: list[jobs.Job] = []       # running exports / trend / saves
        self._trend_for = None

    def show_session(self, steps: pd.DataFrame, result, duration_s: float | None,
                     recording_path: str | None = None, meta=None,
                     leg_length_m: float | None = None) -> None:
        """``recording_path``: the session's file (the replayed file, the live recording) or
        None; the report and 'Save to history' need it."""
        self.steps = steps
        self.recording_path = str(recording_path) if recording_path else None
        self.meta, self.leg_length_m = meta, leg_length_m
        has_file = self.recording_path is not None
        for b, tip in ((self.export_report, "write the session report (HTML, or HTML and PDF)"),
                       (self.save_history, "store this session in the history (as imu-knee analyze"
                                           " does); the trend then includes it")):
            b.setEnabled(has_file and not steps.empty)
            b.setToolTip(tip if has_file else NO_FILE)
        key = (self.recording_path, id(meta))
        if key != self._trend_for:
            self._trend_for = key
            self.refresh_trend()
        self.summary.setText(summary_html(steps, self.units, duration_s))
        self.findings.setText(findings_html(result))
        self.table.model_.clear()
        self.table.model_.add(steps.to_dict("records"))
        self.export_steps.setEnabled(not steps.empty)

    # ------------------------------------------------------------------ background jobs

    def _run(self, fn, ok, what: str, after=None) -> jobs.Job:
        job = jobs.Job(fn, ok, lambda msg: self._failed(what, msg), after)
        self.jobs.append(job)
        job.finished.connect(self._jobs_finished)  # a bound slot: runs in the GUI thread
        job.start()
        return job

    def _jobs_finished(self) -> None:
        for job in [j for j in self.jobs if j.completed]:
            job.wait()  # returns as soon as run() has returned
            self.jobs.remove(job)
            (job.on_ok if job.ok else job.on_fail)(job.payload)
            if job.after is not None:
                job.after()

    def _failed(self, what: str, msg: str) -> None:
        self.job_note.setText(f"⚠ {what}: {msg}")
        if what == "history trend":
            self.history.setText(f"The history could not be read: {_esc(msg)}")

    def busy(self) -> bool:
        return bool(self.jobs)

    def wait_jobs(self, timeout_ms: int = 60000) -> None:
        """Let running jobs finish (before the window closes: a running QThread must not be
        destroyed)."""
        for job in list(self.jobs):
            job.wait(timeout_ms)

    def refresh_trend(self) -> None:
        meta, path, db = self.meta, self.recording_path, self.db
        self._run(lambda: jobs.load_trend(meta, path, db),
                  lambda t: self.history.setText(jobs.trend_html(t)), "history trend")

    def _ask_report(self) -> None:
        start = str(Path(self.recording_path).with_suffix(".report.html")) if self.recording_path else "report.html"
        path, _ = QFileDialog.getSaveFileName(self, "Export report", start,
                                              "HTML report (*.html);;HTML and PDF report (*.pdf)",
                                              options=QFileDialog.DontConfirmOverwrite)
        if path:
            self.export_report_to(path)

    def export_report_to(self, chosen: str) -> jobs.Job | None:
        """Write the report for ``chosen`` (x.html, or x.pdf: x.html and x.pdf) in a worker;
        asks before overwriting any file. None when the user said no."""
        html, pdf = jobs.report_outputs(chosen)
        existing = [str(p) for p in (html, pdf) if p is not None and p.exists()]
        if existing:
            answer = QMessageBox.question(self, "Export report", "Overwrite " + " and ".join(existing) + "?",
                                          QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
            if answer != QMessageBox.Yes:
                return None
        rec, leg, db = self.recording_path, self.leg_length_m, self.db
        self.export_report.setEnabled(False)
        self.job_note.setText(f"writing {html.name}{' and ' + pdf.name if pdf else ''}…")

        def ok(files):
            self.job_note.setText("report written: " + ", ".join(files))

        return self._run(lambda: jobs.export_report(rec, html, pdf, leg, db), ok, "report",
                         lambda: self.export_report.setEnabled(self.recording_path is not None))

    def save_to_history(self) -> jobs.Job | None:
        if self.recording_path is None:
            return None
        rec, leg, db = self.recording_path, self.leg_length_m, self.db
        self.save_history.setEnabled(False)
        self.job_note.setText("storing the session in the history…")

        def ok(stored):
            what = "replaced" if stored.replaced else "stored"
            self.job_note.setText(f"session {stored.session_id} {what} in the history")
            self.refresh_trend()

        return self._run(lambda: jobs.save_to_history(rec, leg, db), ok, "history",
                         lambda: self.save_history.setEnabled(self.recording_path is not None))

    def export_steps_to(self, path: str) -> None:
        self.steps.to_csv(path, index=False, float_format="%.4f")

    def _export_steps(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export steps", "steps.csv", "CSV files (*.csv)")
        if not path:
            return
        try:
            self.export_steps_to(path)
        except OSError as exc:
            QMessageBox.warning(self, "Export steps", f"Could not write {path}: {exc}")


def _m(v, fmt: str) -> str:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return "—"
    return fmt.format(v) if math.isfinite(v) else "—"
