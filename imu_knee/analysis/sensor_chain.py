"""Everything one sensor's samples go through: buffers, low-pass, orientation, calibration,
sagittal rate and swing detection. Each stage keeps its own state; ``push`` takes a block.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import calibration as cal
from .activity import NO_PREVIOUS_STRIDE_S, sagittal_inclination_deg, thigh_stride_class
from .buffers import GrowingArray
from .events import StrideEnds, Swing, SwingDetector
from .lowpass import StreamingLowpass
from .orientation import StreamingOrientation
from .quaternion import dot_rows, rotate, row_norms
from .stride import ankle_displacements, midstance_indices, squared_norms
from .stride_at_contact import displacement_to
from .windows import spans_with_mark
from ..recording import GRAVITY_MPS2

QUIET_GYRO_DPS = 30.0
QUIET_ACC_MPS2 = 1.5
RISE_LEVER_M = 0.25        # ankle below a shank sensor (typical; only the rise's sign matters)
RISE_AFTER_IC_S = 0.12     # the mid-stance anchor is searched after the contact's transient
RISE_MAX_STANCE_S = 2.0
# thigh-only legs, stairs down: the foot lands this long after the contact time found from
# the thigh's rate (virtual IMU motion capture: median 65 ms early without it)
THIGH_DOWN_CONTACT_DELAY_S = 0.065
PROVISIONAL_THRESHOLD_FACTOR = 1.5  # swing threshold from a provisional calibration's one swing


def on_sample_grid(columns: list[np.ndarray], before: list[np.ndarray],
                   periods: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Samples put back on the nominal grid for a filter that assumes a fixed rate.

    ``periods[j]``: sample periods since the sample before j (``before``: the values of the
    one before the first). A sample that comes k > 1 periods later is preceded by k - 1
    linear interpolations; one with 0 (a repeated time) is left out. Returns the columns on
    the grid and, per sample, the row of its own value counting the sample before as row 0
    (a left-out sample points at the row before it)."""
    c = np.maximum(periods, 0)
    rep = np.repeat(np.arange(len(c)), c)
    frac = ((np.arange(len(rep)) - (np.cumsum(c) - c)[rep] + 1) / c[rep])[:, None]
    out = []
    for col, b in zip(columns, before):
        prev = np.vstack([b[None, :], col[:-1]])[rep]
        out.append(prev + frac * (col[rep] - prev))
    return out, np.cumsum(c)


def _first_quiet(acc: np.ndarray, gyr: np.ndarray, a: int, b: int) -> int | None:
    """The first quiet sample in [a, b) (slow rotation, |acc| near g), or None; looked for in
    growing pieces (it usually comes soon after a gap)."""
    lo, size = a, 64
    while lo < b:
        hi = min(lo + size, b)
        quiet = ((row_norms(gyr[lo:hi]) < QUIET_GYRO_DPS)
                 & (np.abs(row_norms(acc[lo:hi]) - GRAVITY_MPS2) < QUIET_ACC_MPS2))
        hits = np.flatnonzero(quiet)
        if len(hits):
            return lo + int(hits[0])
        lo, size = hi, size * 4
    return None


def _as_rows(x, width: int | None) -> np.ndarray:
    """A pushed column (``width`` None) or (N, width) block as float64 (no copy if it is)."""
    a = np.asarray(x, dtype=np.float64)
    return a.reshape(-1) if width is None else a.reshape(-1, width)


class _HeldArray(GrowingArray):
    """Raw samples: their memory is kept while ``hold()`` (the full calibration still reads
    them from the standing on), whatever a live engine asks to forget."""

    def __init__(self, width: int, hold):
        super().__init__(width)
        self._hold = hold

    def forget_before(self, i: int) -> None:
        if not self._hold():
            super().forget_before(i)


