"""Impact at initial contact: peak resultant acceleration in the 150 ms after contact (g) and
the steepest rise before that peak (g/s). Band-limited by the sample rate (DESIGN.md 5).

The window opens ``CONTACT_TOLERANCE_S`` before the detected contact. The shank's late-swing
deceleration makes a resultant peak (up to ~3.5 g) 40-60 ms before contact, so the window often
opens on that peak's falling flank; the search then starts where the fall ends and the landing
rise begins (:func:`rise_start`), so neither the peak nor the rise is taken from the flank. A
window in which the resultant only falls gives an empty loading rate (flag
``no_rise_before_impact``), never 0. At 100 Hz the sampled rise is 5-10x slower than the
true one (band limit), so loading rates compare between steps and sessions at the same rate.

Live, the contact row should not wait for the whole window: :func:`window_end` closes it early
once a clear peak (at least ``EARLY_MIN_PEAK_G``) has passed and the resultant has stayed for
``EARLY_SETTLED_SAMPLES`` samples below halfway between 1 g and that peak, no sooner than
``EARLY_MIN_AFTER_IC_S`` after the contact. On the development recordings (simulator, level
walking and stairs up) this gives the full-window value in every step; on stairs down the heel
drops onto the step after the forefoot has landed, a second, larger peak that an early close
would miss, so the engine does not close early when the stride is provisionally a descent.
The final row always uses the full window.
"""

from __future__ import annotations

import numpy as np

from ..recording import GRAVITY_MPS2
from .windows import spans_with_mark, window_index

IMPACT_WINDOW_S = 0.150
# the detected contact can be a few tens of ms late (stairs): the window opens this much before
CONTACT_TOLERANCE_S = 0.030
MIN_IMPACT_RATE_HZ = 50.0
EARLY_MIN_PEAK_G = 1.6
EARLY_MIN_AFTER_IC_S = 0.05
EARLY_SETTLED_FRACTION = 0.5
EARLY_SETTLED_SAMPLES = 2
STANDARD_RANGES_G = (2.0, 4.0, 8.0, 16.0)


def clip_level_mps2(max_abs_acc_mps2: float) -> float | None:
    """The accelerometer's full scale if the largest reading sits on a standard range."""
    for g in STANDARD_RANGES_G:
        full = g * GRAVITY_MPS2
        if abs(max_abs_acc_mps2 - full) < 0.01 * full:
            return full
    return None


def impact_at(t_s: np.ndarray, acc_mps2: np.ndarray, ic_s: float, rate_hz: float,
              clip_mps2: float | None, acc_norm_mps2: np.ndarray | None = None
              ) -> tuple[float | None, float | None, list[str]]:
    """(impact_g, loading_rate_gps, flags) for the contact at ``ic_s``.

    ``acc_norm_mps2``: optionally the resultant of every row of ``acc_mps2`` (computed once
    for many contacts)."""
    impact, loading, flag = impact_columns(t_s, acc_mps2, np.array([ic_s]), rate_hz, clip_mps2,
                                           acc_norm_mps2)
    i, r, f = float(impact[0]), float(loading[0]), flag[0]
    return None if i != i else i, None if r != r else r, [f] if f else []


