"""Sensor orientation (inclination; heading is arbitrary) from the VQF library, block by block.

VQF's ``updateBatch`` keeps its filter state between calls, so any split of the samples into
blocks gives the same quaternions as one call (checked in the tests).
"""

from __future__ import annotations

import numpy as np
from vqf import VQF


class StreamingOrientation:
    """6-D (no magnetometer) orientation: quaternion sensor → world (z up)."""

    def __init__(self, rate_hz: float):
        self._vqf = VQF(1.0 / rate_hz)

    def reset(self) -> None:
        """Forget the orientation (after a gap): the next sample re-initialises the inclination."""
        self._vqf.resetState()

    def process(self, acc_mps2: np.ndarray, gyr_dps: np.ndarray) -> np.ndarray:
        return self.process_with_bias(acc_mps2, gyr_dps)[0]

    def process_with_bias(self, acc_mps2: np.ndarray, gyr_dps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(quaternions (N,4), VQF's gyro-bias estimate per sample (N,3) in deg/s)."""
        if len(acc_mps2) == 0:
            return np.empty((0, 4)), np.empty((0, 3))
        gyr = np.ascontiguousarray(np.radians(gyr_dps), dtype=np.float64)
        acc = np.ascontiguousarray(acc_mps2, dtype=np.float64)
        out = self._vqf.updateBatch(gyr, acc)
        bias = out["bias"]  # a new array of the filter's: converted in place
        return out["quat6D"], np.degrees(bias, out=bias)
