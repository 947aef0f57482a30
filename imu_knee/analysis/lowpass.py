"""Causal Butterworth low-pass whose state is carried between blocks (sosfilt + zi).

Filtering a signal in any split of blocks gives exactly the one-shot result.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.signal import butter, group_delay, sosfilt, sosfilt_zi


@lru_cache(maxsize=32)
def _design(cutoff_hz: float, rate_hz: float, order: int) -> tuple[np.ndarray, np.ndarray, float]:
    """(sos, initial state for a unit step (n_sections, 2), group delay s near 1.5 Hz) of a
    Butterworth low-pass; designed once per setting (every engine's chains ask for the same
    few; the arrays are only read)."""
    sos = butter(order, cutoff_hz, fs=rate_hz, output="sos")
    b, a = butter(order, cutoff_hz, fs=rate_hz)
    _, gd = group_delay((b, a), w=[1.5], fs=rate_hz)
    return sos, sosfilt_zi(sos), float(gd[0]) / rate_hz


class StreamingLowpass:
    """Low-pass several channels block by block. ``delay_s`` is the group delay near 1–2 Hz."""

    def __init__(self, cutoff_hz: float, rate_hz: float, channels: int, order: int = 2):
        cutoff_hz = min(cutoff_hz, 0.45 * rate_hz)
        self.sos, self._zi_unit, self.delay_s = _design(float(cutoff_hz), float(rate_hz), int(order))
        self._zi: np.ndarray | None = None
        self.channels = channels

    def process(self, x: np.ndarray) -> np.ndarray:
        """Filter a block of shape (N, channels); the first sample sets a steady initial state."""
        x = np.asarray(x, dtype=np.float64)
        if len(x) == 0:
            return x.copy()
        if self._zi is None:
            # start as if the first value had been held forever: no start-up transient
            self._zi = self._zi_unit[:, :, None] * x[0][None, None, :]
        y, self._zi = sosfilt(self.sos, x, axis=0, zi=self._zi)
        return y
