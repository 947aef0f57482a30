"""Whole-recording analysis (imu_knee.analysis.offline): the public knee series accessor."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "analysis"))
from synth import synth_recording  # noqa: E402

from imu_knee.analysis import offline  # noqa: E402
from imu_knee.analysis.engine import Engine, analyze_recording, join_step_frames, rows_to_frame  # noqa: E402
from imu_knee.analysis.forked import FAILED, ForkedCall, can_fork  # noqa: E402
from imu_knee.analysis.impact import impact_at  # noqa: E402
from imu_knee.analysis.offline import analyze_whole  # noqa: E402
from imu_knee.analysis.shank_tilt import max_forward_tilt_deg, walking_direction  # noqa: E402
from imu_knee.analysis.stride import ankle_displacement, ankle_displacements  # noqa: E402
from imu_knee.analysis.steps import StepRow, cells  # noqa: E402
from imu_knee.simulate import simulate  # noqa: E402

FOUR = ("left_shank", "right_shank", "left_thigh", "right_thigh")


@pytest.fixture(scope="module")
def walk():
    """Level walking and stairs, thigh + shank on the left leg, shank alone on the right."""
    res = simulate("level:12,stairs_up:5,stairs_down:5,level:8", seed=7, rate_hz=100.0,
                   sensors=("left_shank", "right_shank", "left_thigh"))
    return res


def test_knee_series_per_leg_or_why_not(walk):
    rec = walk.recording
    res = analyze_whole(rec, knee=True)
    steps, summary = analyze_recording(rec)
    pd.testing.assert_frame_equal(res.steps, steps)
    assert res.summary == summary
    assert set(res.knee) == {"left", "right"}
    left, right = res.knee["left"], res.knee["right"]
    assert not right.available and "thigh" in right.missing and len(right.t_s) == 0
    assert left.available and left.missing is None
    assert len(left.t_s) == len(left.flexion_deg) > 100 * 20
    assert np.all(np.diff(left.t_s) > 0)
    # the series is the one the step rows were read from: flexion at each contact
    ic = steps[steps.side == "left"].dropna(subset=["knee_flexion_ic_deg"])
    assert len(ic) > 10
    at_ic = np.interp(ic.ic_s, left.t_s, left.flexion_deg)
    np.testing.assert_allclose(at_ic, ic.knee_flexion_ic_deg, atol=0.006)
    # and it follows the simulator's true knee angle at the true contacts
    truth = walk.truth[(walk.truth.side == "left") & (walk.truth.ic_s > left.t_s[0] + 5)]
    err = np.interp(truth.ic_s, left.t_s, left.flexion_deg) - truth.knee_flexion_ic_deg
    assert len(truth) > 15 and np.sqrt(np.nanmean(err ** 2)) < 3.0
    # without knee=True nothing is copied
    assert analyze_whole(rec).knee == {}


def test_engine_knee_series_reports_a_refused_calibration():
    rec, _ = synth_recording(("left_shank", "left_thigh"))
    engine = Engine({n: s.rate_hz for n, s in rec.streams.items()})
    for name, s in rec.streams.items():
        engine.push(name, s.t_s, s.acc_mps2, s.gyr_dps)
    engine.finish()
    series = engine.knee_series()["left"]
    report = engine.knee_report()["left"]
    if report["calibrated"]:
        assert series.available and len(series.t_s) > 0
    else:  # the series is missing for the reason the summary gives
        assert series.missing == report["message"] and len(series.t_s) == 0


@pytest.fixture(scope="module")
def four_sensors():
    return simulate("level:10,stairs_up:4,stairs_down:4,level:6", seed=11, rate_hz=100.0,
                    sensors=FOUR).recording


@pytest.mark.skipif(not can_fork(), reason="needs fork and two CPUs")
def test_two_processes_give_exactly_the_serial_result(four_sensors):
    one = analyze_whole(four_sensors, parallel=False, knee=True)
    two = analyze_whole(four_sensors, parallel=True, knee=True)
    pd.testing.assert_frame_equal(one.steps, two.steps, check_exact=True)
    assert json.dumps(one.summary) == json.dumps(two.summary)  # same keys, order and values
    assert one.knee.keys() == two.knee.keys() == {"left", "right"}
    for side in one.knee:
        np.testing.assert_array_equal(one.knee[side].flexion_deg, two.knee[side].flexion_deg)
    # and one engine for all four sensors gives the same rows
    steps, _ = analyze_recording(four_sensors)
    pd.testing.assert_frame_equal(steps, one.steps, check_exact=True)


def test_a_failed_child_leg_is_analysed_in_process(four_sensors, monkeypatch):
    class DeadChild:
        def __init__(self, fn, *args):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

        def result(self):
            return FAILED

    monkeypatch.setattr(offline, "ForkedCall", DeadChild)
    monkeypatch.setattr(offline, "can_fork", lambda: True)
    res = analyze_whole(four_sensors, parallel=True)
    pd.testing.assert_frame_equal(res.steps, analyze_whole(four_sensors, parallel=False).steps)
    assert set(res.steps.side) == {"left", "right"}


def _boom():
    raise RuntimeError("boom")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_call_returns_the_value_or_failed():
    with ForkedCall(np.arange, 5) as call:
        np.testing.assert_array_equal(call.result(), np.arange(5))
    with ForkedCall(_boom) as call:
        assert call.result() is FAILED
    with ForkedCall(os._exit, 3) as call:
        assert call.result() is FAILED
    with ForkedCall(time.sleep, 30) as call:  # left early: the child is stopped and reaped
        pid = call._pid
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_delivered_child_is_reaped_later_not_waited_for():
    from imu_knee.analysis import forked

    with ForkedCall(np.arange, 3) as call:
        pid = call._pid
        np.testing.assert_array_equal(call.result(), np.arange(3))
    assert pid in forked._EXITING  # returned before its exit was waited for
    forked.reap_delivered(wait=True)
    assert pid not in forked._EXITING
    with pytest.raises(ChildProcessError):  # reaped: no zombie left
        os.waitpid(pid, os.WNOHANG)


def test_strides_integrated_together_equal_one_by_one(four_sensors):
    s = four_sensors.streams["left_shank"]
    engine = Engine({"left_shank": s.rate_hz})
    engine.push("left_shank", s.t_s, s.acc_mps2, s.gyr_dps)
    engine.finish()
    ch = engine.chains["left_shank"]
    rng = np.random.default_rng(0)
    i0 = rng.integers(500, len(s) - 400, 40)
    i1 = i0 + rng.integers(1, 300, 40)  # very different lengths in one padded array
    lever = 0.25 * ch.calibration.up_axis
    args = (ch.t.view(), ch.acc_world.view(), ch.gyr.view(), ch.quat.view())
    together = ankle_displacements(*args, i0, i1, lever)
    for k in range(len(i0)):
        np.testing.assert_array_equal(together[k], ankle_displacement(*args, int(i0[k]), int(i1[k]), lever))
    # a stride's displacement is a few tens of cm, not drift
    assert np.abs(together[:, 2]).max() < 5.0
    # one axis alone (the chain's rises: the vertical) is that axis of the full result
    for anchored in (True, False):
        full = ankle_displacements(*args, i0, i1, lever, end_anchored=anchored)
        for k in range(3):
            np.testing.assert_array_equal(
                ankle_displacements(*args, i0, i1, lever, end_anchored=anchored,
                                    axes=slice(k, k + 1))[:, 0], full[:, k])


def test_legs_tables_join_into_the_table_of_all_their_rows(four_sensors):
    engine = Engine({n: s.rate_hz for n, s in four_sensors.streams.items()}, notices=False)
    rows = []
    for name, s in four_sensors.streams.items():
        rows.extend(engine.push(name, s.t_s, s.acc_mps2, s.gyr_dps))
    rows.extend(engine.finish())
    left = [r for r in rows if r.side == "left"]
    right = [r for r in rows if r.side == "right"]
    assert len(left) > 15 and len(right) > 15
    whole = rows_to_frame(rows)
    joined = join_step_frames([rows_to_frame(right), rows_to_frame([]), rows_to_frame(left)])
    pd.testing.assert_frame_equal(joined, whole, check_exact=True)
    # a table whose toe-off column is typed otherwise (no toe-off in it) joins as its rows do
    lone = [StepRow("right", float(whole["ic_s"].iloc[3]), activity="level")]
    pd.testing.assert_frame_equal(join_step_frames([rows_to_frame(left), rows_to_frame(lone)]),
                                  rows_to_frame(left + lone), check_exact=True)
    assert join_step_frames([]).columns.tolist() == whole.columns.tolist()


def test_step_metrics_equal_the_per_stance_functions(four_sensors):
    engine = Engine({n: s.rate_hz for n, s in four_sensors.streams.items()})
    rows = []
    for name, s in four_sensors.streams.items():
        rows.extend(engine.push(name, s.t_s, s.acc_mps2, s.gyr_dps))
    rows.extend(engine.finish())
    final = [r for r in rows if r.final and r.side == "left"]
    b = engine.sides["left"]
    ch = b.shank
    t, quat = ch.t.view(), ch.quat.view()
    checked = 0
    for r in final:
        impact, loading, _ = impact_at(t, ch.acc.view(), r.ic_s, ch.rate_hz, None)
        assert r.impact_g == (None if impact is None else round(impact, 3))
        assert r.loading_rate_gps == (None if loading is None else round(loading, 2))
    assert sum(r.impact_g is not None for r in final) > 15
    # the stances' largest forward tilt, all at once, equals the per-stance function
    stances = [r for r in final if r.to_s is not None]
    swings = [next(s for s in b.events.swings if abs(s.ic_s - r.ic_s) < 0.1) for r in stances]
    together = b._shank_tilt_max(np.array([r.ic_s for r in stances]), np.array([r.to_s for r in stances]),
                                 np.array([sw.ms_i for sw in swings]), np.full((len(stances), 3), np.nan))
    up = ch.calibration.up_axis
    for r, sw, tilt in zip(stances, swings, cells(together)):
        i0, i1 = int(t.searchsorted(r.ic_s)), int(t.searchsorted(r.to_s, side="right")) - 1
        direction = walking_direction(None, quat, up, sw.ms_i)
        assert tilt == max_forward_tilt_deg(quat, up, direction, i0, i1)
        checked += tilt is not None
    assert checked > 15


def test_no_fork_from_a_worker_thread_or_a_pool_worker():
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(can_fork).result() is False
    if can_fork():
        with ProcessPoolExecutor(1) as pool:
            assert pool.submit(can_fork).result() is False


def test_steps_csv_numbers_as_pandas_float_format_writes_them(tmp_path):
    """STEPS.csv's own per-column formatting gives pandas' float_format="%.4f" text exactly."""
    from imu_knee.analysis.output import write_steps_csv

    rng = np.random.default_rng(3)
    values = rng.normal(scale=50.0, size=(40, 3))
    values[::7, 0] = np.nan
    values[3, 1] = -0.0
    values[5, 2] = -0.00004   # rounds to "-0.0000"
    values[6, 2] = 0.00005    # a tie at the 4th decimal
    df = pd.DataFrame({"side": ["left", "right"] * 20, "ic_s": values[:, 0],
                       "flags": ["gap;after_gap", ""] * 20, "impact_g": values[:, 1],
                       "knee_flexion_ic_deg": values[:, 2]})
    write_steps_csv(tmp_path / "steps.csv", df)
    expected = df.to_csv(index=False, na_rep="", float_format="%.4f")
    assert (tmp_path / "steps.csv").read_text() == expected
