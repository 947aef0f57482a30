"""Review after a session or a replay: summary, findings, history trend and the exports."""

from __future__ import annotations

import math

import pandas as pd
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QFileDialog, QFrame, QGroupBox, QHBoxLayout, QLabel, QMessageBox,
                               QPushButton, QScrollArea, QVBoxLayout, QWidget)

from .panels import exercise_html, _esc
from .step_table import StepTable
from .units import Units

NOT_YET = "not available yet"


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
        self.history = QLabel("The trend over earlier sessions is not available yet.")
        self.history.setObjectName("muted")
        self.history.setToolTip(NOT_YET)
        self.history.setEnabled(False)
        hl.addWidget(self.history)
        left.addWidget(hist)
        buttons = QHBoxLayout()
        self.export_steps = QPushButton("Export steps (CSV)…")
        self.export_steps.clicked.connect(self._export_steps)
        self.export_report = QPushButton("Export report (HTML/PDF)…")
        self.export_report.setEnabled(False)
        self.export_report.setToolTip(NOT_YET)
        buttons.addWidget(self.export_steps)
        buttons.addWidget(self.export_report)
        buttons.addStretch(1)
        left.addLayout(buttons)
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

    def show_session(self, steps: pd.DataFrame, result, duration_s: float | None) -> None:
        self.steps = steps
        self.summary.setText(summary_html(steps, self.units, duration_s))
        self.findings.setText(findings_html(result))
        self.table.model_.clear()
        self.table.model_.add(steps.to_dict("records"))
        self.export_steps.setEnabled(not steps.empty)

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
