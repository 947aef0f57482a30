"""Scrolling plots, redrawn from the pipeline's ring buffers on a GUI timer.

Rows: the shank's sagittal rate (engine signal) with contact ▼ / toe-off ▲ markers; the
acceleration magnitude with each step's impact peak against the personal baseline band; the
knee angle per step (engine rows, needs a thigh sensor); the shank's frontal-plane movement
per step (engine rows).
"""

from __future__ import annotations

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
            p.setMouseEnabled(x=False, y=False)
            p.hideButtons()
            p.setClipToView(True)
            p.setDownsampling(auto=True, mode="peak")
            p.disableAutoRange()
            p.setTitle(f"{name} ({unit})", size="10pt")
            p.getAxis("left").setLabel(unit)
            if p is self.acc_plot:
                p.setXLink(self.sag_plot)
            if p is self.sag_plot or p is self.knee_plot:
                p.hideAxis("bottom")   # fewer axes to repaint each frame
        self.frontal_plot.setLabel("bottom", "time", units="s")
        self.knee_plot.setXLink(self.frontal_plot)
        self.acc_plot.getAxis("bottom").setStyle(showValues=True)
        self.sag_curves = {}
        self.acc_curves = {}
        self.markers_ic = {}
        self.markers_to = {}
        self.impacts = {}
        self.knee_ic = {}
        self.knee_min = {}
        self.frontal = {}
        for side, colour in SIDE_COLOURS.items():
            pen = pg.mkPen(colour, width=1)
            self.sag_curves[side] = self.sag_plot.plot([], [], pen=pen)
            self.acc_curves[side] = self.acc_plot.plot([], [], pen=pg.mkPen(colour, width=1))
            self.markers_ic[side] = pg.ScatterPlotItem(symbol="t", size=13, brush=colour,
                                                       pen=pg.mkPen("k", width=0.5))
            self.markers_to[side] = pg.ScatterPlotItem(symbol="t1", size=11, brush=None,
                                                       pen=pg.mkPen(colour, width=2))
            self.sag_plot.addItem(self.markers_ic[side])
            self.sag_plot.addItem(self.markers_to[side])
            self.impacts[side] = pg.ScatterPlotItem(size=12, symbol="o", brush=colour,
                                                    pen=pg.mkPen("k", width=0.5))
            self.acc_plot.addItem(self.impacts[side])
            self.knee_ic[side] = self.knee_plot.plot([], [], pen=pg.mkPen(colour, width=1.5),
                                                     symbol="o", symbolBrush=colour, symbolSize=8)
            self.knee_min[side] = self.knee_plot.plot([], [], pen=pg.mkPen(colour, width=1, style=pg.QtCore.Qt.DashLine),
                                                      symbol="s", symbolBrush=None,
                                                      symbolPen=pg.mkPen(colour), symbolSize=7)
            self.frontal[side] = self.frontal_plot.plot([], [], pen=pg.mkPen(colour, width=1.5),
                                                        symbol="d", symbolBrush=colour, symbolSize=9)
        self.high_impacts = pg.ScatterPlotItem(size=20, symbol="o", brush=None,
                                               pen=pg.mkPen(VERMILLION, width=3))
        self.acc_plot.addItem(self.high_impacts)
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
        x0, x1 = latest - self.window_s, latest
        sag_vals, acc_vals = [], []
        for side in SIDE_COLOURS:
            name = f"{side}_shank"
            t, v = snap["sag"].get(name, (np.empty(0), np.empty(0)))
            keep = t >= x0
            self.sag_curves[side].setData(t[keep], v[keep])
            sag_vals.append(v[keep])
            t, g = snap["acc"].get(name, (np.empty(0), np.empty(0)))
            keep = t >= x0
            self.acc_curves[side].setData(t[keep], g[keep])
            acc_vals.append(g[keep])
        if fit:
            self._fit_y(self.sag_plot, "sag", sag_vals, 200.0, 100.0, False)
            self._fit_y(self.acc_plot, "acc", acc_vals, 3.0, 1.0, True)
        if self._steps_dirty:
            self._draw_steps()
            self._steps_dirty = False
        self.sag_plot.setXRange(x0, x1, padding=0)
        if fit:   # the per-step plots move with the steps, twice a second is enough
            self.frontal_plot.setXRange(x0, x1, padding=0)
        ymid = 0.5 * (x0 + x1)
        self.knee_note.setPos(ymid, 0.5)
        self.frontal_note.setPos(ymid, 0.5)
        # apply the new view transforms now: done lazily inside the paint they schedule a
        # second repaint of the whole view per frame
        for p in self.plots:
            p.vb.updateMatrix()

    def _draw_steps(self) -> None:
        high = []
        any_frontal = False
        any_knee = False
        for side in SIDE_COLOURS:
            steps = list(self.steps[side])
            finals = np.array([s["ic_s"] for s in steps]) if steps else np.empty(0)
            ics = [t for t in self.notices[side]
                   if not len(finals) or np.min(np.abs(finals - t)) > 0.1]
            ics += finals.tolist()
            self.markers_ic[side].setData(ics, np.zeros(len(ics)))
            tos = [s["to_s"] for s in steps if _finite(s.get("to_s"))]
            self.markers_to[side].setData(tos, np.zeros(len(tos)))
            imp = [(s["ic_s"], s["impact_g"]) for s in steps if _finite(s.get("impact_g"))]
            self.impacts[side].setData([a for a, _ in imp], [b for _, b in imp])
            high += [(s["ic_s"], s["impact_g"]) for s in steps
                     if _finite(s.get("impact_g")) and s.get("_scores", {}).get("hard_landing", 0) >= 1]
            kic = [(s["ic_s"], s["knee_flexion_ic_deg"]) for s in steps if _finite(s.get("knee_flexion_ic_deg"))]
            kmin = [(s["ic_s"], s["knee_min_flexion_stance_deg"]) for s in steps
                    if _finite(s.get("knee_min_flexion_stance_deg"))]
            any_knee |= bool(kic or kmin)
            self.knee_ic[side].setData([a for a, _ in kic], [b for _, b in kic])
            self.knee_min[side].setData([a for a, _ in kmin], [b for _, b in kmin])
            fr = [(s["ic_s"], s["frontal_range_deg"]) for s in steps if _finite(s.get("frontal_range_deg"))]
            any_frontal |= bool(fr)
            self.frontal[side].setData([a for a, _ in fr], [b for _, b in fr])
        self.high_impacts.setData([a for a, _ in high], [b for _, b in high])
        if len(self.level_impacts) >= 3:
            lo, hi = np.percentile(np.array(self.level_impacts), [25, 75])
            self.band.setRegion((lo, hi))
            self.band.show()
        else:
            self.band.hide()
        if not any_knee:
            self.knee_note.setText("knee angle needs a thigh sensor" if not any(self.has_thigh.values())
                                   else "knee angle: not measured yet")
            self.knee_plot.setYRange(0, 60)
        else:
            self.knee_note.setText("")
            vals = [np.array([s.get(k) for s in self.steps[side] for k in
                              ("knee_flexion_ic_deg", "knee_min_flexion_stance_deg") if _finite(s.get(k))])
                    for side in SIDE_COLOURS]
            self._fit_y(self.knee_plot, "knee", vals, 30.0, 10.0, False)
        if not any_frontal:
            self.frontal_plot.setYRange(0, 10)
        else:
            vals = [np.array([s["frontal_range_deg"] for s in self.steps[side] if _finite(s.get("frontal_range_deg"))])
                    for side in SIDE_COLOURS]
            self._fit_y(self.frontal_plot, "frontal", vals, 6.0, 2.0, True)
        self.frontal_note.setText("" if any_frontal else "frontal-plane angle: not measured yet")


def _finite(v) -> bool:
    try:
        return v is not None and np.isfinite(float(v))
    except (TypeError, ValueError):
        return False
