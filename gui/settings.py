"""Settings that persist between runs (QSettings, an INI file) and the dialog to edit them.

The file is the platform's usual place, or ``$IMU_KNEE_GUI_SETTINGS`` when set (tests).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog,
                               QFormLayout, QHBoxLayout, QLineEdit, QPushButton, QWidget)


@dataclass
class Settings:
    leg_length_m: float = 0.0          # 0 = unknown (the engine then uses its default)
    thresholds_file: str = ""
    units: str = "metric"
    theme: str = "light"
    profile: str = "imu-knee"          # protocol of the virtual sensors
    placements: dict = field(default_factory=dict)   # device address -> placement
    last_folder: str = ""


def _qsettings() -> QSettings:
    path = os.environ.get("IMU_KNEE_GUI_SETTINGS")
    if path:
        return QSettings(path, QSettings.IniFormat)
    return QSettings(QSettings.IniFormat, QSettings.UserScope, "imu-knee", "dashboard")


def load_settings() -> Settings:
    q = _qsettings()
    s = Settings()
    try:
        s.leg_length_m = float(q.value("leg_length_m", s.leg_length_m))
    except (TypeError, ValueError):
        pass
    s.thresholds_file = str(q.value("thresholds_file", s.thresholds_file) or "")
    s.units = q.value("units", s.units) if q.value("units", s.units) in ("metric", "imperial") else "metric"
    s.theme = q.value("theme", s.theme) if q.value("theme", s.theme) in ("light", "dark") else "light"
    s.profile = str(q.value("profile", s.profile))
    s.last_folder = str(q.value("last_folder", "") or "")
    q.beginGroup("placements")
    s.placements = {k: str(q.value(k)) for k in q.childKeys()}
    q.endGroup()
    return s


def save_settings(s: Settings) -> None:
    q = _qsettings()
    q.setValue("leg_length_m", float(s.leg_length_m))
    q.setValue("thresholds_file", s.thresholds_file)
    q.setValue("units", s.units)
    q.setValue("theme", s.theme)
    q.setValue("profile", s.profile)
    q.setValue("last_folder", s.last_folder)
    q.remove("placements")
    q.beginGroup("placements")
    for k, v in s.placements.items():
        q.setValue(k, v)
    q.endGroup()
    q.sync()


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, profiles: list[str], parent=None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        form = QFormLayout(self)
        self.leg = QDoubleSpinBox()
        self.leg.setRange(0.39, 1.3)     # the minimum shows as "unknown"
        self.leg.setDecimals(2)
        self.leg.setSingleStep(0.01)
        self.leg.setSpecialValueText("unknown (from the recording or 0.90 m)")
        self.leg.setSuffix(" m")
        self.leg.setValue(settings.leg_length_m if settings.leg_length_m >= 0.4 else 0.39)
        form.addRow("Leg length (hip bone to ankle)", self.leg)
        row = QWidget()
        rl = QHBoxLayout(row)
        rl.setContentsMargins(0, 0, 0, 0)
        self.thresholds = QLineEdit(settings.thresholds_file)
        self.thresholds.setPlaceholderText("built-in thresholds")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        rl.addWidget(self.thresholds)
        rl.addWidget(browse)
        form.addRow("Coach thresholds file", row)
        self.units = QComboBox()
        self.units.addItems(["metric", "imperial"])
        self.units.setCurrentText(settings.units)
        form.addRow("Units", self.units)
        self.theme = QComboBox()
        self.theme.addItems(["light", "dark"])
        self.theme.setCurrentText(settings.theme)
        form.addRow("Theme", self.theme)
        self.profile = QComboBox()
        self.profile.addItems(profiles)
        self.profile.setCurrentText(settings.profile)
        form.addRow("Virtual sensors speak", self.profile)
        box = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        form.addRow(box)
        self._base = settings

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Coach thresholds", "", "TOML files (*.toml)")
        if path:
            self.thresholds.setText(path)

    def result_settings(self) -> Settings:
        s = Settings(**vars(self._base))
        s.leg_length_m = float(self.leg.value()) if self.leg.value() >= 0.4 else 0.0
        s.thresholds_file = self.thresholds.text().strip()
        s.units = self.units.currentText()
        s.theme = self.theme.currentText()
        s.profile = self.profile.currentText()
        return s
