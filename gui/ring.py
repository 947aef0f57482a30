"""Fixed-size ring buffers for the plots: memory stays flat however long a session runs."""

from __future__ import annotations

import numpy as np


class Ring:
    """The last ``capacity`` rows of a 1-D or 2-D float series (oldest first on read)."""

    def __init__(self, capacity: int, width: int | None = None):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        shape = (capacity,) if width is None else (capacity, width)
        self._data = np.zeros(shape)
        self._next = 0       # where the next row goes
        self.count = 0       # rows written in all (may exceed capacity)

    @property
    def capacity(self) -> int:
        return len(self._data)

    def __len__(self) -> int:
        return min(self.count, self.capacity)

    def append(self, block) -> None:
        block = np.asarray(block, dtype=float)
        n = len(block)
        if n == 0:
            return
        cap = self.capacity
        if n >= cap:
            self._data[:] = block[-cap:]
            self._next = 0
        else:
            end = self._next + n
            if end <= cap:
                self._data[self._next:end] = block
            else:
                k = cap - self._next
                self._data[self._next:] = block[:k]
                self._data[: n - k] = block[k:]
            self._next = end % cap
        self.count += n

    def read(self) -> np.ndarray:
        """A copy of the stored rows, oldest first."""
        if self.count < self.capacity:
            return self._data[: self.count].copy()
        return np.concatenate([self._data[self._next:], self._data[: self._next]])

    def clear(self) -> None:
        self._next = 0
        self.count = 0

    def read_since(self, count: int) -> np.ndarray:
        """The rows written after the first ``count`` (as many as are still stored)."""
        k = min(self.count - count, len(self))
        if k <= 0:
            return self._data[:0].copy()
        return self.read()[-k:]


class TimedRing:
    """A time column and a value column (or columns) kept in step."""

    def __init__(self, capacity: int, width: int | None = None):
        self.t = Ring(capacity)
        self.v = Ring(capacity, width)

    def append(self, t_s, values) -> None:
        self.t.append(t_s)
        self.v.append(values)

    def read(self) -> tuple[np.ndarray, np.ndarray]:
        return self.t.read(), self.v.read()

    def read_since(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        return self.t.read_since(count), self.v.read_since(count)

    def clear(self) -> None:
        self.t.clear()
        self.v.clear()