def impact_columns(t_s: np.ndarray, acc_mps2: np.ndarray, ic_s: np.ndarray, rate_hz: float,
                   clip_mps2: float | None, acc_norm_mps2: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`impact_at` for many contacts at once (their windows side by side), as columns:
    (impact g, loading rate g/s; NaN: none, and each contact's flag, "" for none:
    ``rate_too_low_for_impact``, ``no_samples_for_impact``, ``acc_saturated`` or
    ``no_rise_before_impact``)."""
    n = len(ic_s)
    impact, loading = np.full(n, np.nan), np.full(n, np.nan)
    flag = np.full(n, "no_samples_for_impact", dtype=object)
    if rate_hz < MIN_IMPACT_RATE_HZ:
        flag[:] = "rate_too_low_for_impact"
        return impact, loading, flag
    i0 = t_s.searchsorted(np.asarray(ic_s, dtype=float) - CONTACT_TOLERANCE_S)
    i1 = t_s.searchsorted(np.asarray(ic_s, dtype=float) + IMPACT_WINDOW_S, side="right")
    todo = np.flatnonzero(i1 - i0 >= 2)
    if clip_mps2 is not None and len(todo):
        # a window with a sample on (or within 0.5 % of) the full scale
        lo, hi = int(i0[todo].min()), int(i1[todo].max())
        on_scale = np.flatnonzero((np.abs(acc_mps2[lo:hi]) >= 0.995 * clip_mps2).any(axis=1)) + lo
        saturated = spans_with_mark(on_scale, i0[todo], i1[todo])
        flag[todo[saturated]] = "acc_saturated"
        todo = todo[~saturated]
    if len(todo) == 0:
        return impact, loading, flag
    flag[todo] = ""
    i0, i1 = i0[todo], i1[todo]
    base = 0
    norm = acc_norm_mps2
    if norm is None:  # the resultant around these windows only
        base = max(int(i0.min()) - 1, 0)
        norm = np.linalg.norm(acc_mps2[base:int(i1.max())], axis=1)
    i0, i1 = i0 - base, i1 - base
    t = t_s[base:]
    start = rise_starts(norm, i0, i1)
    # the resultant only falls through the window (the flank of a late-swing peak): no
    # landing peak with a rise before it; the impact is the window's largest value
    falls = start >= i1 - 1
    if falls.any():
        idx, valid = window_index(i0[falls], i1[falls])
        impact[todo[falls]] = np.max(norm[idx] / GRAVITY_MPS2, axis=1, where=valid, initial=-np.inf)
        flag[todo[falls]] = "no_rise_before_impact"
    rises = ~falls
    if rises.any():
        # steepest rise from the start of the rise (one sample before, if the window opened
        # on a rising flank) up to the peak
        s0, e = start[rises], i1[rises]
        j0 = np.where((s0 == i0[rises]) & (s0 > 0), s0 - 1, s0)
        idx, valid = window_index(j0, e)
        mag_g = norm[idx] / GRAVITY_MPS2
        pos = np.arange(idx.shape[1])
        searched = valid & (pos >= (s0 - j0)[:, None])
        k_peak = np.argmax(np.where(searched, mag_g, -np.inf), axis=1)
        impact[todo[rises]] = mag_g[np.arange(len(j0)), k_peak]
        tw = t[idx]
        with np.errstate(invalid="ignore", divide="ignore"):
            slopes = np.diff(mag_g, axis=1) / np.maximum(np.diff(tw, axis=1), 1e-6)
        before_peak = pos[:-1] < k_peak[:, None]
        steepest = np.max(slopes, axis=1, where=before_peak, initial=-np.inf)
        no_rise = (k_peak == 0) | (steepest <= 0.0)
        loading[todo[rises][~no_rise]] = steepest[~no_rise]
        flag[todo[rises][no_rise]] = "no_rise_before_impact"
    return impact, loading, flag


def rise_start(acc_mps2: np.ndarray, i0: int, i1: int) -> int:
    """First sample of the impact window to search from: ``i0``, unless the window opens on
    the falling flank of an earlier peak (the shank's late-swing deceleration, 40-60 ms
    before contact): then the end of that fall (the first sample after which the resultant
    rises again), where the landing's rise starts. Depends on samples up to ``i1`` only."""
    if i0 <= 0 or i1 - i0 < 2:
        return i0
    norm = np.linalg.norm(acc_mps2[i0 - 1:i1], axis=1)
    return int(rise_starts(norm, np.array([1]), np.array([i1 - i0 + 1]))[0]) + i0 - 1


def rise_starts(norm: np.ndarray, i0: np.ndarray, i1: np.ndarray) -> np.ndarray:
    """:func:`rise_start` of many windows [i0, i1) of the resultant ``norm``."""
    out = np.array(i0, dtype=np.int64)
    cand = np.flatnonzero((out > 0) & (i1 - out >= 2))
    if len(cand) == 0:
        return out
    a, b = out[cand], np.asarray(i1)[cand]
    idx, valid = window_index(a - 1, b)
    mag = norm[idx]
    falling = ~(mag[:, 1] >= mag[:, 0])
    rising = (mag[:, 2:] > mag[:, 1:-1]) & valid[:, 2:]
    again = np.where(rising.any(axis=1), a + rising.argmax(axis=1), b - 1)
    out[cand] = np.where(falling, again, a)
    return out


def window_end(t_s: np.ndarray, acc_mps2: np.ndarray, ic_s: float, allow_early: bool = True
               ) -> tuple[int | None, bool]:
    """(samples to use, closed early) for the impact window of the contact at ``ic_s``, from
    the samples so far; (None, False) while the window is still open. The result depends on
    the samples only, not on how they arrived."""
    full = bool(len(t_s)) and t_s[-1] >= ic_s + IMPACT_WINDOW_S
    n = int(np.searchsorted(t_s, ic_s + IMPACT_WINDOW_S, side="right"))  # window samples so far
    if allow_early:
        i0 = int(np.searchsorted(t_s, ic_s - CONTACT_TOLERANCE_S))
        i0 = rise_start(acc_mps2, i0, n)
        m = EARLY_SETTLED_SAMPLES
        if n - i0 > m:
            mag_g = np.linalg.norm(acc_mps2[i0:n], axis=1) / GRAVITY_MPS2
            peak = np.maximum.accumulate(mag_g)
            idx = np.arange(len(mag_g))
            peak_at = np.maximum.accumulate(np.where(mag_g >= peak, idx, 0))
            below = mag_g < 1.0 + EARLY_SETTLED_FRACTION * (peak - 1.0)
            # the last m samples up to j below the threshold; they all come after the peak
            # (peak_at), so they share the threshold of sample j
            run = np.convolve(below.astype(np.int32), np.ones(m, dtype=np.int32))[:len(below)]
            ok = np.flatnonzero((t_s[i0:n] >= ic_s + EARLY_MIN_AFTER_IC_S)
                                & (peak >= EARLY_MIN_PEAK_G) & (idx - peak_at >= m) & (run >= m))
            if len(ok):
                return i0 + int(ok[0]) + 1, True
    return (n, False) if full else (None, False)
