"""Sensor-to-segment calibration: gravity while standing gives the long axis, walking gives the
flexion axis. No user effort beyond standing still a few seconds and walking.

Decisions are taken at fixed one-second checkpoints of the sensor's own clock, from the samples
before each checkpoint, so pushing a recording in any split of blocks calibrates identically.
The full calibration needs MIN_WALKING_S of walking; before it, the sensor chain makes a
provisional one at the end of the first swing after quiet standing (same long axis, flexion
axis from that swing, its sign from the way the segment travelled), so live steps are
reported from the first one on (``SegmentCalibration.provisional``; the sensor chain).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

STANDING_GYRO_DPS = 12.0       # 95th percentile of |gyro| in a still window
STANDING_ACC_SPREAD_MPS2 = 0.6  # max - min of |acc| in a still window (2 g sensors are noisy)
WALKING_GYRO_DPS = 60.0        # samples above this count as "moving like walking"
MIN_STANDING_S = 2.0
MIN_WALKING_S = 2.5            # seconds of fast-moving samples (about 4-5 swings)
NO_STANDING_AFTER_WALKING_S = 12.0
# Provisional calibration (live: steps are reported from the first swing on, not only once
# MIN_WALKING_S of walking has been seen): after quiet standing, at the first slow sample
# once this much fast motion has been seen, the segment (shank: the ankle) has travelled this
# far (its direction gives the axis' sign) and has swung forward this fast (a whole swing).
PROVISIONAL_MOVING_S = 0.25
PROVISIONAL_WITHIN_S = 10.0    # looked for only this long after the standing
PROVISIONAL_TRAVEL_M = 0.3
PROVISIONAL_SWING_DPS = {"shank": 150.0, "thigh": 100.0}


@dataclass
class SegmentCalibration:
    """How one sensor sits on its segment (unit vectors in the sensor's own axes)."""

    up_axis: np.ndarray        # along the segment, pointing up when standing
    flexion_axis: np.ndarray   # rotation about +axis = segment swinging forward (swing phase)
    forward_axis: np.ndarray   # completes the frame: up x flexion (points forward when standing)
    standing_s: tuple[float, float] | None
    calibrated_at_s: float
    quality: dict = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    # from the first swing only (see :func:`provisional_axis`); ``calibrated_at_s`` is then
    # infinite until the full calibration replaces it (what waits for that keeps waiting)
    provisional: bool = False

    def as_dict(self) -> dict:
        return {
            "up_axis": [round(float(x), 4) for x in self.up_axis],
            "flexion_axis": [round(float(x), 4) for x in self.flexion_axis],
            "standing_s": None if self.standing_s is None else [round(x, 3) for x in self.standing_s],
            "calibrated_at_s": round(self.calibrated_at_s, 3),
            "quality": self.quality,
            "flags": list(self.flags),
        }


@dataclass
class WindowStats:
    start_i: int
    end_i: int
    t0_s: float
    t1_s: float
    still: bool
    walking_s: float


def window_stats(t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray, i0: int, i1: int,
                 t0_s: float, t1_s: float, rate_hz: float) -> WindowStats:
    """Stillness and amount of walking-like motion in samples [i0, i1)."""
    n = i1 - i0
    if n < max(3, 0.5 * rate_hz * (t1_s - t0_s)):
        return WindowStats(i0, i1, t0_s, t1_s, False, 0.0)
    gnorm = np.linalg.norm(gyr[i0:i1], axis=1)
    anorm = np.linalg.norm(acc[i0:i1], axis=1)
    still = bool(np.percentile(gnorm, 95) < STANDING_GYRO_DPS
                 and anorm.max() - anorm.min() < STANDING_ACC_SPREAD_MPS2
                 and 8.3 < np.median(anorm) < 11.3)
    walking_s = float(np.count_nonzero(gnorm > WALKING_GYRO_DPS)) / rate_hz
    return WindowStats(i0, i1, t0_s, t1_s, still, walking_s)


def longest_still_run(windows: list[WindowStats]) -> tuple[int, int] | None:
    """Indices [a, b) of the longest run of consecutive still windows."""
    best, start = None, None
    for k, w in enumerate(windows + [None]):
        if w is not None and w.still:
            if start is None:
                start = k
            continue
        if start is not None:
            if best is None or k - start > best[1] - best[0]:
                best = (start, k)
            start = None
    return best


class WindowTally:
    """Running totals over the windows seen so far (walking seconds, longest still run), so a
    checkpoint costs the same after an hour of sitting as after a minute."""

    def __init__(self):
        self.walking_s = 0.0
        self.best_run: tuple[int, int] | None = None
        self._run_start: int | None = None
        self.count = 0

    def add(self, w: WindowStats) -> None:
        k = self.count
        self.count += 1
        self.walking_s += w.walking_s
        if not w.still:
            self._run_start = None
            return
        if self._run_start is None:
            self._run_start = k
        # as longest_still_run: the earliest of the longest runs
        if self.best_run is None or k + 1 - self._run_start > self.best_run[1] - self.best_run[0]:
            self.best_run = (self._run_start, k + 1)


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v)
    return v / n if n > 0 else v


