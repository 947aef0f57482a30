"""Impact and loading rate at contact, when the window opens on an earlier peak's flank."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "analysis"))
from bundled import analyse_bundled  # noqa: E402

from imu_knee.analysis.impact import impact_at, window_end  # noqa: E402
from imu_knee.recording import GRAVITY_MPS2  # noqa: E402


def _resultant(t_s, g_of_t):
    acc = np.zeros((len(t_s), 3))
    acc[:, 2] = g_of_t * GRAVITY_MPS2
    return acc


@pytest.mark.parametrize("rate_hz", [100.0, 200.0])
def test_landing_rise_is_measured_after_a_late_swing_peak(rate_hz):
    """A 3.5 g late-swing peak 50 ms before contact, falling into the window; the landing
    rises from 1.2 g at contact to 2.2 g 20 ms later at 50 g/s."""
    t = np.arange(0.0, 1.0, 1.0 / rate_hz)
    ic = 0.5
    late_swing = 1.0 + 2.5 * np.exp(-0.5 * ((t - (ic - 0.05)) / 0.012) ** 2)
    landing = np.interp(t, [ic, ic + 0.02, ic + 0.06, ic + 0.15], [0.0, 1.0, 0.0, 0.0])
    g = np.maximum(late_swing, 1.2) + landing
    acc = _resultant(t, g)
    impact, loading, flags = impact_at(t, acc, ic, rate_hz, None)
    assert impact == pytest.approx(2.2, abs=0.01)
    assert loading == pytest.approx(50.0, rel=0.05)
    assert flags == []
    # live: the early window close sees the same landing peak
    end, early = window_end(t, acc, ic)
    assert early and end is not None
    assert impact_at(t[:end], acc[:end], ic, rate_hz, None)[:2] == (impact, loading)


def test_only_falling_window_leaves_the_loading_rate_empty_with_a_flag():
    t = np.arange(0.0, 1.0, 0.01)
    g = 1.0 + 2.5 * np.exp(-0.5 * ((t - 0.45) / 0.05) ** 2) - 0.3 * (t > 0.45) * (t - 0.45)
    impact, loading, flags = impact_at(t, _resultant(t, g), 0.5, 100.0, None)
    assert loading is None and flags == ["no_rise_before_impact"]
    assert impact == pytest.approx(g[np.searchsorted(t, 0.47)], abs=1e-9)


def _steps_and_truth(name: str):
    _, truth, steps, _ = analyse_bundled(name)
    pairs = []
    for _, det in steps.iterrows():
        tr = truth[truth.side == det.side]
        j = int(np.argmin(np.abs(tr.ic_s.to_numpy() - det.ic_s)))
        pairs.append((det, tr.iloc[j]))
    return steps, pairs


@pytest.mark.parametrize("name", ["incomplete_extension_left", "stairs_hard_landing",
                                  "knee_wobble_both"])
def test_loading_rate_is_measured_on_every_step_of_the_bundled_recordings(name):
    steps, pairs = _steps_and_truth(name)
    lr = steps.loading_rate_gps.to_numpy()
    assert np.isfinite(lr).all() and (lr > 0).all()
    # band-limited at the sensor rate, the sampled rise is slower than the true one
    ratio = np.array([d.loading_rate_gps / t.loading_rate_gps for d, t in pairs])
    assert ((ratio > 0.02) & (ratio < 1.0)).all()
    # the impact is the landing peak, not the flank of the late-swing peak before it
    err = np.array([d.impact_g - t.impact_g_at_rate for d, t in pairs])
    assert np.abs(err).max() < 0.1 and np.abs(err).mean() < 0.03


def test_loading_rate_follows_the_truth_across_hard_and_soft_landings():
    steps, pairs = _steps_and_truth("stairs_hard_landing")
    est = np.array([d.loading_rate_gps for d, _ in pairs])
    tru = np.array([t.loading_rate_gps for _, t in pairs])
    assert np.corrcoef(est, tru)[0, 1] > 0.9
