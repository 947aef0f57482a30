"""The gait simulator: its truth agrees with its own signals, and every knob moves the
truth column it is meant to move."""

from __future__ import annotations

import numpy as np
import pytest

from imu_knee.cli import main
from imu_knee.recording import GRAVITY_MPS2, read_recording
from imu_knee.simulate import simulate, write_outputs

ALL_SENSORS = ["left_shank", "right_shank", "left_thigh", "right_thigh"]
CLEAN = dict(mounting="aligned", noise=0.0, bias=0.0, scale_error=0.0)


@pytest.fixture(scope="module")
def clean_walk():
    """Level, stairs up, a landing, stairs down: all four sensors, ideal sensors, 200 Hz,
    steady strides (no stride-to-stride variation)."""
    return simulate("level:5,stairs_up:5,level:1,stairs_down:5", sensors=ALL_SENSORS,
                    rate_hz=200, leg_length_m=0.92, seed=3, variability=0.0, **CLEAN)


def _contacts(result, side, activity):
    t = result.truth
    return t[(t.side == side) & (t.activity == activity)].reset_index(drop=True)


def test_at_rest_the_up_axis_reads_gravity(clean_walk):
    for name, s in clean_walk.recording.streams.items():
        still = s.t_s < 2.0
        assert np.allclose(s.acc_mps2[still], [0.0, 0.0, GRAVITY_MPS2], atol=1e-3), name
        assert np.allclose(s.gyr_dps[still], 0.0, atol=1e-3), name


def test_integrated_gyro_difference_gives_the_truth_knee_angle(clean_walk):
    rec = clean_walk.recording
    for side in ("left", "right"):
        shank, thigh = rec.streams[f"{side}_shank"], rec.streams[f"{side}_thigh"]
        rate = shank.gyr_dps[:, 1] - thigh.gyr_dps[:, 1]   # knee axis = segment y (left)
        dt = np.diff(shank.t_s, prepend=shank.t_s[0])
        knee = np.cumsum(rate * dt)                      # 0 in the standing start
        truth = clean_walk.truth[clean_walk.truth.side == side]
        at_ic = np.interp(truth.ic_s, shank.t_s, knee)
        assert np.abs(at_ic - truth.knee_flexion_ic_deg).max() < 2.0
        # the stair contacts are really bent and the level ones nearly straight
        assert truth.knee_flexion_ic_deg[truth.activity == "stairs_up"].min() > 40
        assert truth.knee_flexion_ic_deg[truth.activity == "level"].max() < 15


def test_world_acceleration_integrates_to_truth_stride_and_height(clean_walk):
    """Double-integrate the shank sensor's acceleration in the world frame (known
    orientation, known velocity at mid-stance) from one mid-stance to the next."""
    res = clean_walk
    checked = []
    for side in ("left", "right"):
        name = f"{side}_shank"
        stream, seg = res.recording.streams[name], res.segments[name]
        fine_idx = np.searchsorted(seg.t_s, stream.t_s - 1e-9)
        rot = seg.rotation[fine_idx]
        acc_world = np.einsum("nij,nj->ni", rot, stream.acc_mps2) - [0, 0, GRAVITY_MPS2]
        fine_dt = seg.t_s[1] - seg.t_s[0]
        vel_fine = np.gradient(seg.position_m, fine_dt, axis=0)
        truth = res.truth[res.truth.side == side].reset_index(drop=True)
        for k in range(2, len(truth) - 3):
            prev, cur = truth.iloc[k], truth.iloc[k + 1]
            if len(set(truth.activity[k - 1:k + 3])) > 1:
                continue   # only steady strides repeat the mid-stance pose
            t0 = 0.5 * (prev.ic_s + prev.to_s)
            t1 = 0.5 * (cur.ic_s + cur.to_s)
            i0, i1 = np.searchsorted(stream.t_s, [t0, t1])
            dt = 1.0 / stream.rate_hz
            v = vel_fine[fine_idx[i0]] + np.cumsum(acc_world[i0:i1] * dt, axis=0)
            disp = np.sum(np.vstack([vel_fine[fine_idx[i0]], v[:-1]]) * dt, axis=0)
            assert abs(np.hypot(disp[0], disp[1]) - cur.stride_length_m) < 0.03, (side, k)
            assert abs(disp[2] - cur.step_height_m) < 0.03, (side, k)
            checked.append(cur.activity)
    assert set(checked) == {"level", "stairs_up", "stairs_down"} and len(checked) >= 6


