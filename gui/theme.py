"""Colours and style sheets. The palette is Okabe-Ito (readable with colour-blindness); every
colour-coded state also has a symbol and a word, so colour is never the only signal."""

from __future__ import annotations

from dataclasses import dataclass

BLUE = "#0072B2"
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
YELLOW = "#F0E442"

SIDE_COLOURS = {"left": BLUE, "right": ORANGE}

# (symbol, word, colour) for a coach score: 0 = at the person's reference, 1 = at the threshold
LEVELS = {
    "none": ("–", "no baseline yet", "#888888"),
    "ok": ("✓", "usual", GREEN),
    "watch": ("!", "watch", ORANGE),
    "high": ("▲", "high", VERMILLION),
}


def level_of(score: float | None) -> str:
    if score is None or score != score:
        return "none"
    if score >= 1.0:
        return "high"
    if score >= 0.5:
        return "watch"
    return "ok"


@dataclass(frozen=True)
class Theme:
    name: str
    background: str
    panel: str
    text: str
    muted: str
    grid_alpha: float
    band: tuple

    def stylesheet(self) -> str:
        return f"""
        QWidget {{ background: {self.background}; color: {self.text}; font-size: 13px; }}
        QLabel {{ background: transparent; }}
        QFrame#card, QGroupBox {{ background: {self.panel}; border-radius: 8px; }}
        QGroupBox {{ margin-top: 18px; padding: 8px; font-weight: bold; }}
        QGroupBox::title {{ subcontrol-origin: margin; left: 8px; padding: 0 4px; }}
        QLabel#muted {{ color: {self.muted}; }}
        QLabel#cue {{ font-size: 24px; font-weight: bold; }}
        QLabel#bigvalue {{ font-size: 27px; font-weight: bold; }}
        QLabel#activity {{ font-size: 20px; font-weight: bold; }}
        QTableView {{ background: {self.panel}; gridline-color: {self.muted}; }}
        QHeaderView::section {{ background: {self.background}; color: {self.text}; padding: 3px;
                                border: none; font-weight: bold; }}
        QPushButton, QToolButton, QComboBox {{ padding: 4px 10px; }}
        QPushButton:disabled, QToolButton:disabled {{ color: {self.muted}; }}
        QTabBar::tab {{ padding: 6px 16px; }}
        QTabBar::tab:selected {{ font-weight: bold; border-bottom: 3px solid {BLUE}; }}
        """


LIGHT = Theme("light", "#F4F4F2", "#FFFFFF", "#1A1A1A", "#666666", 0.25, (0, 114, 178, 90))
DARK = Theme("dark", "#1E1F22", "#2A2C30", "#EDEDED", "#A0A0A0", 0.2, (86, 180, 233, 90))
THEMES = {"light": LIGHT, "dark": DARK}
