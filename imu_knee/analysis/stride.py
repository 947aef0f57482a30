"""Stride length and step height of the foot from a shank sensor.

The shank is integrated in the world frame (VQF orientation, gravity removed) between two
mid-stance instants. At mid-stance the foot is flat, so the sensor moves like a pendulum about
the ankle: its velocity is angular rate x (sensor position relative to the ankle). The velocity
drift over the stride is removed linearly so both ends match that pendulum velocity; the ankle
displacement is the sensor displacement minus the change of the ankle-to-sensor lever.
"""

from __future__ import annotations

import numpy as np

from .quaternion import _cross, rotate


def midstance_index(t_s: np.ndarray, gyr_lp_dps: np.ndarray, t_from: float, t_to: float) -> int | None:
    """The stillest sample (smallest low-passed angular rate) in [t_from, t_to]."""
    i0 = int(np.searchsorted(t_s, t_from))
    i1 = int(np.searchsorted(t_s, t_to, side="right"))
    if i1 - i0 < 1:
        return None
    return i0 + int(np.argmin(np.linalg.norm(gyr_lp_dps[i0:i1], axis=1)))


def ankle_displacement(t_s: np.ndarray, acc_world_mps2: np.ndarray, gyr_dps: np.ndarray,
                       quat: np.ndarray, i0: int, i1: int, lever_sensor: np.ndarray) -> np.ndarray:
    """World-frame displacement (x, y, z up) of the ankle from sample i0 to i1.

    ``acc_world_mps2``: acceleration in the world frame with gravity removed.
    ``lever_sensor``: vector from the ankle to the sensor in sensor axes (m).
    """
    sl = slice(i0, i1 + 1)
    t = t_s[sl]
    q = quat[sl]
    a_w = acc_world_mps2[sl]
    dt = np.diff(t)
    # trapezoidal integration of acceleration → velocity
    v = np.zeros_like(a_w)
    v[1:] = np.cumsum(0.5 * (a_w[1:] + a_w[:-1]) * dt[:, None], axis=0)
    ends = q[[0, -1]]
    lever_w = rotate(ends, lever_sensor)
    omega_w = rotate(ends, np.radians(gyr_dps[[i0, i1]]))
    v_ends = _cross(omega_w, lever_w)
    v_start, v_end = v_ends[0], v_ends[1]
    lever_w0, lever_w1 = lever_w[0], lever_w[1]
    v = v + v_start
    drift = v[-1] - v_end
    frac = (t - t[0]) / max(t[-1] - t[0], 1e-9)
    v = v - frac[:, None] * drift
    p_end = np.sum(0.5 * (v[1:] + v[:-1]) * dt[:, None], axis=0)
    return p_end - (lever_w1 - lever_w0)