@dataclass
class ChainConfig:
    lowpass_hz: float = 12.0
    thigh_lowpass_hz: float = 5.0      # the thigh's sagittal rate is slow and noisier
    thigh_swing_fraction: float = 0.35
    thigh_lo_fraction: float = 0.15
    ic_offset_s: dict | None = None   # per segment: seconds added to the zero-crossing contact
    to_offset_s: dict | None = None
    checkpoint_s: float = 1.0
    gap_factor: float = 3.0            # a sample interval this many times nominal is a gap
    swing_fraction: float = 0.3       # swing threshold: this fraction of the calibration swing peak

    def ic_offset(self, segment: str) -> float:
        return (self.ic_offset_s or {"shank": 0.004, "thigh": 0.11}).get(segment, 0.0)

    def to_offset(self, segment: str) -> float:
        return (self.to_offset_s or {"shank": 0.0, "thigh": 0.09}).get(segment, 0.0)


class SensorChain:
    """One sensor: push blocks of (t_s, acc_mps2, gyr_dps); read swings and signals back."""

    def __init__(self, name: str, rate_hz: float, config: ChainConfig | None = None):
        self.name = name
        self.side, self.segment = name.split("_")
        self.rate_hz = float(rate_hz)
        self.config = config or ChainConfig()
        self.t = GrowingArray()
        self.acc = _HeldArray(3, self._full_calibration_pending)
        self.gyr = _HeldArray(3, self._full_calibration_pending)
        self.gyr_lp = GrowingArray(3)
        # blocks (first sample, sample periods) not low-passed yet: a chain that detects no
        # events reads its low-passed rate only up to its calibration (:meth:`_lowpass_to`)
        self._lp_pending: list[tuple[int, np.ndarray]] = []
        self.gyr_lp_sq = GrowingArray()  # |low-passed rate|², (deg/s)², see :meth:`gyr_lp_sq_view`
        self.quat = GrowingArray(4)
        self.bias = GrowingArray(3)                # VQF gyro-bias estimate, deg/s (NaN = unknown)
        # gravity removed, world frame (z up); only while ``detect_events`` (a thigh on a leg
        # with a shank sensor has none: nothing reads it)
        self.acc_world = GrowingArray(3)
        self.gap_after = GrowingArray(dtype=bool)  # True: a gap between sample i and i+1
        self.sag = GrowingArray()                  # sagittal rate (after calibration)
        cutoff = self.config.thigh_lowpass_hz if self.segment == "thigh" else self.config.lowpass_hz
        self._lowpass = StreamingLowpass(cutoff, self.rate_hz, 3)
        self._orientation = StreamingOrientation(self.rate_hz)
        self.calibration: cal.SegmentCalibration | None = None
        self.windows: list[cal.WindowStats] = []
        self._tally = cal.WindowTally()
        self._next_window_i = 0
        self._runs: list[tuple[int, int] | None] = []   # longest still run after each window
        self._prov_next_i = 0                          # provisional calibration: next sample to judge
        self._pending: tuple[cal.SegmentCalibration, int] | None = None  # full calibration, from sample
        self._sag_axes: list[tuple[int, np.ndarray]] = []  # (from sample, axis) of the sagittal rate
        self.detector: SwingDetector | None = None
        self.swings: list[Swing] = []
        self.max_abs_acc = 0.0
        self.gaps: list[tuple[float, float]] = []
        self.finished = False
        # off for a thigh when its leg has a shank (shank events used); set before any push
        self.detect_events = True
        self._await_quiet = False
        self._last_orientation: tuple[np.ndarray, np.ndarray] | None = None  # after the last sample
        self.restarts_s: list[float] = []  # orientation restarted after a gap, at these times

    def _full_calibration_pending(self) -> bool:
        return self.calibration is not None and self.calibration.provisional

    # ------------------------------------------------------------------ pushing

    def push(self, t_s: np.ndarray, acc_mps2: np.ndarray, gyr_dps: np.ndarray) -> list[Swing]:
        """Add a block of samples (times, m/s², deg/s); returns the swings it completed.

        A first block longer than the buffers' initial capacity (a whole recording pushed at
        once) is kept by reference, not copied: its arrays must not change afterwards (a
        recording's never do). Later blocks are copied."""
        t_s, acc, gyr = _as_rows(t_s, None), _as_rows(acc_mps2, 3), _as_rows(gyr_dps, 3)
        if len(t_s) == 0:
            return []
        n_old = self.t.n
        prev_t = self.t.view()[-1] if n_old else None
        # a long first block (a whole recording) is kept, not copied (see the docstring)
        self.t.append(t_s, adopt=True)
        self.acc.append(acc, adopt=True)
        self.gyr.append(gyr, adopt=True)
        dt = np.diff(t_s, prepend=t_s[0] if prev_t is None else prev_t)
        is_gap = dt > self.config.gap_factor / self.rate_hz
        # sample periods since the sample before (1 normally; 2 after a dropped sample; 0 for
        # a repeated time): the filters run on the nominal grid (see on_sample_grid)
        periods = np.where(is_gap, 1, np.rint(dt * self.rate_hz)).astype(np.int64)
        if prev_t is None:
            periods[0] = 1
        # the arrays made here are the buffers' own (kept without a copy when pushed whole)
        if self.detect_events:
            self._append_lowpassed(gyr, periods, n_old)
        elif self.calibration is None:  # (a copy: the orientation marks restarts in periods)
            self._lp_pending.append((n_old, periods.copy()))
        q, bias = self._orientation_with_resets(acc, gyr, is_gap, periods, n_old)
        self.quat.append(q, adopt=True)
        self.bias.append(bias, adopt=True)
        if self.detect_events:  # read by the event-sensor's integrations only
            a_w = rotate(q, acc)
            a_w[:, 2] -= GRAVITY_MPS2
            self.acc_world.append(a_w, adopt=True)
        if n_old:
            # mark the gap on the sample before it
            self.gap_after.view()[n_old - 1] |= bool(is_gap[0])
        self.gap_after.append(np.concatenate([is_gap[1:], [False]]), adopt=True)
        for j in np.flatnonzero(is_gap):
            start = prev_t if j == 0 else t_s[j - 1]
            self.gaps.append((float(start), float(t_s[j])))
        # the largest |value| without an |acc| array (NaN if any is NaN, as np.abs(acc).max())
        self.max_abs_acc = max(self.max_abs_acc, float(np.maximum(acc.max(), -acc.min())))
        return self._advance(final=False)

    def _orientation_with_resets(self, acc, gyr, gap_before: np.ndarray, periods: np.ndarray,
                                 n_old: int) -> tuple[np.ndarray, np.ndarray]:
        """Orientation and gyro bias; after a gap (the segment moved while no data came) it
        restarts at the first quiet sample (slow rotation, |acc| near g); until then it is
        unknown (NaN)."""
        cuts = np.flatnonzero(gap_before)
        # (quaternions, bias) of every sample, each written once (not touched when the filter's
        # own arrays are returned)
        out = np.empty((len(acc), 4)), np.empty((len(acc), 3))
        known_to = 0
        for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(acc)]):
            if a in cuts:
                self._await_quiet = True
            if self._await_quiet:
                first = _first_quiet(acc, gyr, a, b)
                if first is None:
                    continue
                a = first
                self.restarts_s.append(float(self.t.view()[self.t.n - len(acc) + a]))
                self._orientation.reset()
                self._last_orientation = None
                self._await_quiet = False
            if a in cuts or self._last_orientation is None:
                periods[a] = 1  # a (re)start: nothing to fill in before it
            if a > 0:
                before = acc[a - 1], gyr[a - 1]
            else:
                before = (self.acc.view()[n_old - 1], self.gyr.view()[n_old - 1]) if n_old else (acc[0], gyr[0])
            if (a, b) == (0, len(acc)) and np.all(periods == 1):
                # known throughout on the grid (no gap): the filter's own arrays
                return self._on_grid(acc, gyr, periods, before)
            for o in out:
                o[known_to:a] = np.nan
            self._on_grid(acc[a:b], gyr[a:b], periods[a:b], before, [o[a:b] for o in out])
            known_to = b
        for o in out:
            o[known_to:] = np.nan
        return out

    def _append_lowpassed(self, gyr: np.ndarray, periods: np.ndarray, n_old: int) -> None:
        """Low-pass the block ``gyr`` (its first sample at index ``n_old``) onto ``gyr_lp``.
        The filter gives its rows column-major: a row-order copy of its own, in ordinary
        memory, is cheaper than the copy into a fresh map that append would make."""
        self.gyr_lp.append(np.ascontiguousarray(self._lowpass_on_grid(gyr, periods, n_old)),
                           adopt=True)

    def _lowpass_on_grid(self, gyr: np.ndarray, periods: np.ndarray, n_old: int) -> np.ndarray:
        if np.all(periods == 1):
            return self._lowpass.process(gyr)
        last_in, last_out = ((self.gyr.view()[n_old - 1], self.gyr_lp.view()[n_old - 1]) if n_old
                             else (gyr[0], np.full(3, np.nan)))
        (gyr_g,), pos = on_sample_grid([gyr], [last_in], periods)
        return np.vstack([last_out[None, :], self._lowpass.process(gyr_g)])[pos]

    def _lowpass_to(self, upto: int) -> None:
        """Low-pass the pending samples before ``upto`` (each block as :meth:`push` would
        have; any split gives the same values)."""
        while self._lp_pending and self.gyr_lp.n < upto:
            start, periods = self._lp_pending[0]
            lo, end = self.gyr_lp.n, start + len(periods)
            hi = min(end, upto)
            self._append_lowpassed(self.gyr.view()[lo:hi], periods[lo - start:hi - start], lo)
            if hi == end:
                self._lp_pending.pop(0)

    def gyr_lp_sq_view(self) -> np.ndarray:
        """Squared norms of the low-passed rate's rows (the mid-stance searches read them),
        extended to every low-passed sample so far (computed once per sample)."""
        n, done = self.gyr_lp.n, self.gyr_lp_sq.n
        if n > done:
            self.gyr_lp_sq.append(squared_norms(self.gyr_lp.view()[done:n]), adopt=True)
        return self.gyr_lp_sq.view()

    def _on_grid(self, acc, gyr, periods, before, out=None) -> tuple[np.ndarray, np.ndarray]:
        """Orientation of samples that may have dropped ones (``periods`` > 1: that many sample
        periods since the sample before) or repeat a time (0) between them. The filter
        integrates the gyro over one nominal period per update, so a dropped sample would
        lose its rotation: the missing ones are fed as linear interpolations (``before``: the
        sample before the first); a repeated one is not fed and takes the orientation before.
        Written into ``out`` (quaternions, bias) if given."""
        if np.all(periods == 1):
            q, b = self._orientation.process_with_bias(acc, gyr, out)
        else:
            (acc_g, gyr_g), pos = on_sample_grid([acc, gyr], before, periods)
            qx, bx = self._orientation.process_with_bias(acc_g, gyr_g)
            q, b = out if out is not None else (np.empty((len(acc), 4)), np.empty((len(acc), 3)))
            # row 0 of pos: the orientation before (a repeated time at the start), then qx's rows
            lead = int(np.searchsorted(pos, 0, side="right"))
            if lead:
                last = self._last_orientation or (np.full(4, np.nan), np.full(3, np.nan))
                q[:lead], b[:lead] = last
            np.take(qx, pos[lead:] - 1, axis=0, out=q[lead:])
            np.take(bx, pos[lead:] - 1, axis=0, out=b[lead:])
        if len(q):
            self._last_orientation = (q[-1].copy(), b[-1].copy())
        return q, b

    def finish(self) -> list[Swing]:
        self.finished = True
        return self._advance(final=True)

    # ------------------------------------------------------------------ stages

    def _advance(self, final: bool) -> list[Swing]:
        if self.calibration is None or self.calibration.provisional:
            self._calibrate(final)
            if self.calibration is None:
                return []
        if not self.detect_events:
            return []
        n_done = self.sag.n
        n = self.t.n if self._pending is None else self._pending[1]
        if n > n_done:
            # one new array for all the axes' pieces (kept as the buffer's storage when whole)
            sag = np.empty(n - n_done)
            ends = [a for a, _ in self._sag_axes[1:]] + [n]
            for (a, axis), b in zip(self._sag_axes, ends):
                lo, hi = max(a, n_done), min(b, n)
                if hi > lo:
                    # element by element, not BLAS (whose threads would wake for long blocks)
                    sag[lo - n_done:hi - n_done] = dot_rows(self.gyr_lp.view()[lo:hi], axis)
            self.sag.append(sag, adopt=True)
        new = self.detector.scan(self.t.view(), self.sag.view(), self.gap_after.view(), final=final)
        self.swings.extend(new)
        return new

    def _calibrate(self, final: bool) -> None:
        t = self.t.view()
        if len(t) == 0:
            return
        if self._pending is not None:
            result, i1 = self._pending
            self._pending = None
            self._set_calibration(result, upto=i1)
            return
        step = self.config.checkpoint_s
        t0 = t[0]
        acc, gyr = self.acc.view(), self.gyr.view()
        while True:
            k = len(self.windows)
            w0, w1 = t0 + k * step, t0 + (k + 1) * step
            if t[-1] < w1 and not final:
                break  # checkpoint not passed yet: decide only on complete windows
            if self._next_window_i >= len(t):
                break
            i1 = int(np.searchsorted(t, w1, side="left"))
            self.windows.append(cal.window_stats(t, acc, gyr, self._next_window_i, i1, w0, w1,
                                                 self.rate_hz))
            self._tally.add(self.windows[-1])
            self._runs.append(self._tally.best_run)
            self._next_window_i = i1
            result = cal.calibrate(t, acc, gyr, self.windows, at_s=w1, final=False,
                                   segment=self.segment, tally=self._tally)
            if result is not None:
                self._provisional(i1)  # a first swing before this checkpoint counts first
                if self.calibration is not None and self.calibration.provisional:
                    # the stages see the provisional calibration after this block, this one
                    # from the next (any split into blocks then gives the same stages)
                    self._pending = (result, i1)
                else:
                    self._set_calibration(result)
                return
        self._provisional(len(t))
        if final:
            result = cal.calibrate(t, acc, gyr, self.windows, at_s=float(t[-1]), final=True,
                                   segment=self.segment, tally=self._tally)
            if result is not None:
                self._set_calibration(result)
            elif self.calibration is not None:  # the provisional axis stays
                self.calibration.calibrated_at_s = self.calibration.quality["provisional_at_s"]
                self.calibration.flags.append("provisional_flexion_axis")

    def _provisional(self, upto: int) -> None:
        """A provisional calibration at the end of the first swing after quiet standing
        (samples before ``upto`` only; each sample is judged from the windows complete at its
        time, so any split into blocks decides at the same sample). The full calibration
        replaces it at its checkpoint; until then its axis gives the sagittal rate."""
        if self.calibration is not None or not self.detect_events or not self._runs:
            return
        t = self.t.view()
        t1s = np.array([w.t1_s for w in self.windows])
        while self._prov_next_i < upto:
            i = self._prov_next_i
            k = int(np.searchsorted(t1s, t[i], side="right"))  # windows complete at sample i
            # samples [i, same_k) see the same complete windows
            same_k = int(np.searchsorted(t, t1s[k], side="left")) if k < len(t1s) else upto
            same_k = max(i + 1, min(same_k, upto))
            run = self._runs[k - 1] if k else None
            if run is None or self.windows[run[1] - 1].t1_s - self.windows[run[0]].t0_s < cal.MIN_STANDING_S:
                self._prov_next_i = same_k
                continue
            s0 = self.windows[run[1] - 1].end_i          # first sample after the standing
            if i < s0:
                self._prov_next_i = min(s0, same_k)
                continue
            if self._try_provisional_in(run, s0, i, same_k):
                return
            self._prov_next_i = same_k

    def _try_provisional_in(self, run: tuple[int, int], s0: int, i: int, stop: int) -> bool:
        """Look for the provisional decision among samples [i, stop) after the standing that
        ends before sample s0; True when decided."""
        t, gyr = self.t.view(), self.gyr.view()
        if t[i] - t[s0 - 1] > cal.PROVISIONAL_WITHIN_S:
            return False
        norm = np.linalg.norm(gyr[s0:stop], axis=1)
        moving = norm > cal.WALKING_GYRO_DPS
        count = np.cumsum(moving)
        need = cal.PROVISIONAL_MOVING_S * self.rate_hz
        slow = ~moving
        # candidates: the first slow sample after each fast stretch, once enough motion was seen
        cand = np.flatnonzero(slow[1:] & moving[:-1] & (count[1:] >= need)) + 1 + s0
        cand = cand[cand >= i]
        if len(cand) == 0:
            return False
        i0, i1 = self.windows[run[0]].start_i, s0
        up = cal._unit(self.acc.view()[i0:i1].mean(axis=0))
        quat = self.quat.view()
        lever = (RISE_LEVER_M if self.segment == "shank" else 0.0) * up
        for c in cand:
            walk = gyr[s0:c][moving[:c - s0]]
            flex, share, _ = cal.flexion_axis(walk, up)
            if np.isnan(quat[s0 - 1:c + 1, 0]).any():
                continue
            d = displacement_to(t, self.acc_world.view(), gyr, quat, s0 - 1, int(c), lever, np.zeros(3))
            if np.hypot(d[0], d[1]) < cal.PROVISIONAL_TRAVEL_M:
                continue
            # the segment swings forward about +flex: forward (up x flex when standing) is the
            # way it travelled
            fwd = rotate(quat[[s0 - 1]], np.cross(up, flex)[None, :])[0]
            if fwd[0] * d[0] + fwd[1] * d[1] < 0:
                flex = -flex
            if np.max(self.gyr_lp.view()[s0:c] @ flex) < cal.PROVISIONAL_SWING_DPS[self.segment]:
                continue  # no forward swing yet (e.g. the body moving over the trailing foot)
            standing = (float(t[i0]), float(t[i1 - 1]))
            quality = {"provisional_at_s": round(float(t[c]), 3), "flexion_axis_share": round(share, 3),
                       "walking_s": round(float(count[c - s0 - 1]) / self.rate_hz, 2)}
            prov = cal.SegmentCalibration(up, flex, cal._unit(np.cross(up, flex)), standing,
                                          float("inf"), quality, [], provisional=True)
            self._set_calibration(prov, upto=int(c))
            self._prov_next_i = int(c)
            return True
        return False

    def _set_calibration(self, result: cal.SegmentCalibration, upto: int | None = None) -> None:
        """Use ``result`` (decided from the samples before ``upto``; default: the windows seen).
        After a provisional calibration only the sagittal rate's axis changes, from ``upto``."""
        upto = self._next_window_i if upto is None else upto
        self.calibration = result
        self._sag_axes.append((max(upto, self.sag.n) if self._sag_axes else 0, result.flexion_axis))
        self._lowpass_to(upto)
        if not self.detect_events:
            self._lp_pending.clear()  # nothing reads the rest (no swings are looked for)
        gyr = self.gyr_lp.view()[:upto]
        moving = np.linalg.norm(self.gyr.view()[:upto], axis=1) > cal.WALKING_GYRO_DPS
        proj = gyr[moving] @ result.flexion_axis
        peak = float(np.percentile(proj, 99)) if len(proj) else 100.0
        result.quality["swing_peak_dps"] = round(peak, 1)
        # the first swing from standing is slower than those that follow
        boost = PROVISIONAL_THRESHOLD_FACTOR if result.provisional else 1.0
        if self.segment == "thigh":
            threshold = float(np.clip(boost * self.config.thigh_swing_fraction * peak, 25.0, 120.0))
            lo = max(5.0, self.config.thigh_lo_fraction * peak)
        else:
            threshold = float(np.clip(boost * self.config.swing_fraction * peak, 30.0, 100.0))
            lo = 3.0
        if self.detector is not None:  # after a provisional calibration: from the switch on
            self.detector.change_thresholds(self._sag_axes[-1][0], threshold, lo)
            return
        self.detector = SwingDetector(self.rate_hz, threshold, self._lowpass.delay_s,
                                      self.config.ic_offset(self.segment),
                                      self.config.to_offset(self.segment), lo_dps=lo,
                                      min_stance_s=0.25 if self.segment == "shank" else 0.15)
        self.detector.to_at_crossing = self.segment == "thigh"
        if self.segment == "shank":
            self.detector.stride_rises_m = self._stride_rises_m
        else:
            self.detector.contact_delay_s = self._thigh_contact_delay_s

    def _thigh_contact_delay_s(self, sw: Swing, prev: Swing | None) -> float:
        """Going down stairs the thigh stops swinging forward well before the foot lands
        (:data:`THIGH_DOWN_CONTACT_DELAY_S`); the stride is told from the thigh's inclination
        up to the swing's end (:func:`.activity.thigh_stride_class`)."""
        t = self.t.view()
        if prev is not None and sw.to_s - prev.ic_s <= RISE_MAX_STANCE_S:
            i0 = int(np.searchsorted(t, prev.ic_s))
        else:
            i0 = int(np.searchsorted(t, sw.to_s - NO_PREVIOUS_STRIDE_S))
        i_to, i1 = int(np.searchsorted(t, sw.to_s)), sw.cross_i
        if not i0 <= i_to <= i1:
            return 0.0
        cal_ = self.calibration
        incl = sagittal_inclination_deg(self.quat.view()[i0:i1 + 1], cal_.up_axis, cal_.forward_axis)
        if np.isnan(incl).any() or thigh_stride_class(incl, i_to - i0) != "stairs_down":
            return 0.0
        return THIGH_DOWN_CONTACT_DELAY_S

    def _stride_rises_m(self, ends: StrideEnds) -> np.ndarray:
        """Rise of the ankle from the mid-stance before each new swing to its contact (m; NaN:
        unknown), for its toe-off (:func:`.events.toe_off_time_s`): a short integration
        anchored at the start only (no drift removal); all of a scan's swings at once."""
        t = self.t.view()
        to_s, prev_ic_s = np.array(ends.to_s), np.array(ends.prev_ic_s)
        with np.errstate(invalid="ignore"):
            after_prev = to_s - prev_ic_s <= RISE_MAX_STANCE_S
        start = np.where(after_prev, prev_ic_s + RISE_AFTER_IC_S, to_s - 1.0)
        stop = to_s - 0.05
        # the stillest sample in [start, stop]; squared rates only over the samples searched
        lo = int(t.searchsorted(start.min()))
        hi = max(int(t.searchsorted(stop.max(), side="right")), lo + 1)
        i0 = midstance_indices(t[lo:hi], self.gyr_lp_sq_view()[lo:hi], start, stop)
        i1 = np.minimum(np.array(ends.ic_i), len(t) - 1)
        out = np.full(len(i0), np.nan)
        ok = np.flatnonzero((i0 >= 0) & (i1 > i0 + lo))
        if len(ok) == 0:
            return out
        i0, i1 = i0[ok] + lo, i1[ok]
        has_gap, has_unknown = self.gaps_and_unknown(i0, i1)
        good = ~(has_gap | has_unknown)
        if good.any():
            d = ankle_displacements(t, self.acc_world.view(), self.gyr.view(), self.quat.view(),
                                    i0[good], i1[good], RISE_LEVER_M * self.calibration.up_axis,
                                    end_anchored=False, axes=slice(2, 3))
            out[ok[good]] = d[:, 0]
        return out

    # ------------------------------------------------------------------ lookups

    def gaps_and_unknown(self, i0: np.ndarray, i1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per span of samples i0[k] to i1[k]: (a gap after a sample in [i0, i1), an unknown
        orientation in [i0, i1])."""
        lo, hi = int(i0.min()), int(i1.max()) + 1
        gaps = np.flatnonzero(self.gap_after.view()[lo:hi]) + lo
        unknown = np.flatnonzero(np.isnan(self.quat.view()[lo:hi, 0])) + lo
        return spans_with_mark(gaps, i0, i1), spans_with_mark(unknown, i0, i1 + 1)

    @property
    def last_t(self) -> float:
        return float(self.t.view()[-1]) if self.t.n else float("-inf")
