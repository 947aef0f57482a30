"""Engine stages around the knee-angle and frontal-plane modules (knee_angle.py, frontal.py).

:class:`KneeStage` (a leg with thigh + shank) decides the hinge calibration once both sensors
are calibrated — from the shank's quiet standing window and the walking up to the later of the
two calibration checkpoints — then runs the streaming knee-flexion estimator over the shank's
samples with the thigh interpolated onto them. :class:`FrontalStage` (any shank) runs the
frontal-plane estimator in the shank frame of the segment calibration. Both take each sensor's
orientation and gyro bias from its chain (one ``vqf`` per sensor for every stage). Both advance
only over samples every sensor has covered, so any split into blocks gives the same series.
"""

from __future__ import annotations

import math

import numpy as np

from . import frontal as fr
from . import knee_angle as ka
from .buffers import GrowingArray
from .quaternion import rotate
from .sensor_chain import SensorChain
from .windows import spans_with_mark, windows_by_length


MIN_PLAUSIBLE_DEG = -20.0      # hyper-extension beyond standing
MIN_SWING_FLEXION_DEG = 25.0   # the knee bends at least this much in a walking swing
MAX_PLAUSIBLE_DEG = 150.0


class KneeStage:
    """Knee flexion series of one leg (deg; 0 = as when standing, + = more bent)."""

    def __init__(self, shank: SensorChain, thigh: SensorChain):
        self.shank, self.thigh = shank, thigh
        self.decided = False
        self.calibration: ka.KneeCalibration | None = None
        self.message: str | None = None
        self._estimator: ka.KneeAngleEstimator | None = None
        self._next_i = 0
        self.t = GrowingArray()
        self.flexion = GrowingArray()

    def _decide(self, final: bool, stop: int) -> None:
        """Calibrate the hinge once both sensors are calibrated; when accepted, the flexion
        series starts, estimated up to shank sample ``stop`` (the advance's end) at once."""
        sc, tc = self.shank.calibration, self.thigh.calibration
        if sc is None or tc is None:
            if final:
                self.decided = True
                self.message = "thigh or shank never calibrated (no walking found)"
            return
        t_end = max(sc.calibrated_at_s, tc.calibrated_at_s)
        if not final and (self.shank.last_t < t_end or self.thigh.last_t < t_end):
            return
        self.decided = True
        if sc.standing_s is None:
            self.message = "no quiet standing: the knee angle has no zero (columns left empty)"
            return
        t = self.shank.t.view()
        i0 = int(np.searchsorted(t, sc.standing_s[0]))
        i1 = int(np.searchsorted(t, sc.standing_s[1], side="right"))
        i2 = int(np.searchsorted(t, t_end, side="right"))
        try:
            standing = self._block(i0, i1)
            walking = self._block(i1, i2)
            self.calibration = ka.calibrate(standing, walking, rate_hz=self.shank.rate_hz)
        except (ka.KneeCalibrationError, ValueError) as exc:
            self.message = f"knee calibration failed: {exc}"
            return
        # plausibility: over the calibration walk the knee must bend (swing) and must not
        # over-extend far past standing (the series from the standing window on is kept)
        self._estimator = ka.KneeAngleEstimator(self.calibration)
        # the series on to the advance's end in one piece (the estimator runs in sample order,
        # so the same values as two pieces); its calibration walk is judged
        stop = max(stop, i2)
        flex = self._estimate(i0, stop)
        walk = flex[:i2 - i0]
        finite = walk[np.isfinite(walk)]
        lo, hi = np.percentile(finite, [2, 98]) if len(finite) else (np.nan, np.nan)
        if not (lo >= MIN_PLAUSIBLE_DEG and MIN_SWING_FLEXION_DEG <= hi <= MAX_PLAUSIBLE_DEG):
            self.message = (f"knee calibration rejected: the walk gives knee angles from {lo:.0f}"
                            f" to {hi:.0f} deg, not a knee's range; check the sensor straps")
            self.calibration = None
            self._estimator = None
            return
        self.flexion.append(flex, adopt=True)  # a fresh array: the buffer's own
        self.t.append_copy(self.shank.t.view()[i0:stop])
        self._next_i = stop

    def _block(self, i0: int, i1: int) -> ka.KneeBlock:
        t = self.shank.t.view()[i0:i1]
        th = self._thigh_at(t, [self.thigh.gyr, self.thigh.acc])
        return ka.KneeBlock(t, th[:, :3], th[:, 3:], self.shank.gyr.view()[i0:i1],
                            self.shank.acc.view()[i0:i1])

    def _thigh_at(self, t: np.ndarray, arrays: list, terms: bool = False) -> np.ndarray:
        """Thigh columns (GrowingArrays, side by side) at the shank's times ``t`` (linear
        interpolation; the rows themselves when both sensors share these timestamps).
        ``terms``: instead, the knee estimator's thigh terms (from quat, bias, gyr)."""
        th_t = self.thigh.t.view()
        if len(t) == 0 or len(th_t) == 0:
            return np.zeros((len(t), 3 if terms else sum(a.view().shape[1] for a in arrays)))
        j = int(np.searchsorted(th_t, t[0]))
        if j + len(t) <= len(th_t) and th_t[j] == t[0] and np.array_equal(th_t[j:j + len(t)], t):
            lo, hi, same = j, j + len(t), True
        else:
            # only the thigh samples around these times (the history is long)
            lo = max(j - 1, 0)
            hi = min(int(np.searchsorted(th_t, t[-1], side="right")) + 1, len(th_t))
            same = False
        if terms:
            th = self.thigh
            v = self._estimator.quat_terms("thigh", th.quat.view()[lo:hi], th.gyr.view()[lo:hi],
                                           th.bias.view()[lo:hi])
        else:
            v = np.hstack([a.view()[lo:hi] for a in arrays])
        return v if same else ka.resample_to(t, th_t[lo:hi], v)

    def _estimate(self, i0: int, i1: int) -> np.ndarray:
        """Flexion over shank samples [i0, i1), from the chains' own orientations."""
        sh = self.shank
        t = sh.t.view()[i0:i1]
        thigh_terms = self._thigh_at(t, [], terms=True)
        shank_terms = self._estimator.quat_terms("shank", sh.quat.view()[i0:i1], sh.gyr.view()[i0:i1],
                                                 sh.bias.view()[i0:i1])
        return self._estimator.update_terms(t, thigh_terms, shank_terms)

    def advance(self, final: bool = False) -> None:
        t = self.shank.t.view()
        stop = len(t) if final else int(np.searchsorted(t, self.thigh.last_t, side="right"))
        if not self.decided:
            self._decide(final, stop)
        if self._estimator is None:
            return
        if stop <= self._next_i:
            return
        self.flexion.append(self._estimate(self._next_i, stop), adopt=True)
        self.t.append_copy(t[self._next_i:stop])
        self._next_i = stop

    def at_contact(self, ic_s: float) -> float | None:
        """Flexion at the contact (linear interpolation, as knee_angle.knee_flexion_at_ic)."""
        return self.at_contacts(np.array([ic_s]))[0]

    def at_contacts(self, ic_s: np.ndarray) -> list[float | None]:
        """:meth:`at_contact` for many contacts at once."""
        t = self.t.view()
        if len(t) == 0:
            return [None] * len(ic_s)
        ic_s = np.asarray(ic_s, dtype=float)
        vals = np.interp(ic_s, t, self.flexion.view())
        inside = (t[0] <= ic_s) & (ic_s <= t[-1])
        return [float(v) if ok else None for v, ok in zip(vals.tolist(), inside.tolist())]

    def min_in_stances(self, ic_s: np.ndarray, to_s: np.ndarray) -> np.ndarray:
        """Smallest flexion over each stance [ic, to] incl. interpolated ends (as
        knee_min_flexion_in_stance); NaN: not measurable (``to_s`` NaN: no toe-off)."""
        out = np.full(len(ic_s), np.nan)
        t = self.t.view()
        if len(t) == 0:
            return out
        ic = np.asarray(ic_s, dtype=float)
        to = np.asarray(to_s, dtype=float)
        ok = np.flatnonzero((t[0] <= ic) & (ic <= to) & (to <= t[-1]))
        if len(ok) == 0:
            return out
        ic, to = ic[ok], to[ok]
        f = self.flexion.view()
        ends = np.minimum(np.interp(ic, t, f), np.interp(to, t, f))
        i0, i1 = t.searchsorted(ic, "left"), t.searchsorted(to, "right")
        inner = np.full(len(ok), np.inf)
        for sel, idx in windows_by_length(i0, i1):
            inner[sel] = np.minimum.reduce(f[idx], axis=1)
        # NaN inside a stance: the ends, as a comparison with NaN is False
        out[ok] = np.where(inner < ends, inner, ends)
        return out

    def report(self) -> dict:
        c = self.calibration
        return {
            "calibrated": c is not None,
            "message": self.message,
            "residual_dps": None if c is None else round(c.residual_dps, 2),
            "residual_rel": None if c is None else round(c.residual_rel, 3),
            "residual_up": None if c is None else round(c.residual_up, 4),
        }


