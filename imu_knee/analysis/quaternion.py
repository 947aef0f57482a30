"""Vectorised quaternion helpers (scalar first: w, x, y, z; q maps sensor frame to world)."""

from __future__ import annotations

import numpy as np


def cross_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cross product of (N,3) arrays (np.cross has a large per-call overhead)."""
    out = np.empty(a.shape if a.shape == b.shape else np.broadcast_shapes(a.shape, b.shape))
    out[..., 0] = a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1]
    out[..., 1] = a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2]
    out[..., 2] = a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    return out


def dot_rows(m: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Row-wise dot product ``m @ v`` computed element by element, so that the result of a row
    never depends on how many rows are in the block (BLAS may sum differently by size)."""
    m = np.asarray(m, dtype=float)
    return m[:, 0] * v[0] + m[:, 1] * v[1] + m[:, 2] * v[2]


def row_norms(v: np.ndarray) -> np.ndarray:
    """Euclidean norm of each row of an (N, 3) array: the same sums, in the same order, as
    ``np.linalg.norm(v, axis=1)``, on whole columns (faster for long arrays)."""
    x, y, z = v[:, 0], v[:, 1], v[:, 2]
    return np.sqrt(x * x + y * y + z * z)


ROTATE_CHUNK = 16384  # rows rotated together: their temporaries (~1.5 MB) stay in the CPU cache


def rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors ``v`` (N,3) or (3,) from the sensor frame to the world frame by ``q`` (N,4).

    v' = v + w t + u x t with t = 2 u x v (u = x, y, z of q); computed on whole columns, a
    few thousand rows at a time (the same arithmetic for every row however it is split)."""
    q = np.asarray(q, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    out = np.empty(np.broadcast_shapes(q.shape[:-1], v.shape[:-1]) + (3,))
    n = len(out)
    per_row_v = v.ndim == 2 and len(v) == n
    for a in range(0, n, ROTATE_CHUNK):
        rows = slice(a, min(a + ROTATE_CHUNK, n))
        _rotate_into(q[rows] if len(q) == n else q, v[rows] if per_row_v else v, out[rows])
    return out


def _rotate_into(q: np.ndarray, v: np.ndarray, out: np.ndarray) -> None:
    """:func:`rotate` of one piece, written into ``out`` (in-place steps: few temporaries)."""
    w, x, y, z = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    if v.ndim == 1:
        # one vector: t = 2 u x v from 2 v (doubling is exact: the same bits, fewer steps)
        vx, vy, vz = v
        dx, dy, dz = 2.0 * v
        tx = y * dz
        tx -= z * dy
        ty = z * dx
        ty -= x * dz
        tz = x * dy
        tz -= y * dx
    else:
        vx, vy, vz = v[:, 0], v[:, 1], v[:, 2]
        tx = y * vz
        tx -= z * vy
        tx *= 2.0
        ty = z * vx
        ty -= x * vz
        ty *= 2.0
        tz = x * vy
        tz -= y * vx
        tz *= 2.0
    cross = np.empty_like(tx)
    # component k: v_k + w t_k + (u x t)_k, (u x t)_k = a t_a - b t_b
    for k, (v_k, t_k, a, t_a, b, t_b) in enumerate(((vx, tx, y, tz, z, ty), (vy, ty, z, tx, x, tz),
                                                     (vz, tz, x, ty, y, tx))):
        o = out[:, k]
        np.multiply(w, t_k, out=o)
        o += v_k
        np.multiply(a, t_a, out=cross)
        cross -= b * t_b
        o += cross


def rotate_one(q, v) -> tuple[float, float, float]:
    """One vector rotated by one quaternion (w, x, y, z), in plain floats (no array overhead);
    the same arithmetic as :func:`rotate`."""
    w, x, y, z = q
    vx, vy, vz = v
    tx, ty, tz = 2.0 * (y * vz - z * vy), 2.0 * (z * vx - x * vz), 2.0 * (x * vy - y * vx)
    return (vx + w * tx + (y * tz - z * ty), vy + w * ty + (z * tx - x * tz),
            vz + w * tz + (x * ty - y * tx))


def cross3(a, b) -> tuple[float, float, float]:
    """Cross product of two 3-vectors given as plain sequences."""
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


# Quaternions as components: (w, x, y, z), each a float or an array (one element per
# quaternion), e.g. the rows of a (4, N) array. The same operations, in the same order, on
# floats and on arrays, so one sample alone gives the bits it gives in a long array.

def multiply_components(p, q, out=None) -> tuple:
    """Hamilton product ``p * q`` of quaternions as components (rotate by q, then by p);
    for arrays, ``out`` (four arrays) may take the result (no new arrays)."""
    pw, px, py, pz = p
    qw, qx, qy, qz = q
    if out is None:
        w, x, y, z = pw * qw, pw * qx, pw * qy, pw * qz
    else:
        w, x, y, z = (np.multiply(pw, c, out=o) for c, o in zip(q, out))
    w -= px * qx
    w -= py * qy
    w -= pz * qz
    x += px * qw
    x += py * qz
    x -= pz * qy
    y -= px * qz
    y += py * qw
    y += pz * qx
    z += px * qy
    z -= py * qx
    z += pz * qw
    return w, x, y, z


def conjugate_components(q) -> tuple:
    """The inverse rotation of unit quaternions as components."""
    w, x, y, z = q
    return w, -x, -y, -z


# Taylor coefficients, in x = h² (h: the half-angle), of cos(h) and of sin(h) / (2 h), here
# scaled by 4^-k to take r² = 4 x (the same bits: powers of 2): up to x⁵ they are exact to
# 2e-16 for h <= 0.25 rad (a gyro step's half-angle: 2000 deg/s at 70 Hz); larger h use trig
_COS_SERIES = tuple(c / 4.0 ** k for k, c in enumerate(
    (1.0, -1 / 2, 1 / 24, -1 / 720, 1 / 40320, -1 / 3628800)))
_HALF_SINC_SERIES = tuple(c / 4.0 ** k for k, c in enumerate(
    (1 / 2, -1 / 12, 1 / 240, -1 / 10080, 1 / 725760, -1 / 79833600)))
SERIES_MAX_HALF_ANGLE_RAD = 0.25


def _series(x, coefficients):
    """sum_k c_k x^k by Horner's rule (in place on one new array for an array ``x``)."""
    out = x * coefficients[-1]
    for c in coefficients[-2:0:-1]:
        out += c
        out *= x
    out += coefficients[0]
    return out