def test_truth_geometry_and_events(clean_walk):
    t = clean_walk.truth
    steady = t.activity == t.groupby("side").activity.shift(1)
    level = t[(t.activity == "level") & steady]
    assert len(level) >= 6 and np.allclose(level.step_height_m, 0.0, atol=1e-9)
    up = t[(t.activity == "stairs_up")]
    assert (up.step_height_m.iloc[1:-1] > 0.3).all()
    down = t[(t.activity == "stairs_down")]
    assert (down.step_height_m.iloc[1:-1] < -0.3).all()
    for side in ("left", "right"):
        s = t[t.side == side]
        assert (np.diff(s.ic_s) > 0.5).all()
        ok = s.to_s.notna()
        assert ((s.to_s[ok] - s.ic_s[ok]) > 0.3).all()
    assert t.ic_s.min() > 3.0   # quiet standing first


def test_knobs_move_their_truth_columns():
    base = dict(activities="level:3,stairs_down:3", sensors=["left_shank"], rate_hz=100, seed=1, **CLEAN)
    healthy = simulate(**base)
    sick = simulate(**base, problems={"right": {"hard_landing_g": 5.0, "knee_caving_deg": 6.0,
                                                "extension_deficit_deg": 12.0},
                                      "left": {"knee_wobble_deg": 3.0, "heel_lift_deg": 20.0}})

    def med(res, side, activity, col):
        return _contacts(res, side, activity)[col].median()

    assert med(sick, "right", "stairs_down", "impact_g") > med(healthy, "right", "stairs_down", "impact_g") + 3
    assert abs(med(sick, "left", "stairs_down", "impact_g")
               - med(healthy, "left", "stairs_down", "impact_g")) < 1
    assert (med(sick, "right", "level", "frontal_range_deg")
            > med(healthy, "right", "level", "frontal_range_deg") + 4)
    assert (med(sick, "left", "level", "frontal_wobble_dps")
            > 3 * med(healthy, "left", "level", "frontal_wobble_dps"))
    assert (med(sick, "right", "level", "knee_min_flexion_stance_deg")
            > med(healthy, "right", "level", "knee_min_flexion_stance_deg") + 8)
    assert (med(sick, "left", "stairs_down", "shank_forward_tilt_max_deg")
            < med(healthy, "left", "stairs_down", "shank_forward_tilt_max_deg") - 3)
    longer = simulate(**base, stride_length_m=1.8, leg_length_m=0.9)
    assert _contacts(longer, "left", "level").stride_length_m.iloc[1:].median() == pytest.approx(1.8, abs=0.08)


def test_dropped_packets_are_missing_rows_and_rate_option_works(tmp_path):
    for rate in (50, 400):
        res = simulate("level:3", sensors=["right_shank"], rate_hz=rate, drop_rate=0.05, seed=2)
        path = tmp_path / f"r{rate}.csv"
        write_outputs(res, path)
        rec = read_recording(path)
        s = rec.streams["right_shank"]
        full = int(np.ceil(res.plan.duration_s * rate))
        assert 0.88 * full < len(s) < 0.99 * full
        assert np.isfinite(s.acc_mps2).all() and np.isfinite(s.gyr_dps).all()
        gaps = np.diff(s.t_s) > 1.5 / rate
        assert gaps.sum() >= 3
        assert abs(rec.streams["right_shank"].rate_hz - rate) < 0.02 * rate
        assert rec.leg_length_m == pytest.approx(res.recording.leg_length_m)


def test_cli_writes_recording_and_truth_deterministically(tmp_path, capsys):
    args = ["simulate", "--activities", "level:2,stairs_up:1", "--sensors", "left_shank,left_thigh",
            "--rate", "100", "--leg-length", "0.88", "--knee-wobble", "2:left", "--seed", "7"]
    assert main(args + ["-o", str(tmp_path / "a.csv")]) == 0
    assert main(args + ["-o", str(tmp_path / "b.csv"), "--truth", str(tmp_path / "bt.csv")]) == 0
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a.truth.csv").read_bytes() == (tmp_path / "bt.csv").read_bytes()
    rec = read_recording(tmp_path / "a.csv")
    assert set(rec.streams) == {"left_shank", "left_thigh"}
    assert rec.leg_length_m == pytest.approx(0.88)
    assert main(["simulate", "-o", str(tmp_path / "c.csv"), "--rate", "1000"]) == 2
    assert main(["simulate", "-o", str(tmp_path / "c.csv"), "--activities", "jog:3"]) == 2
    assert "Traceback" not in capsys.readouterr().err
