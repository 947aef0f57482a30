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

    ``acc_norm_mps2``: optionally the resultant of every row of ``acc_mps2`` (the same
    values, computed once for many contacts)."""
    flags: list[str] = []
    if rate_hz < MIN_IMPACT_RATE_HZ:
        return None, None, ["rate_too_low_for_impact"]
    i0 = int(np.searchsorted(t_s, ic_s - CONTACT_TOLERANCE_S))
    i1 = int(np.searchsorted(t_s, ic_s + IMPACT_WINDOW_S, side="right"))
    if i1 - i0 < 2:
        return None, None, ["no_samples_for_impact"]
    window = acc_mps2[i0:i1]
    if clip_mps2 is not None and np.any(np.abs(window) >= 0.995 * clip_mps2):
        return None, None, ["acc_saturated"]
    norm = acc_norm_mps2 if acc_norm_mps2 is not None else _LazyNorm(acc_mps2)
    start = rise_start(acc_mps2, i0, i1, norm)
    if start >= i1 - 1:
        # the resultant only falls through the window (the flank of a late-swing peak): no
        # landing peak with a rise before it; the impact is the window's largest value
        mag_g = norm[i0:i1] / GRAVITY_MPS2
        return float(mag_g.max()), None, ["no_rise_before_impact"]
    # steepest rise from the start of the rise (one sample before, if the window opened on
    # a rising flank) up to the peak
    j0 = start - 1 if start == i0 and start > 0 else start
    mag_g = norm[j0:i1] / GRAVITY_MPS2
    k = int(np.argmax(mag_g[start - j0:])) + start - j0
    peak = float(mag_g[k])
    rise_t = t_s[j0:j0 + k + 1]
    slopes = np.diff(mag_g[:k + 1]) / np.maximum(np.diff(rise_t), 1e-6)
    loading = float(slopes.max()) if len(slopes) else None
    if loading is None or loading <= 0.0:
        return peak, None, ["no_rise_before_impact"]
    return peak, loading, flags


class _LazyNorm:
    """``norm[a:b]``: the resultant of rows a..b-1 of an (N, 3) array, computed on demand."""

    def __init__(self, v: np.ndarray):
        self._v = v

    def __getitem__(self, sl: slice) -> np.ndarray:
        return np.linalg.norm(self._v[sl], axis=1)


def rise_start(acc_mps2: np.ndarray, i0: int, i1: int, acc_norm_mps2=None) -> int:
    """First sample of the impact window to search from: ``i0``, unless the window opens on
    the falling flank of an earlier peak (the shank's late-swing deceleration, 40-60 ms
    before contact): then the end of that fall (the first sample after which the resultant
    rises again), where the landing's rise starts. Depends on samples up to ``i1`` only."""
    if i0 <= 0 or i1 - i0 < 2:
        return i0
    norm = acc_norm_mps2 if acc_norm_mps2 is not None else _LazyNorm(acc_mps2)
    mag = norm[i0 - 1:i1]
    if mag[1] >= mag[0]:
        return i0
    rising = np.flatnonzero(np.diff(mag[1:]) > 0)
    return i0 + int(rising[0]) if len(rising) else i1 - 1


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
