"""The step table: one row per final step from the engine (newest on top)."""

from __future__ import annotations

import math

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtWidgets import QHeaderView, QTableView

from .units import FT_PER_M, Units

# (key, header, format) — lengths are converted by the Units
COLUMNS = [
    ("side", "side", "{}"),
    ("ic_s", "contact s", "{:.2f}"),
    ("activity", "activity", "{}"),
    ("impact_g", "impact g", "{:.2f}"),
    ("loading_rate_gps", "loading g/s", "{:.0f}"),
    ("stride_length_m", "stride", "len"),
    ("step_height_m", "height", "len"),
    ("knee_flexion_ic_deg", "knee at contact °", "{:.0f}"),
    ("knee_min_flexion_stance_deg", "knee ext. °", "{:.0f}"),
    ("frontal_range_deg", "frontal range °", "{:.1f}"),
    ("frontal_wobble_dps", "wobble °/s", "{:.0f}"),
    ("flags", "flags", "{}"),
]


class StepModel(QAbstractTableModel):
    def __init__(self, units: Units, parent=None):
        super().__init__(parent)
        self.units = units
        self.rows: list[dict] = []

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if role != Qt.DisplayRole:
            return None
        if orientation == Qt.Horizontal:
            key, head, fmt = COLUMNS[section]
            if fmt == "len":
                return f"{head} {'ft' if self.units.system == 'imperial' else 'm'}"
            return head
        return None

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[len(self.rows) - 1 - index.row()]   # newest first
        key, _head, fmt = COLUMNS[index.column()]
        v = row.get(key)
        if role == Qt.TextAlignmentRole:
            return int(Qt.AlignRight | Qt.AlignVCenter) if fmt not in ("{}",) else int(Qt.AlignLeft | Qt.AlignVCenter)
        if role != Qt.DisplayRole:
            return None
        if v is None or (isinstance(v, float) and math.isnan(v)) or v == "":
            return ""
        try:
            if fmt == "len":
                f = float(v) * (FT_PER_M if self.units.system == "imperial" else 1.0)
                return f"{f:.2f}"
            return fmt.format(v)
        except (TypeError, ValueError):
            return str(v)

    def add(self, steps: list[dict]) -> None:
        if not steps:
            return
        self.beginInsertRows(QModelIndex(), 0, len(steps) - 1)
        self.rows.extend(steps)
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self.rows = []
        self.endResetModel()

    def refresh_units(self) -> None:
        self.beginResetModel()
        self.endResetModel()


class StepTable(QTableView):
    def __init__(self, units: Units, parent=None):
        super().__init__(parent)
        self.model_ = StepModel(units, self)
        self.setModel(self.model_)
        self.verticalHeader().hide()
        head = self.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.Interactive)
        head.setStretchLastSection(True)
        for i, (key, title, _fmt) in enumerate(COLUMNS):
            width = {"side": 50, "activity": 100, "flags": 120}.get(key, 0)
            self.setColumnWidth(i, width or max(70, 8 * len(title) + 16))
        self.verticalHeader().setDefaultSectionSize(22)
        self.setAlternatingRowColors(False)
        self.setSelectionBehavior(QTableView.SelectRows)
