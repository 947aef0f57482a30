"""StreamingOrientation: VQF at a lower rate, the samples in between filled in from the gyro."""

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation
from vqf import VQF

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fixtures.analysis.synth import synth_stream  # noqa: E402

from imu_knee.analysis.orientation import VQF_FILTER_RATE_HZ, StreamingOrientation, group_size  # noqa: E402
from imu_knee.analysis.quaternion import (components_from_rotation_vector,  # noqa: E402
                                          multiply_components, rotate,
                                          rotation_vector_from_components)


def _full_rate_vqf(rate_hz, acc, gyr_dps):
    out = VQF(1.0 / rate_hz).updateBatch(np.ascontiguousarray(np.radians(gyr_dps)),
                                         np.ascontiguousarray(acc, dtype=float))
    return out["quat6D"], np.degrees(out["bias"])


def _inclination_difference_deg(q1, q2):
    """Angle between the world's up axis seen in the sensor frame by two orientations (the
    heading is arbitrary in 6-D: not compared)."""
    up = np.array([0.0, 0.0, 1.0])
    conj = np.array([1.0, -1.0, -1.0, -1.0])
    u1, u2 = rotate(q1 * conj, up), rotate(q2 * conj, up)
    return np.degrees(np.arccos(np.clip(np.sum(u1 * u2, axis=1), -1.0, 1.0)))


def test_group_size_from_the_sensor_rate():
    assert VQF_FILTER_RATE_HZ == 25.0
    assert [group_size(r) for r in (100.0, 104.0, 75.0, 74.0, 52.0, 59.0, 25.0, 12.5, 200.0)] == \
        [4, 4, 3, 1, 1, 1, 1, 1, 8]
    assert group_size(100.0, 50.0) == 1 and group_size(100.0, 30.0) == 3


@pytest.mark.parametrize("rate_hz", [100.0, 75.0])
def test_without_accelerometer_the_fill_in_is_vqf_gyro_integration_at_every_sample(rate_hz):
    """VQF ignores all-zero accelerometer samples: its output is then the gyro integration
    alone, which the decimated filter must reproduce at every sample (composition order,
    right-hand increments, first sample, fill-in)."""
    rng = np.random.default_rng(1)
    gyr = np.cumsum(rng.normal(0, 20, (803, 3)), axis=0)  # a wandering rate up to ~500 deg/s
    acc = np.zeros_like(gyr)
    q, bias = StreamingOrientation(rate_hz).process_with_bias(acc, gyr)
    ref, ref_bias = _full_rate_vqf(rate_hz, acc, gyr)
    np.testing.assert_allclose(q, ref, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(bias, ref_bias)


def test_first_sample_is_vqf_initialisation():
    s, _ = synth_stream("left_shank", 100.0, strides=3)
    ori = StreamingOrientation(100.0)
    q = ori.process(s.acc_mps2, s.gyr_dps)
    ref, _ = _full_rate_vqf(100.0, s.acc_mps2[:1], s.gyr_dps[:1])
    np.testing.assert_allclose(q[0], ref[0], rtol=0, atol=1e-15)
    assert ori.group == 4
    assert np.all(np.isfinite(q)) and np.allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-12)


def test_samples_inside_a_group_integrate_the_bias_corrected_gyro_from_the_group_before():
    """With a gyro bias of 1.5 deg/s (VQF estimates it), each sample inside a group is the
    output at the previous group end times the steps exp((omega - bias) dt) up to it
    (scipy as the reference integration)."""
    s, _ = synth_stream("left_shank", 100.0, strides=4)
    gyr = s.gyr_dps + [1.5, -1.0, 0.5]
    ori = StreamingOrientation(100.0)
    q, bias = ori.process_with_bias(s.acc_mps2, gyr)
    g, dt_s = ori.group, 0.01
    assert np.abs(bias[-1]).max() > 0.3  # a bias estimate to correct with
    ends = np.arange(0, len(q) - g, g)
    ref = Rotation.from_quat(q[ends][:, [1, 2, 3, 0]])
    for k in range(1, g):
        ref = ref * Rotation.from_rotvec(np.radians(gyr[ends + k] - bias[ends]) * dt_s)
        ref_wxyz = ref.as_quat()[:, [3, 0, 1, 2]]
        np.testing.assert_allclose(np.abs(np.sum(q[ends + k] * ref_wxyz, axis=1)), 1.0, rtol=0, atol=1e-13)
        np.testing.assert_allclose(bias[ends + k], bias[ends], rtol=0, atol=0)


