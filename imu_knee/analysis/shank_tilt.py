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
    if d_world is not None:
        h = np.asarray(d_world[:2], dtype=float)
        if np.hypot(*h) > 0.05:
            return h / np.hypot(*h)
    if ms_i is None or ms_i >= len(quat) or np.isnan(quat[ms_i]).any():
        return None
    axis = rotate(quat[ms_i:ms_i + 1], up_axis)[0]
    norm = float(np.hypot(axis[0], axis[1]))
    return None if norm < MIN_HORIZONTAL else axis[:2] / norm


def axis_tilt_deg(axis: np.ndarray, direction_xy: np.ndarray) -> np.ndarray:
    """Forward tilt from vertical (deg, + = knee ahead of ankle) of world-frame long axes
    ``axis`` (..., 3) along horizontal walking directions ``direction_xy`` (..., 2)."""
    fwd = axis[..., 0] * direction_xy[..., 0] + axis[..., 1] * direction_xy[..., 1]
    return np.degrees(np.arctan2(fwd, axis[..., 2]))


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