def _flexion_sign(acc, gyr, windows, up, flex, segment) -> float:
    """+1 if rotation about ``flex`` is the forward swing, else -1.

    Shank: it rotates backwards (knee passing over the foot) for most of the cycle and forwards
    only in the short swing, so the median rate of all moving samples is negative.
    Thigh: the hip is flexed (knee ahead of hip) for most of the cycle, so gravity leans, in
    the sensor, towards the front, i.e. along +(up x flex) relative to standing.
    Both rules hold on level walking and stairs (checked on the development recordings).
    """
    parts_g, parts_a = [], []
    for w in windows:
        g = gyr[w.start_i:w.end_i]
        m = np.linalg.norm(g, axis=1) > 20.0
        parts_g.append(g[m])
        parts_a.append(acc[w.start_i:w.end_i][m])
    g = np.concatenate(parts_g) if parts_g else np.zeros((0, 3))
    a = np.concatenate(parts_a) if parts_a else np.zeros((0, 3))
    if len(g) == 0:
        return 1.0
    if segment == "thigh":
        front = np.cross(up, flex)
        lean = np.median(np.arctan2(a @ front, a @ up))
        return 1.0 if lean >= 0 else -1.0
    return 1.0 if np.median(g @ flex) <= 0 else -1.0


def flexion_axis(walk_gyr: np.ndarray, up: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(flexion axis up to its sign, share of the rate variance about the principal axis,
    tilt of that axis from the segment's plane in deg) from fast-moving gyro samples."""
    cov = walk_gyr.T @ walk_gyr / max(len(walk_gyr), 1)
    eigval, eigvec = np.linalg.eigh(cov)
    pca_axis = eigvec[:, -1]
    axis_share = float(eigval[-1] / max(eigval.sum(), 1e-12))
    tilt_deg = float(np.degrees(np.arcsin(min(1.0, abs(np.dot(pca_axis, up))))))
    # the flexion axis is perpendicular to the segment's long axis: find it among the rates
    # with the long-axis rotation (twist, strap wobble) removed
    perp = walk_gyr - np.outer(walk_gyr @ up, up)
    eigval_p, eigvec_p = np.linalg.eigh(perp.T @ perp / max(len(perp), 1))
    return _unit(eigvec_p[:, -1] - np.dot(eigvec_p[:, -1], up) * up), axis_share, tilt_deg


def calibrate(t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray, windows: list[WindowStats],
              at_s: float, final: bool, segment: str = "shank",
              tally: WindowTally | None = None) -> SegmentCalibration | None:
    """Calibrate from the windows seen so far, or return None when not possible yet.

    ``final``: the recording has ended; accept less walking and no standing. ``tally``: the
    running totals of exactly these windows (saves going over them all at each checkpoint).
    """
    if tally is not None and tally.count == len(windows):
        walking_s, run = tally.walking_s, tally.best_run
    else:
        walking_s = sum(w.walking_s for w in windows)
        run = longest_still_run(windows)
    standing_ok = run is not None and windows[run[1] - 1].t1_s - windows[run[0]].t0_s >= MIN_STANDING_S
    need_walk = 1.0 if final else MIN_WALKING_S
    if walking_s < need_walk:
        return None
    if not standing_ok and not final and walking_s < NO_STANDING_AFTER_WALKING_S:
        return None
    flags: list[str] = []
    moving_parts = [np.linalg.norm(gyr[w.start_i:w.end_i], axis=1) > WALKING_GYRO_DPS
                    for w in windows]
    idx = np.concatenate([np.nonzero(m)[0] + w.start_i for m, w in zip(moving_parts, windows)])
    walk_gyr = gyr[idx]
    if standing_ok:
        i0, i1 = windows[run[0]].start_i, windows[run[1] - 1].end_i
        up = _unit(acc[i0:i1].mean(axis=0))
        standing = (float(t_s[i0]), float(t_s[i1 - 1]))
        still_dps = float(np.percentile(np.linalg.norm(gyr[i0:i1] - gyr[i0:i1].mean(axis=0), axis=1), 95))
    else:
        # no quiet standing: the mean specific force while walking points roughly up the segment
        lo, hi = windows[0].start_i, windows[-1].end_i
        up = _unit(acc[lo:hi].mean(axis=0))
        standing = None
        still_dps = float("nan")
        flags.append("no_standing")
    flex, axis_share, tilt_deg = flexion_axis(walk_gyr, up)
    flex = flex * _flexion_sign(acc, gyr, windows, up, flex, segment)
    forward = _unit(np.cross(up, flex))
    if axis_share < 0.6:
        flags.append("weak_flexion_axis")
    quality = {
        "walking_s": round(walking_s, 2),
        "flexion_axis_share": round(axis_share, 3),
        "flexion_axis_tilt_deg": round(tilt_deg, 1),
        "standing_still_dps": None if np.isnan(still_dps) else round(still_dps, 2),
        "standing_s": None if standing is None else round(standing[1] - standing[0], 2),
    }
    return SegmentCalibration(up, flex, forward, standing, at_s, quality, flags)
