"""The report's figures, drawn with matplotlib (object interface, no pyplot: no global
figure state, safe from the dashboard's worker thread) and returned as PNG bytes.

Colours are the Okabe-Ito colour-blind-safe palette; the two legs also differ by panel (or
line style) and activities by marker shape, so nothing depends on colour alone. The data
come ready-made (the per-step table and the engine's knee flexion series): nothing here
measures anything.
"""

from __future__ import annotations

import io
import textwrap
from typing import Callable

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

LEFT_COLOUR = "#0072B2"    # Okabe-Ito blue
RIGHT_COLOUR = "#D55E00"   # Okabe-Ito vermillion
SIDE_COLOUR = {"left": LEFT_COLOUR, "right": RIGHT_COLOUR}
SIDE_STYLE = {"left": "-", "right": "--"}
BAND_COLOUR = "#BBBBBB"
FLAG_COLOUR = "#000000"
MARKERS = {"level": "o", "stairs_up": "^", "stairs_down": "v"}
ACTIVITY_LABEL = {"level": "level ground", "stairs_up": "stairs up", "stairs_down": "stairs down"}
DPI = 110
WIDTH_IN = 7.5
MAX_STRIDE_S = 2.5
CURVE_POINTS = 101
# Below this many steps a second process for the figures costs more than it saves.
PARALLEL_MIN_STEPS = 600

matplotlib.rcParams.update({
    "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8,
    "axes.spines.top": False, "axes.spines.right": False, "svg.fonttype": "none",
})


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def draw_all(jobs: list[Callable[[], bytes | None]], n_steps: int) -> list[bytes | None]:
    """Run the figure-drawing ``jobs`` (each returns PNG bytes or None), in order.

    With a spare core and a long session, every second job runs in a forked child (matplotlib
    holds the GIL, so threads would not help); the PNGs are the same bytes either way. A child
    that fails is replaced by drawing its figures here."""
    from ..analysis.forked import FAILED, ForkedCall, can_fork

    if len(jobs) < 2 or n_steps < PARALLEL_MIN_STEPS or not can_fork():
        return [job() for job in jobs]
    theirs = jobs[1::2]
    with ForkedCall(lambda: [job() for job in theirs]) as child:
        mine = [job() for job in jobs[0::2]]
        drawn = child.result()
    if drawn is FAILED:
        drawn = [job() for job in theirs]
    out: list[bytes | None] = [None] * len(jobs)
    out[0::2], out[1::2] = mine, drawn
    return out


def _time_axis(t_s: np.ndarray) -> tuple[np.ndarray, str]:
    if len(t_s) and np.nanmax(t_s) > 180:
        return t_s / 60.0, "time in the session (minutes)"
    return t_s, "time in the session (seconds)"


def _margins(fig, left_in=0.75, right_in=0.15, top_in=0.3, bottom_in=0.5, hspace=0.45) -> None:
    """Fixed margins in inches (cheaper than tight_layout, which draws the figure again)."""
    w, h = fig.get_size_inches()
    fig.subplots_adjust(left=left_in / w, right=1 - right_in / w, top=1 - top_in / h,
                        bottom=bottom_in / h, hspace=hspace)


def per_step_png(steps: pd.DataFrame, column: str, ylabel: str, flagged: set[float],
                 band_from: str | None = None, rate_hz: dict | None = None) -> bytes:
    """One dot per step over time, a panel per leg; optional usual-range band; flagged steps ringed."""
    sides = [s for s in ("left", "right") if (steps["side"] == s).any()]
    fig = Figure(figsize=(WIDTH_IN, 1.9 * len(sides) + 0.7))
    axes = fig.subplots(len(sides), 1, sharex=True, sharey=True, squeeze=False)
    values = pd.to_numeric(steps[column], errors="coerce")
    many = len(steps) > 400
    size = 2.5 if many else 4.0
    xlabel = ""
    for ax, side in zip(axes[:, 0], sides):
        mine = (steps["side"] == side).to_numpy()
        t, xlabel = _time_axis(steps.loc[mine, "ic_s"].to_numpy(float))
        v = values[mine].to_numpy(float)
        acts = steps.loc[mine, "activity"].to_numpy()
        ics = np.round(steps.loc[mine, "ic_s"].to_numpy(float), 4)
        if band_from is not None:
            ref = v[(acts == band_from) & np.isfinite(v)]
            if ref.size >= 3:
                lo, hi = np.percentile(ref, [25, 75])
                ax.axhspan(lo, hi, color=BAND_COLOUR, alpha=0.45, lw=0,
                           label="usual range\n(level ground)")
        for act, marker in MARKERS.items():
            sel = (acts == act) & np.isfinite(v)
            if sel.any():
                ax.plot(t[sel], v[sel], marker, ms=size, color=SIDE_COLOUR[side], alpha=0.8,
                        mew=0, label=ACTIVITY_LABEL[act])
        ring = np.isin(ics, list(flagged)) & np.isfinite(v)
        if ring.any():
            ax.plot(t[ring], v[ring], "o", ms=size * 2.2, mfc="none", mec=FLAG_COLOUR, mew=0.9,
                    label="step behind a finding")
        title = f"{side} leg"
        if rate_hz and rate_hz.get(side):
            title += f" — measured at {rate_hz[side]:.0f} samples per second"
        ax.set_title(title, loc="left", color=SIDE_COLOUR[side])
        ax.set_ylabel(ylabel)
        ax.grid(axis="y", color="#E5E5E5", lw=0.6)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    axes[-1, 0].set_xlabel(xlabel)
    _margins(fig, right_in=1.75)
    return _png(fig)


