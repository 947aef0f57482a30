"""Largest forward lean of the shank during stance (the coach's heel-lift column).

``shank_tilt_max_stance_deg`` (imu_knee/coach/step_columns.py): for every stance sample the
shank's long axis (ankle -> knee) in the world frame, from the orientation the chain already
has; its angle from vertical along the stride's horizontal walking direction,
``atan2(a_fwd, a_up)`` (+ = knee ahead of ankle); the column is the maximum over the stance.

Relative to quiet standing: the long axis is the calibration's ``up_axis``, which *is* the
direction of gravity in the sensor while standing, so the standing tilt is 0 by construction
(strap tilt removed) and nothing is left to subtract.
"""

from __future__ import annotations

import numpy as np

from .quaternion import rotate

MIN_HORIZONTAL = 1e-6


def walking_direction(d_world: np.ndarray | None, quat: np.ndarray, up_axis: np.ndarray,
                      ms_i: int | None) -> np.ndarray | None:
    """Unit horizontal walking direction: the foot's displacement over the stride, else the
    horizontal part of the shank's long axis at mid-swing (the shank leans forward then)."""
    d = np.full((1, 2), np.nan)
    if d_world is not None:
        d[0] = np.asarray(d_world, dtype=float)[:2]
    direction = walking_directions(d, quat, up_axis, np.array([-1 if ms_i is None else ms_i]))[0]
    return None if np.isnan(direction[0]) else direction


def walking_directions(d_world: np.ndarray, quat: np.ndarray, up_axis: np.ndarray,
                       ms_i: np.ndarray) -> np.ndarray:
    """:func:`walking_direction` of many strides, (K, 2) (NaN rows: none): ``d_world`` (K, 2+)
    their displacements (NaN rows: unknown), ``ms_i`` their mid-swing samples (-1: none)."""
    h = np.asarray(d_world, dtype=float)[:, :2]
    out = np.full((len(h), 2), np.nan)
    size = np.hypot(h[:, 0], h[:, 1])
    with np.errstate(invalid="ignore"):
        moved = size > 0.05
    out[moved] = h[moved] / size[moved, None]
    ms = np.asarray(ms_i, dtype=np.int64)
    look = np.flatnonzero(~moved & (ms >= 0) & (ms < len(quat)))
    if len(look):
        q = quat[ms[look]]
        axis = rotate(q, up_axis)
        norm = np.hypot(axis[:, 0], axis[:, 1])
        good = ~np.isnan(q).any(axis=1) & (norm >= MIN_HORIZONTAL)
        out[look[good]] = axis[good, :2] / norm[good, None]
    return out


def axis_tilt_deg(axis: np.ndarray, direction_xy: np.ndarray) -> np.ndarray:
    """Forward tilt from vertical (deg, + = knee ahead of ankle) of world-frame long axes
    ``axis`` (..., 3) along horizontal walking directions ``direction_xy`` (..., 2)."""
    return np.degrees(axis_tilt_rad(axis, direction_xy))


def axis_tilt_rad(axis: np.ndarray, direction_xy: np.ndarray) -> np.ndarray:
    """:func:`axis_tilt_deg` in radians (the largest of many tilts converted once gives the
    same degrees: the conversion is one multiplication, which keeps the order)."""
    fwd = axis[..., 0] * direction_xy[..., 0] + axis[..., 1] * direction_xy[..., 1]
    return np.arctan2(fwd, axis[..., 2])


def forward_tilt_deg(quat: np.ndarray, up_axis: np.ndarray, direction_xy: np.ndarray) -> np.ndarray:
    """Forward tilt of the long axis from vertical per sample (deg, + = knee ahead of ankle)."""
    return axis_tilt_deg(rotate(quat, up_axis), np.asarray(direction_xy, dtype=float))


def max_forward_tilt_deg(quat: np.ndarray, up_axis: np.ndarray, direction_xy: np.ndarray,
                         i0: int, i1: int) -> float | None:
    """Largest forward tilt over samples i0..i1 (both included); None when not measurable."""
    if i1 <= i0 or i1 >= len(quat):
        return None
    q = quat[i0:i1 + 1]
    if np.isnan(q).any():
        return None
    return float(forward_tilt_deg(q, up_axis, direction_xy).max())
