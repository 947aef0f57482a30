"""A growing array addressed by absolute sample index (the analysis keeps a sensor's history)."""

from __future__ import annotations

import mmap

import numpy as np

PAGE = mmap.PAGESIZE
POPULATE_BYTES = 1 << 20
# where private anonymous maps and madvise exist (Linux, macOS); elsewhere nothing is released
CAN_RELEASE = all(hasattr(mmap, n) for n in ("MAP_PRIVATE", "MAP_ANONYMOUS", "MADV_DONTNEED")) \
    and hasattr(mmap.mmap, "madvise")


class GrowingArray:
    """Append-only 1-D or 2-D array with amortised O(1) appends.

    ``view()`` returns the filled part (no copy). Indices are absolute sample numbers.

    ``forget_before(i)`` gives the memory of samples before ``i`` back to the system (live
    sessions keep only what pending steps still need) while indices stay absolute: the
    storage is an anonymous memory map and forgotten whole pages are released
    (``MADV_DONTNEED``); forgotten samples then read as 0 and must not be used.
    """

    def __init__(self, width: int | None = None, capacity: int = 4096, dtype=np.float64):
        self._width = width
        self._dtype = np.dtype(dtype)
        self._row_bytes = self._dtype.itemsize * (width or 1)
        self.n = 0
        self.forgotten = 0      # samples before this index may have been released
        self._released = 0      # bytes at the start of the map already released
        self._map, self._data = self._allocate(capacity)

    def _allocate(self, capacity: int, filled: bool = False):
        if not CAN_RELEASE:
            shape = (capacity,) if self._width is None else (capacity, self._width)
            return None, np.empty(shape, dtype=self._dtype)
        nbytes = max(capacity * self._row_bytes, PAGE)
        # private: released pages go back to the system (a shared map would keep them); a
        # large map that is ``filled`` at once (a whole recording pushed) gets its pages up
        # front (MAP_POPULATE, Linux), cheaper than one page fault at a time (huge pages,
        # MADV_HUGEPAGE, were tried: with imu_knee.heap's reuse of freed memory they cost
        # more CPU, in compaction)
        flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
        if filled and nbytes >= POPULATE_BYTES:
            flags |= getattr(mmap, "MAP_POPULATE", 0)
        mm = mmap.mmap(-1, nbytes, flags=flags)
        flat = np.frombuffer(mm, dtype=self._dtype, count=capacity * (self._width or 1))
        data = flat if self._width is None else flat.reshape(capacity, self._width)
        return mm, data

    def append(self, block: np.ndarray, adopt: bool = False) -> None:
        """Add ``block``'s rows. ``adopt``: the caller gives the block away (nothing changes
        it afterwards); an empty array then keeps a block longer than its capacity as its
        storage, without a copy (a whole recording pushed at once: fresh memory for a copy
        costs more than the copy). A later append that needs more room moves the rows into
        a larger map as usual; until then the memory of forgotten samples is not released."""
        m = len(block)
        if m == 0:
            return
        need = self.n + m
        if adopt and self.n == 0 and need > len(self._data) and self._fits(block):
            self._map, self._data, self._released, self.forgotten = None, block, 0, 0
            self.n = need
            return
        if need > len(self._data):
            cap = max(need, 2 * len(self._data))
            mm, new = self._allocate(cap, filled=cap == need)
            keep = self.forgotten  # the released part is not copied (its pages stay untouched)
            new[keep: self.n] = self._data[keep: self.n]
            self._map, self._data, self._released = mm, new, 0
            self._release()
        self._data[self.n: need] = block
        self.n = need

    def append_copy(self, block: np.ndarray) -> None:
        """Add a copy of ``block``'s rows (for a block that others still own, e.g. a view of
        another buffer). An empty array keeps a block longer than its capacity as a copy in
        ordinary memory (see :meth:`append` with ``adopt``): freed memory the process already
        holds is reused, where a fresh map's pages would all be faulted in and zeroed."""
        if self.n == 0 and len(block) > len(self._data):
            block = np.array(block, dtype=self._dtype, order="C")
            self.append(block, adopt=True)
        else:
            self.append(block)

    def _fits(self, block: np.ndarray) -> bool:
        """``block`` can be this array's storage as it is (rows of the right width and type,
        C-contiguous)."""
        row_shape = () if self._width is None else (self._width,)
        return (block.shape[1:] == row_shape and block.dtype == self._dtype
                and block.flags.c_contiguous)

    def forget_before(self, i: int) -> None:
        """Samples before index ``i`` will not be read again: release their memory."""
        i = min(int(i), self.n)
        if i > self.forgotten:
            self.forgotten = i
            self._release()

    def _release(self) -> None:
        upto = (self.forgotten * self._row_bytes) // PAGE * PAGE
        if upto > self._released and self._map is not None:
            self._map.madvise(mmap.MADV_DONTNEED, self._released, upto - self._released)
            self._released = upto

    @property
    def retained(self) -> int:
        """Samples whose memory is still held."""
        return self.n - self.forgotten

    def view(self) -> np.ndarray:
        return self._data[: self.n]

    def __len__(self) -> int:
        return self.n
