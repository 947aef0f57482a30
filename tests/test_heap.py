"""imu_knee.heap: freed analysis temporaries are reused instead of faulted in afresh."""

import subprocess
import sys

import pytest

# In a fresh interpreter: make and free temporaries of several sizes, count the minor page
# faults after a warm-up round.
_PROBE = """
import resource, sys
import numpy as np
from imu_knee.heap import keep_freed_memory, release_free_memory
applied = keep_freed_memory() if sys.argv[1] == "keep" else None
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def temporaries():  # of several sizes, as the analysis makes them (2-24 MB)
    for n in (1 << 18, 3 << 18, 3 << 19, 3 << 20):
        a = np.ones(n)
        b = a * 2.0
        del a, b
temporaries()  # warm-up: the heap grows once
before = faults()
for _ in range(5):
    temporaries()
release_free_memory()
print(applied, faults() - before)
"""


def _probe(mode: str) -> tuple[str, int]:
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True,
                         check=True).stdout.split()
    return out[0], int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc heap tuning is Linux-only")
def test_freed_blocks_are_reused_after_keep_freed_memory():
    applied, kept = _probe("keep")
    _, default = _probe("default")
    assert applied == "True"
    # default glibc: the larger temporaries are mmapped or trimmed, and faulted in again
    assert default > 10_000
    # kept: the same heap blocks are reused
    assert kept < default / 10
