"""Stride length and step height of the foot from a shank sensor.

The shank is integrated in the world frame (VQF orientation, gravity removed) between two
mid-stance instants. At mid-stance the foot is flat, so the sensor moves like a pendulum about
the ankle: its velocity is angular rate x (sensor position relative to the ankle). The velocity
drift over the stride is removed linearly so both ends match that pendulum velocity; the ankle
displacement is the sensor displacement minus the change of the ankle-to-sensor lever.
"""

from __future__ import annotations

import numpy as np



def midstance_index(t_s: np.ndarray, gyr_lp_dps: np.ndarray, t_from: float, t_to: float) -> int | None:
    """The stillest sample (smallest low-passed angular rate) in [t_from, t_to]."""
    i0 = int(t_s.searchsorted(t_from))
    i1 = int(t_s.searchsorted(t_to, side="right"))
    if i1 - i0 < 1:
        return None
    g = gyr_lp_dps[i0:i1]
    return i0 + int(np.argmin(np.einsum("ij,ij->i", g, g)))


def _rotate_one(q, v) -> tuple[float, float, float]:
    """One vector rotated by one quaternion (w, x, y, z), in plain floats (no array overhead)."""
    w, x, y, z = q
    vx, vy, vz = v
    tx, ty, tz = 2.0 * (y * vz - z * vy), 2.0 * (z * vx - x * vz), 2.0 * (x * vy - y * vx)
    return (vx + w * tx + (y * tz - z * ty), vy + w * ty + (z * tx - x * tz),
            vz + w * tz + (x * ty - y * tx))


def _cross3(a, b) -> tuple[float, float, float]:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def ankle_displacement(t_s: np.ndarray, acc_world_mps2: np.ndarray, gyr_dps: np.ndarray,
                       quat: np.ndarray, i0: int, i1: int, lever_sensor: np.ndarray) -> np.ndarray:
    """World-frame displacement (x, y, z up) of the ankle from sample i0 to i1.

    ``acc_world_mps2``: acceleration in the world frame with gravity removed.
    ``lever_sensor``: vector from the ankle to the sensor in sensor axes (m).
    """
    sl = slice(i0, i1 + 1)
    t = t_s[sl]
    a_w = acc_world_mps2[sl]
    dt = (t[1:] - t[:-1])[:, None]
    # trapezoidal integration of acceleration -> velocity change u (u[0] = 0)
    u = np.empty_like(a_w)
    u[0] = 0.0
    np.cumsum(0.5 * (a_w[1:] + a_w[:-1]) * dt, axis=0, out=u[1:])
    p_u = np.sum(0.5 * (u[1:] + u[:-1]) * dt, axis=0).tolist()
    u_end = u[-1].tolist()
    # lever and angular rate at both ends, in the world frame (plain floats: 3-vectors)
    rad = np.pi / 180.0
    q0, q1 = quat[i0].tolist(), quat[i1].tolist()
    lever = np.asarray(lever_sensor, dtype=float).tolist()
    lever_w0 = _rotate_one(q0, lever)
    lever_w1 = _rotate_one(q1, lever)
    v_start = _cross3(_rotate_one(q0, (gyr_dps[i0] * rad).tolist()), lever_w0)
    v_end = _cross3(_rotate_one(q1, (gyr_dps[i1] * rad).tolist()), lever_w1)
    # v = u + v_start - frac * drift with frac linear in time, drift so that v(end) = v_end;
    # the trapezoidal position integral of the linear terms is exact: T * (v_start - drift / 2)
    span = float(t[-1] - t[0])
    out = []
    for k in range(3):
        drift = u_end[k] + v_start[k] - v_end[k]
        p_end = p_u[k] + span * (v_start[k] - 0.5 * drift)
        out.append(p_end - (lever_w1[k] - lever_w0[k]))
    return np.array(out)
