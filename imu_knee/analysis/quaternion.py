"""Vectorised quaternion helpers (scalar first: w, x, y, z; q maps sensor frame to world)."""

from __future__ import annotations

import numpy as np


def rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors ``v`` (N,3) or (3,) from the sensor frame to the world frame by ``q`` (N,4)."""
    q = np.asarray(q, dtype=np.float64)
    v = np.broadcast_to(np.asarray(v, dtype=np.float64), (len(q), 3))
    w = q[:, :1]
    u = q[:, 1:]
    t = 2.0 * np.cross(u, v)
    return v + w * t + np.cross(u, t)
