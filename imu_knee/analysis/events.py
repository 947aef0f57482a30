"""Gait events from a segment's sagittal angular rate (positive = swinging forward).

Mid-swing is the large positive peak. Contact is where the rate falls through zero after it
(the segment stops swinging forward as the foot lands; DESIGN.md section 5 uses the minimum
just after, which on smooth signals lags the heel contact by up to 90 ms, so the crossing is
used, plus a fixed offset). Toe-off is the last minimum before the swing on level ground; on
stairs it moves (:func:`toe_off_time_s`), so a chain can tell the detector how much the foot
rose over the swing's stride (``SwingDetector.stride_rises_m``).

Detection runs on a hysteresis state (``hi`` above the swing threshold, ``lo`` below
``-LO_DPS``) computed vectorised over each new block; Python only loops over detected swings.
A swing is reported once the rate has gone below ``-LO_DPS`` after it, which is decided from
the samples alone, so any split into blocks gives the same swings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .windows import spans_with_mark, window_argext

LO_DPS = 3.0
TO_SEARCH_S = 0.25
ZC_SEARCH_S = 0.6
MIN_SWING_S = 0.08
MAX_SWING_S = 1.5
LEVEL_FRACTION = 0.3
MIN_SEARCH_S = 0.2
# Toe-off against the shank's rate, from the virtual IMU recordings' motion capture (57 stair
# and 37 level toe-offs) and the simulator: on level ground the toe leaves at the rate's
# minimum (median -24 ms / +23 ms). Before a step up the shank plunges backwards after the
# toe has left (minimum +51 ms / +33 ms late). Before a step down the minimum comes early
# (-33 ms / -126 ms: the heel rises and the shank starts forwards while the forefoot still
# holds the step's edge) and the toe leaves as the rate rises through zero (+29 ms / -4 ms).
# Both the minimum and the rise through zero are timed between samples (the parabola's
# vertex, the linear crossing), so the toe-off does not move with the sample rate: the
# virtual IMU recordings resampled to 52 Hz give toe-offs within 0.5 ms (median) of 100 Hz.
TO_STAIRS_RISE_M = 0.08        # a stride rising or falling more than this is a stair step
TO_UP_BEFORE_MIN_S = 0.04
TO_DOWN_BEFORE_ZERO_S = 0.015


@dataclass
class Swing:
    """One swing phase: toe-off before it, mid-swing peak, contact after it (times in s)."""

    to_i: int
    to_s: float
    ms_i: int
    ms_s: float
    peak_dps: float
    ic_i: int          # first sample at or after the contact time
    ic_s: float
    gap: bool = False  # a gap in the samples inside this swing
    cross_s: float = float("nan")   # where the rate fell through zero (or levelled off), delay-corrected
    cross_i: int = 0                # sample index of that point
    start_s: float = float("nan")   # where the rate rose through zero before the swing
    merged: bool = False            # two parts of one swing were joined


def toe_off_time_s(t_min_s: float, t_zero_s: float, stride_rise_m: float | None) -> float:
    """Toe-off (s) from the time of the rate's minimum before the swing, of its rise through
    zero, and how much the foot rises over the stride that follows (None: unknown, level)."""
    rise = np.nan if stride_rise_m is None else stride_rise_m
    return float(toe_off_times_s(np.array([t_min_s]), np.array([t_zero_s]), np.array([rise]))[0])


def toe_off_times_s(t_min_s: np.ndarray, t_zero_s: np.ndarray, stride_rise_m: np.ndarray) -> np.ndarray:
    """:func:`toe_off_time_s` of many swings (``stride_rise_m`` NaN: unknown, level)."""
    with np.errstate(invalid="ignore"):
        up = stride_rise_m > TO_STAIRS_RISE_M           # False for NaN
        down = stride_rise_m < -TO_STAIRS_RISE_M
    before_zero = t_zero_s - TO_DOWN_BEFORE_ZERO_S
    # going down: the later of the two (the minimum unless the other is later, as max())
    down_s = np.where(before_zero > t_min_s, before_zero, t_min_s)
    return np.where(up, t_min_s - TO_UP_BEFORE_MIN_S, np.where(down, down_s, t_min_s))


def vertex_times_s(t_s: np.ndarray, s: np.ndarray, i: np.ndarray) -> np.ndarray:
    """Times of the extrema of ``s`` at samples ``i``, to a fraction of a sample: the vertex
    of the parabola through each and its two neighbours (within half a sample of it). At
    50-60 Hz a sample is 17-20 ms, so the sample's own time can be 10 ms off. A sample at
    either end of ``s``, one that is not a local extremum, or one with level neighbours
    (or NaN ones) keeps its own time."""
    i = np.asarray(i, dtype=np.int64)
    if len(s) < 3:
        return t_s[i]
    c = np.clip(i, 1, len(s) - 2)
    ym, y0, yp = s[c - 1], s[c], s[c + 1]
    curv = ym - 2.0 * y0 + yp
    # neither neighbour on the other side (an equal one: the vertex is half-way to it)
    ok = (c == i) & ((ym - y0) * (yp - y0) >= 0) & (curv != 0)
    frac = np.zeros(len(i))
    frac[ok] = 0.5 * (ym - yp)[ok] / curv[ok]
    # the neighbour on the vertex's side sets the step (timestamps are not exactly uniform)
    step = np.where(frac >= 0, t_s[c + 1] - t_s[c], t_s[c] - t_s[c - 1])
    return np.where(ok, t_s[c] + frac * step, t_s[i])


def zero_crossing_times_s(t_s: np.ndarray, s: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Times where ``s`` crosses zero between samples ``k`` and ``k + 1`` (linear; the time
    of sample ``k`` where both are equal or ``k`` is the last sample)."""
    k1 = np.minimum(k + 1, len(s) - 1)
    s0, s1 = s[k], s[k1]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(s0 != s1, s0 / (s0 - s1), 0.0)
    return t_s[k] + frac * (t_s[k1] - t_s[k])


