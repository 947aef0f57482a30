"""Step events against the bundled simulator recordings' truth: toe-off per activity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imu_knee.analysis.engine import analyze_recording
from imu_knee.analysis.events import (TO_DOWN_BEFORE_ZERO_S, toe_off_time_s, vertex_times_s,
                                      zero_crossing_times_s)
from imu_knee.recording import read_recording

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"


def _toe_off_errors_ms(name: str) -> pd.DataFrame:
    """Detected minus true toe-off (ms) per true stance, with the stride's activity."""
    path = RECORDINGS / f"{name}.csv"
    rec = read_recording(path)
    truth = pd.read_csv(path.with_suffix(".truth.csv"))
    truth = truth[truth.side.isin({n.split("_")[0] for n in rec.streams}) & truth.to_s.notna()]
    steps, _ = analyze_recording(rec)
    out = []
    for _, tr in truth.iterrows():
        det = steps[(steps.side == tr.side) & steps.to_s.notna()]
        j = int(np.argmin(np.abs(det.ic_s.to_numpy() - tr.ic_s)))
        if abs(det.ic_s.iloc[j] - tr.ic_s) < 0.1:
            out.append({"activity": tr.activity, "err_ms": 1000 * (det.to_s.iloc[j] - tr.to_s)})
    return pd.DataFrame(out)


def test_toe_off_on_stairs_within_40ms_of_the_truth():
    """Before a step down the shank's rate bottoms out ~0.12 s before the toe leaves (the
    forefoot still holds the step's edge); toe-off must not be taken there."""
    errs = _toe_off_errors_ms("stairs_hard_landing")
    for activity in ("level", "stairs_up", "stairs_down"):
        e = errs[errs.activity == activity].err_ms
        assert len(e) >= 3, activity
        assert e.abs().median() <= 40.0, (activity, e.round(0).tolist())


def test_toe_off_rule():
    # level or unknown rise: the minimum; up: before it; down: at the rise through zero
    assert toe_off_time_s(1.0, 1.1, None) == 1.0
    assert toe_off_time_s(1.0, 1.1, 0.02) == 1.0
    assert toe_off_time_s(1.0, 1.1, 0.17) == pytest.approx(0.96)
    assert toe_off_time_s(1.0, 1.1, -0.15) == pytest.approx(1.1 - TO_DOWN_BEFORE_ZERO_S)
    assert 0.0 < TO_DOWN_BEFORE_ZERO_S < 0.03
    # never before the minimum
    assert toe_off_time_s(1.0, 1.005, -0.15) == 1.0


# ---------------------------------------------------------------- sample rate

@settings(max_examples=200, deadline=None)
@given(rate_hz=st.floats(20.0, 400.0), t_min_s=st.floats(0.3, 0.7), depth=st.floats(1.0, 500.0),
       find_max=st.booleans())
def test_vertex_time_of_a_sampled_parabola_is_exact(rate_hz, t_min_s, depth, find_max):
    t = np.arange(0.0, 1.0, 1.0 / rate_hz)
    s = depth * (t - t_min_s) ** 2 - 40.0
    if find_max:
        s = -s
    i = int(np.argmax(s) if find_max else np.argmin(s))
    assert vertex_times_s(t, s, np.array([i]))[0] == pytest.approx(t_min_s, abs=1e-9)


def test_vertex_time_between_samples_on_a_swing_like_trough_and_at_the_edges():
    """A 2 Hz trough sampled at 52 Hz: the sample alone is up to 9.6 ms off, the vertex < 1 ms."""
    for t_min_s in np.linspace(0.40, 0.42, 9):
        t = np.arange(0.0, 1.0, 1.0 / 52)
        s = -200.0 * np.cos(2 * np.pi * 2.0 * (t - t_min_s))
        i = int(np.argmin(np.where((t > 0.2) & (t < 0.6), s, np.inf)))
        assert abs(vertex_times_s(t, s, np.array([i]))[0] - t_min_s) < 0.001
    # two equal lowest samples: half-way between them
    t = np.arange(7) * 0.02
    s = np.array([-1.0, -3.0, -3.0, -1.0, -1.0, np.nan, 2.0])
    assert vertex_times_s(t, s, np.array([1]))[0] == pytest.approx(0.03)
    # the first and last samples, a slope, a flat run and a NaN neighbour keep their own times
    s = np.array([-5.0, -3.0, -1.0, -1.0, -1.0, np.nan, 2.0])
    np.testing.assert_array_equal(vertex_times_s(t, s, np.array([0, 1, 3, 4, 6])), t[[0, 1, 3, 4, 6]])


def test_zero_crossing_between_samples():
    t = np.array([0.0, 0.02, 0.04, 0.06])
    s = np.array([-3.0, -1.0, 3.0, 3.0])
    np.testing.assert_allclose(zero_crossing_times_s(t, s, np.array([1, 2, 3])), [0.025, 0.04, 0.06])


def _simulated(rate_hz: float):
    from imu_knee.simulate import simulate

    res = simulate(activities="level:8,stairs_up:3,level:1,stairs_down:4",
                   sensors=["left_shank", "right_shank"], rate_hz=rate_hz, seed=7)
    steps, _ = analyze_recording(res.recording)
    return steps.sort_values("ic_s"), res.truth


