"""One sensor's chain: what a thigh on a leg with a shank skips must not change what it reports."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from imu_knee.analysis.sensor_chain import SensorChain
from imu_knee.recording import read_recording

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"


def _thigh_chain(detect_events: bool, block: int | None) -> SensorChain:
    s = read_recording(RECORDINGS / "stairs_hard_landing.csv").streams["left_thigh"]
    chain = SensorChain("left_thigh", s.rate_hz)
    chain.detect_events = detect_events
    step = block or len(s.t_s)
    for a in range(0, len(s.t_s), step):
        chain.push(s.t_s[a:a + step], s.acc_mps2[a:a + step], s.gyr_dps[a:a + step])
    chain.finish()
    return chain


def test_thigh_without_events_low_passes_only_up_to_its_calibration():
    eager = _thigh_chain(True, None)
    for block in (None, 37):
        lazy = _thigh_chain(False, block)
        # the calibration's swing peak reads the low-passed rate: the same from fewer samples
        assert lazy.calibration.quality == eager.calibration.quality
        assert np.array_equal(lazy.calibration.flexion_axis, eager.calibration.flexion_axis)
        n = lazy.gyr_lp.n
        assert 0 < n < lazy.t.n // 2
        np.testing.assert_array_equal(lazy.gyr_lp.view(), eager.gyr_lp.view()[:n])
        assert lazy._lp_pending == []  # nothing kept for later