def first_minimum_after(t_s: np.ndarray, s: np.ndarray, i: int, rate_hz: float, delay_s: float) -> float:
    """Time of the first local minimum of ``s`` after sample ``i`` (within MIN_SEARCH_S)."""
    hi = min(len(s), i + 1 + int(MIN_SEARCH_S * rate_hz))
    tail = s[i + 1:hi]
    if len(tail) == 0:
        return float("nan")
    up = np.flatnonzero(np.diff(tail) >= 0)
    j = i + 1 + (int(up[0]) if len(up) else int(np.argmin(tail)))
    return float(t_s[j] - delay_s)


class StrideEnds:
    """What the stride before each new swing is integrated between (see
    ``SwingDetector.stride_rises_m``), one entry per swing, taken as the swing was found:
    its toe-off time at the rate's minimum (``to_s``), its contact sample (``ic_i``) and the
    contact time of the swing before it (``prev_ic_s``, NaN: none)."""

    def __init__(self):
        self.to_s: list[float] = []
        self.ic_i: list[int] = []
        self.prev_ic_s: list[float] = []

    def add(self, sw: Swing, prev: Swing | None) -> None:
        self.to_s.append(sw.to_s)
        self.ic_i.append(sw.ic_i)
        self.prev_ic_s.append(float("nan") if prev is None else prev.ic_s)