def _stride_curves(t_s, flex, ics: np.ndarray) -> np.ndarray:
    """Knee flexion of each stride (contact to next contact) resampled to 0..100 %."""
    grid = np.linspace(0.0, 1.0, CURVE_POINTS)
    out = []
    for a, b in zip(ics[:-1], ics[1:]):
        if not 0.3 < b - a < MAX_STRIDE_S:
            continue
        i0, i1 = np.searchsorted(t_s, [a, b])
        if i1 - i0 < 10 or not np.isfinite(flex[i0:i1]).all():
            continue
        out.append(np.interp(a + grid * (b - a), t_s[i0:i1], flex[i0:i1]))
    return np.array(out).reshape(-1, CURVE_POINTS)


def knee_curves_png(steps: pd.DataFrame, knee: dict) -> bytes | None:
    """Mean ± SD knee flexion over a stride, a panel per activity, a line per leg."""
    curves: dict[str, dict[str, np.ndarray]] = {}
    for side, series in knee.items():
        mine = steps[steps["side"] == side].sort_values("ic_s")
        ics = mine["ic_s"].to_numpy(float)
        acts = mine["activity"].to_numpy()
        per_stride = []
        for k in range(1, len(ics)):
            c = _stride_curves(series.t_s, series.flexion_deg, ics[k - 1:k + 1])
            if len(c):
                per_stride.append((acts[k], c[0]))
        for act in MARKERS:
            sel = [c for a, c in per_stride if a == act]
            if sel:
                curves.setdefault(act, {})[side] = np.array(sel)
    if not curves:
        return None
    acts = [a for a in MARKERS if a in curves]
    fig = Figure(figsize=(WIDTH_IN, 2.6))
    axes = fig.subplots(1, len(acts), sharey=True, squeeze=False)
    x = np.linspace(0, 100, CURVE_POINTS)
    for ax, act in zip(axes[0], acts):
        for side, c in curves[act].items():
            m, sd = c.mean(axis=0), c.std(axis=0)
            ax.fill_between(x, m - sd, m + sd, color=SIDE_COLOUR[side], alpha=0.18, lw=0)
            ax.plot(x, m, SIDE_STYLE[side], color=SIDE_COLOUR[side], lw=1.8,
                    label=f"{side} ({len(c)} strides)")
        ax.set_title(ACTIVITY_LABEL[act])
        ax.set_xlabel("% of stride (contact to contact)")
        ax.grid(color="#E5E5E5", lw=0.6)
        ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=1)
    axes[0, 0].set_ylabel("knee bend (°, 0 = standing)")
    _margins(fig, top_in=0.3, bottom_in=1.05)
    fig.subplots_adjust(wspace=0.08)
    return _png(fig)


def trend_png(labels: list[str], series: list[tuple[str, str, str, list]]) -> bytes:
    """Small multiples: one panel per measure, a line per leg, one point per session."""
    names = list(dict.fromkeys((h, u) for h, u, _, _ in series))
    n = len(names)
    cols = min(n, 2)
    rows = (n + cols - 1) // cols
    fig = Figure(figsize=(WIDTH_IN, 2.1 * rows + 0.3))
    axes = fig.subplots(rows, cols, squeeze=False)
    x = np.arange(len(labels))
    for ax, (head, unit) in zip(axes.flat, names):
        for h, u, side, vals in series:
            if (h, u) != (head, unit):
                continue
            y = np.array([np.nan if v is None else v for v in vals], float)
            ax.plot(x, y, SIDE_STYLE[side], marker="o", color=SIDE_COLOUR[side], lw=1.5, ms=4,
                    label=f"{side}")
        ax.set_title(textwrap.fill(f"{head} ({unit})", 48), loc="left")
        ax.set_xticks(x, [textwrap.shorten(lab, 16, placeholder="…") for lab in labels],
                      rotation=25, ha="right")
        ax.set_xlim(-0.3, len(labels) - 0.7)
        ax.grid(axis="y", color="#E5E5E5", lw=0.6)
        ax.legend(frameon=False)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    _margins(fig, top_in=0.45, bottom_in=0.8, hspace=1.0)
    fig.subplots_adjust(wspace=0.25)
    return _png(fig)