class FrontalStage:
    """Shank frontal-plane rate (deg/s) and travel axis (x, y) series; per-stance range and
    wobble (:meth:`in_stances`; the range across each stride's walking direction when one is
    given, see the module doc of :mod:`.frontal`, else of the frontal angle (deg, + = knee
    outward), computed from the travel axis only in the stances that need it)."""

    def __init__(self, shank: SensorChain, knee: KneeStage | None = None):
        self.shank = shank
        self.knee = knee  # with a thigh: the knee calibration's shank axis is used when found
        self._estimator: fr.FrontalEstimator | None = None
        self._next_i = 0
        self.message: str | None = None
        # the series' times: the shank's own (index i of every series is the shank's sample
        # i; the series cover the samples before ``_next_i``)
        self.t = shank.t
        self.travel_x = GrowingArray()
        self.travel_y = GrowingArray()
        self.rate = GrowingArray()

    def advance(self, final: bool = False) -> None:
        ch = self.shank
        if self._estimator is None:
            if ch.calibration is None or self.message:
                return
            if self.knee is not None and not self.knee.decided:
                return
            try:
                if self.knee is not None and self.knee.calibration is not None:
                    frame = fr.shank_frame_from_knee(self.knee.calibration)
                else:
                    frame = fr.shank_frame_from_axes(ch.calibration.flexion_axis,
                                                     ch.calibration.up_axis, ch.rate_hz)
            except ValueError as exc:
                self.message = f"no frontal plane: {exc}"
                return
            self._estimator = fr.FrontalEstimator(frame, side=ch.side)
        n = ch.t.n
        if n <= self._next_i:
            return
        sl = slice(self._next_i, n)
        dx, dy, rate = self._estimator.update_travel(ch.gyr.view()[sl], ch.acc.view()[sl],
                                                     ch.quat.view()[sl], ch.bias.view()[sl],
                                                     ch.acc_world.view()[sl])
        self.travel_x.append(dx, adopt=True)  # fresh arrays: the buffers' own
        self.travel_y.append(dy, adopt=True)
        self.rate.append(rate, adopt=True)
        self._next_i = n

    def in_stances(self, ic_s: np.ndarray, to_s: np.ndarray,
                   travel_xy: np.ndarray | None = None) -> np.ndarray:
        """(range deg, RMS rate dps) of the frontal angle over each stance [ic, to], shape
        (K, 2): over the finite samples of the stance (NaN where it has none, is not covered
        by the series, or ``to_s`` is NaN: no toe-off).

        ``travel_xy`` (K, 2): a walking direction per stance (:class:`.frontal.StrideHeading`;
        NaN rows: none): the range is then that of the shank's standing-up axis projected
        across it (:meth:`_ranges_across`) instead of the series' angle."""
        out = np.full((len(ic_s), 2), np.nan)
        t = self.t.view()[:self._next_i]
        if len(t) == 0:
            return out
        ic = np.asarray(ic_s, dtype=float)
        to = np.asarray(to_s, dtype=float)
        ok = np.flatnonzero((t[0] <= ic) & (ic < to) & (to <= t[-1]))
        if len(ok) == 0:
            return out
        i0, i1 = t.searchsorted(ic[ok], "left"), t.searchsorted(to[ok], "right")
        rate = self.rate.view()
        rng = np.full(len(ok), np.nan)
        across = np.zeros(len(ok), dtype=bool)
        if travel_xy is not None:
            across = np.isfinite(np.asarray(travel_xy, dtype=float)[ok, 0])
            if across.any():
                rng[across] = self._ranges_across(i0[across], i1[across], travel_xy[ok[across]])
        quat, dx, dy = self.shank.quat.view(), self.travel_x.view(), self.travel_y.view()
        for sel, idx in windows_by_length(i0, i1, ~across):
            a = self._estimator.angle_deg(quat[idx], dx[idx], dy[idx])
            rng[sel] = np.fmax.reduce(a, axis=1) - np.fmin.reduce(a, axis=1)  # NaN skipped
        out[ok, 0] = rng
        out[ok, 1] = _rms_in_windows(rate, i0, i1)
        return out

    def _ranges_across(self, i0: np.ndarray, i1: np.ndarray, travel_xy: np.ndarray) -> np.ndarray:
        """Range (deg) over samples ``[i0[k], i1[k])`` of the shank's standing-up axis (the
        frame's ``standing_up``: along the shank as it stands, not made normal to the flexion
        axis) projected on the vertical plane across ``travel_xy[k]``; NaN samples skipped."""
        # the axis at the windows' samples only, one after the other (stances: a third of a
        # walk's samples), rotated row by row
        length = np.maximum(i1 - i0, 0)
        start = np.cumsum(length) - length   # window k's first row in the rotated samples
        rows = np.repeat(i0 - start, length) + np.arange(int(length.sum()))
        axis = rotate(self.shank.quat.view()[rows], self._estimator.frame.standing_up)
        d = np.asarray(travel_xy, dtype=float)
        rng = np.full(len(i0), np.nan)
        for sel, idx in windows_by_length(start, start + length):
            a = fr.frontal_angle_across_deg(axis[idx], d[sel, 0, None], d[sel, 1, None])
            rng[sel] = np.fmax.reduce(a, axis=1) - np.fmin.reduce(a, axis=1)
        return rng


