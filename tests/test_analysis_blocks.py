"""Samples lost one at a time (a radio link, or a block splitter with float window edges) must
not change the steps: the orientation filter runs on the nominal sample grid.

The dashboard's 20 ms block test cut windows as ``[k * 0.02, k * 0.02 + 0.02)`` with float
edges; on stairs_hard_landing (exact 10 ms times) that skipped 93 of 1803 samples per sensor
and repeated 17. The engine integrated each update's gyro over one nominal period, so every
lost sample lost its rotation: tilt errors, step heights off by up to 0.32 m, five strides
with the wrong activity and stair contacts moved by up to 57 ms.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from imu_knee.analysis.engine import Engine, analyze_recording, rows_to_frame
from imu_knee.recording import Recording, SensorStream, read_recording
from imu_knee.replay_source import interleaved_sample_blocks, iter_blocks

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"


def _float_window_copy(rec: Recording, block_s: float = 0.02) -> Recording:
    """The samples as the float-edged windows handed them out (some lost, some twice)."""
    t_end = max(s.t_s[-1] for s in rec.streams.values())
    streams = {}
    for name, s in rec.streams.items():
        seen = np.zeros(len(s.t_s), dtype=int)
        for lo in np.arange(0.0, t_end + block_s, block_s):
            seen += (s.t_s >= lo) & (s.t_s < lo + block_s)
        idx = np.repeat(np.arange(len(s.t_s)), seen)
        streams[name] = SensorStream(name, s.t_s[idx], s.acc_mps2[idx], s.gyr_dps[idx], s.rate_hz, s.device)
    return Recording(streams=streams, meta=rec.meta, leg_length_m=rec.leg_length_m, path=rec.path)


def test_lost_and_repeated_samples_leave_the_steps_alone():
    rec = read_recording(RECORDINGS / "stairs_hard_landing.csv")
    whole, _ = analyze_recording(rec)
    holed = _float_window_copy(rec)
    lost = sum(len(rec.streams[n].t_s) - len(np.unique(s.t_s)) for n, s in holed.streams.items())
    assert lost > 200  # the reproduction still loses samples
    steps, _ = analyze_recording(holed)
    assert len(steps) == len(whole)
    assert (steps.activity == whole.activity).all()
    assert np.abs(steps.ic_s - whole.ic_s).max() < 0.010
    assert np.nanmedian(np.abs(steps.step_height_m - whole.step_height_m)) < 0.01


def test_holed_recording_in_20ms_blocks_equals_its_whole_push():
    holed = _float_window_copy(read_recording(RECORDINGS / "stairs_hard_landing.csv"))
    whole, _ = analyze_recording(holed)
    engine = Engine({n: s.rate_hz for n, s in holed.streams.items()}, leg_length_m=holed.leg_length_m,
                    contact_rows=True)
    rows = []
    for _, blocks in iter_blocks(holed, 0.02):
        for block in blocks:
            rows.extend(engine.push(*block))
    rows.extend(engine.finish())
    pd.testing.assert_frame_equal(rows_to_frame(rows), whole, check_exact=False, rtol=1e-9, atol=1e-9)


def test_thigh_only_legs_give_the_same_rows_in_any_blocks():
    """Thigh-only: contacts (moved later on stairs down), toe-offs and activity come from
    the thigh's own samples up to each swing, so one-sample blocks give the whole push's rows."""
    rec = read_recording(RECORDINGS / "stairs_hard_landing.csv")
    rec = Recording(streams={n: s for n, s in rec.streams.items() if n.endswith("thigh")},
                    meta=rec.meta, leg_length_m=rec.leg_length_m, path=rec.path)
    whole, _ = analyze_recording(rec)
    assert set(whole.activity) == {"level", "stairs_up", "stairs_down"}
    engine = Engine({n: s.rate_hz for n, s in rec.streams.items()}, leg_length_m=rec.leg_length_m,
                    contact_rows=True)
    rng = np.random.default_rng(5)
    rows = []
    for block in interleaved_sample_blocks(rec, lambda: rng.integers(1, 4)):
        rows.extend(engine.push(*block))
    rows.extend(engine.finish())
    pd.testing.assert_frame_equal(rows_to_frame(rows), whole, check_exact=False, rtol=1e-9, atol=1e-9)


def test_long_first_block_is_kept_and_later_blocks_extend_it():
    """A whole-recording push keeps the pushed arrays (no copy); a long first block followed by
    small ones (its storage then grows into a buffer of its own) gives the whole push's rows."""
    from imu_knee.simulate import simulate

    rec = simulate("level:60", seed=2, rate_hz=100.0, sensors=("left_shank", "left_thigh")).recording
    n = min(len(s) for s in rec.streams.values())
    first = 5000  # longer than a buffer's initial capacity (4096 samples)
    assert n > first + 1000
    rates = {name: s.rate_hz for name, s in rec.streams.items()}
    whole = Engine(rates, leg_length_m=rec.leg_length_m, contact_rows=True)
    rows_whole = []
    for name, s in rec.streams.items():
        rows_whole.extend(whole.push(name, s.t_s, s.acc_mps2, s.gyr_dps))
    rows_whole.extend(whole.finish())
    shank = whole.chains["left_shank"]
    assert np.shares_memory(shank.acc.view(), rec.streams["left_shank"].acc_mps2)

    split = Engine(rates, leg_length_m=rec.leg_length_m, contact_rows=True)
    rows = []
    for name, s in rec.streams.items():
        rows.extend(split.push(name, s.t_s[:first], s.acc_mps2[:first], s.gyr_dps[:first]))
    for a in range(first, n + 1000, 37):
        for name, s in rec.streams.items():
            sl = slice(a, a + 37)
            if len(s.t_s[sl]):
                rows.extend(split.push(name, s.t_s[sl], s.acc_mps2[sl], s.gyr_dps[sl]))
    rows.extend(split.finish())
    assert len(rows_whole) > 40
    pd.testing.assert_frame_equal(rows_to_frame(rows), rows_to_frame(rows_whole), check_exact=False,
                                  rtol=1e-9, atol=1e-9)
    chain = split.chains["left_shank"]
    assert chain.t.n == len(rec.streams["left_shank"])
    assert not np.shares_memory(chain.acc.view(), rec.streams["left_shank"].acc_mps2)
