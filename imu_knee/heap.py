"""How the C heap treats the analysis' large temporary arrays (glibc only; elsewhere no-ops).

The whole-recording analysis makes thousands of short-lived NumPy arrays of a few MB each.
glibc serves such sizes with ``mmap`` and returns them with ``munmap``, so every temporary
faults in fresh zeroed pages from the kernel: on the 1-hour, 4-sensor benchmark about 150,000
page faults and a fifth of the analysis' CPU time. :func:`keep_freed_memory` raises the mmap
and trim thresholds so freed blocks stay in the heap and are reused; a batch command (analyze,
report) calls it once. The process keeps up to :data:`KEEP_FREE_BYTES` of freed heap instead of
returning it at once, so long-running interactive processes (dashboard, live) do not call it.

:func:`release_free_memory` gives the free heap back before the analysis forks its second
process: pages left shared with the child would otherwise be copied on the first write by
either process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys

# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 << 20  # blocks up to this size come from the reusable heap
KEEP_FREE_BYTES = 128 << 20  # free heap above this is given back to the system


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc on Linux (it has ``mallopt`` and ``malloc_trim``)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return lib if hasattr(lib, "mallopt") and hasattr(lib, "malloc_trim") else None


def keep_freed_memory() -> bool:
    """Let freed blocks up to :data:`MMAP_THRESHOLD_BYTES` be reused; True when applied."""
    lib = _glibc()
    if lib is None:
        return False
    ok_mmap = lib.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    ok_trim = lib.mallopt(_M_TRIM_THRESHOLD, KEEP_FREE_BYTES)
    return bool(ok_mmap and ok_trim)


def release_free_memory() -> None:
    """Return the heap's free pages to the system (``malloc_trim(0)``)."""
    lib = _glibc()
    if lib is not None:
        lib.malloc_trim(0)
