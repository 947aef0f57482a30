"""The shank's frontal-plane angle and angular rate (knee wobble), streaming, plus per-stance metrics.

Frame of the shank (unit vectors in the sensor's own axes), :class:`ShankFrame`:
- ``flexion_axis``: medio-lateral, pointing to the body's right (a forward swing is a positive
  rotation about it; same convention as :mod:`imu_knee.analysis.knee_angle`);
- ``long_axis``: along the shank, up when standing (made normal to the flexion axis);
- ``forward_axis`` = long × flexion: points forward when standing.

Get it from the knee calibration (:func:`shank_frame_from_knee`, best: thigh + shank), from
axes found elsewhere (:func:`shank_frame_from_axes`, e.g. the engine's segment calibration),
or from the shank alone (:func:`shank_frame_from_walking`: the dominant gyro axis while walking
is the medio-lateral axis; its sign from the mid-swing peak).

:class:`FrontalEstimator` ``update(t_s, shank_gyr_dps, shank_acc_mps2) -> (angle_deg, rate_dps)``
- ``angle_deg``: the shank's tilt in the frontal plane (the vertical plane across the direction
  of travel): angle of the shank's long axis from vertical, seen from the front (0 = vertical);
  orientation from ``vqf`` 6D, travel direction from the shank's own motion (see the class);
- ``rate_dps``: angular rate about the forward axis (gyro bias from ``vqf`` removed).
Sign: with ``side=None`` positive = the top of the shank tilts to the body's right; with
``side="left"``/``"right"`` positive = the knee moves outward (lateral, varus-like) on either leg.
Any block split gives identical output.

Per stance (samples between contact and toe-off): :func:`frontal_range_deg` (max − min of the
angle) and :func:`frontal_wobble_dps` (RMS of the rate). :func:`projected_frontal_angle_deg`
is the projection itself (long axis in an earth frame + a travel direction).

What the angle is compared with, and its limit. The motion-capture truth of the virtual-IMU
data (``shank_frontal_range_deg``) is the stance range of the shank's long axis projected on
the frontal plane of *fixed lab axes* (walkway along lab x): from the true segment orientation
(rebuilt from the virtual IMU with the debugging meta) it is matched to 0.3–4° RMSE per leg and
file, median 1.3° (``benchmarks/knee_frontal_accuracy.py --truth-check``); the shank's roll
about its own anterior axis relative to gravity is not it (1.6–18°, median about 9°). The
shank pitches 30–60° in stance, so a travel direction off by δ adds about sin δ · tan(pitch)
to the angle: 3° of heading error already changes a range by ~3–4°. The
estimator has no lab: its travel direction is the direction the person walks. In those
recordings the subjects walked 3–7° off the lab axis (per subject: about +6° and −3.5°, the
same for both legs), which is enough to scramble the per-step ranking against that truth
(Spearman rho 0.84 with the lab heading, 0.58 with it off by a constant 3°, 0.36 off by 6°,
0.25 across the true walking direction). Against the truth the estimator reaches about 0.47;
a heading that is not in the sensor data cannot be recovered from it. Heading-free
alternatives: ``roll_deg_`` (see the class) and the wobble rate, which the IMU measures closely.

What the engine reports. Its own definition can be met: the range across the direction the
person walks. ``frontal_range_deg`` of the engine's rows projects the shank's *standing-up*
axis (the frame's ``standing_up``: gravity in the sensor while standing; not made normal to
the flexion axis as ``long_axis`` is, which leans it sideways by the flexion axis's own tilt)
across the walking direction of :class:`StrideHeading` (mean direction of the last strides'
foot displacements), with :func:`frontal_angle_across_deg`; the estimator's series (4-s
travel filter, ``long_axis``) is the fallback for a stance with no stride direction yet.
Against the projection across the pass's walking direction from the true orientation
(``benchmarks/knee_frontal_accuracy.py --truth-check --engine``, virtual-IMU data, 118
stances) that took rho from 0.44 to 0.59 and the median error from 3.7° to 1.9° (level 0.10
to 0.30, 3.2° to 1.7°; stairs 0.56 to 0.73). Each half alone helps less (truth events: the
standing-up axis with the travel filter 0.48, the stride heading with ``long_axis`` 0.52, both
0.63). What is left is mostly heading: a single stride's direction scatters by 2–5° and its
mean over a pass is still off the true one by up to 5° on some legs; with the true heading the
standing-up axis reaches 0.78 (level 0.79), the true segment axis 0.98.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

from .knee_angle import (GravityTracker, KneeCalibration, _swing_peaks, dot_rows, rotate_to_earth,
                         up_from_quat)
from .windows import chunks

__all__ = [
    "ShankFrame",
    "FrontalEstimator",
    "shank_frame_from_knee",
    "shank_frame_from_axes",
    "shank_frame_from_walking",
    "frontal_range_deg",
    "frontal_wobble_dps",
    "stance_slices",
    "projected_frontal_angle_deg",
    "StrideHeading",
    "frontal_angle_across_deg",
]


@dataclass(frozen=True)
class ShankFrame:
    """Anatomical axes of the shank in its sensor frame (see module doc)."""

    flexion_axis: np.ndarray
    long_axis: np.ndarray
    forward_axis: np.ndarray
    standing_up: np.ndarray
    rate_hz: float


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


def shank_frame_from_axes(flexion_axis, up_axis, rate_hz: float) -> ShankFrame:
    """Frame from a flexion axis (pointing body-right) and the standing up direction."""
    flex = _unit(flexion_axis)
    up = _unit(up_axis)
    long_axis = up - np.dot(up, flex) * flex
    if np.linalg.norm(long_axis) < 0.3:
        raise ValueError("the flexion axis is nearly vertical when standing")
    long_axis = _unit(long_axis)
    return ShankFrame(flex, long_axis, np.cross(long_axis, flex), up, float(rate_hz))


def shank_frame_from_knee(calibration: KneeCalibration) -> ShankFrame:
    """Frame from a thigh + shank knee calibration (its shank hinge axis)."""
    return shank_frame_from_axes(calibration.shank_axis, calibration.shank_up, calibration.rate_hz)


def shank_frame_from_walking(standing_acc_mps2, walking_gyr_dps, rate_hz: float,
                             min_swings: int = 3) -> ShankFrame:
    """Shank-only frame: up = mean standing acceleration; flexion axis = the principal axis of
    the walking gyro signal, signed so that the mid-swing peaks are positive.
    Raises ValueError when fewer than ``min_swings`` swings are found."""
    up = _unit(np.mean(np.asarray(standing_acc_mps2, dtype=float).reshape(-1, 3), axis=0))
    gyr = np.asarray(walking_gyr_dps, dtype=float).reshape(-1, 3)
    moving = np.linalg.norm(gyr, axis=1) > 20.0
    _, _, vt = np.linalg.svd(gyr[moving] if moving.sum() >= 10 else gyr, full_matrices=False)
    flex = vt[0]
    sag = gyr @ flex
    if np.percentile(sag, 99.5) < -np.percentile(sag, 0.5):
        flex = -flex
        sag = -sag
    if len(_swing_peaks(sag, rate_hz)) < min_swings:
        raise ValueError(f"too little walking to find the shank's axes (need {min_swings} swings)")
    return shank_frame_from_axes(flex, up, rate_hz)


ORIENTED_CHUNK_ROWS = 16384  # rows of a block computed together (temporaries stay in the cache)


class FrontalEstimator:
    """Streaming frontal-plane angle (deg) and rate (deg/s) of the shank (see module doc).

    ``update(t_s, shank_gyr_dps, shank_acc_mps2) -> (angle_deg, rate_dps)``.
    The frontal plane is the vertical plane across the direction of travel (as a camera in
    front of the walker would see it). Travel direction: the principal horizontal direction of
    the shank's (leaky-integrated, i.e. high-passed) velocity over the last ``travel_tau_s``
    seconds — the swing moves the shank along the line of walking; it starts as the shank's
    forward axis until walking has filled the average. Attributes after each call:
    ``travel_heading_deg_`` (per sample, in the sensor's arbitrary 6D earth frame) and
    ``roll_deg_`` (per sample, heading-free: the tilt of the flexion axis from horizontal,
    i.e. the shank's roll about its own forward axis relative to gravity; same sign convention
    as the angle). The roll needs no travel direction, so the IMU measures its stance range
    closely (rho 0.89–0.99 against the same quantity from the true segment orientation of the
    virtual-IMU data), but it is not what the lab-axes truth reports (see the module doc).
    """

    def __init__(self, frame: ShankFrame, side: str | None = None, travel_tau_s: float = 4.0,
                 velocity_tau_s: float = 0.5, max_gap_s: float = 0.25):
        if side not in (None, "left", "right"):
            raise ValueError(f"side must be 'left', 'right' or None, not {side!r}")
        self.frame = frame
        self.side = side
        self._sign = -1.0 if side == "left" else 1.0
        self._tracker = GravityTracker(frame.rate_hz, max_gap_s)
        dt = 1.0 / frame.rate_hz
        self._dt = dt
        self._leak = 1.0 - dt / velocity_tau_s
        self._ema = dt / travel_tau_s
        self._v_zi: np.ndarray | None = None   # leaky velocity state (x, y), (2, 1)
        self._c_zi: np.ndarray | None = None   # EMA state of the velocity's double angle, (2, 1)
        # the last block's (quaternions, travel direction x, y, known rows): the diagnostics
        # travel_heading_deg_ and roll_deg_ are computed from them when read
        self._last: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] = (
            np.zeros((0, 4)), np.zeros(0), np.zeros(0), np.zeros(0, dtype=bool))

    @property
    def travel_heading_deg_(self) -> np.ndarray:
        """Per sample of the last block: the travel direction's heading (deg, in the sensor's
        arbitrary 6D earth frame; NaN where unknown)."""
        _, dx, dy, _ = self._last
        return np.rad2deg(np.arctan2(dy, dx))

    @property
    def roll_deg_(self) -> np.ndarray:
        """Per sample of the last block: the shank's roll about its own forward axis relative
        to gravity (deg, heading-free; see the class doc; NaN where unknown)."""
        q, _, _, known = self._last
        # top of the shank to the right <=> the right end of the flexion axis goes down
        roll = -self._sign * np.rad2deg(np.arcsin(np.clip(up_from_quat(q) @ self.frame.flexion_axis,
                                                          -1.0, 1.0)))
        roll[~known] = np.nan
        return roll

    def _travel_axis(self, q_first: np.ndarray, acc_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unit principal axis (x, y; no sign) of the high-passed horizontal velocity, averaged
        over ``travel_tau_s``. ``acc_xy``: (2, N) horizontal earth acceleration; ``q_first``:
        the block's first quaternion (starts the average along the shank's forward axis).

        The average is kept of the velocity's double-angle vector (vx² − vy², 2 vx vy) (the
        covariance terms the principal axis needs: the axis is at half its angle)."""
        if self._v_zi is None:
            fwd = rotate_to_earth(q_first.reshape(1, 4), self.frame.forward_axis)[0, :2]
            fwd = fwd / max(np.linalg.norm(fwd), 1e-9)
            self._v_zi = np.zeros((2, 1))
            prior = 0.01  # (m/s)²: a weak start along the shank's forward axis
            c0 = prior * np.array([fwd[0] ** 2 - fwd[1] ** 2, 2.0 * fwd[0] * fwd[1]])
            self._c_zi = ((1.0 - self._ema) * c0).reshape(2, 1)
        v, self._v_zi = lfilter([self._dt], [1.0, -self._leak], acc_xy, axis=-1, zi=self._v_zi)
        vx, vy = v
        double = np.empty_like(v)
        np.subtract(vx * vx, vy * vy, out=double[0])
        np.multiply(2.0 * vx, vy, out=double[1])
        c, self._c_zi = lfilter([self._ema], [1.0, -(1.0 - self._ema)], double, axis=-1,
                                zi=self._c_zi)
        return _half_angle_unit(c[0], c[1])

    def update(self, t_s, shank_gyr_dps, shank_acc_mps2) -> tuple[np.ndarray, np.ndarray]:
        gyr = np.asarray(shank_gyr_dps, dtype=float).reshape(-1, 3)
        acc = np.asarray(shank_acc_mps2, dtype=float).reshape(-1, 3)
        if len(gyr) == 0:
            self._last = (np.zeros((0, 4)), np.zeros(0), np.zeros(0), np.zeros(0, dtype=bool))
            return np.zeros(0), np.zeros(0)
        q, bias = self._tracker.update_quat(gyr, acc, t_s)
        return self.update_oriented(gyr, acc, q, bias)

    def update_oriented(self, shank_gyr_dps, shank_acc_mps2, quat, bias_dps,
                        acc_earth_mps2: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Like :meth:`update`, from an orientation computed elsewhere (the engine's own
        ``vqf``): ``quat`` (N,4) sensor → earth (z up, any heading), ``bias_dps`` (N,3);
        ``acc_earth_mps2``: the acceleration already rotated by ``quat`` (only its horizontal
        x, y are used, so gravity may have been removed from z), else it is rotated here.
        Rows with an unknown (NaN) orientation give NaN and do not move the travel direction;
        the travel average starts at the first known row. Use this or :meth:`update`, not both.

        The same as :meth:`update_travel` then :meth:`angle_deg` of every row."""
        q = np.asarray(quat, dtype=float).reshape(-1, 4)
        dx, dy, rate = self.update_travel(shank_gyr_dps, shank_acc_mps2, q, bias_dps, acc_earth_mps2)
        angle, fx, fy = self._angle_forward(q, dx, dy)
        self._last = (q, fx, fy, self._last[3])   # the travel direction pointed forward
        return angle, rate

    def update_travel(self, shank_gyr_dps, shank_acc_mps2, quat, bias_dps,
                      acc_earth_mps2: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The streaming part of :meth:`update_oriented` (same arguments): (travel axis x, y
        (unit, no sign; NaN: unknown), rate dps) per row. The angle of any rows follows from
        them with :meth:`angle_deg` (the engine asks for it only in the stances that need it).

        Computed :data:`ORIENTED_CHUNK_ROWS` rows at a time (any block split gives the same
        output, and the pieces' temporaries stay in the CPU cache)."""
        gyr = np.asarray(shank_gyr_dps, dtype=float).reshape(-1, 3)
        acc = np.asarray(shank_acc_mps2, dtype=float).reshape(-1, 3)
        q = np.asarray(quat, dtype=float).reshape(-1, 4)
        bias = np.asarray(bias_dps, dtype=float).reshape(-1, 3)
        acc_earth = None if acc_earth_mps2 is None else np.asarray(acc_earth_mps2, dtype=float)
        n = len(gyr)
        rate, dx, dy = (np.empty(n) for _ in range(3))
        known = np.empty(n, dtype=bool)
        for rows in chunks(n, ORIENTED_CHUNK_ROWS):
            (rate[rows], dx[rows], dy[rows],
             known[rows]) = self._travel_rows(gyr[rows], acc[rows], q[rows], bias[rows],
                                              None if acc_earth is None else acc_earth[rows])
        self._last = (q, dx, dy, known)
        return dx, dy, rate

    def _travel_rows(self, gyr: np.ndarray, acc: np.ndarray, q: np.ndarray, bias: np.ndarray,
                     acc_earth: np.ndarray | None) -> tuple[np.ndarray, ...]:
        """:meth:`update_travel` of one piece: (rate, travel x, travel y, known)."""
        n = len(gyr)
        known = np.isfinite(q).all(axis=1)
        if self._v_zi is None and not known.any():
            nan = np.full(n, np.nan)
            return nan, nan, nan, known
        all_known = bool(known.all())
        if acc_earth is None:
            acc_earth = rotate_to_earth(q if all_known else _known_or_identity(q, known), acc)
        acc_xy = acc_earth[:, :2].T
        if not all_known:
            acc_xy = np.where(known, acc_xy, 0.0)   # unknown rows: no acceleration
        first = 0 if self._v_zi is not None else int(np.argmax(known))
        dx, dy = self._travel_axis(q[first], acc_xy[:, first:])
        if first:
            dx = np.concatenate([np.full(first, np.nan), dx])
            dy = np.concatenate([np.full(first, np.nan), dy])
        rate = dot_rows(gyr - bias, self.frame.forward_axis)
        if not all_known:
            dx[~known] = np.nan
            dy[~known] = np.nan
            rate[~known] = np.nan
        if self._sign < 0:
            np.negative(rate, out=rate)
        return rate, dx, dy, known

    def angle_deg(self, quat: np.ndarray, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
        """The frontal angle (deg; NaN: unknown) of rows with orientations ``quat`` (..., 4)
        and travel axes ``dx``, ``dy`` (...) from :meth:`update_travel`, in their shape (e.g.
        a window of samples per row); the same values row by row, however they are grouped."""
        return self._angle_forward(quat, dx, dy)[0].reshape(np.shape(dx))

    def _angle_forward(self, quat, dx, dy) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(angle, travel x, y pointed forward) of :meth:`angle_deg`, flat: the long axis
        across the travel direction pointed the way the shank faces (the principal axis has
        no sign)."""
        q = np.asarray(quat, dtype=float).reshape(-1, 4)
        known = np.isfinite(q).all(axis=1)
        q = _known_or_identity(q, known, order="F")  # column-major: the rotations read columns
        dx, dy = np.ravel(dx), np.ravel(dy)
        fwd = rotate_to_earth(q, self.frame.forward_axis)
        flip = np.where(dx * fwd[:, 0] + dy * fwd[:, 1] < 0, -1.0, 1.0)
        dx, dy = dx * flip, dy * flip
        angle = frontal_angle_across_deg(rotate_to_earth(q, self.frame.long_axis), dx, dy)
        angle[~known] = np.nan
        if self._sign < 0:
            np.negative(angle, out=angle)
        return angle, dx, dy


def _known_or_identity(q: np.ndarray, known: np.ndarray, order: str = "K") -> np.ndarray:
    """``q`` with its unknown rows replaced by the identity rotation (a copy, in ``order``)."""
    out = np.array(q, order=order)
    if not known.all():
        out[~known] = (1.0, 0.0, 0.0, 0.0)
    return out


HEADING_STRIDES = 6           # strides in the walking-direction average (StrideHeading)
HEADING_MAX_AGE_S = 10.0      # ... none older than this before the stride being judged
MIN_HEADING_STRIDE_M = 0.3    # a shorter horizontal displacement gives no direction


class StrideHeading:
    """Walking direction per stride for the frontal projection, from the strides' own foot
    displacements (the engine's drift-corrected stride integration), causal: stride k's
    direction is the axial mean of the horizontal displacement directions of the last
    ``strides`` strides up to and including k (each stride ends at the contact that starts the
    stance being judged), none older than ``max_age_s`` before k's contact, nor shorter than
    ``min_stride_m``. Axial (mean of the double angle): walking back along the same line
    keeps the same frontal plane. A single stride's direction scatters by 2–5°, and 3° of
    heading error already changes a level stance range by ~3° (module doc); the mean of a few
    strides brings it to ~1–2°. Feed the strides in contact order; any grouping gives the
    same directions."""

    def __init__(self, strides: int = HEADING_STRIDES, max_age_s: float = HEADING_MAX_AGE_S,
                 min_stride_m: float = MIN_HEADING_STRIDE_M):
        self.strides = strides
        self.max_age_s = max_age_s
        self.min_stride_m = min_stride_m
        # the last stride's window of kept directions: contact times, cos 2θ, sin 2θ
        self._recent_t, self._recent_c, self._recent_s = np.zeros(0), np.zeros(0), np.zeros(0)

    def update(self, ic_s, d_world) -> np.ndarray:
        """Unit walking directions (K, 2) (no sign; NaN rows: no stride direction within the
        age limit) of strides ending at the contacts ``ic_s`` (K,) with horizontal foot
        displacements ``d_world`` (K, 2+) (NaN rows: not measured).

        All strides at once: stride k averages the kept directions (the strides' own and those
        kept from earlier calls) from the ``strides``-th last up to its own, less those older
        than ``max_age_s``; each mean is summed oldest first from 0, as one by one."""
        t = np.asarray(ic_s, dtype=float).reshape(-1)
        d = np.asarray(d_world, dtype=float).reshape(len(t), -1)[:, :2]
        out = np.full((len(d), 2), np.nan)
        if len(t) == 0:
            return out
        dx, dy = d[:, 0], d[:, 1]
        size_sq = dx * dx + dy * dy
        with np.errstate(invalid="ignore"):
            kept = size_sq > self.min_stride_m ** 2   # False for NaN
        kept_t = np.concatenate([self._recent_t, t[kept]])
        kept_c = np.concatenate([self._recent_c,
                                 (dx[kept] * dx[kept] - dy[kept] * dy[kept]) / size_sq[kept]])
        kept_s = np.concatenate([self._recent_s, 2.0 * dx[kept] * dy[kept] / size_sq[kept]])
        # per stride: its window of kept directions [first, stop) (contact times in order)
        stop = len(self._recent_t) + np.cumsum(kept)
        width = self.strides
        first = np.maximum(np.maximum(stop - width, 0),
                           np.searchsorted(kept_t, t - self.max_age_s, side="left"))
        count = np.maximum(stop - first, 0)
        # each window right-aligned in `width` columns, zeros before it: summed column by column
        pos = stop[:, None] - width + np.arange(width)
        inside = np.arange(width) >= width - count[:, None]
        pos = np.where(inside, pos, 0)
        c, s = np.zeros(len(t)), np.zeros(len(t))
        if len(kept_t):
            for col in range(width):
                c += np.where(inside[:, col], kept_c[pos[:, col]], 0.0)
                s += np.where(inside[:, col], kept_s[pos[:, col]], 0.0)
        some = count > 0
        half = 0.5 * np.arctan2(s[some], c[some])
        out[some, 0], out[some, 1] = np.cos(half), np.sin(half)
        # kept for the next call: the last window's directions (older ones cannot be reached)
        last = slice(int(first[-1]), int(stop[-1])) if count[-1] else slice(0, 0)
        self._recent_t, self._recent_c, self._recent_s = kept_t[last], kept_c[last], kept_s[last]
        return out


def _half_angle_unit(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors (x, y) at half the angle of the vectors (a, b), i.e. at
    ½·atan2(b, a) up to a sign (along x where a = 0 = b): the principal axis of a 2-D
    spread whose double-angle terms are (var x − var y, 2 cov xy). Without trigonometry:
    for r = |(a, b)| the vector (r + a, b) lies at half the angle, and so does (b, r − a)
    (up to its sign); the one without cancellation is used (|(r + |a|, b)|² = 2 r (r + |a|)).
    (a, b) is first scaled to a largest component of 1 (no underflow in the squares)."""
    scale = np.maximum(np.abs(a), np.abs(b))
    if not scale.all():   # no spread at all: the x axis (as atan2(0, 0) = 0)
        spread = scale > 0
        a, scale = np.where(spread, a, 1.0), np.where(spread, scale, 1.0)
    a, b = a / scale, b / scale
    r = np.sqrt(a * a + b * b)
    m = r + np.abs(a)
    norm = np.sqrt(2.0 * r * m)
    right_half = a >= 0
    return np.where(right_half, m, b) / norm, np.where(right_half, b, m) / norm


def frontal_angle_across_deg(long_axis_earth: np.ndarray, ux: np.ndarray, uy: np.ndarray) -> np.ndarray:
    """:func:`projected_frontal_angle_deg` for a unit travel direction (ux, uy): the long
    axis's component to the right of travel (along u × z), against its vertical component.
    ``long_axis_earth`` (..., 3); ``ux``, ``uy`` broadcast against its leading shape."""
    lx, ly, lz = long_axis_earth[..., 0], long_axis_earth[..., 1], long_axis_earth[..., 2]
    return np.rad2deg(np.arctan2(lx * uy - ly * ux, lz))


def projected_frontal_angle_deg(long_axis_earth, travel_xy) -> np.ndarray:
    """Angle (deg) from vertical of the long axis seen in the vertical plane across the travel
    direction (its projection on that plane; 0 = vertical, + = top to the right of travel).

    ``long_axis_earth``: (N, 3) unit vectors in an earth frame with z up; ``travel_xy``: (N, 2)
    or (2,) horizontal travel direction in the same frame (need not be unit length).
    With a fixed ``travel_xy`` along a lab axis this is the lab frontal-plane projection that
    motion capture reports (see the module doc)."""
    long_axis = np.asarray(long_axis_earth, dtype=float).reshape(-1, 3)
    d = np.broadcast_to(np.asarray(travel_xy, dtype=float), (len(long_axis), 2))
    dx, dy = d[:, 0], d[:, 1]
    norm = np.maximum(np.sqrt(dx * dx + dy * dy), 1e-12)
    return frontal_angle_across_deg(long_axis, dx / norm, dy / norm)


def frontal_range_deg(angle_in_stance_deg) -> float:
    """Range (max − min) of the frontal-plane angle over one stance; NaN if empty."""
    a = np.asarray(angle_in_stance_deg, dtype=float)
    a = a[np.isfinite(a)]
    return float(a.max() - a.min()) if len(a) else float("nan")


def frontal_wobble_dps(rate_in_stance_dps) -> float:
    """RMS of the frontal-plane angular rate over one stance; NaN if empty."""
    r = np.asarray(rate_in_stance_dps, dtype=float)
    r = r[np.isfinite(r)]
    return float(np.sqrt(np.mean(r ** 2))) if len(r) else float("nan")


def stance_slices(t_s, ic_s, to_s) -> list[slice | None]:
    """Index slices of ``t_s`` covering each stance [ic, to] (None when not covered/unknown)."""
    t = np.asarray(t_s, dtype=float)
    out: list[slice | None] = []
    for a, b in zip(np.atleast_1d(ic_s), np.atleast_1d(to_s)):
        if len(t) == 0 or not (np.isfinite(a) and np.isfinite(b)) or b <= a or a < t[0] or b > t[-1]:
            out.append(None)
            continue
        out.append(slice(int(np.searchsorted(t, a, "left")), int(np.searchsorted(t, b, "right"))))
    return out
