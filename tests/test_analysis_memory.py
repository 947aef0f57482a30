"""Live sessions keep only the recent history: bounded memory, the same rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from imu_knee.analysis.buffers import CAN_RELEASE, GrowingArray
from imu_knee.analysis.engine import Engine, analyze_recording, rows_to_frame
from imu_knee.replay_source import interleaved_sample_blocks
from imu_knee.simulate import simulate

pytestmark = pytest.mark.skipif(not CAN_RELEASE, reason="no madvise on this platform")


def test_growing_array_forgets_its_start_and_keeps_absolute_indices():
    arr = GrowingArray(3, capacity=8)
    for i in range(300):
        arr.append(np.full((100, 3), float(i)))
    arr.forget_before(25_000)
    assert arr.n == 30_000 and arr.retained == 5_000
    arr.append(np.full((50_000, 3), -1.0))  # grows: only the retained part is copied
    v = arr.view()
    assert v[25_000, 0] == 250.0 and v[29_999, 0] == 299.0 and v[30_000, 0] == -1.0
    assert arr.retained == 55_000


def test_growing_array_copied_block_is_independent_of_its_source():
    source = np.arange(30.0).reshape(10, 3)
    arr = GrowingArray(3, capacity=4)
    arr.append_copy(source[2:9])  # longer than the capacity: kept as a copy of its own
    source[:] = -1.0
    np.testing.assert_array_equal(arr.view(), np.arange(6.0, 27.0).reshape(7, 3))
    arr.append_copy(np.ones((2, 3)))  # later blocks extend it as usual
    assert arr.n == 9 and arr.view()[0, 0] == 6.0 and arr.view()[-1, 2] == 1.0
    small = GrowingArray(capacity=8)
    small.append_copy(np.arange(3.0))
    small.append_copy(np.arange(3.0, 12.0))
    np.testing.assert_array_equal(small.view(), np.arange(12.0))


def _push_live(rec, history_s, block, seed=0):
    rng = np.random.default_rng(seed)
    engine = Engine({n: s.rate_hz for n, s in rec.streams.items()}, leg_length_m=rec.leg_length_m,
                    contact_rows=True, history_s=history_s)
    rows, retained = [], []
    for piece in interleaved_sample_blocks(rec, lambda: rng.integers(1, block + 1)):
        rows.extend(engine.push(*piece))
        retained.append(max(engine.retained_samples().values()))
    rows.extend(engine.finish())
    return rows, np.array(retained)


def test_long_live_walk_keeps_a_bounded_history_and_the_same_rows():
    rate = 100.0
    res = simulate("level:40,stairs_up:6,stairs_down:6,level:40", seed=4, rate_hz=rate,
                   sensors=("left_shank", "right_shank", "left_thigh", "right_thigh"))
    rec = res.recording
    whole, _ = analyze_recording(rec)
    assert len(whole) > 150
    history_s = 10.0
    rows, retained = _push_live(rec, history_s, block=40)
    pd.testing.assert_frame_equal(rows_to_frame(rows), whole, check_exact=False, rtol=1e-9, atol=1e-9)
    n = max(len(s) for s in rec.streams.values())
    # the whole walk is several times the kept history, which stays bounded
    assert n > 8 * history_s * rate
    assert retained.max() < (history_s + 8.0) * rate
    assert retained[-1] < (history_s + 8.0) * rate
