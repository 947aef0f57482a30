"""Stride length and step height of the foot from a shank sensor.

The shank is integrated in the world frame (VQF orientation, gravity removed) between two
mid-stance instants. At mid-stance the foot is flat, so the sensor moves like a pendulum about
the ankle: its velocity is angular rate x (sensor position relative to the ankle). The velocity
drift over the stride is removed linearly so both ends match that pendulum velocity; the ankle
displacement is the sensor displacement minus the change of the ankle-to-sensor lever.
"""

from __future__ import annotations

import numpy as np

from .quaternion import cross_rows, rotate
from .windows import chunks, window_argext, window_index

CHUNK_STRIDES = 256  # strides per padded array (bounds its memory)


def midstance_index(t_s: np.ndarray, gyr_lp_dps: np.ndarray, t_from: float, t_to: float,
                    gyr_lp_sq: np.ndarray | None = None) -> int | None:
    """The stillest sample (smallest low-passed angular rate) in [t_from, t_to].

    ``gyr_lp_sq``: optionally the squared norms of ``gyr_lp_dps``'s rows, computed once
    (:func:`squared_norms`) instead of per call."""
    i0 = int(t_s.searchsorted(t_from))
    i1 = int(t_s.searchsorted(t_to, side="right"))
    if i1 - i0 < 1:
        return None
    g2 = squared_norms(gyr_lp_dps[i0:i1]) if gyr_lp_sq is None else gyr_lp_sq[i0:i1]
    return i0 + int(np.argmin(g2))


def midstance_indices(t_s: np.ndarray, gyr_lp_sq: np.ndarray, t_from: np.ndarray,
                      t_to: np.ndarray) -> np.ndarray:
    """:func:`midstance_index` of many intervals at once (-1: no sample in the interval)."""
    i0 = t_s.searchsorted(t_from)
    i1 = t_s.searchsorted(t_to, side="right")
    out = np.full(len(i0), -1, dtype=np.int64)
    ok = np.flatnonzero(i1 > i0)
    out[ok] = window_argext(gyr_lp_sq, i0[ok], i1[ok], largest=False, chunk=CHUNK_STRIDES)
    return out


def squared_norms(v: np.ndarray) -> np.ndarray:
    """Squared norm of each row of an (N, 3) array."""
    return np.einsum("ij,ij->i", v, v)


def ankle_displacement(t_s: np.ndarray, acc_world_mps2: np.ndarray, gyr_dps: np.ndarray,
                       quat: np.ndarray, i0: int, i1: int, lever_sensor: np.ndarray) -> np.ndarray:
    """World-frame displacement (x, y, z up) of the ankle from sample i0 to i1.

    ``acc_world_mps2``: acceleration in the world frame with gravity removed.
    ``lever_sensor``: vector from the ankle to the sensor in sensor axes (m).
    """
    return ankle_displacements(t_s, acc_world_mps2, gyr_dps, quat, np.array([i0]), np.array([i1]),
                               lever_sensor)[0]


def ankle_displacements(t_s: np.ndarray, acc_world_mps2: np.ndarray, gyr_dps: np.ndarray,
                        quat: np.ndarray, i0: np.ndarray, i1: np.ndarray,
                        lever_sensor: np.ndarray, end_anchored: bool = True,
                        axes: slice = slice(0, 3)) -> np.ndarray:
    """:func:`ankle_displacement` of many strides (samples i0[k] to i1[k]) at once: (K, 3).

    The strides are integrated side by side in one padded array (:mod:`.windows`); each row's
    sums run in sample order as for one stride alone. ``end_anchored=False``: only the start
    is a mid-stance (no drift removal; as :func:`.stride_at_contact.displacement_to` with
    zero drift), e.g. up to a contact. ``axes``: only these world axes (columns of the
    result), e.g. ``slice(2, 3)`` for the rise alone; each axis is integrated on its own, so
    its values are the same bits as in the full result."""
    n_axes = len(range(3)[axes])
    p_u, u_end = np.empty((len(i0), n_axes)), np.empty((len(i0), n_axes))
    for sl in chunks(len(i0), CHUNK_STRIDES):
        p_u[sl], u_end[sl] = _integrals(t_s, acc_world_mps2, i0[sl], i1[sl], axes)
    # lever and angular rate at both ends, in the world frame (all strides at once)
    q0, q1 = quat[i0], quat[i1]
    lever_w0 = rotate(q0, lever_sensor)
    lever_w1 = rotate(q1, lever_sensor)
    rad = np.pi / 180.0
    v_start = cross_rows(rotate(q0, gyr_dps[i0] * rad), lever_w0)[:, axes]
    span = (t_s[i1] - t_s[i0])[:, None]
    if not end_anchored:
        return p_u + span * v_start - (lever_w1 - lever_w0)[:, axes]
    v_end = cross_rows(rotate(q1, gyr_dps[i1] * rad), lever_w1)[:, axes]
    # v = u + v_start - frac * drift with frac linear in time, drift so that v(end) = v_end;
    # the trapezoidal position integral of the linear terms is exact: T * (v_start - drift / 2)
    drift = u_end + v_start - v_end
    p_end = p_u + span * (v_start - 0.5 * drift)
    return p_end - (lever_w1 - lever_w0)[:, axes]


def _integrals(t_s, acc_world_mps2, i0, i1, axes: slice) -> tuple[np.ndarray, np.ndarray]:
    """(position p_u, velocity change u at the end) of the acceleration integrated from rest
    over each stride's samples i0[k] to i1[k] (trapezoids), the strides side by side."""
    idx, valid = window_index(i0, i1 + 1)
    # axes (sample, stride, xyz): each stride's sums run in sample order, and one numpy step
    # adds a sample of every stride at once (a sum along the first axis adds in order)
    idx, valid = np.ascontiguousarray(idx.T), valid.T
    t = np.take(t_s, idx)
    # steps between consecutive samples of each stride (padding repeats the last sample of a
    # stride, a real one, and its steps count 0)
    dt = np.where(valid[1:], t[1:] - t[:-1], 0.0)
    # (indexing, not np.take: take copies a strided source, e.g. one column, whole first)
    a_w = acc_world_mps2[:, axes][idx]
    # trapezoidal integration of acceleration -> velocity change u (u[0] = 0); the
    # trapezoids' halves are taken out of the sums (exact: powers of two), so c = 2 u is summed
    step = np.add(a_w[1:], a_w[:-1])
    _times_each_axis(step, dt)
    c = np.zeros_like(a_w)
    c[1:2] = step[:1]
    for j in range(1, len(step)):  # as np.cumsum along the samples, far faster on this layout
        np.add(c[j], step[j], out=c[j + 1])
    # position: the trapezoidal integral of u, sum(0.5 * (u[j] + u[j + 1]) * dt[j]) = p_u
    c_mid = np.add(c[1:], c[:-1], out=step)
    _times_each_axis(c_mid, dt)
    p_u = 0.25 * np.sum(c_mid, axis=0)
    u_end = 0.5 * c[i1 - i0, np.arange(len(i0))]
    return p_u, u_end


def _times_each_axis(v: np.ndarray, dt: np.ndarray) -> None:
    """``v *= dt[..., None]`` for (sample, stride, xyz) ``v``, one axis at a time (a broadcast
    over the short last axis is several times slower)."""
    for i in range(v.shape[-1]):
        np.multiply(v[..., i], dt, out=v[..., i])