class SwingDetector:
    """Finds swings in a growing sagittal-rate signal; call ``scan`` after each block."""

    def __init__(self, rate_hz: float, swing_threshold_dps: float, delay_s: float, ic_offset_s: float,
                 to_offset_s: float = 0.0, lo_dps: float = LO_DPS, min_stance_s: float = 0.25):
        self.rate_hz = rate_hz
        self.hi_dps = swing_threshold_dps
        self.lo_dps = lo_dps
        self.min_stance_s = min_stance_s
        self.last_swing: Swing | None = None
        self.to_at_crossing = False  # thigh: toe-off from the upward zero crossing (+ offset)
        # how much the foot rose over each new swing's stride, m (NaN: unknown); called once
        # per scan with :class:`StrideEnds` of the scan's new swings (as each was found, before
        # any merging), reading samples up to their contacts
        self.stride_rises_m: Callable[[StrideEnds], np.ndarray] | None = None
        # seconds the contact of a new swing comes after the time found from the rate (thigh:
        # later on stairs down); called with the new swing and the swing before it
        self.contact_delay_s: Callable[[Swing, Swing | None], float] | None = None
        self._first_i = 0
        self._levels: list[tuple[int, float, float]] = []  # (from sample, hi, lo) changes
        self.delay_s = delay_s
        self.ic_offset_s = ic_offset_s
        self.to_offset_s = to_offset_s
        self.scan_pos = 0

    def change_thresholds(self, from_i: int, hi_dps: float, lo_dps: float) -> None:
        """Samples from index ``from_i`` on are judged with these thresholds."""
        self._levels.append((int(from_i), float(hi_dps), float(lo_dps)))

    def scan(self, t_s: np.ndarray, s: np.ndarray, gap_after: np.ndarray | None = None,
             final: bool = False) -> list[Swing]:
        """Swings completed in ``s`` (the whole history; only the tail from ``scan_pos`` is new)."""
        n = len(s)
        a0 = self.scan_pos
        if n <= a0:
            return []
        seg = s[a0:n]
        hi, lo = self._thresholds(a0, n)
        # hysteresis: the state is that of the last sample above ``hi`` (1) or below ``-lo``
        # (-1), -1 before the first; it changes at such a sample unlike the one before it
        beyond = np.flatnonzero((seg > hi) | (seg < -lo))
        up = seg[beyond] > (hi if np.isscalar(hi) else hi[beyond])
        changed = up != np.concatenate([[False], up[:-1]])
        rises = beyond[changed & up]
        falls = beyond[changed & ~up]
        # each rise closes at the next fall (they alternate); a rise with none after it is the
        # last: an open swing (rescanned from its start next time) or, at the end, closed there
        a = rises
        fi = np.searchsorted(falls, a, side="right")
        b = falls[np.minimum(fi, max(len(falls) - 1, 0))] if len(falls) else np.zeros(len(a), dtype=np.int64)
        at_end = fi >= len(falls)
        next_pos = n
        if at_end.any():
            j = int(np.argmax(at_end))
            if not final:
                next_pos = a0 + int(a[j])
                a, b, at_end = a[:j], b[:j], at_end[:j]
            else:
                b[j] = len(seg) - 1   # the recording ended: close the last swing where it stops
                keep = j + (1 if b[j] - a[j] >= 3 else 0)
                a, b, at_end = a[:keep], b[:keep], at_end[:keep]
        swings: list[Swing] = []
        ends = StrideEnds()
        for sw in self._make_swings(t_s, s, a0 + a, a0 + b, gap_after, at_end):
            if sw is None:
                continue
            if self.contact_delay_s is not None:
                delay = self.contact_delay_s(sw, self.last_swing)
                if delay:
                    sw.ic_s += delay
                    sw.ic_i = int(np.searchsorted(t_s, sw.ic_s))
            prev = self.last_swing
            if prev is not None and sw.start_s - prev.cross_s < self.min_stance_s:
                # a swing split in two by a dip is one swing (no stance is that short): the
                # foot lands at the end of the second part. The early notice of the first part
                # is then superseded (its final row carries the merged contact).
                prev.ms_i, prev.ms_s, prev.peak_dps = ((sw.ms_i, sw.ms_s, sw.peak_dps)
                                                       if sw.peak_dps > prev.peak_dps else
                                                       (prev.ms_i, prev.ms_s, prev.peak_dps))
                prev.ic_i, prev.ic_s, prev.cross_s, prev.cross_i = sw.ic_i, sw.ic_s, sw.cross_s, sw.cross_i
                prev.gap = prev.gap or sw.gap
                prev.merged = True
                continue
            ends.add(sw, prev)
            swings.append(sw)
            self.last_swing = sw
        self.scan_pos = next_pos
        if swings and self.stride_rises_m is not None and not self.to_at_crossing:
            # toe-off from how much the foot rose over each stride, all new swings at once
            t_zero = np.array([sw.start_s for sw in swings]) + self.to_offset_s
            to_s = toe_off_times_s(np.array(ends.to_s), t_zero, self.stride_rises_m(ends))
            for sw, t in zip(swings, to_s.tolist()):
                sw.to_s = t
        return swings

    def _thresholds(self, a0: int, n: int) -> tuple[np.ndarray | float, np.ndarray | float]:
        """Swing threshold and (positive) low threshold of samples a0..n-1: each sample is
        judged by the thresholds set for it (:meth:`change_thresholds`); scalars when they
        never changed."""
        if not self._levels:
            return self.hi_dps, self.lo_dps
        starts = np.array([self._first_i] + [lv[0] for lv in self._levels])
        his = np.array([self.hi_dps] + [lv[1] for lv in self._levels])
        los = np.array([self.lo_dps] + [lv[2] for lv in self._levels])
        # the samples of each setting: from its start to the next one's (a later setting
        # with the same start wins)
        bounds = np.clip(np.append(starts, n), a0, n)
        counts = np.diff(bounds)
        return np.repeat(his, counts), np.repeat(los, counts)

    def _make_swings(self, t_s: np.ndarray, s: np.ndarray, a: np.ndarray, b: np.ndarray,
                     gap_after: np.ndarray | None, at_end: np.ndarray) -> list[Swing | None]:
        """The swings between rises ``a`` and falls ``b`` of the hysteresis state (sample
        indices; windows in order, not overlapping), all at once; None where a window holds
        no swing (too short or long, or the recording ended before its contact).
        ``at_end``: the window was closed by the end of the recording, not by a fall."""
        if len(a) == 0:
            return []
        rate = self.rate_hz
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        # mid-swing: the peak
        ms = window_argext(s, a, b, largest=True)
        peak = s[ms]
        # samples L.. of s (all the windows below read only these)
        lo = np.maximum(0, a - int(ZC_SEARCH_S * rate))
        L = max(int(lo.min()) - int(TO_SEARCH_S * rate), 0)
        R = min(int(b.max()) + 2, len(s))
        sp = s[L:R]
        # zero crossing before the swing: the last sample <= 0 in [lo, a) (search back at
        # most ZC_SEARCH_S), else lo
        non_pos = np.flatnonzero(sp <= 0) + L
        before = np.searchsorted(non_pos, np.maximum(a - 1, L), side="right") - 1
        j = np.where(before >= 0, non_pos[np.maximum(before, 0)] if len(non_pos) else -1, L - 1)
        rose = (a > lo) & (j >= lo)
        zc_up = np.where(rose, j, lo)
        # where it rose through zero, between two samples (else the search's start)
        t_up = np.where(rose, zero_crossing_times_s(t_s, s, zc_up), t_s[zc_up])
        # toe-off: the rate's minimum in [zc_up - TO_SEARCH_S, zc_up]
        to_lo = np.maximum(0, zc_up - int(TO_SEARCH_S * rate))
        to_i = window_argext(s, to_lo, zc_up + 1, largest=False)
        # end of the forward swing: the rate falls through zero (first sample < 0 in [ms, b]),
        # or levels off low before that (a last, slow step onto a standing foot): the first
        # local minimum below LEVEL_FRACTION x peak
        neg = np.flatnonzero(sp < 0) + L
        after = np.searchsorted(neg, ms)
        f = np.where(after < len(neg), neg[np.minimum(after, len(neg) - 1)] if len(neg) else R, R)
        has_below = f <= b
        end_i = np.where(has_below, f, b)  # ms + end
        d = np.diff(sp)
        minima = np.flatnonzero((d[1:] >= 0) & (d[:-1] < 0)) + 1 + L
        owner = np.searchsorted(ms + 1, minima, side="right") - 1  # window starting at or before
        ok = owner >= 0
        ok[ok] &= minima[ok] < end_i[owner[ok]]
        ok[ok] &= s[minima[ok]] < LEVEL_FRACTION * peak[owner[ok]]
        flat = np.full(len(a), -1, dtype=np.int64)
        first_owner, first_j = np.unique(owner[ok], return_index=True)
        flat[first_owner] = minima[ok][first_j]
        has_flat = flat >= 0
        k = np.where(has_flat, flat, end_i - 1)
        t_cross = np.where(has_flat, t_s[k], zero_crossing_times_s(t_s, s, k))
        dur = t_cross - t_s[zc_up]
        keep = (~(at_end & ~has_below) | has_flat) & (MIN_SWING_S <= dur) & (dur <= MAX_SWING_S)
        ic_s = t_cross - self.delay_s + self.ic_offset_s
        ic_i = np.searchsorted(t_s, ic_s)
        if self.to_at_crossing:
            to_i = zc_up
            to_t = t_s[to_i]
        else:
            to_t = vertex_times_s(t_s, s, to_i)
        to_s = to_t - self.delay_s + self.to_offset_s
        if gap_after is None:
            gap = np.zeros(len(a), dtype=bool)
        else:
            gap = spans_with_mark(np.flatnonzero(gap_after[L:R]) + L, to_i, b)
        cols = (to_i, to_s, ms, t_s[ms] - self.delay_s, peak, ic_i, ic_s, gap,
                t_cross - self.delay_s, k, t_up - self.delay_s)
        return [Swing(*row) if kept else None
                for kept, *row in zip(keep.tolist(), *(c.tolist() for c in cols))]
