"""Scrolling plots, redrawn from the pipeline's ring buffers on a GUI timer.

Rows: the shank's sagittal rate (engine signal) with contact ▼ / toe-off ▲ markers; the
acceleration magnitude with each step's impact peak against the personal baseline band; the
knee angle per step (engine rows, needs a thigh sensor); the shank's frontal-plane movement
per step (engine rows).
"""

from __future__ import annotations

import itertools
import time
from collections import deque

import numpy as np
import pyqtgraph as pg

from .theme import SIDE_COLOURS, VERMILLION, Theme

MAX_POINTS = 600


class SessionPlots(pg.GraphicsLayoutWidget):
    def __init__(self, theme: Theme, window_s: float = 10.0, parent=None):
        super().__init__(parent=parent)
        self.window_s = window_s
        self.ci.setSpacing(4)
        self.sag_plot = self.addPlot(row=0, col=0)
        self.acc_plot = self.addPlot(row=1, col=0)
        self.knee_plot = self.addPlot(row=2, col=0)
        self.frontal_plot = self.addPlot(row=3, col=0)
        self.plots = [self.sag_plot, self.acc_plot, self.knee_plot, self.frontal_plot]
        labels = [("shank sagittal rate", "deg/s"),
                  ("acceleration; ● impact peak, shaded: your level-walking impacts (middle half)", "g"),
                  ("knee flexion per step", "deg"), ("frontal-plane range per step", "deg")]
        for p, (name, unit) in zip(self.plots, labels):
            p.getAxis("left").setWidth(56)
            for ax in ("left", "bottom"):     # no unit prefixes: no label re-layout per frame
                p.getAxis(ax).enableAutoSIPrefix(False)
            p.setMouseEnabled(x=False, y=False)
            p.hideButtons()
            # no clip-to-view or auto downsampling: both use the view's range, not the shifted
            # items' (refresh() hands over only the last window_s; 10 s at 200 Hz is about
            # 2 points per pixel column already)
            p.disableAutoRange()
            p.setTitle(f"{name} ({unit})", size="10pt")
            p.getAxis("left").setLabel(unit)
            for ax in ("left", "bottom"):     # ticks outside: an axis does not overlap its
                p.getAxis(ax).setStyle(tickLength=5)   # plot, so scrolling does not repaint it
            # the view stays put (seconds before now); the data move under it
            p.setXRange(-window_s, 0.0, padding=0)
            if p is self.sag_plot or p is self.knee_plot:
                p.hideAxis("bottom")   # fewer axes to repaint each frame
        self.frontal_plot.setLabel("bottom", "seconds before now")
        self.acc_plot.getAxis("bottom").setStyle(showValues=True)
        self.sag_curves = {}
        self.acc_curves = {}
        self.knee_ic = {}
        self.knee_min = {}
        self.frontal = {}
        # one item per plot for all its symbols (both sides, every kind): each item costs a
        # Python paint call per frame, the number of points hardly matters
        self.events = _marker_item()          # contact ▼ and toe-off △, both sides
        self.impact_marks = _marker_item()    # impact peaks ●, ringed ◯ above the threshold
        self.knee_marks = _marker_item()      # knee at contact ○, best extension in stance □
        self.frontal_marks = _marker_item()   # frontal range ◆
        self.sag_plot.addItem(self.events)
        self.acc_plot.addItem(self.impact_marks)
        self.knee_plot.addItem(self.knee_marks)
        self.frontal_plot.addItem(self.frontal_marks)
        self._styles = _marker_styles()
        # items whose x is the signal's time, moved by -latest each frame; the signal curves
        # get x - latest in their data instead (they are new each frame anyway)
        self._markers = [self.events, self.impact_marks, self.knee_marks, self.frontal_marks]
        self._step_lines = []
        for side, colour in SIDE_COLOURS.items():
            self.sag_curves[side] = _curve(self.sag_plot, pg.mkPen(colour, width=1))
            self.acc_curves[side] = _curve(self.acc_plot, pg.mkPen(colour, width=1))
            self.knee_ic[side] = _curve(self.knee_plot, pg.mkPen(colour, width=1.5))
            self.knee_min[side] = _curve(self.knee_plot, pg.mkPen(colour, width=1, style=pg.QtCore.Qt.DashLine))
            self.frontal[side] = _curve(self.frontal_plot, pg.mkPen(colour, width=1.5))
            self._step_lines += [self.knee_ic[side], self.knee_min[side], self.frontal[side]]
        self.band = pg.LinearRegionItem(orientation="horizontal", movable=False)
        self.band.setZValue(-1)
        for line in self.band.lines:
            line.setPen(pg.mkPen(None))
        self.band.hide()
        self.acc_plot.addItem(self.band)
        self.knee_note = pg.TextItem("", anchor=(0.5, 0.5))
        self.knee_plot.addItem(self.knee_note)
        self.frontal_note = pg.TextItem("", anchor=(0.5, 0.5))
        self.frontal_plot.addItem(self.frontal_note)
        for note in (self.knee_note, self.frontal_note):
            note.setPos(-0.5 * window_s, 0.5)
        self.zero = self.sag_plot.addLine(y=0, pen=pg.mkPen((128, 128, 128), width=1))
        self.reset()
        self.apply_theme(theme)

    # ------------------------------------------------------------------ data

    def reset(self) -> None:
        self.notices = {s: deque(maxlen=MAX_POINTS) for s in SIDE_COLOURS}
        self.steps = {s: deque(maxlen=MAX_POINTS) for s in SIDE_COLOURS}
        self.level_impacts: deque = deque(maxlen=200)
        self.has_thigh = {s: False for s in SIDE_COLOURS}
        for c in list(self.sag_curves.values()) + list(self.acc_curves.values()):
            c.setData([], [])
        self._steps_dirty = True
        self._yr = {}
        self._last_fit = 0.0

    def set_sensors(self, names) -> None:
        for side in SIDE_COLOURS:
            self.has_thigh[side] = f"{side}_thigh" in names
        any_thigh = any(self.has_thigh.values())
        shown = self.knee_plot in self.ci.items
        if any_thigh and not shown:          # the knee row only when a thigh sensor is there
            self.ci.removeItem(self.frontal_plot)
            self.addItem(self.knee_plot, row=2, col=0)
            self.addItem(self.frontal_plot, row=3, col=0)
        elif not any_thigh and shown:
            self.ci.removeItem(self.knee_plot)
        self.knee_note.setText("" if any_thigh else "knee angle needs a thigh sensor")

    def add_notice(self, side: str, ic_s: float) -> None:
        self.notices[side].append(ic_s)
        self._steps_dirty = True

    def add_step(self, step: dict) -> None:
        side = step["side"]
        if side not in self.steps:
            return
        self.steps[side].append(step)
        if step.get("activity") == "level" and _finite(step.get("impact_g")):
            self.level_impacts.append(float(step["impact_g"]))
        self._steps_dirty = True

    def apply_theme(self, theme: Theme) -> None:
        self.setBackground(theme.panel)
        for p in self.plots:
            for ax in ("left", "bottom"):
                a = p.getAxis(ax)
                a.setPen(pg.mkPen(theme.muted))
                a.setTextPen(pg.mkPen(theme.text))
            p.showGrid(x=False, y=False)   # grid lines cost 3x the frame time
            p.titleLabel.setText(p.titleLabel.text, color=theme.text)
        self.band.setBrush(pg.mkBrush(*theme.band))
        for item in (self.knee_note, self.frontal_note):
            item.setColor(theme.muted)

    # ------------------------------------------------------------------ drawing

    def _fit_y(self, plot, key: str, values: list, floor: float, step: float, lo_zero: bool) -> None:
        """Nice, steady y limits: recomputed at most twice a second, in whole ``step``s."""
        vals = [v for v in values if len(v)]
        if not vals:
            return
        allv = np.concatenate(vals)
        hi = max(floor, float(np.nanmax(allv)))
        hi = step * np.ceil(hi / step)
        lo = 0.0 if lo_zero else min(-step, step * np.floor(float(np.nanmin(allv)) / step))
        if self._yr.get(key) != (lo, hi):
            self._yr[key] = (lo, hi)
            plot.setYRange(lo, hi, padding=0.02)

    def refresh(self, snap: dict) -> None:
        latest = snap["latest_t_s"]
        if not np.isfinite(latest):
            return
        now = time.monotonic()
        fit = now - self._last_fit > 0.5
        if fit:
            self._last_fit = now
        x0 = latest - self.window_s
        sag_vals, acc_vals = [], []
        for side in SIDE_COLOURS:
            name = f"{side}_shank"
            t, v = snap["sag"].get(name, (np.empty(0), np.empty(0)))
            i0 = np.searchsorted(t, x0)          # rings are in time order
            self.sag_curves[side].setData(t[i0:] - latest, v[i0:])
            sag_vals.append(v[i0:])
            t, g = snap["acc"].get(name, (np.empty(0), np.empty(0)))
            i0 = np.searchsorted(t, x0)
            self.acc_curves[side].setData(t[i0:] - latest, g[i0:])
            acc_vals.append(g[i0:])
        if fit:
            self._fit_y(self.sag_plot, "sag", sag_vals, 200.0, 100.0, False)
            self._fit_y(self.acc_plot, "acc", acc_vals, 3.0, 1.0, True)
        if self._steps_dirty or fit:     # fit: also lets markers that scrolled out go
            self._draw_steps(since_s=x0 - 1.0)
            self._steps_dirty = False
        # items keep the signal's time; shifting them by -latest puts "now" at x = 0, so the
        # views and their time axes never change (no tick layout per frame)
        for item in self._step_lines:
            item.setPos(-latest, 0.0)
        for item in self._markers:
            item.setPos(-latest, 0.0)
            item.viewTransformChanged()    # its item-to-view mapping moved (cached view rect)

    def _draw_steps(self, since_s: float) -> None:
        """Markers of the steps with a contact after ``since_s`` (the ones in view): a paint
        costs per point, and the history holds up to MAX_POINTS steps per side."""
        events, impacts, knee, frontal = [], [], [], []
        for side in SIDE_COLOURS:
            steps = _newest(self.steps[side], lambda s: s["ic_s"] >= since_s)
            finals = np.array([s["ic_s"] for s in steps]) if steps else np.empty(0)
            ics = [t for t in _newest(self.notices[side], lambda t: t >= since_s)
                   if not len(finals) or np.min(np.abs(finals - t)) > 0.1]
            ics += finals.tolist()
            events += [(t, 0.0, ("contact", side)) for t in ics]
            events += [(s["to_s"], 0.0, ("toe_off", side)) for s in steps if _finite(s.get("to_s"))]
            imp = [(s["ic_s"], float(s["impact_g"]), s.get("_scores", {}).get("hard_landing", 0) >= 1)
                   for s in steps if _finite(s.get("impact_g"))]
            impacts += [(t, g, ("impact", side)) for t, g, _ in imp]
            impacts += [(t, g, ("high", side)) for t, g, high in imp if high]
            kic = [(s["ic_s"], s["knee_flexion_ic_deg"]) for s in steps if _finite(s.get("knee_flexion_ic_deg"))]
            kmin = [(s["ic_s"], s["knee_min_flexion_stance_deg"]) for s in steps
                    if _finite(s.get("knee_min_flexion_stance_deg"))]
            _set_line(self.knee_ic[side], kic)
            _set_line(self.knee_min[side], kmin)
            knee += [(t, v, ("knee_ic", side)) for t, v in kic] + [(t, v, ("knee_min", side)) for t, v in kmin]
            fr = [(s["ic_s"], s["frontal_range_deg"]) for s in steps if _finite(s.get("frontal_range_deg"))]
            _set_line(self.frontal[side], fr)
            frontal += [(t, v, ("frontal", side)) for t, v in fr]
        for item, points in ((self.events, events), (self.impact_marks, impacts),
                             (self.knee_marks, knee), (self.frontal_marks, frontal)):
            _set_marks(item, points, self._styles)
        if len(self.level_impacts) >= 3:
            lo, hi = np.percentile(np.array(self.level_impacts), [25, 75])
            self.band.setRegion((lo, hi))
            self.band.show()
        else:
            self.band.hide()
        if not knee:
            self.knee_note.setText("knee angle needs a thigh sensor" if not any(self.has_thigh.values())
                                   else "knee angle: not measured yet")
            self.knee_plot.setYRange(0, 60)
        else:
            self.knee_note.setText("")
            self._fit_y(self.knee_plot, "knee", [np.array([v for _, v, _ in knee])], 30.0, 10.0, False)
        if not frontal:
            self.frontal_plot.setYRange(0, 10)
        else:
            self._fit_y(self.frontal_plot, "frontal", [np.array([v for _, v, _ in frontal])], 6.0, 2.0, True)
        self.frontal_note.setText("" if frontal else "frontal-plane angle: not measured yet")


