"""What a real sensor does to the ideal signals: its anti-alias filter and sample rate, the
strap's mounting rotation, scale error, bias, white noise, range clipping, timestamp jitter
and lost packets (missing rows, never NaN)."""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt

from ..recording import GRAVITY_MPS2

ACC_NOISE_MPS2 = 0.04
GYR_NOISE_DPS = 0.25
ACC_BIAS_MAX_MPS2 = 0.08
GYR_BIAS_MAX_DPS = 1.5
ACC_RANGE_MPS2 = 16 * GRAVITY_MPS2
GYR_RANGE_DPS = 2000.0


def band_limit_and_sample(t_fine: np.ndarray, values: np.ndarray, rate_hz: float,
                          t_out: np.ndarray) -> np.ndarray:
    """Low-pass at 0.4 × rate (the sensor's digital filter; zero-phase so events stay where
    the truth puts them), then read the values at the output times."""
    fine_hz = 1.0 / (t_fine[1] - t_fine[0])
    sos = butter(4, min(0.4 * rate_hz, 0.45 * fine_hz), fs=fine_hz, output="sos")
    smooth = sosfiltfilt(sos, values, axis=0)
    return np.column_stack([np.interp(t_out, t_fine, smooth[:, k]) for k in range(values.shape[1])])


def rotation_about(axis: np.ndarray, angle_rad: float) -> np.ndarray:
    axis = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle_rad) * k + (1 - np.cos(angle_rad)) * k @ k


def mounting_rotation(kind: str, rng: np.random.Generator) -> np.ndarray:
    """Sensor axes expressed in the segment frame (columns): aligned, random strap (±35°
    about the long axis, up to 10° tilt) or any orientation at all."""
    if kind == "aligned":
        return np.eye(3)
    if kind == "any":
        q = rng.standard_normal(4)
        q /= np.linalg.norm(q)
        w, x, y, z = q
        return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                         [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                         [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
    axial = rotation_about([0, 0, 1], np.radians(rng.uniform(-35, 35)))
    azimuth = rng.uniform(0, 2 * np.pi)
    tilt = rotation_about([np.cos(azimuth), np.sin(azimuth), 0], np.radians(rng.uniform(0, 10)))
    return tilt @ axial


def sample_times(duration_s: float, rate_hz: float, jitter_s: float,
                 rng: np.random.Generator) -> np.ndarray:
    t = np.arange(0.0, duration_s, 1.0 / rate_hz)
    if jitter_s > 0:
        t = t + rng.uniform(-jitter_s, jitter_s, len(t))
        t[0] = max(t[0], 0.0)
        t = np.maximum.accumulate(t)
    return t


def keep_mask(n: int, drop_rate: float, rng: np.random.Generator, protect_start: int = 0,
              mean_gap_samples: float = 5.0) -> np.ndarray:
    """Rows kept after losing about ``drop_rate`` of them in short gaps; the first
    ``protect_start`` rows (the standing calibration) and the last row are never lost."""
    keep = np.ones(n, dtype=bool)
    if drop_rate <= 0:
        return keep
    n_gaps = rng.poisson(drop_rate * n / mean_gap_samples)
    starts = rng.integers(0, n, n_gaps)
    lengths = rng.geometric(1.0 / mean_gap_samples, n_gaps)
    for s, length in zip(starts, lengths):
        keep[s:s + length] = False
    keep[:protect_start] = True
    keep[-1] = True
    return keep


def apply_sensor_errors(acc_mps2: np.ndarray, gyr_dps: np.ndarray, mount: np.ndarray,
                        noise: float, bias: float, scale_error: float,
                        rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict]:
    """Segment-frame signals → what the sensor reports in its own axes."""
    acc = acc_mps2 @ mount          # row vectors: mount^T v
    gyr = gyr_dps @ mount
    info = {}
    acc_scale = 1 + rng.uniform(-scale_error, scale_error, 3)
    gyr_scale = 1 + rng.uniform(-scale_error, scale_error, 3)
    acc_bias = bias * rng.uniform(-ACC_BIAS_MAX_MPS2, ACC_BIAS_MAX_MPS2, 3)
    gyr_bias = bias * rng.uniform(-GYR_BIAS_MAX_DPS, GYR_BIAS_MAX_DPS, 3)
    acc = acc * acc_scale + acc_bias + noise * ACC_NOISE_MPS2 * rng.standard_normal(acc.shape)
    gyr = gyr * gyr_scale + gyr_bias + noise * GYR_NOISE_DPS * rng.standard_normal(gyr.shape)
    info.update(acc_scale=acc_scale.round(5).tolist(), gyr_scale=gyr_scale.round(5).tolist(),
                acc_bias_mps2=acc_bias.round(4).tolist(), gyr_bias_dps=gyr_bias.round(3).tolist(),
                acc_clipped=int((np.abs(acc) > ACC_RANGE_MPS2).sum()),
                gyr_clipped=int((np.abs(gyr) > GYR_RANGE_DPS).sum()))
    return (np.clip(acc, -ACC_RANGE_MPS2, ACC_RANGE_MPS2),
            np.clip(gyr, -GYR_RANGE_DPS, GYR_RANGE_DPS), info)
