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

import numpy as np

from . import frontal as fr
from . import knee_angle as ka
from .buffers import GrowingArray
from .sensor_chain import SensorChain


MIN_PLAUSIBLE_DEG = -20.0      # hyper-extension beyond standing
MIN_SWING_FLEXION_DEG = 25.0   # the knee bends at least this much in a walking swing
MAX_PLAUSIBLE_DEG = 150.0


def _interp_rows(t: np.ndarray, t_src: np.ndarray, v_src: np.ndarray) -> np.ndarray:
    return np.column_stack([np.interp(t, t_src, v_src[:, k]) for k in range(v_src.shape[1])])


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

    def _decide(self, final: bool) -> None:
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
        flex = self._estimate(i0, i2)
        finite = flex[np.isfinite(flex)]
        lo, hi = np.percentile(finite, [2, 98]) if len(finite) else (np.nan, np.nan)
        if not (lo >= MIN_PLAUSIBLE_DEG and MIN_SWING_FLEXION_DEG <= hi <= MAX_PLAUSIBLE_DEG):
            self.message = (f"knee calibration rejected: the walk gives knee angles from {lo:.0f}"
                            f" to {hi:.0f} deg, not a knee's range; check the sensor straps")
            self.calibration = None
            self._estimator = None
            return
        self.flexion.append(flex)
        self.t.append(self.shank.t.view()[i0:i2])
        self._next_i = i2

    def _block(self, i0: int, i1: int) -> ka.KneeBlock:
        t = self.shank.t.view()[i0:i1]
        th = self._thigh_at(t, [self.thigh.gyr, self.thigh.acc])
        return ka.KneeBlock(t, th[:, :3], th[:, 3:], self.shank.gyr.view()[i0:i1],
                            self.shank.acc.view()[i0:i1])

    def _thigh_at(self, t: np.ndarray, arrays: list) -> np.ndarray:
        """Thigh columns (GrowingArrays, side by side) at the shank's times ``t`` (linear
        interpolation; the rows themselves when both sensors share these timestamps)."""
        th_t = self.thigh.t.view()
        if len(t):
            j = int(np.searchsorted(th_t, t[0]))
            if j + len(t) <= len(th_t) and th_t[j] == t[0] and th_t[j + len(t) - 1] == t[-1] \
                    and np.array_equal(th_t[j:j + len(t)], t):
                return np.hstack([a.view()[j:j + len(t)] for a in arrays])
        return _interp_rows(t, th_t, np.hstack([a.view() for a in arrays]))

    def _estimate(self, i0: int, i1: int) -> np.ndarray:
        """Flexion over shank samples [i0, i1), from the chains' own orientations."""
        sh = self.shank
        t = sh.t.view()[i0:i1]
        q_th = self._thigh_at(t, [self.thigh.quat, self.thigh.bias, self.thigh.gyr])
        up_th = ka.up_from_quat(q_th[:, :4])
        up_sh = ka.up_from_quat(sh.quat.view()[i0:i1])
        return self._estimator.update_oriented(t, q_th[:, 7:10], q_th[:, 4:7], up_th,
                                               sh.gyr.view()[i0:i1], sh.bias.view()[i0:i1], up_sh)

    def advance(self, final: bool = False) -> None:
        if not self.decided:
            self._decide(final)
        if self._estimator is None:
            return
        t = self.shank.t.view()
        stop = len(t) if final else int(np.searchsorted(t, self.thigh.last_t, side="right"))
        if stop <= self._next_i:
            return
        self.flexion.append(self._estimate(self._next_i, stop))
        self.t.append(t[self._next_i:stop])
        self._next_i = stop

    def at_contact(self, ic_s: float) -> float | None:
        """Flexion at the contact (linear interpolation, as knee_angle.knee_flexion_at_ic)."""
        t = self.t.view()
        if len(t) == 0 or not t[0] <= ic_s <= t[-1]:
            return None
        return float(np.interp(ic_s, t, self.flexion.view()))

    def min_in_stance(self, ic_s: float, to_s: float | None) -> float | None:
        """Smallest flexion over [ic, to] incl. interpolated ends (as knee_min_flexion_in_stance)."""
        t = self.t.view()
        if len(t) == 0 or to_s is None or not (t[0] <= ic_s <= to_s <= t[-1]):
            return None
        f = self.flexion.view()
        i0, i1 = int(t.searchsorted(ic_s, "left")), int(t.searchsorted(to_s, "right"))
        ends = np.interp([ic_s, to_s], t, f)
        inner = f[i0:i1]
        return float(min(ends.min(), inner.min())) if len(inner) else float(ends.min())

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
    """Shank frontal-plane angle (deg, + = knee outward) and rate (deg/s) series."""

    def __init__(self, shank: SensorChain, knee: KneeStage | None = None):
        self.shank = shank
        self.knee = knee  # with a thigh: the knee calibration's shank axis is used when found
        self._estimator: fr.FrontalEstimator | None = None
        self._next_i = 0
        self.message: str | None = None
        self.t = GrowingArray()
        self.angle = GrowingArray()
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
        angle, rate = self._estimator.update_oriented(ch.gyr.view()[sl], ch.acc.view()[sl],
                                                      ch.quat.view()[sl], ch.bias.view()[sl])
        self.t.append(ch.t.view()[sl])
        self.angle.append(angle)
        self.rate.append(rate)
        self._next_i = n

    def in_stance(self, ic_s: float, to_s: float | None) -> tuple[float | None, float | None]:
        if self.t.n == 0 or to_s is None:
            return None, None
        t = self.t.view()
        if not (t[0] <= ic_s < to_s <= t[-1]):
            return None, None
        sl = slice(int(t.searchsorted(ic_s, "left")), int(t.searchsorted(to_s, "right")))
        rng = fr.frontal_range_deg(self.angle.view()[sl])
        wob = fr.frontal_wobble_dps(self.rate.view()[sl])
        return (None if not np.isfinite(rng) else rng), (None if not np.isfinite(wob) else wob)
