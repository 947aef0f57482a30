"""Replay controls: open (dialog or drag-and-drop), play/pause, seek, speed."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSlider,
                               QVBoxLayout, QWidget)

SPEEDS = [0.25, 0.5, 1, 2, 4, 8, 16]


class ReplayPanel(QWidget):
    open_requested = Signal()
    play_toggled = Signal()
    seek_requested = Signal(float)      # fraction 0..1
    speed_changed = Signal(float)

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        box = QGroupBox("Replay")
        bl = QVBoxLayout(box)
        self.open_btn = QPushButton("Open recording…")
        self.open_btn.clicked.connect(lambda: self.open_requested.emit())
        bl.addWidget(self.open_btn)
        hint = QLabel("or drop a recording (.csv) on the window")
        hint.setObjectName("muted")
        hint.setWordWrap(True)
        bl.addWidget(hint)
        self.file_label = QLabel("no recording open")
        self.file_label.setWordWrap(True)
        bl.addWidget(self.file_label)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #D55E00; font-weight: bold;")
        self.error.hide()
        bl.addWidget(self.error)
        row = QHBoxLayout()
        self.play_btn = QPushButton("▶ Play")
        self.play_btn.setToolTip("play / pause (space)")
        self.play_btn.clicked.connect(lambda: self.play_toggled.emit())
        row.addWidget(self.play_btn)
        self.speed = QComboBox()
        for s in SPEEDS:
            self.speed.addItem(f"{s:g}×", s)
        self.speed.setCurrentIndex(SPEEDS.index(1))
        self.speed.setToolTip("replay speed")
        self.speed.currentIndexChanged.connect(lambda i: self.speed_changed.emit(float(self.speed.itemData(i))))
        row.addWidget(self.speed)
        bl.addLayout(row)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, 1000)
        self.slider.setToolTip("seek")
        self.slider.sliderReleased.connect(lambda: self.seek_requested.emit(self.slider.value() / 1000))
        bl.addWidget(self.slider)
        self.time_label = QLabel("0.0 / 0.0 s")
        bl.addWidget(self.time_label)
        lay.addWidget(box)
        keys = QLabel("<b>Keys</b><br>space: play / pause<br>Ctrl+O: open a recording<br>"
                      "R: record (live mode)")
        keys.setObjectName("muted")
        lay.addWidget(keys)
        lay.addStretch(1)
        self.set_enabled(False)

    def set_enabled(self, on: bool) -> None:
        for w in (self.play_btn, self.speed, self.slider):
            w.setEnabled(on)

    def set_speed(self, speed: float) -> None:
        best = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - speed))
        self.speed.blockSignals(True)
        self.speed.setCurrentIndex(best)
        self.speed.blockSignals(False)

    def show_position(self, pos_s: float, start_s: float, duration_s: float, paused: bool) -> None:
        self.play_btn.setText("▶ Play" if paused else "❚❚ Pause")
        rel = pos_s - start_s
        self.time_label.setText(f"{rel:.1f} / {duration_s:.1f} s")
        if not self.slider.isSliderDown() and duration_s > 0:
            self.slider.setValue(int(1000 * rel / duration_s))

    def show_error(self, text: str) -> None:
        self.error.setText("⚠ " + text if text else "")
        self.error.setVisible(bool(text))
