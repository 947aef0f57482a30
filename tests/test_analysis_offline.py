"""Whole-recording analysis (imu_knee.analysis.offline): the public knee series accessor."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "analysis"))
from synth import synth_recording  # noqa: E402

from imu_knee.analysis.engine import Engine, analyze_recording  # noqa: E402
from imu_knee.analysis.offline import analyze_whole  # noqa: E402
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
