"""The big figures of the last step, the activity, and the coach's cue / finding / exercise card."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QSizePolicy,
                               QVBoxLayout, QWidget)

from .theme import LEVELS, level_of
from .units import Units

ACTIVITY_TEXT = {"level": "Level walking", "stairs_up": "Stairs up ↗", "stairs_down": "Stairs down ↘",
                 None: "—"}


class FigureCard(QFrame):
    """One big number with its name, unit and a symbol+word+colour status."""

    def __init__(self, title: str, pattern: str, parent=None):
        super().__init__(parent)
        self.setObjectName("card")
        self.pattern = pattern
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 8, 12, 8)
        self.title = QLabel(title)
        self.title.setObjectName("muted")
        self.value = QLabel("—")
        self.value.setObjectName("bigvalue")
        self.detail = QLabel("")
        self.detail.setObjectName("muted")
        self.detail.setWordWrap(True)
        self.status = QLabel("")
        self.status.setStyleSheet("font-weight: bold;")
        self.status.setWordWrap(True)
        for w in (self.title, self.value, self.detail, self.status):
            lay.addWidget(w)
        self.setMinimumWidth(120)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        self._stripe = "#888888"

    def show_value(self, text: str, detail: str, score: float | None) -> None:
        self.value.setText(text)
        self.detail.setText(detail)
        symbol, word, colour = LEVELS[level_of(score)]
        self.status.setText(f"{symbol}  {word}")
        self.status.setStyleSheet(f"font-weight: bold; color: {colour};")
        self.setStyleSheet(f"QFrame#card {{ border-left: 8px solid {colour}; }}")


class LastStepFigures(QWidget):
    """Impact, stride length, knee extension and wobble of the last step, and the activity."""

    def __init__(self, units: Units, parent=None):
        super().__init__(parent)
        self.units = units
        self.thigh_sides: set[str] = set()
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        act = QFrame()
        act.setObjectName("card")
        al = QVBoxLayout(act)
        t = QLabel("activity / last step")
        t.setObjectName("muted")
        self.activity = QLabel("—")
        self.activity.setObjectName("activity")
        self.side = QLabel("")
        self.side.setObjectName("muted")
        self.count = QLabel("")
        self.count.setObjectName("muted")
        for w in (t, self.activity, self.side, self.count):
            al.addWidget(w)
        self.side.setWordWrap(True)
        act.setMaximumWidth(190)
        lay.addWidget(act)
        self.impact = FigureCard("impact", "hard_landing")
        self.stride = FigureCard("stride length", "long_strides")
        self.knee = FigureCard("knee extension", "incomplete_extension")
        self.wobble = FigureCard("knee wobble", "knee_wobble")
        self.cards = [self.impact, self.stride, self.knee, self.wobble]
        for c in self.cards:
            lay.addWidget(c)
        self.n_steps = 0
        self.provisional = False

    def clear(self) -> None:
        self.n_steps = 0
        self.activity.setText("—")
        self.side.setText("")
        self.count.setText("")
        for c in self.cards:
            c.show_value("—", "", None)

    def show_step(self, step: dict, n_steps: int, provisional: bool = False) -> None:
        """``provisional``: the engine's contact row (~0.1 s after the contact: impact,
        provisional activity and stride); the final row replaces it after the stance."""
        self.n_steps = n_steps
        self.provisional = provisional
        scores = step.get("_scores", {})
        self.activity.setText(ACTIVITY_TEXT.get(step.get("activity"), str(step.get("activity"))))
        self.side.setText(f"{step['side']} leg, contact at {step['ic_s']:.1f} s"
                          + (" (provisional)" if provisional else ""))
        self.count.setText(f"{n_steps} steps so far")
        imp = _f(step.get("impact_g"))
        rate = _f(step.get("impact_rate_hz"))
        self.impact.show_value(_fmt(imp, "{:.2f} g"),
                               f"sampled at {rate:.0f} Hz" if math.isfinite(rate) else "",
                               scores.get("hard_landing"))
        sl = _f(step.get("stride_length_m"))
        self.stride.show_value(self.units.length(sl), "provisional" if provisional else "this stride",
                               scores.get("long_strides"))
        if provisional:
            if step["side"] in self.thigh_sides:
                self.knee.show_value("…", "after the stance", None)
            else:                      # nothing will come: say why now, not "after the stance"
                self.knee.show_value("—", "needs a thigh sensor", None)
            self.wobble.show_value("…", "after the stance", None)
            return
        ext = _f(step.get("knee_min_flexion_stance_deg"))
        self.knee.show_value(_fmt(ext, "{:.0f}°"),
                             "best in stance; 0 = as standing" if math.isfinite(ext)
                             else ("not measured for this step" if step["side"] in self.thigh_sides
                                   else "needs a thigh sensor"), scores.get("incomplete_extension"))
        wob = _f(step.get("frontal_wobble_dps"))
        rng = _f(step.get("frontal_range_deg"))
        self.wobble.show_value(_fmt(wob, "{:.0f} °/s"),
                               f"range {rng:.1f}° in stance" if math.isfinite(rng) else "not measured yet",
                               scores.get("knee_wobble"))


class CoachPanel(QFrame):
    """The current cue, the strongest finding with its evidence, and its exercise card."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("card")
        lay = QVBoxLayout(self)
        head = QLabel("coach")
        head.setObjectName("muted")
        self.cue = QLabel("Walk normally — cues appear here")
        self.cue.setObjectName("cue")
        self.cue.setWordWrap(True)
        self.cue_detail = QLabel("")
        self.cue_detail.setObjectName("muted")
        self.finding_title = QLabel("")
        self.finding_title.setStyleSheet("font-weight: bold; font-size: 15px;")
        self.finding_title.setWordWrap(True)
        self.evidence = QLabel("")
        self.evidence.setWordWrap(True)
        self.evidence.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.exercise = QLabel("")
        self.exercise.setWordWrap(True)
        self.exercise.setTextFormat(Qt.RichText)
        self.safety = QLabel("")
        self.safety.setObjectName("muted")
        self.safety.setWordWrap(True)
        self.safety.setStyleSheet("font-size: 11px;")
        for w in (head, self.cue, self.cue_detail, self.finding_title, self.evidence, self.exercise):
            lay.addWidget(w)
        lay.addStretch(1)
        lay.addWidget(self.safety)
        self.setMinimumWidth(280)
        self._result = None
        self.cue_pattern: str | None = None

    def clear(self) -> None:
        self._result = None
        self.cue_pattern = None
        self.cue.setText("Walk normally — cues appear here")
        self.cue_detail.setText("")
        self.finding_title.setText("")
        self.evidence.setText("")
        self.exercise.setText("")
        self.safety.setText("")

    def show_cue(self, text: str, side: str, t_s: float, pattern: str | None = None) -> None:
        self.cue.setText(text)
        self.cue_detail.setText(f"{side} leg, at {t_s:.1f} s")
        self.cue_pattern = pattern
        if self._result is not None:
            self.show_finding(self._result)

    def show_active(self, active: list) -> None:
        if active:
            a = active[-1]
            self.show_cue(a.text, a.side, a.since_s)

    def show_finding(self, result) -> None:
        self._result = result
        if result is None or not result.findings:
            self.finding_title.setText("No session finding so far" if result is None or not result.findings
                                   else "")
            self.evidence.setText("")
            self.exercise.setText("")
            self.safety.setText("" if result is None else result.safety)
            return
        # the finding behind the cue on screen, else the most confident one
        f = next((x for x in result.findings if x.pattern == self.cue_pattern), result.findings[0])
        title = f.title or f.pattern.replace("_", " ")
        more = len(result.findings) - 1
        self.finding_title.setText(f"{title} — {f.side} (confidence {f.confidence_label})"
                                   + (f"  · {more} more in Review" if more else ""))
        self.evidence.setText(f.evidence)
        self.exercise.setText(exercise_html(f.exercises[0]) if f.exercises else "")
        self.safety.setText(f.safety)


def exercise_html(ex: dict) -> str:
    return (f"<p style='margin-top:6px'><b>Exercise: {_esc(ex.get('name', ''))}</b><br>"
            f"{_esc(ex.get('instructions', ''))}<br><i>{_esc(ex.get('dosage', ''))}</i></p>")


def _esc(s: str) -> str:
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _f(v) -> float:
    try:
        return float(v) if v is not None else math.nan
    except (TypeError, ValueError):
        return math.nan


def _fmt(v: float, pattern: str) -> str:
    return pattern.format(v) if math.isfinite(v) else "—"