def components_from_rotation_vector(r_rad) -> tuple:
    """Unit quaternions as components of rotation vectors (rx, ry, rz) (axis times angle,
    rad; floats or arrays of any shape): the exponential map, exact for any angle; each
    element's arithmetic depends on its own angle only."""
    rx, ry, rz = r_rad
    angle_sq = rx * rx
    angle_sq += ry * ry
    angle_sq += rz * rz
    cos_half = _series(angle_sq, _COS_SERIES)
    half_sinc = _series(angle_sq, _HALF_SINC_SERIES)  # the vector part is r sin(h) / (2 h)
    big_sq = (2.0 * SERIES_MAX_HALF_ANGLE_RAD) ** 2
    if isinstance(angle_sq, float):
        if angle_sq > big_sq:
            half = 0.5 * np.sqrt(angle_sq)
            cos_half, half_sinc = np.cos(half), np.sin(half) / (2.0 * half)
    else:
        big = np.flatnonzero(angle_sq > big_sq) if angle_sq.max(initial=0.0) > big_sq else ()
        if len(big):
            half = 0.5 * np.sqrt(angle_sq.flat[big])
            cos_half.flat[big] = np.cos(half)
            half_sinc.flat[big] = np.sin(half) / (2.0 * half)
    return cos_half, rx * half_sinc, ry * half_sinc, rz * half_sinc


def rotation_vector_from_components(q) -> tuple:
    """Rotation vectors (rx, ry, rz) (rad) of unit quaternions as components: the logarithmic
    map, the inverse of :func:`components_from_rotation_vector` for angles up to pi."""
    w, x, y, z = q
    sin_half = np.sqrt(x * x + y * y + z * z)
    abs_w = np.abs(w)
    # the shorter way round (q and -q are the same rotation): the angle is in [0, pi]
    angle = 2.0 * np.arctan2(sin_half, abs_w)
    # angle / sin_half -> 2 / |w| as sin_half -> 0
    tiny = sin_half <= 1e-12
    scale = np.copysign(np.where(tiny, 2.0 / abs_w, angle / np.where(tiny, 1.0, sin_half)), w)
    return x * scale, y * scale, z * scale
