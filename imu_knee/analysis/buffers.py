"""A growing array addressed by absolute sample index (the analysis keeps a sensor's history)."""

from __future__ import annotations

import numpy as np


class GrowingArray:
    """Append-only 1-D or 2-D float array with amortised O(1) appends.

    ``view()`` returns the filled part (no copy). Indices are absolute sample numbers.
    """

    def __init__(self, width: int | None = None, capacity: int = 4096, dtype=np.float64):
        self._width = width
        shape = (capacity,) if width is None else (capacity, width)
        self._data = np.empty(shape, dtype=dtype)
        self.n = 0

    def append(self, block: np.ndarray) -> None:
        m = len(block)
        if m == 0:
            return
        need = self.n + m
        if need > len(self._data):
            cap = max(need, 2 * len(self._data))
            shape = (cap,) if self._width is None else (cap, self._width)
            new = np.empty(shape, dtype=self._data.dtype)
            new[: self.n] = self._data[: self.n]
            self._data = new
        self._data[self.n: need] = block
        self.n = need

    def view(self) -> np.ndarray:
        return self._data[: self.n]

    def __len__(self) -> int:
        return self.n