def _rms_in_windows(x: np.ndarray, i0: np.ndarray, i1: np.ndarray) -> np.ndarray:
    """RMS of the finite values of ``x[i0[k]:i1[k]]`` for each k (NaN where there are none).

    Each window's squares are summed on their own, in their own order: the result of a window
    never depends on the others (a padded sum's rounding would). Windows of one length and no
    NaN are summed together as the rows of one array (a row's sum is the same as the slice's,
    bit for bit); the rest one by one. Squares and finite marks are computed once over the
    windows' span."""
    out = np.full(len(i0), np.nan)
    if len(i0) == 0:
        return out
    lo_all = int(i0.min())
    r = x[lo_all:int(i1.max())]
    sq = r * r
    finite = np.isfinite(r)
    lo, hi = i0 - lo_all, i1 - lo_all
    clean = ~spans_with_mark(np.flatnonzero(~finite), lo, hi)
    for sel, idx in windows_by_length(lo, hi, clean):
        out[sel] = np.sqrt(np.add.reduce(sq[idx], axis=1) / idx.shape[1])
    for k in np.flatnonzero(~clean).tolist():
        part = sq[lo[k]:hi[k]][finite[lo[k]:hi[k]]]
        if len(part):
            out[k] = math.sqrt(float(np.add.reduce(part)) / len(part))
    return out