def _newest(items: deque, keep) -> list:
    """The newest items for which ``keep`` holds, oldest first (``items`` in time order)."""
    out = list(itertools.takewhile(keep, reversed(items)))
    out.reverse()
    return out


def _curve(plot, pen) -> pg.PlotCurveItem:
    """A plain line (no PlotDataItem machinery: no clipping, downsampling or symbols)."""
    curve = pg.PlotCurveItem(pen=pen)
    plot.addItem(curve)
    return curve


def _marker_item() -> pg.ScatterPlotItem:
    item = pg.ScatterPlotItem()
    item.hide()
    return item


def _marker_styles() -> dict:
    """(kind, side) -> (symbol, size px, pen, brush), made once (no per-frame Qt objects)."""
    outline = pg.mkPen("k", width=0.5)
    ring = pg.mkPen(VERMILLION, width=3)
    none = pg.mkBrush(None)
    styles = {}
    for side, colour in SIDE_COLOURS.items():
        fill, line, thick = pg.mkBrush(colour), pg.mkPen(colour, width=1), pg.mkPen(colour, width=2)
        styles[("contact", side)] = ("t", 13, outline, fill)
        styles[("toe_off", side)] = ("t1", 11, thick, none)
        styles[("impact", side)] = ("o", 12, outline, fill)
        styles[("high", side)] = ("o", 20, ring, none)
        styles[("knee_ic", side)] = ("o", 8, outline, fill)
        styles[("knee_min", side)] = ("s", 7, line, none)
        styles[("frontal", side)] = ("d", 9, outline, fill)
    return styles


def _set_marks(item: pg.ScatterPlotItem, points: list, styles: dict) -> None:
    """``points``: (x, y, style key); an item without points is hidden (no paint call)."""
    if not points:
        item.setData([], [])
        item.hide()
        return
    x, y, keys = zip(*points)
    symbol, size, pen, brush = zip(*(styles[k] for k in keys))
    item.setData(x=np.array(x, float), y=np.array(y, float), symbol=list(symbol), size=list(size),
                 pen=list(pen), brush=list(brush))
    item.show()


def _set_line(curve, points: list) -> None:
    curve.setData([a for a, _ in points], [b for _, b in points])


def _finite(v) -> bool:
    try:
        return v is not None and np.isfinite(float(v))
    except (TypeError, ValueError):
        return False
