"""Knee flexion from a thigh and a shank IMU: hinge-axis calibration and a streaming estimator.

How the engine uses it
----------------------
1. Collect a *standing* window (≥ 0.5 s of quiet standing; every recording starts with ~3 s)
   and a *walking* window (a few strides, ≥ 3 swings of the shank; 5–10 s is better) of both
   sensors, aligned on the shank's timestamps (the thigh stream linearly interpolated at the
   shank's sample times: :func:`resample_to` offline, :class:`ThighToShankAligner` live), each
   as a :class:`KneeBlock`. Both sensors must share one clock (the recording's timestamp_s).
2. ``cal = calibrate(standing, walking)``: finds the hinge axis in each sensor frame and the
   standing pose. The fit (:func:`estimate_joint_axes`) combines Seel et al. 2012/2014's gyro
   condition ``|g_thigh × j1| = |g_shank × j2|`` with a gravity condition in the spirit of
   Olsson 2020, ``up_thigh·j1 = up_shank·j2`` (up directions from ``vqf``), which pins the axes'
   rotation about the segments' long axes (and, when the axis is clearly tilted, their relative
   sign; the signs themselves are chosen from the walk's angles, see Conventions). Raises
   :class:`KneeCalibrationError` (a ``ValueError``) with a readable message when the data cannot
   give an axis (too little walking, no quiet standing, not hinge-like). Quality figures:
   ``cal.residual_dps`` / ``cal.residual_rel`` (gyro condition), ``cal.residual_up`` (gravity
   condition), ``cal.swings``.
3. ``est = KneeAngleEstimator(cal)``; then for each aligned block
   ``flexion_deg = est.update(t_s, thigh_gyr_dps, thigh_acc_mps2, shank_gyr_dps, shank_acc_mps2)``.
   Any block split gives bit-identical output (all state is carried between calls). Start the
   estimator at the beginning of the standing window so that its orientation filters have
   settled when walking starts (or at any point: it converges within a few seconds). A gap in
   the timestamps longer than ``max_gap_s`` (0.25 s) restarts the orientation filters; the
   angle is then less accurate for about 1–2 s.
4. Per step: :func:`knee_flexion_at_ic` and :func:`knee_min_flexion_in_stance`.

Conventions
-----------
Both joint axes are returned pointing to the *body's right* (for either leg), so that a
forward swing is a positive rotation and flexion rate = ``ω_thigh·j1 − ω_shank·j2``. Both
signs are found from the data, without knowing the side: a knee bends a lot (swing) but
hardly extends past its standing pose, so of the four sign choices of (j1, j2) the one that
makes the 2nd percentile of the angle over the walking window the largest is kept (a wrong
*relative* sign mixes the two segments' swings into an angle that goes far below zero; the
hinge fit alone cannot tell it for a horizontal axis). Zero is the standing pose of the
calibration.

In the engine each sensor's orientation comes from its own ``vqf`` run (the sensor chain):
:meth:`KneeAngleEstimator.update_oriented` / :meth:`~KneeAngleEstimator.update_terms` take it
instead of running ``vqf`` again.

The angle fuses two estimates (complementary filter, time constant ``tau_s``, default 0.05 s):
- the inclination angle: each segment's rotation about the hinge axis from its gravity
  direction (``vqf`` 6D orientation, itself a gyro/accelerometer fusion), projected on the plane
  normal to the axis. For a hinge the difference of these two projected angles equals the
  flexion whatever the orientation of the leg (the projection commutes with a rotation about
  the axis), so it needs no heading and does not drift;
- the integral of the relative angular rate about the axes (exact for a hinge, drifts).
On the virtual-IMU benchmark a short ``tau_s`` is best (the real knee is not a perfect hinge,
so the relative rate about a fixed axis is less exact than the two orientations); longer
``tau_s`` trusts the gyro more (smoother, e.g. with impacts or accelerometer clipping).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares
from scipy.signal import find_peaks, lfilter
from vqf import VQF

from .quaternion import dot_rows  # noqa: F401 - also used from here by other modules
from .quaternion import rotate as _rotate
from .windows import chunks as _chunks

__all__ = [
    "KneeBlock",
    "KneeCalibration",
    "KneeCalibrationError",
    "calibrate",
    "estimate_joint_axes",
    "KneeAngleEstimator",
    "GravityTracker",
    "resample_to",
    "ThighToShankAligner",
    "knee_flexion_at_ic",
    "knee_min_flexion_in_stance",
    "estimate_rate_hz",
]

MIN_SWINGS = 3
MIN_STANDING_S = 0.5
MAX_STANDING_GYR_RMS_DPS = 15.0
MAX_RESIDUAL_REL = 0.45
MAX_RESIDUAL_UP = 0.12
_SWING_MIN_DPS = 60.0
TERMS_CHUNK_ROWS = 16384  # rows of the knee terms computed together (temporaries stay in the cache)
_DEFAULT_TOL = 1e-8   # least_squares' default ftol, xtol: the hinge fit's final tolerance
_LOOSE_TOL = 1e-3     # the hinge fit's starts: enough to tell which minimum is the lowest
_NEAR_COST_REL = 0.01  # other minima within this of the lowest cost are refined too
_SAME_AXES_COS = float(np.cos(np.deg2rad(1.0)))


class KneeCalibrationError(ValueError):
    """The data given to :func:`calibrate` cannot give a knee calibration (message says why)."""


@dataclass
class KneeBlock:
    """Time-aligned samples of both sensors (thigh already resampled to the shank's times)."""

    t_s: np.ndarray
    thigh_gyr_dps: np.ndarray
    thigh_acc_mps2: np.ndarray
    shank_gyr_dps: np.ndarray
    shank_acc_mps2: np.ndarray

    def __post_init__(self) -> None:
        self.t_s = np.asarray(self.t_s, dtype=float).reshape(-1)
        n = len(self.t_s)
        for name in ("thigh_gyr_dps", "thigh_acc_mps2", "shank_gyr_dps", "shank_acc_mps2"):
            arr = np.asarray(getattr(self, name), dtype=float).reshape(-1, 3)
            if len(arr) != n:
                raise ValueError(f"KneeBlock: {name} has {len(arr)} rows, t_s has {n}")
            setattr(self, name, arr)

    def __len__(self) -> int:
        return len(self.t_s)

    def select(self, mask_or_slice) -> "KneeBlock":
        return KneeBlock(self.t_s[mask_or_slice], self.thigh_gyr_dps[mask_or_slice],
                         self.thigh_acc_mps2[mask_or_slice], self.shank_gyr_dps[mask_or_slice],
                         self.shank_acc_mps2[mask_or_slice])


@dataclass(frozen=True)
class KneeCalibration:
    """Result of :func:`calibrate`. Axes are unit vectors in each sensor's own frame.

    thigh_axis, shank_axis: the hinge (flexion) axis, pointing to the body's right.
    thigh_up, shank_up: the up direction (gravity reversed) during standing.
    thigh_ref, shank_ref: ``*_up`` made normal to the axis: zero of the inclination angle.
    rate_hz: sample rate of the shank stream (used for the orientation filter).
    residual_dps: RMS of the Seel residual ``|g1×j1| − |g2×j2|`` over the walking window.
    residual_rel: residual_dps / RMS shank angular rate (0 = perfect hinge; ~0.1–0.3 typical).
    residual_up: RMS of ``up1·j1 − up2·j2`` (gravity along the axis, unitless; ~0.02–0.05).
    swings: number of shank swings found in the walking window.
    """

    thigh_axis: np.ndarray
    shank_axis: np.ndarray
    thigh_up: np.ndarray
    shank_up: np.ndarray
    thigh_ref: np.ndarray
    shank_ref: np.ndarray
    rate_hz: float
    residual_dps: float
    residual_rel: float
    residual_up: float
    swings: int


# ----------------------------------------------------------------------------- helpers


def estimate_rate_hz(t_s: np.ndarray) -> float:
    """Sample rate from timestamps (median interval; ignores gaps and jitter)."""
    dt = np.diff(np.asarray(t_s, dtype=float))
    dt = dt[dt > 0]
    if len(dt) == 0:
        raise KneeCalibrationError("cannot tell the sample rate: fewer than two distinct timestamps")
    return float(1.0 / np.median(dt))


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _axis_from_angles(phi: float, theta: float) -> np.ndarray:
    return np.array([np.cos(phi) * np.cos(theta), np.cos(phi) * np.sin(theta), np.sin(phi)])


def _angles_from_axis(j: np.ndarray) -> tuple[float, float]:
    j = _unit(j)
    return float(np.arcsin(np.clip(j[2], -1, 1))), float(np.arctan2(j[1], j[0]))


def _principal_axis(gyr: np.ndarray) -> np.ndarray:
    """Direction of largest angular-rate energy (the sagittal axis in walking)."""
    _, _, vt = np.linalg.svd(gyr, full_matrices=False)
    return vt[0]


def _normal_part(v: np.ndarray, axis: np.ndarray) -> np.ndarray:
    return _unit(v - np.dot(v, axis) * axis)


# ----------------------------------------------------------------------------- calibration


class _HingeFit:
    """Residuals of :func:`estimate_joint_axes` and their exact Jacobian, as functions of the
    axes' spherical angles x = (φ1, θ1, φ2, θ2), j = (cos φ cos θ, cos φ sin θ, sin φ).

    Gyro rows ``(|g1 × j1| − |g2 × j2|) / σ_g`` with ``|g × j| = √(|g|² − (g·j)²)``, so
    ``∂|g × j|/∂x = −(g·j)(g·∂j/∂x) / |g × j|``; gravity rows ``(u1·j1 − u2·j2) / σ_u``. One
    matrix product per segment gives g·j and g·∂j/∂φ, g·∂j/∂θ together; the Jacobian reuses
    the products of the residual at the same x (least_squares asks for both at each point).
    """

    def __init__(self, g1, g2, u1, u2, use_up: bool, gyr_sigma_dps: float, up_sigma: float):
        self.g = (g1, g2)
        self.sq = (np.einsum("ij,ij->i", g1, g1), np.einsum("ij,ij->i", g2, g2))
        self.u = (u1, u2) if use_up else None
        self.gyr_sigma_dps, self.up_sigma = gyr_sigma_dps, up_sigma
        self._x: np.ndarray | None = None

    @staticmethod
    def _frame(phi: float, theta: float) -> np.ndarray:
        """Columns j, ∂j/∂φ, ∂j/∂θ."""
        cp, sp, ct, st = np.cos(phi), np.sin(phi), np.cos(theta), np.sin(theta)
        return np.array([[cp * ct, -sp * ct, -cp * st],
                         [cp * st, -sp * st, cp * ct],
                         [sp, cp, 0.0]])

    def _at(self, x: np.ndarray) -> None:
        if self._x is not None and np.array_equal(x, self._x):
            return
        self._x = np.array(x, dtype=float)
        self._frames = (self._frame(x[0], x[1]), self._frame(x[2], x[3]))
        self._gd = [g @ f for g, f in zip(self.g, self._frames)]   # g·j, g·∂j/∂φ, g·∂j/∂θ
        self._cross = [np.sqrt(np.maximum(sq - gd[:, 0] ** 2, 0.0)) for sq, gd in zip(self.sq, self._gd)]
        self._ud = None if self.u is None else [u @ f for u, f in zip(self.u, self._frames)]

    def solve(self, x0: np.ndarray, tol: float):
        """``least_squares`` (trust region, soft-L1 loss) from ``x0`` to the tolerance ``tol``
        (its ftol and xtol)."""
        return least_squares(self.residual, x0, jac=self.jacobian, method="trf",
                             loss="soft_l1", f_scale=2.0, ftol=tol, xtol=tol)

    def axes(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self._at(x)
        return self._frames[0][:, 0].copy(), self._frames[1][:, 0].copy()

    def rms(self, x: np.ndarray) -> tuple[float, float]:
        """RMS of the unscaled residuals at x: (gyro, deg/s; gravity, NaN without it)."""
        self._at(x)
        gyr = float(np.sqrt(np.mean((self._cross[0] - self._cross[1]) ** 2)))
        if self._ud is None:
            return gyr, float("nan")
        return gyr, float(np.sqrt(np.mean((self._ud[0][:, 0] - self._ud[1][:, 0]) ** 2)))

    def residual(self, x: np.ndarray) -> np.ndarray:
        self._at(x)
        r = (self._cross[0] - self._cross[1]) / self.gyr_sigma_dps
        if self._ud is not None:
            r = np.concatenate((r, (self._ud[0][:, 0] - self._ud[1][:, 0]) / self.up_sigma))
        return r

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        self._at(x)
        n_gyr = len(self._cross[0])
        n_up = 0 if self._ud is None else len(self._ud[0])
        jac = np.empty((n_gyr + n_up, 4))
        for k, sign in ((0, 1.0), (1, -1.0)):
            gd, cross = self._gd[k], self._cross[k]
            scale = np.divide(gd[:, 0], cross, out=np.zeros(n_gyr), where=cross > 0)
            scale *= -sign / self.gyr_sigma_dps
            jac[:n_gyr, 2 * k:2 * k + 2] = scale[:, None] * gd[:, 1:]
            if n_up:
                jac[n_gyr:, 2 * k:2 * k + 2] = self._ud[k][:, 1:] * (sign / self.up_sigma)
        return jac


def _same_axes(xa: np.ndarray, xb: np.ndarray) -> bool:
    """Two hinge-fit points (φ1, θ1, φ2, θ2) are one minimum: each axis within 1 deg up to its
    sign, and the same relative sign (flipping both leaves the fit unchanged, flipping one
    does not)."""
    d1 = float(np.dot(_axis_from_angles(xa[0], xa[1]), _axis_from_angles(xb[0], xb[1])))
    d2 = float(np.dot(_axis_from_angles(xa[2], xa[3]), _axis_from_angles(xb[2], xb[3])))
    return abs(d1) > _SAME_AXES_COS and abs(d2) > _SAME_AXES_COS and d1 * d2 > 0


def estimate_joint_axes(thigh_gyr_dps: np.ndarray, shank_gyr_dps: np.ndarray,
                        thigh_up: np.ndarray | None = None, shank_up: np.ndarray | None = None,
                        max_samples: int = 3000, gyr_sigma_dps: float = 30.0,
                        up_sigma: float = 0.1, starts: list | None = None,
                        ) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Hinge axis in each sensor frame from walking data.

    Gyro term (Seel et al. 2012/2014): ``|g1 × j1| − |g2 × j2| = 0`` (a hinge adds rotation
    only about its axis). Gravity term (optional, ``*_up`` = unit up direction per sample in
    each sensor frame, e.g. from ``vqf``): ``up1·j1 − up2·j2 = 0`` (a rotation about the axis
    keeps the gravity component along it) — it pins the axis' rotation about the segment's long
    axis, which the gyro term alone leaves loose, and it fixes the *relative* sign of j1, j2.
    Both residuals are scaled by their noise (``gyr_sigma_dps``, ``up_sigma``) and minimised
    with ``scipy.optimize.least_squares`` (trust region, soft-L1 loss, exact Jacobian) from
    several starts: each to a loose tolerance, then the lowest one to the default tolerance.
    Returns ``(j1, j2, gyro_residual_rms_dps, up_residual_rms)``; the signs of j1, j2 are not
    fixed here (:func:`calibrate` does that). ``starts``: (j1, j2) pairs to start from instead
    of the default ones (principal axes and sensor axes).
    """
    g1 = np.asarray(thigh_gyr_dps, dtype=float).reshape(-1, 3)
    g2 = np.asarray(shank_gyr_dps, dtype=float).reshape(-1, 3)
    use_up = thigh_up is not None and shank_up is not None
    u1 = np.asarray(thigh_up, dtype=float).reshape(-1, 3) if use_up else np.zeros_like(g1)
    u2 = np.asarray(shank_up, dtype=float).reshape(-1, 3) if use_up else np.zeros_like(g2)
    if len(g1) > max_samples:
        idx = np.linspace(0, len(g1) - 1, max_samples).round().astype(int)
        g1, g2, u1, u2 = g1[idx], g2[idx], u1[idx], u2[idx]
    moving = (np.linalg.norm(g1, axis=1) + np.linalg.norm(g2, axis=1)) > 20.0
    gm1, gm2 = (g1[moving], g2[moving]) if moving.sum() >= 50 else (g1, g2)

    fit = _HingeFit(gm1, gm2, u1, u2, use_up, gyr_sigma_dps, up_sigma)
    if starts is None:
        p1, p2 = _principal_axis(gm1), _principal_axis(gm2)
        starts = [(a1, sign * p2) for a1 in [p1, *np.eye(3)] for sign in (1.0, -1.0)]
    # every start to a loose tolerance, then refined to least_squares' default tolerances: the
    # lowest minimum, and any other minimum (other axes) nearly as low, in case refining
    # reorders them; the starts that reached one minimum are refined once
    loose = sorted((fit.solve(np.r_[_angles_from_axis(s1), _angles_from_axis(s2)], _LOOSE_TOL)
                    for s1, s2 in starts), key=lambda sol: sol.cost)
    near = [sol for sol in loose[1:] if sol.cost <= loose[0].cost * (1.0 + _NEAR_COST_REL)]
    minima = [loose[0]]
    for sol in near:
        if not any(_same_axes(sol.x, m.x) for m in minima):
            minima.append(sol)
    x = min((fit.solve(m.x, _DEFAULT_TOL) for m in minima), key=lambda sol: sol.cost).x
    j1, j2 = fit.axes(x)
    gyr_rms, up_rms = fit.rms(x)
    return j1, j2, gyr_rms, up_rms


def _swing_peaks(sagittal_dps: np.ndarray, rate_hz: float) -> np.ndarray:
    top = np.percentile(sagittal_dps, 99) if len(sagittal_dps) else 0.0
    height = max(_SWING_MIN_DPS, 0.4 * top)
    peaks, _ = find_peaks(sagittal_dps, height=height, distance=max(1, int(0.4 * rate_hz)))
    return peaks


def _standing_up(acc_mps2: np.ndarray, gyr_dps: np.ndarray, which: str) -> np.ndarray:
    acc = np.asarray(acc_mps2, dtype=float).reshape(-1, 3)
    gyr = np.asarray(gyr_dps, dtype=float).reshape(-1, 3)
    gyr_rms = float(np.sqrt(np.mean(np.sum((gyr - gyr.mean(axis=0)) ** 2, axis=1))))
    if gyr_rms > MAX_STANDING_GYR_RMS_DPS:
        raise KneeCalibrationError(
            f"the standing window is not still ({which} turns at {gyr_rms:.0f} deg/s RMS); "
            "stand still for the first seconds")
    mean = acc.mean(axis=0)
    if not 7.0 < np.linalg.norm(mean) < 12.5:
        raise KneeCalibrationError(
            f"the {which} accelerometer reads {np.linalg.norm(mean):.1f} m/s² while standing"
            " (expected about 9.81)")
    return _unit(mean)


def _choose_axis_signs(up1: np.ndarray, up2: np.ndarray, thigh_up: np.ndarray,
                       shank_up: np.ndarray, j1: np.ndarray, j2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Signs of the two hinge axes (both to the body's right) from the walk's inclinations.

    The hinge fit cannot tell the signs: its gyro term ignores them, and its gravity term
    ``up1·j1 = up2·j2`` only fixes the relative sign when the axis is clearly tilted — for a
    horizontal knee axis (the usual case) both sides are about 0 whatever the signs, so the
    relative sign the fit returns depends on the strap rotation and the start. Flipping j1
    alone turns the flexion θ = p2 − p1 into p2 + p1 (the thigh's inclination about its axis
    changes sign), a mix of the two segments' swings that goes well negative. A knee bends a
    lot (swing) but hardly extends past its standing pose, so of the four sign choices the one
    whose 2nd percentile of the angle over the walk is highest is kept.
    """
    p1 = _angle_about(up1, j1, _normal_part(thigh_up, j1))
    p2 = _angle_about(up2, j2, _normal_part(shank_up, j2))
    best, best_low = (1.0, 1.0), -np.inf
    for s1, s2 in ((1.0, 1.0), (-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0)):
        # about −j the angle (from the same reference) is the negated angle about j
        flex = (s2 * p2 - s1 * p1 + 180.0) % 360.0 - 180.0
        low = float(np.percentile(flex, 2))
        if low > best_low + 1e-9:
            best, best_low = (s1, s2), low
    return best[0] * j1, best[1] * j2


def calibrate(standing: KneeBlock, walking: KneeBlock, rate_hz: float | None = None) -> KneeCalibration:
    """Knee calibration from a quiet-standing window and a walking window (both aligned).

    Best given contiguous data (standing, then walking right after it): the gravity direction
    of each sensor is tracked through both with ``vqf``. Raises KneeCalibrationError when
    standing is missing/too short/not still, when the walking window holds fewer than
    ``MIN_SWINGS`` shank swings, or when the hinge fit is poor (``residual_rel >
    MAX_RESIDUAL_REL``).
    """
    if rate_hz is None:
        rate_hz = estimate_rate_hz(walking.t_s if len(walking) > 1 else standing.t_s)
    if len(standing) < max(3, MIN_STANDING_S * rate_hz):
        raise KneeCalibrationError(
            f"need at least {MIN_STANDING_S:.1f} s of quiet standing, got {len(standing) / rate_hz:.2f} s")
    thigh_up = _standing_up(standing.thigh_acc_mps2, standing.thigh_gyr_dps, "thigh")
    shank_up = _standing_up(standing.shank_acc_mps2, standing.shank_gyr_dps, "shank")
    if len(walking) < 2 * rate_hz:
        raise KneeCalibrationError(
            f"too little walking to find the knee axis: {len(walking) / rate_hz:.1f} s "
            f"(need a few strides, at least {MIN_SWINGS} swings)")
    n_st = len(standing)
    ups = []
    for gyr, acc in ((np.vstack([standing.thigh_gyr_dps, walking.thigh_gyr_dps]),
                      np.vstack([standing.thigh_acc_mps2, walking.thigh_acc_mps2])),
                     (np.vstack([standing.shank_gyr_dps, walking.shank_gyr_dps]),
                      np.vstack([standing.shank_acc_mps2, walking.shank_acc_mps2]))):
        up, bias = GravityTracker(rate_hz).update(gyr, acc)
        ups.append(up[n_st:])
    up1, up2 = ups
    j1, j2, res, up_res = estimate_joint_axes(walking.thigh_gyr_dps, walking.shank_gyr_dps, up1, up2)
    k1, k2 = _choose_axis_signs(up1, up2, thigh_up, shank_up, j1, j2)
    if np.dot(k1, j1) * np.dot(k2, j2) < 0:
        # the relative sign changed: fit again from there (the gravity term then settles the
        # axes' tilt for this sign), keeping the signs chosen
        j1, j2, res, up_res = estimate_joint_axes(walking.thigh_gyr_dps, walking.shank_gyr_dps,
                                                  up1, up2, starts=[(k1, k2)])
        k1, k2 = np.sign(np.dot(j1, k1)) * j1, np.sign(np.dot(j2, k2)) * j2
    j1, j2 = k1, k2
    peaks = _swing_peaks(walking.shank_gyr_dps @ j2, rate_hz)
    if len(peaks) < MIN_SWINGS:
        raise KneeCalibrationError(
            f"too little walking to find the knee axis: {len(peaks)} swing(s) found, "
            f"need at least {MIN_SWINGS}")
    shank_rms = float(np.sqrt(np.mean(np.sum(walking.shank_gyr_dps ** 2, axis=1))))
    rel = res / shank_rms if shank_rms > 0 else float("inf")
    if rel > MAX_RESIDUAL_REL:
        raise KneeCalibrationError(
            f"the thigh and shank do not move like a hinge (axis residual {res:.0f} deg/s, "
            f"{rel:.0%} of the shank rate); check the sensor placement")
    if up_res > MAX_RESIDUAL_UP:
        raise KneeCalibrationError(
            f"the thigh and shank do not move like a hinge (gravity along the axis differs by "
            f"{up_res:.3f} RMS, limit {MAX_RESIDUAL_UP}); check the sensor placement")
    for up, j, which in ((thigh_up, j1, "thigh"), (shank_up, j2, "shank")):
        if abs(np.dot(up, j)) > 0.9:
            raise KneeCalibrationError(f"the {which} knee axis found is vertical when standing; "
                                       "the calibration walk was not usable")
    return KneeCalibration(
        thigh_axis=j1, shank_axis=j2, thigh_up=thigh_up, shank_up=shank_up,
        thigh_ref=_normal_part(thigh_up, j1), shank_ref=_normal_part(shank_up, j2),
        rate_hz=float(rate_hz), residual_dps=res, residual_rel=float(rel),
        residual_up=up_res, swings=int(len(peaks)))


# ----------------------------------------------------------------------------- streaming


class GravityTracker:
    """Streaming up-direction (unit, sensor frame) and gyro bias of one sensor via ``vqf`` 6D.

    ``update(gyr_dps, acc_mps2, t_s=None) -> (up (N,3), bias_dps (N,3))``; state carried
    between calls. With timestamps, a gap longer than ``max_gap_s`` restarts the orientation
    from the next accelerometer sample (keeping the gyro-bias estimate): VQF assumes a fixed
    sample rate, so running through a gap would leave a slowly decaying tilt error.
    """

    def __init__(self, rate_hz: float, max_gap_s: float = 0.25):
        self._vqf = VQF(1.0 / float(rate_hz))
        self.max_gap_s = float(max_gap_s)
        self._last_t: float | None = None

    def _restart(self) -> None:
        bias = np.array(self._vqf.getBiasEstimate()[0], dtype=float)
        self._vqf.resetState()
        self._vqf.setBiasEstimate(bias, -1.0)

    def update_quat(self, gyr_dps: np.ndarray, acc_mps2: np.ndarray,
                    t_s: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Like :meth:`update` but returns the 6D quaternion (w, x, y, z; sensor → earth, heading
        arbitrary) instead of the up direction."""
        gyr = np.ascontiguousarray(np.deg2rad(np.asarray(gyr_dps, dtype=float).reshape(-1, 3)))
        acc = np.ascontiguousarray(np.asarray(acc_mps2, dtype=float).reshape(-1, 3))
        n = len(gyr)
        if n == 0:
            return np.zeros((0, 4)), np.zeros((0, 3))
        cuts = [0]
        gap_at_start = False
        if t_s is not None:
            t = np.asarray(t_s, dtype=float).reshape(-1)
            prev = self._last_t if self._last_t is not None else t[0]
            dt = np.diff(np.r_[prev, t])
            cuts = sorted(set([0, *np.flatnonzero((dt > self.max_gap_s) | (dt < 0)).tolist()]))
            self._last_t = float(t[-1])
            gap_at_start = bool(dt[0] > self.max_gap_s or dt[0] < 0)
        quats, biases = [], []
        for k, (a, b) in enumerate(zip(cuts, cuts[1:] + [n])):
            if a > 0 or (k == 0 and gap_at_start):
                self._restart()
            out = self._vqf.updateBatch(gyr[a:b], acc[a:b])
            quats.append(out["quat6D"])
            biases.append(out["bias"])
        return np.vstack(quats), np.rad2deg(np.vstack(biases))

    def update(self, gyr_dps: np.ndarray, acc_mps2: np.ndarray,
               t_s: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        q, bias = self.update_quat(gyr_dps, acc_mps2, t_s)
        return up_from_quat(q), bias


def _up_columns(q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    w, x, y, z = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    return 2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)


def up_from_quat(q: np.ndarray) -> np.ndarray:
    """Earth z-axis (up) in the sensor frame for quaternions (w, x, y, z) sensor → earth."""
    return np.column_stack(_up_columns(q))


def up_dots_from_quat(q: np.ndarray, vectors) -> list[np.ndarray]:
    """``dot_rows(up_from_quat(q), v)`` for each sensor-frame vector v (the same arithmetic,
    bit for bit), from the up direction's columns without building the (N, 3) array."""
    ux, uy, uz = _up_columns(np.asarray(q, dtype=float))
    return [ux * v[0] + uy * v[1] + uz * v[2] for v in vectors]


def rotate_to_earth(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate sensor-frame vectors ``v`` (N,3) or (3,) to the earth frame by quaternions q (N,4)."""
    return _rotate(q, v)


def _angle_about(up: np.ndarray, axis: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Angle (deg) of the up direction about ``axis``, from ``ref`` (both ⊥ axis)."""
    other = np.cross(axis, ref)
    return np.rad2deg(np.arctan2(dot_rows(up, other), dot_rows(up, ref)))


class KneeAngleEstimator:
    """Streaming knee flexion (deg; 0 = as when standing at calibration, + = more bent).

    ``update(t_s, thigh_gyr_dps, thigh_acc_mps2, shank_gyr_dps, shank_acc_mps2)`` takes one
    aligned block (thigh resampled to the shank's timestamps) and returns flexion per sample.
    ``tau_s`` is the complementary-filter time constant: below it the relative gyro rate
    dominates, above it the inclination angle. Also available after each call:
    ``inclination_deg_`` and ``rate_dps_`` (the two inputs, for the last block).
    """

    def __init__(self, calibration: KneeCalibration, tau_s: float = 0.05, max_gap_s: float = 0.25):
        self.calibration = calibration
        self.tau_s = float(tau_s)
        self.max_gap_s = float(max_gap_s)
        self._thigh = GravityTracker(calibration.rate_hz, max_gap_s)
        self._shank = GravityTracker(calibration.rate_hz, max_gap_s)
        self._alpha = min(1.0, 1.0 / (calibration.rate_hz * self.tau_s)) if tau_s > 0 else 1.0
        self._last_t: float | None = None
        self._zi: np.ndarray | None = None
        self._prev_unknown = False
        self.inclination_deg_ = np.zeros(0)
        self.rate_dps_ = np.zeros(0)

    def update(self, t_s, thigh_gyr_dps, thigh_acc_mps2, shank_gyr_dps, shank_acc_mps2) -> np.ndarray:
        t = np.asarray(t_s, dtype=float).reshape(-1)
        if len(t) == 0:
            return np.zeros(0)
        g1 = np.asarray(thigh_gyr_dps, dtype=float).reshape(-1, 3)
        g2 = np.asarray(shank_gyr_dps, dtype=float).reshape(-1, 3)
        up1, b1 = self._thigh.update(g1, thigh_acc_mps2, t)
        up2, b2 = self._shank.update(g2, shank_acc_mps2, t)
        return self.update_oriented(t, g1, b1, up1, g2, b2, up2)

    def update_oriented(self, t_s, thigh_gyr_dps, thigh_bias_dps, thigh_up, shank_gyr_dps,
                        shank_bias_dps, shank_up) -> np.ndarray:
        """Like :meth:`update`, from orientations computed elsewhere (the engine's own ``vqf``
        per sensor): ``*_up`` = up direction in the sensor frame (need not be unit length),
        ``*_bias_dps`` = gyro bias. NaN rows (orientation unknown, e.g. after a gap) give NaN;
        the angle restarts from the inclination at the next known row. The orientation
        filters of :meth:`update` are not used (use one of the two per estimator)."""
        t = np.asarray(t_s, dtype=float).reshape(-1)
        if len(t) == 0:
            return np.zeros(0)
        return self.update_terms(t, self.segment_terms("thigh", thigh_up, thigh_gyr_dps, thigh_bias_dps),
                                 self.segment_terms("shank", shank_up, shank_gyr_dps, shank_bias_dps))

    def segment_terms(self, segment: str, up, gyr_dps, bias_dps) -> np.ndarray:
        """Per sample of one segment ("thigh" or "shank"): (up·ref, up·(axis × ref), rate about
        the axis with the bias removed), shape (N, 3). All three are linear in the inputs, so
        interpolating them in time equals computing them from interpolated inputs (how the
        engine brings the thigh onto the shank's sample times cheaply)."""
        up = np.asarray(up, dtype=float).reshape(-1, 3)
        return self._terms(segment, lambda rows, vectors: [dot_rows(up[rows], v) for v in vectors],
                           gyr_dps, bias_dps)

    def quat_terms(self, segment: str, quat, gyr_dps, bias_dps) -> np.ndarray:
        """:meth:`segment_terms` from the segment's orientation quaternions (w, x, y, z; sensor →
        earth, any heading) instead of its up direction (the same values, bit for bit)."""
        q = np.asarray(quat, dtype=float).reshape(-1, 4)
        return self._terms(segment, lambda rows, vectors: up_dots_from_quat(q[rows], vectors),
                           gyr_dps, bias_dps)

    def _terms(self, segment: str, up_dots, gyr_dps, bias_dps) -> np.ndarray:
        """The terms, with ``up_dots(rows, vectors)`` giving the up direction's dot products
        over a slice of rows; :data:`TERMS_CHUNK_ROWS` rows at a time."""
        cal = self.calibration
        axis, ref = ((cal.thigh_axis, cal.thigh_ref) if segment == "thigh"
                     else (cal.shank_axis, cal.shank_ref))
        other = np.cross(axis, ref)
        gyr = np.asarray(gyr_dps, dtype=float).reshape(-1, 3)
        bias = np.asarray(bias_dps, dtype=float).reshape(-1, 3)
        # column-major: each term is one contiguous series (as np.interp and update_terms
        # read them)
        out = np.empty((3, len(gyr))).T
        for rows in _chunks(len(gyr), TERMS_CHUNK_ROWS):
            out[rows, 0], out[rows, 1] = up_dots(rows, (ref, other))
            out[rows, 2] = dot_rows(gyr[rows] - bias[rows], axis)
        return out

    def update_terms(self, t_s, thigh_terms: np.ndarray, shank_terms: np.ndarray) -> np.ndarray:
        """Like :meth:`update_oriented`, from :meth:`segment_terms` of both segments."""
        t = np.asarray(t_s, dtype=float).reshape(-1)
        n = len(t)
        if n == 0:
            return np.zeros(0)
        prev_t = self._last_t if self._last_t is not None else t[0]
        dt = np.diff(np.r_[prev_t, t])
        a = self._alpha
        incl, rate, drive = np.empty(n), np.empty(n), np.empty(n)
        unknown = np.empty(n, dtype=bool)
        for rows in _chunks(n, TERMS_CHUNK_ROWS):
            # p2 − p1 (each p = atan2(term 1, term 0)) as one angle: arg(z2 · conj(z1)) with
            # z = term 0 + i·term 1, in (−180, 180]
            x1, y1, w1 = thigh_terms[rows].T
            x2, y2, w2 = shank_terms[rows].T
            inc = np.rad2deg(np.arctan2(y2 * x1 - x2 * y1, x2 * x1 + y2 * y1))
            r = w1 - w2
            incl[rows], rate[rows] = inc, r
            # θ_k = (1−a)(θ_{k−1} + ω_k dt_k) + a·incl_k ; a gap (or the first sample, or the
            # first known one after unknown rows) resets to incl
            drive[rows] = (1.0 - a) * r * dt[rows] + a * inc
            unknown[rows] = ~(np.isfinite(inc) & np.isfinite(r))
        reset = (dt > self.max_gap_s) | (dt < 0)
        reset[1:] |= unknown[:-1]
        if self._zi is None or self._prev_unknown:
            reset[0] = True
        out = np.empty(n)
        start = 0
        zi = self._zi
        for stop in list(np.flatnonzero(reset | unknown)) + [n]:
            if stop > start:
                seg, zi = lfilter([1.0], [1.0, -(1.0 - a)], drive[start:stop], zi=zi)
                out[start:stop] = seg
            if stop < n:
                if unknown[stop]:
                    out[stop] = np.nan
                else:
                    out[stop] = incl[stop]
                    zi = np.array([(1.0 - a) * incl[stop]])
                start = stop + 1
        self._zi = zi
        self._prev_unknown = bool(unknown[-1])
        self._last_t = float(t[-1])
        self.inclination_deg_ = incl
        self.rate_dps_ = rate
        return out


# ----------------------------------------------------------------------------- alignment


def resample_to(t_target_s: np.ndarray, t_source_s: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``values`` (N,) or (N,k) from ``t_source_s`` to ``t_target_s``
    (held constant outside the source range). Offline counterpart of ThighToShankAligner."""
    t_target_s = np.asarray(t_target_s, dtype=float)
    t_source_s = np.asarray(t_source_s, dtype=float)
    v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        return np.interp(t_target_s, t_source_s, v)
    # column by column, into a column-major result (np.interp reads and writes whole series)
    out = np.empty((v.shape[1], len(t_target_s))).T
    for k in range(v.shape[1]):
        out[:, k] = np.interp(t_target_s, t_source_s, v[:, k])
    return out


class ThighToShankAligner:
    """Streaming alignment: thigh samples interpolated onto the shank's timestamps.

    ``push_thigh(t, gyr, acc)`` / ``push_shank(t, gyr, acc)`` in any order and block sizes;
    ``pop() -> KneeBlock | None`` returns every shank sample whose time is covered by thigh
    data (t_shank ≤ last thigh time), with the thigh linearly interpolated. Shank samples
    before the first thigh sample get the first thigh sample. The output does not depend on
    how the input was split; ``flush()`` at the end releases the rest (thigh held constant).
    """

    def __init__(self):
        self._th_t = np.zeros(0)
        self._th_v = np.zeros((0, 6))
        self._sh_t = np.zeros(0)
        self._sh_v = np.zeros((0, 6))

    def push_thigh(self, t_s, gyr_dps, acc_mps2) -> None:
        v = np.column_stack([np.asarray(gyr_dps, float).reshape(-1, 3), np.asarray(acc_mps2, float).reshape(-1, 3)])
        self._th_t = np.r_[self._th_t, np.asarray(t_s, float).reshape(-1)]
        self._th_v = np.vstack([self._th_v, v])

    def push_shank(self, t_s, gyr_dps, acc_mps2) -> None:
        v = np.column_stack([np.asarray(gyr_dps, float).reshape(-1, 3), np.asarray(acc_mps2, float).reshape(-1, 3)])
        self._sh_t = np.r_[self._sh_t, np.asarray(t_s, float).reshape(-1)]
        self._sh_v = np.vstack([self._sh_v, v])

    def _emit(self, n: int) -> KneeBlock | None:
        if n == 0 or len(self._th_t) == 0:
            return None
        t = self._sh_t[:n]
        th = resample_to(t, self._th_t, self._th_v)
        block = KneeBlock(t, th[:, :3], th[:, 3:], self._sh_v[:n, :3], self._sh_v[:n, 3:])
        self._sh_t, self._sh_v = self._sh_t[n:], self._sh_v[n:]
        # keep the thigh sample just before the last emitted time (the left bracket) onwards
        keep = max(int(np.searchsorted(self._th_t, t[-1], side="right")) - 1, 0)
        self._th_t, self._th_v = self._th_t[keep:], self._th_v[keep:]
        return block

    def pop(self) -> KneeBlock | None:
        if len(self._th_t) == 0:
            return None
        n = int(np.searchsorted(self._sh_t, self._th_t[-1], side="right"))
        return self._emit(n)

    def flush(self) -> KneeBlock | None:
        return self._emit(len(self._sh_t))


# ----------------------------------------------------------------------------- per step


def knee_flexion_at_ic(t_s: np.ndarray, flexion_deg: np.ndarray, ic_s) -> np.ndarray | float:
    """Flexion (deg) at each initial contact, linearly interpolated; NaN outside the series."""
    t = np.asarray(t_s, dtype=float)
    f = np.asarray(flexion_deg, dtype=float)
    ic = np.asarray(ic_s, dtype=float)
    if len(t) == 0:
        out = np.full(ic.shape, np.nan)
    else:
        out = np.interp(ic, t, f)
        out = np.where((ic < t[0]) | (ic > t[-1]) | ~np.isfinite(ic), np.nan, out)
    return float(out) if out.ndim == 0 else out


def knee_min_flexion_in_stance(t_s: np.ndarray, flexion_deg: np.ndarray, ic_s, to_s) -> np.ndarray | float:
    """Smallest flexion (deg) between each contact and its toe-off (inclusive); NaN when the
    stance is not covered by the series or to_s is missing."""
    t = np.asarray(t_s, dtype=float)
    f = np.asarray(flexion_deg, dtype=float)
    ic = np.atleast_1d(np.asarray(ic_s, dtype=float))
    to = np.atleast_1d(np.asarray(to_s, dtype=float))
    out = np.full(ic.shape, np.nan)
    for k, (a, b) in enumerate(zip(ic, to)):
        if not (np.isfinite(a) and np.isfinite(b)) or b < a or len(t) == 0 or a < t[0] or b > t[-1]:
            continue
        i0, i1 = np.searchsorted(t, a, side="left"), np.searchsorted(t, b, side="right")
        vals = f[i0:i1]
        ends = np.interp([a, b], t, f)
        out[k] = float(np.min(np.r_[vals, ends]))
    return float(out[0]) if np.ndim(ic_s) == 0 else out