def test_toe_off_and_contact_do_not_move_with_the_sample_rate():
    """The same simulated walk (same seed: same motion and truth) sampled at 100 Hz and at
    52 Hz (a Polar sensor's rate): every step's toe-off within 3 ms of each other (timed on
    samples alone they moved by up to 11 ms), contacts close too, and the 52 Hz toe-offs
    within 40 ms of the truth per activity."""
    fast, truth = _simulated(100.0)
    slow, truth_slow = _simulated(52.0)
    events = ["side", "ic_s", "to_s", "activity"]
    pd.testing.assert_frame_equal(truth[events], truth_slow[events])
    pairs = pd.merge_asof(fast, slow.assign(ic_52=slow.ic_s), on="ic_s", by="side",
                          direction="nearest", tolerance=0.05, suffixes=("", "_52"))
    assert len(pairs) >= 30 and pairs.ic_52.notna().all() and pairs.to_s_52.notna().sum() >= 28
    assert np.nanmax(np.abs(pairs.to_s_52 - pairs.to_s)) < 0.003
    # contacts (already timed between samples): a few ms apart at most, on stairs-down landings
    d_ic_s = np.abs(pairs.ic_52 - pairs.ic_s)
    assert d_ic_s.median() < 0.002 and d_ic_s.max() < 0.010
    matched = pd.merge_asof(truth.sort_values("ic_s"), slow, on="ic_s", by="side",
                            direction="nearest", tolerance=0.1, suffixes=("", "_det"))
    err_ms = (1000 * (matched.to_s_det - matched.to_s)).abs()
    for activity, e in err_ms.groupby(matched.activity):
        assert e.notna().sum() >= 3 and e.median() <= 40.0, (activity, e.round(0).tolist())


# ---------------------------------------------------------------- thigh-only activity

def _thigh_chain(flexion_deg: np.ndarray, rate_hz: float = 100.0):
    """A stand-in thigh chain: its orientation follows ``flexion_deg`` (knee ahead of the hip
    = +) about the flexion axis; one stride from a contact at 0 to a contact at the end."""
    from types import SimpleNamespace

    from imu_knee.analysis.events import Swing

    n = len(flexion_deg)
    t = np.arange(n) / rate_hz
    half = np.radians(flexion_deg) / 2
    flex_axis = np.array([0.0, -1.0, 0.0])   # swinging forward = about -y; up = z, forward = x
    quat = np.column_stack([np.cos(half), np.zeros(n), -np.sin(half), np.zeros(n)])
    to_i = int(np.argmin(flexion_deg))
    mk = lambda i: Swing(0, float(t[max(i - 40, 0)]), 0, 0.0, 200.0, i, float(t[i]), False)  # noqa: E731
    swings = [mk(0), mk(n - 1)]
    swings[1].to_s = float(t[to_i])
    cal = SimpleNamespace(up_axis=np.array([0.0, 0.0, 1.0]), flexion_axis=flex_axis,
                          forward_axis=np.cross([0.0, 0.0, 1.0], flex_axis))
    view = lambda a: SimpleNamespace(view=lambda: a)  # noqa: E731
    return SimpleNamespace(swings=swings, calibration=cal, t=view(t), quat=view(quat))


@pytest.mark.parametrize("at_ic, at_to, expected", [
    (25.0, -12.0, "level"),        # hip extends behind vertical before the swing
    (55.0, -3.0, "stairs_up"),     # hip flexed well over 40 degrees at contact
    (22.0, 14.0, "stairs_down"),   # the thigh stays ahead of vertical all through
])
def test_thigh_only_activity_from_the_thigh_inclination(at_ic, at_to, expected):
    from imu_knee.analysis.activity import sagittal_inclination_deg, thigh_stride_activity

    stance = np.linspace(at_ic - 3.0, at_to, 60)
    swing = np.linspace(at_to, at_ic, 41)[1:]
    chain = _thigh_chain(np.concatenate([stance, swing]))
    # the inclination's sign: + = hip ahead of the knee (extended)
    incl = sagittal_inclination_deg(chain.quat.view(), chain.calibration.up_axis,
                                    chain.calibration.forward_axis)
    assert incl[0] == pytest.approx(-(at_ic - 3.0), abs=1e-6)
    assert thigh_stride_activity(chain, float(chain.t.view()[-1])) == expected


def test_thigh_only_recording_tells_stairs_up_from_level():
    """stairs_hard_landing with its thigh sensors only (the simulator's thigh contacts come
    up to 0.2 s early on stairs, so strides are paired with the nearest true contact)."""
    from imu_knee.recording import Recording

    rec = read_recording(RECORDINGS / "stairs_hard_landing.csv")
    rec = Recording(streams={n: s for n, s in rec.streams.items() if n.endswith("thigh")},
                    meta=rec.meta, leg_length_m=rec.leg_length_m, path=rec.path)
    truth = pd.read_csv(RECORDINGS / "stairs_hard_landing.truth.csv")
    steps, _ = analyze_recording(rec)
    pairs = []
    for _, r in steps.iterrows():
        tr = truth[truth.side == r.side]
        j = int(np.argmin(np.abs(tr.ic_s.to_numpy() - r.ic_s)))
        pairs.append((tr.activity.iloc[j], r.activity))
    up = [det for true, det in pairs if true == "stairs_up"]
    level = [det for true, det in pairs if true == "level"]
    assert len(up) >= 5 and up.count("stairs_up") >= len(up) - 1
    assert len(level) >= 6 and level.count("level") >= len(level) - 1
