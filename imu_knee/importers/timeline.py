"""Time bases: spreading repeated timestamps, ordering, and putting accelerometer and
gyroscope samples on one timeline.

Merging: the accelerometer keeps its own sample times and values untouched, and the gyroscope
is linearly interpolated to those times. Reasons: impact peaks live in the accelerometer and
any resampling of it would cut them; angular rate during walking is smooth (most power below
~10 Hz), so linear interpolation at 50–200 Hz changes it by a fraction of a deg/s (error of a
sinusoid of amplitude A and frequency f sampled every dt is at most A·(2π·f·dt)²/8: 0.03 deg/s
for 50 deg/s at 1 Hz and 100 Hz). Accelerometer samples outside the gyroscope's time span or
inside a gyroscope gap are dropped, so a gap stays a gap (missing rows), never an invention.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError


def rate_hz(t_s: np.ndarray) -> float:
    """Sample rate from the mean interval between neighbours, gaps left out.

    The mean (not the median) is used because spread packet stamps alternate between two
    quantised steps (e.g. 9.50 and 9.75 ms for 104 Hz) whose median would bias the rate.
    """
    dt = np.diff(np.asarray(t_s, dtype=np.float64))
    dt = dt[dt > 0]
    if not len(dt):
        return float("nan")
    normal = dt[dt < 1.5 * np.median(dt)]
    return float(1.0 / np.mean(normal)) if len(normal) else float("nan")


def median_step_s(t_s: np.ndarray) -> float:
    dt = np.diff(t_s)
    dt = dt[dt > 0]
    return float(np.median(dt)) if len(dt) else float("nan")


def spread_repeated(t_s: np.ndarray, what: str) -> np.ndarray:
    """Spread runs of equal timestamps evenly up to the next distinct timestamp.

    Several apps stamp a whole BLE packet (or every sample of it) with one time: MetaBase
    repeats the epoch millisecond, Movesense stamps the first sample of each packet. A run of
    n equal stamps t0 followed by t1 becomes t0, t0+d, …, t0+(n-1)d with d = (t1-t0)/n. Where
    the next stamp is far away (a lost packet) d falls back to the file's typical step.
    """
    t = np.asarray(t_s, dtype=np.float64)
    n = len(t)
    if n < 2:
        return t.copy()
    starts = np.flatnonzero(np.r_[True, np.diff(t) != 0])
    lengths = np.diff(np.r_[starts, n])
    if (lengths == 1).all():
        return t.copy()
    run_t = t[starts]
    step = np.full(len(starts), np.nan)
    step[:-1] = np.diff(run_t) / lengths[:-1]
    typical = float(np.nanmedian(step)) if len(starts) > 1 else float("nan")
    if not np.isfinite(typical) or typical <= 0:
        raise InputError(f"{what}: the timestamps do not advance; cannot derive sample times")
    step[~np.isfinite(step) | (step > 2.0 * typical)] = typical
    pos = np.arange(n) - np.repeat(starts, lengths)
    return np.repeat(run_t, lengths) + pos * np.repeat(step, lengths)


def fill_forward(t_s: np.ndarray, what: str) -> np.ndarray:
    """Replace missing stamps (NaN) by the last stamp above them (packet continuation rows)."""
    t = np.asarray(t_s, dtype=np.float64)
    valid = np.isfinite(t)
    if not valid.any():
        raise InputError(f"{what}: no timestamps at all")
    idx = np.where(valid, np.arange(len(t)), 0)
    np.maximum.accumulate(idx, out=idx)
    out = t[idx]
    first = int(np.flatnonzero(valid)[0])
    out[:first] = np.nan
    return out


def order_by_time(t_s: np.ndarray, xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Sort samples by time (stable) and drop exact duplicate times; returns the count moved."""
    t = np.asarray(t_s, dtype=np.float64)
    moved = int((np.diff(t) < 0).sum()) if len(t) > 1 else 0
    if moved:
        order = np.argsort(t, kind="stable")
        t, xyz = t[order], xyz[order]
    if len(t) > 1:
        keep = np.r_[True, np.diff(t) > 0]
        t, xyz = t[keep], xyz[keep]
    return t, xyz, moved


def merge_onto_acc(acc_t: np.ndarray, acc: np.ndarray, gyr_t: np.ndarray,
                   gyr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Interpolate the gyroscope to the accelerometer's times (both sorted, strictly rising).

    Returns (t, acc, gyr, n_outside, n_in_gap): accelerometer samples outside the gyroscope's
    span, or in a gyroscope gap (neighbours more than 3 typical steps apart), are dropped.
    """
    if len(acc_t) < 2 or len(gyr_t) < 2:
        raise InputError("too few samples to build a timeline (need at least 2 of each sensor)")
    if acc_t[-1] < gyr_t[0] or gyr_t[-1] < acc_t[0]:
        raise InputError("the accelerometer and gyroscope recordings do not overlap in time"
                         f" (accelerometer {acc_t[0]:.3f}–{acc_t[-1]:.3f} s,"
                         f" gyroscope {gyr_t[0]:.3f}–{gyr_t[-1]:.3f} s)")
    same = len(acc_t) == len(gyr_t) and np.allclose(acc_t, gyr_t, rtol=0, atol=1e-9)
    if same:
        return acc_t, acc, gyr, 0, 0
    max_gap = 3.0 * median_step_s(gyr_t)
    inside = (acc_t >= gyr_t[0]) & (acc_t <= gyr_t[-1])
    right = np.clip(np.searchsorted(gyr_t, acc_t, side="left"), 1, len(gyr_t) - 1)
    in_gap = (gyr_t[right] - gyr_t[right - 1]) > max_gap
    keep = inside & ~in_gap
    t = acc_t[keep]
    g = np.column_stack([np.interp(t, gyr_t, gyr[:, k]) for k in range(3)])
    return t, acc[keep], g, int((~inside).sum()), int((inside & in_gap).sum())
