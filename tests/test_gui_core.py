"""The dashboard's Qt-free parts: ring buffers and the replay source."""

import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from imu_knee.commands.dashboard import load_gui

load_gui()

from imu_knee_gui.replay_source import ReplaySource, clamp_speed  # noqa: E402
from imu_knee_gui.ring import Ring  # noqa: E402
from imu_knee.recording import read_recording  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "gui" / "hard_landing_stairs.csv"


@settings(max_examples=200, deadline=None)
@given(cap=st.integers(1, 50), blocks=st.lists(st.integers(0, 120), max_size=30))
def test_ring_keeps_the_last_capacity_rows(cap, blocks):
    ring = Ring(cap, width=2)
    everything = np.empty((0, 2))
    k = 0
    for n in blocks:
        block = np.arange(k, k + n, dtype=float)[:, None] * [1, -1]
        k += n
        ring.append(block)
        everything = np.vstack([everything, block])
        assert np.array_equal(ring.read(), everything[-cap:] if len(everything) else everything)
    assert ring.count == k


def test_speed_limits():
    assert clamp_speed(100) == 16 and clamp_speed(0.01) == 0.25 and clamp_speed(2) == 2
    with pytest.raises(ValueError):
        clamp_speed(float("nan"))


def test_replay_source_delivers_every_sample_once_in_order():
    rec = read_recording(FIXTURE)
    got = {n: [] for n in rec.streams}
    done = []
    src = ReplaySource(rec, lambda n, t, a, g: got[n].append(np.array(t)), on_finish=lambda: done.append(1),
                       speed=16)
    src.start()
    deadline = time.monotonic() + 10
    while not done and time.monotonic() < deadline:
        time.sleep(0.02)
    src.stop()
    assert done
    for name, s in rec.streams.items():
        t = np.concatenate(got[name])
        assert np.array_equal(t, s.t_s)
        assert len(got[name]) > 20          # paced: many small blocks, not one


def test_replay_source_pace_and_seek_back():
    rec = read_recording(FIXTURE)
    resets = []
    seen = []
    src = ReplaySource(rec, lambda n, t, a, g: seen.append(t[-1]), on_reset=lambda: resets.append(1), speed=4)
    src.start()
    time.sleep(1.0)
    pos = src.position_s - src.t_start_s
    assert 3.0 < pos < 5.0                 # 4 x real time
    src.seek(src.t_start_s + 1.0)
    time.sleep(0.1)
    src.stop()
    assert resets == [1]
    assert src.position_s < src.t_start_s + 2.0