def test_a_walk_stays_within_a_small_angle_of_full_rate_vqf():
    """The synthetic shank walk (12 strides, standing before and after): inclination vs VQF at
    the full 100 Hz. Measured: 25 Hz filter median 0.05, p99 0.22, max 0.31 deg."""
    s, _ = synth_stream("left_shank", 100.0)
    q = StreamingOrientation(100.0).process(s.acc_mps2, s.gyr_dps)
    ref, _ = _full_rate_vqf(100.0, s.acc_mps2, s.gyr_dps)
    diff = _inclination_difference_deg(q, ref)
    assert np.median(diff) < 0.1
    assert diff.max() < 0.5


@settings(max_examples=40, deadline=None)
@given(rate_hz=st.sampled_from([100.0, 104.0, 75.0, 52.0]), seed=st.integers(0, 10_000),
       n_cuts=st.integers(0, 40), reset_at=st.one_of(st.none(), st.integers(1, 398)),
       gyr_sd_dps=st.sampled_from([60.0, 2500.0]))
def test_any_split_into_blocks_gives_the_same_quaternions(rate_hz, seed, n_cuts, reset_at, gyr_sd_dps):
    """Blocks of any size (empty, single samples, partial groups; short ones are computed
    sample by sample, long ones on arrays) give exactly one call's values, also with steps
    beyond the exponential's series; after ``reset`` the rest matches a fresh filter."""
    rng = np.random.default_rng(seed)
    n = 400
    gyr = rng.normal(0, gyr_sd_dps, (n, 3))
    acc = rng.normal(0, 1.5, (n, 3)) + [0.0, 0.0, 9.81]
    end = n if reset_at is None else reset_at
    whole = [StreamingOrientation(rate_hz).process_with_bias(acc[:end], gyr[:end])]
    if reset_at is not None:
        whole.append(StreamingOrientation(rate_hz).process_with_bias(acc[end:], gyr[end:]))
    ori = StreamingOrientation(rate_hz)
    cuts = np.unique(np.r_[0, rng.integers(0, n + 1, n_cuts), n] if reset_at is None
                     else np.r_[0, rng.integers(0, n + 1, n_cuts), reset_at, n])
    parts = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        if a == reset_at:
            ori.reset()
        parts.append(ori.process_with_bias(acc[a:b], gyr[a:b]))
        assert parts[-1][0].shape == (b - a, 4) and parts[-1][1].shape == (b - a, 3)
    assert ori.process_with_bias(acc[:0], gyr[:0])[0].shape == (0, 4)
    for k in (0, 1):
        np.testing.assert_array_equal(np.concatenate([p[k] for p in parts]),
                                      np.concatenate([w[k] for w in whole]))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.sampled_from([1e-9, 0.01, 0.3, 1.0, 3.0]))
def test_quaternion_exp_log_and_product_agree_with_scipy(seed, scale):
    rng = np.random.default_rng(seed)
    r = rng.normal(0, scale, (50, 3))
    q = np.array(components_from_rotation_vector(r.T)).T
    ref = Rotation.from_rotvec(r).as_quat()[:, [3, 0, 1, 2]]  # scipy: x, y, z, w
    np.testing.assert_allclose(q, ref, rtol=0, atol=1e-15)
    small = np.linalg.norm(r, axis=1) < np.pi
    np.testing.assert_allclose(np.array(rotation_vector_from_components(q.T)).T[small], r[small],
                               rtol=0, atol=1e-14)
    p = np.roll(q, 1, axis=0)
    prod = np.array(multiply_components(p.T, q.T)).T
    ref_prod = (Rotation.from_rotvec(np.roll(r, 1, axis=0)) * Rotation.from_rotvec(r)).as_quat()[:, [3, 0, 1, 2]]
    np.testing.assert_allclose(np.abs(np.sum(prod * ref_prod, axis=1)), 1.0, rtol=0, atol=1e-14)


@pytest.mark.parametrize("rate_hz", [100.0, 52.0])
def test_output_arrays_given_by_the_caller_take_the_same_values(rate_hz):
    """``out=``: the caller's arrays get exactly the values returned otherwise, in blocks that
    start a filter, continue a held incomplete group, or are short (sample by sample)."""
    s, _ = synth_stream("left_shank", rate_hz, strides=3)
    blocks = [slice(0, 203), slice(203, 210), slice(210, 531), slice(531, len(s.t_s))]
    plain, given = StreamingOrientation(rate_hz), StreamingOrientation(rate_hz)
    for rows in blocks:
        ref = plain.process_with_bias(s.acc_mps2[rows], s.gyr_dps[rows])
        n = len(ref[0])
        out = (np.full((n, 4), np.nan), np.full((n, 3), np.nan))
        got = given.process_with_bias(s.acc_mps2[rows], s.gyr_dps[rows], out=out)
        assert got[0] is out[0] and got[1] is out[1]
        np.testing.assert_array_equal(out[0], ref[0])
        np.testing.assert_array_equal(out[1], ref[1])
