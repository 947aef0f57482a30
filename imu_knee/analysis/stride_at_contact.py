"""A provisional stride length / step height at the contact that ends the stride (live use).

The final integration (:mod:`.stride`) runs from one mid-stance to the next and needs the
stance after the contact. At the contact only the start is anchored (pendulum velocity at the
mid-stance before); the velocity drift is taken from the previous closed stride of the same
sensor (drift per second), and the integration stops shortly after the contact. On the
development recordings this agrees with the final values within 3-4 cm (stride length) and
2-5 cm (step height) mean absolute difference; the activity from it agrees in about 9 of 10
strides. It is marked provisional and replaced by the final row.
"""

from __future__ import annotations

import numpy as np

from .quaternion import cross3, rotate_one


def _pendulum(quat: np.ndarray, gyr_dps: np.ndarray, i: int, lever_sensor: np.ndarray):
    """(lever in the world frame, sensor velocity omega x lever) at sample i (3-tuples)."""
    q = quat[i].tolist()
    lever_w = rotate_one(q, np.asarray(lever_sensor, dtype=float).tolist())
    omega_w = rotate_one(q, (gyr_dps[i] * (np.pi / 180.0)).tolist())
    return lever_w, cross3(omega_w, lever_w)


def _velocity_change(t: np.ndarray, a_w: np.ndarray) -> np.ndarray:
    """Trapezoidal velocity change from the first sample (u[0] = 0)."""
    dt = (t[1:] - t[:-1])[:, None]
    u = np.zeros_like(a_w)
    np.cumsum(0.5 * (a_w[1:] + a_w[:-1]) * dt, axis=0, out=u[1:])
    return u


def drift_rate_mps2(t_s: np.ndarray, acc_world_mps2: np.ndarray, gyr_dps: np.ndarray,
                    quat: np.ndarray, i0: int, i1: int, lever_sensor: np.ndarray) -> np.ndarray:
    """Velocity drift per second of the closed stride from mid-stance i0 to mid-stance i1."""
    sl = slice(i0, i1 + 1)
    u = _velocity_change(t_s[sl], acc_world_mps2[sl])
    _, v0 = _pendulum(quat, gyr_dps, i0, lever_sensor)
    _, v1 = _pendulum(quat, gyr_dps, i1, lever_sensor)
    return (u[-1] + np.subtract(v0, v1)) / max(float(t_s[i1] - t_s[i0]), 1e-6)


def displacement_to(t_s: np.ndarray, acc_world_mps2: np.ndarray, gyr_dps: np.ndarray,
                    quat: np.ndarray, i0: int, i_end: int, lever_sensor: np.ndarray,
                    drift_mps2: np.ndarray) -> np.ndarray:
    """Ankle displacement (x, y, z up) from mid-stance i0 to sample i_end, start anchored."""
    sl = slice(i0, i_end + 1)
    t = t_s[sl]
    u = _velocity_change(t, acc_world_mps2[sl])
    lever0, v0 = _pendulum(quat, gyr_dps, i0, lever_sensor)
    # velocity v = u + v0 - (t - t0) * drift; its trapezoidal integral: that of u plus the
    # exact integral of the linear terms, T * v0 - T^2 / 2 * drift
    span = float(t[-1] - t[0])
    p_u = np.sum(0.5 * (u[1:] + u[:-1]) * (t[1:] - t[:-1])[:, None], axis=0)
    p = p_u + span * np.asarray(v0) - (0.5 * span * span) * np.asarray(drift_mps2)
    lever1 = rotate_one(quat[i_end].tolist(), np.asarray(lever_sensor, dtype=float).tolist())
    return p - np.subtract(lever1, lever0)
