"""Shank frontal-plane angle/rate and per-stance metrics, on the synthetic leg of
test_knee_angle (known frontal sway, arbitrary sensor mountings) and on plain signals."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from imu_knee.analysis.frontal import _half_angle_unit  # the travel axis without trigonometry
from imu_knee.analysis.frontal import (FrontalEstimator, StrideHeading, frontal_angle_across_deg,
                                       frontal_range_deg, frontal_wobble_dps,
                                       projected_frontal_angle_deg, shank_frame_from_axes,
                                       shank_frame_from_knee, shank_frame_from_walking,
                                       stance_slices)
from imu_knee.analysis.knee_angle import KneeBlock, calibrate

_spec = importlib.util.spec_from_file_location("_knee_sim", Path(__file__).with_name("test_knee_angle.py"))
_sim = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_sim)
simulate_leg = _sim.simulate_leg


def _angle_deg(a, b) -> float:
    return float(np.degrees(np.arccos(np.clip(np.dot(a, b), -1, 1))))


def _truth_frontal_deg(sim) -> np.ndarray:
    """Lab frontal-plane tilt of the shank (travel along +x): top to the right = +."""
    long_world = sim["shank_rot"].apply([0.0, 0.0, 1.0])
    return np.degrees(np.arctan2(-long_world[:, 1], long_world[:, 2]))


def _run(sim, frame, side=None, cuts=None):
    est = FrontalEstimator(frame, side=side)
    t, g, a = sim["t_s"], sim["shank_gyr_dps"], sim["shank_acc_mps2"]
    if cuts is None:
        return est.update(t, g, a)
    edges = [0, *cuts, len(t)]
    parts = [est.update(t[i:j], g[i:j], a[i:j]) for i, j in zip(edges[:-1], edges[1:])]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_frames_from_knee_and_from_shank_alone_match_the_mounting(seed):
    sim = simulate_leg(seed=seed)
    t = sim["t_s"]
    blk = KneeBlock(t, sim["thigh_gyr_dps"], sim["thigh_acc_mps2"], sim["shank_gyr_dps"], sim["shank_acc_mps2"])
    knee = shank_frame_from_knee(calibrate(blk.select(t < 2.5), blk.select(t >= 3.0)))
    alone = shank_frame_from_walking(sim["shank_acc_mps2"][t < 2.5], sim["shank_gyr_dps"][t >= 3.0], 100.0)
    forward_true = sim["mount_shank"].inv().apply([1.0, 0.0, 0.0])
    for frame, tol in ((knee, 3.0), (alone, 6.0)):
        assert _angle_deg(frame.flexion_axis, sim["shank_axis"]) < tol
        assert _angle_deg(frame.forward_axis, forward_true) < tol
        assert _angle_deg(frame.long_axis, sim["shank_up"]) < tol


def test_shank_alone_needs_walking():
    sim = simulate_leg(seed=1)
    t = sim["t_s"]
    with pytest.raises(ValueError, match="too little walking"):
        shank_frame_from_walking(sim["shank_acc_mps2"][t < 2.5], sim["shank_gyr_dps"][t < 2.9], 100.0)


@pytest.mark.parametrize("amp_deg", [3.0, 8.0])
def test_frontal_angle_follows_known_sway(amp_deg):
    sim = simulate_leg(seed=5, walking_s=14.0, frontal_amp_deg=amp_deg)
    t = sim["t_s"]
    frame = shank_frame_from_walking(sim["shank_acc_mps2"][t < 2.5], sim["shank_gyr_dps"][t >= 3.0], 100.0)
    angle, rate = _run(sim, frame)
    truth = _truth_frontal_deg(sim)
    settled = t > 9.0
    err = angle[settled] - truth[settled]
    assert np.sqrt(np.mean(err ** 2)) < 2.5
    # per stance-like window (first 60 % of each stride), the range matches the truth's range
    phase = sim["phase"]
    for k in range(int(phase[settled][0]) + 1, int(phase[-1])):
        win = (phase >= k) & (phase < k + 0.6)
        assert frontal_range_deg(angle[win]) == pytest.approx(np.ptp(truth[win]), abs=1.5)
    # the rate is the derivative of the angle where the shank is near vertical
    d_truth = np.gradient(truth, t)
    upright = settled & (np.abs(sim["knee_deg"]) < 15)
    assert np.corrcoef(rate[upright], d_truth[upright])[0, 1] > 0.8


def test_side_makes_lateral_positive_and_blocks_do_not_matter():
    sim = simulate_leg(seed=6, walking_s=8.0, frontal_amp_deg=5.0)
    t = sim["t_s"]
    frame = shank_frame_from_walking(sim["shank_acc_mps2"][t < 2.5], sim["shank_gyr_dps"][t >= 3.0], 100.0)
    a_none, r_none = _run(sim, frame)
    a_right, r_right = _run(sim, frame, side="right")
    a_left, r_left = _run(sim, frame, side="left")
    assert np.array_equal(a_right, a_none) and np.array_equal(r_right, r_none)
    assert np.array_equal(a_left, -a_none) and np.array_equal(r_left, -r_none)
    rng = np.random.default_rng(2)
    cuts = np.sort(rng.choice(np.arange(1, len(t)), size=80, replace=False))
    a_split, r_split = _run(sim, frame, cuts=cuts)
    assert np.array_equal(a_split, a_none) and np.array_equal(r_split, r_none)


def test_range_and_wobble_of_a_known_signal():
    t = np.arange(0, 0.6, 0.01)
    angle = 4.0 * np.sin(2 * np.pi * 5 * t)  # whole cycles: range 8, rate RMS = 4·2π·5/√2
    rate = np.gradient(angle, t)
    assert frontal_range_deg(angle) == pytest.approx(8.0, abs=0.05)
    assert frontal_wobble_dps(rate) == pytest.approx(4.0 * 2 * np.pi * 5 / np.sqrt(2), rel=0.02)
    assert np.isnan(frontal_range_deg([])) and np.isnan(frontal_wobble_dps([]))
    assert frontal_range_deg([1.0, np.nan, 3.0]) == 2.0


def test_stance_slices():
    t = np.arange(0, 3, 0.01)
    sl = stance_slices(t, [0.5, 2.5, 1.0], [1.0, 3.5, np.nan])
    assert t[sl[0]][0] == pytest.approx(0.5) and t[sl[0]][-1] == pytest.approx(1.0)
    assert sl[1] is None and sl[2] is None


def test_frame_rejects_a_vertical_flexion_axis():
    with pytest.raises(ValueError):
        shank_frame_from_axes([0, 0, 1.0], [0, 0.1, 1.0], 100.0)


def _pitched_long_axis(pitch_deg, plane_heading_deg, roll_deg=0.0):
    """Unit long axes tilted by ``pitch_deg`` (top forward) within the vertical plane at
    ``plane_heading_deg`` and by ``roll_deg`` (top to the right of that plane) across it."""
    p, h, r = np.radians(pitch_deg), np.radians(plane_heading_deg), np.radians(roll_deg)
    fwd = np.array([np.cos(h), np.sin(h), 0.0])
    right = np.array([np.sin(h), -np.cos(h), 0.0])
    v = (np.cos(r) * (np.cos(p)[:, None] * [0.0, 0.0, 1.0] + np.sin(p)[:, None] * fwd)
         + np.sin(r) * right)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.mark.parametrize("heading_deg", [0.0, 37.0, -120.0])
def test_projection_across_travel_separates_roll_from_pitch(heading_deg):
    pitch = np.linspace(-10.0, 50.0, 61)            # a stance: the shank pitches forward
    travel = [np.cos(np.radians(heading_deg)), np.sin(np.radians(heading_deg))]
    # pitching in the plane of travel leaves the frontal angle at zero
    flat = projected_frontal_angle_deg(_pitched_long_axis(pitch, heading_deg), travel)
    assert np.max(np.abs(flat)) < 1e-9
    # a roll to the right of travel reads as +roll (exactly, at zero pitch)
    rolled = projected_frontal_angle_deg(_pitched_long_axis(np.array([0.0]), heading_deg, 4.0), travel)
    assert rolled[0] == pytest.approx(4.0, abs=1e-9)
    # a travel direction 3 deg off the plane of pitch turns the pitch into a frontal range of
    # atan(sin 3° · tan 50°) ≈ 3.6 deg: why the range needs the heading within a degree or two
    off = [np.cos(np.radians(heading_deg + 3.0)), np.sin(np.radians(heading_deg + 3.0))]
    wrong = projected_frontal_angle_deg(_pitched_long_axis(pitch, heading_deg), off)
    expected = np.degrees(np.arctan(np.sin(np.radians(3.0)) * np.tan(np.radians(50.0))))
    assert frontal_range_deg(wrong) == pytest.approx(
        expected + np.degrees(np.arctan(np.sin(np.radians(3.0)) * np.tan(np.radians(10.0)))), rel=0.02)
    # the travel vector's length does not matter; one direction per sample works too
    per_sample = np.tile(np.array(travel) * 5.0, (len(pitch), 1))
    assert np.allclose(projected_frontal_angle_deg(_pitched_long_axis(pitch, heading_deg), per_sample), flat)


def test_heading_free_roll_follows_the_sway_and_ignores_blocks():
    sim = simulate_leg(seed=7, walking_s=12.0, frontal_amp_deg=6.0)
    t = sim["t_s"]
    frame = shank_frame_from_walking(sim["shank_acc_mps2"][t < 2.5], sim["shank_gyr_dps"][t >= 3.0], 100.0)
    est = FrontalEstimator(frame, side="left")
    angle, _ = est.update(t, sim["shank_gyr_dps"], sim["shank_acc_mps2"])
    roll = est.roll_deg_
    assert roll.shape == angle.shape
    # near upright the roll and the projection across travel are the same tilt
    upright = (t > 8.0) & (np.abs(sim["knee_deg"]) < 10)
    assert np.sqrt(np.mean((roll[upright] - angle[upright]) ** 2)) < 2.0
    assert np.ptp(roll[upright]) > 6.0  # it does move with the 6 deg sway
    rng = np.random.default_rng(3)
    cuts = np.sort(rng.choice(np.arange(1, len(t)), size=40, replace=False))
    split = FrontalEstimator(frame, side="left")
    parts = []
    for i, j in zip([0, *cuts], [*cuts, len(t)]):
        split.update(t[i:j], sim["shank_gyr_dps"][i:j], sim["shank_acc_mps2"][i:j])
        parts.append(split.roll_deg_)
    assert np.array_equal(np.concatenate(parts), roll)


_spread = st.floats(-1e300, 1e300)


@given(_spread, _spread)
@example(0.0, 0.0).via("no spread: along x")
@example(-2.0, 0.0).via("half of 180 deg")
@example(-2.0, -0.0).via("half of -180 deg")
@example(-1.0, 1e-300).via("a tiny b beside a negative a")
@example(0.0, 1e-212).via("b's square underflows")
def test_half_angle_unit_is_the_principal_axis(a, b):
    """The trig-free travel axis is the unit vector at ½·atan2(b, a), up to its sign."""
    ux, uy = _half_angle_unit(np.array([a]), np.array([b]))
    h = 0.5 * np.arctan2(b, a) if (a, b) != (0.0, 0.0) else 0.0
    assert np.hypot(ux[0], uy[0]) == pytest.approx(1.0, abs=1e-12)
    assert abs(ux[0] * np.cos(h) + uy[0] * np.sin(h)) == pytest.approx(1.0, abs=1e-12)
    assert abs(uy[0] * np.cos(h) - ux[0] * np.sin(h)) < 1e-12


def _strides(heading_deg, length_m=1.2):
    h = np.radians(np.asarray(heading_deg, dtype=float))
    return np.c_[length_m * np.cos(h), length_m * np.sin(h), np.zeros(len(h))]


def _axis_deg(u) -> np.ndarray:
    """Heading (deg) of unit axes (K, 2), folded into [-90, 90) (an axis has no sign)."""
    return (np.degrees(np.arctan2(u[:, 1], u[:, 0])) + 90.0) % 180.0 - 90.0


def test_stride_heading_averages_the_last_strides_causally():
    rng = np.random.default_rng(4)
    headings = 30.0 + rng.normal(0.0, 4.0, 12)   # per-stride directions scatter by a few deg
    ic = 1.1 * np.arange(12)
    out = StrideHeading(strides=6).update(ic, _strides(headings))
    got = _axis_deg(out)
    assert got[0] == pytest.approx(headings[0], abs=1e-9)    # the first stride alone
    for k in range(12):                                       # the mean of the last six so far
        assert got[k] == pytest.approx(np.mean(headings[max(0, k - 5):k + 1]), abs=0.2)
    # the average is closer to the walking line than single strides are
    assert np.mean(np.abs(got[5:] - 30.0)) < 0.6 * np.mean(np.abs(headings[5:] - 30.0))


def test_stride_heading_is_axial_and_skips_short_unknown_and_old_strides():
    ic = np.arange(8) * 1.0
    heads = np.array([10.0, 190.0, 12.0, 0.0, 0.0, 0.0, 0.0, 0.0])   # walking back: same line
    d = _strides(heads)
    d[3] = np.nan                          # not measured
    d[4, :2] = [0.1, 0.25]                 # too short to give a direction
    d[5:7] = np.nan
    d[7, :2] = [0.0, -1.0]                 # after a long pause, a stride to -y
    ic[7] = 30.0
    got = StrideHeading().update(ic, d)
    assert _axis_deg(got[:1]) == pytest.approx([10.0], abs=1e-9)
    assert _axis_deg(got[1:7]) == pytest.approx([10.0, 32.0 / 3, 32.0 / 3, 32.0 / 3, 32.0 / 3, 32.0 / 3],
                                               abs=0.05)
    assert _axis_deg(got[7:]) == pytest.approx([-90.0], abs=1e-9)   # the old strides forgotten
    nothing = StrideHeading().update(np.array([0.0, 1.0]), np.full((2, 3), np.nan))
    assert np.isnan(nothing).all()


@given(st.lists(st.tuples(st.floats(-180, 180), st.floats(0.0, 2.0), st.floats(0.1, 15.0),
                          st.booleans()), min_size=1, max_size=30),
       st.lists(st.integers(1, 30), max_size=6))
def test_stride_heading_does_not_depend_on_how_strides_are_grouped(strides, cuts):
    """Live (a row or two at a time) and offline (all at once) give the same directions."""
    ic = np.cumsum([s[2] for s in strides])
    d = _strides([s[0] for s in strides], np.array([s[1] for s in strides]))
    d[[not s[3] for s in strides]] = np.nan
    whole = StrideHeading().update(ic, d)
    edges = sorted({0, len(ic), *[c for c in cuts if c < len(ic)]})
    split = StrideHeading()
    parts = [split.update(ic[i:j], d[i:j]) for i, j in zip(edges[:-1], edges[1:])]
    assert np.array_equal(np.concatenate(parts), whole, equal_nan=True)


def test_angle_across_broadcasts_one_direction_per_window():
    pitch = np.linspace(-10.0, 50.0, 20)
    windows = np.stack([_pitched_long_axis(pitch, h, r) for h, r in ((0.0, 2.0), (37.0, 0.0))])
    heads = np.array([0.0, 40.0])
    ux, uy = np.cos(np.radians(heads))[:, None], np.sin(np.radians(heads))[:, None]
    both = frontal_angle_across_deg(windows, ux, uy)
    for k in range(2):
        one = projected_frontal_angle_deg(windows[k], [ux[k, 0], uy[k, 0]])
        assert np.allclose(both[k], one, rtol=0.0, atol=1e-12)
    # across its own plane of pitch a 2 deg roll reads as atan(tan 2° / cos pitch)
    expected = np.degrees(np.arctan(np.tan(np.radians(2.0)) / np.cos(np.radians(pitch))))
    assert np.allclose(both[0], expected, atol=1e-9)
    # 3 deg off its plane the pitch alone gives a range (about 4 deg, see above)
    assert frontal_range_deg(both[1]) > 3.0
