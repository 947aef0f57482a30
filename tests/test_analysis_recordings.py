"""The analysis against the bundled simulator recordings (recordings/*.csv with truth beside).

Pins what the engine measures on known answers: contacts, activity, stride length, impact
(against the peak the sensor can see at its rate), knee angles and frontal-plane wobble.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "analysis"))
from bundled import analyse_bundled  # noqa: E402


def _analyse(name: str):
    rec, truth, steps, summary = analyse_bundled(name)
    truth = truth[truth.side.isin({n.split("_")[0] for n in rec.streams})]
    # match each true contact to the nearest detected one of the same side
    rows = []
    for _, tr in truth.iterrows():
        det = steps[steps.side == tr.side]
        j = int(np.argmin(np.abs(det.ic_s.to_numpy() - tr.ic_s)))
        rows.append((tr, det.iloc[j]))
    return steps, summary, truth, rows


def test_stairs_hard_landing_recording():
    steps, summary, truth, rows = _analyse("stairs_hard_landing")
    assert len(steps) == len(truth)
    for tr, det in rows:
        assert abs(det.ic_s - tr.ic_s) < 0.06
        assert det.activity == tr.activity
        if not np.isnan(tr.impact_g_at_rate):
            assert det.impact_g == pytest.approx(tr.impact_g_at_rate, abs=0.25)
        if not np.isnan(tr.stride_length_m) and tr.ic_s > truth.ic_s.min() + 1.0:
            assert det.stride_length_m == pytest.approx(tr.stride_length_m, abs=0.08)
        if not np.isnan(tr.knee_flexion_ic_deg):
            assert det.knee_flexion_ic_deg == pytest.approx(tr.knee_flexion_ic_deg, abs=5.0)
    # the injected problem: hard landings on the right leg going down
    down = summary["sides"]
    assert down["right"]["stairs_down"]["median"]["impact_g"] > 1.5 * down["left"]["stairs_down"]["median"]["impact_g"]
    assert summary["asymmetry_percent"]["stairs_down"]["impact_g"] < -30


def test_incomplete_extension_recording():
    steps, summary, truth, rows = _analyse("incomplete_extension_left")
    assert summary["knee"]["left"]["calibrated"]
    errs = [det.knee_min_flexion_stance_deg - tr.knee_min_flexion_stance_deg
            for tr, det in rows if not np.isnan(tr.knee_min_flexion_stance_deg)
            and not np.isnan(det.knee_min_flexion_stance_deg)]
    assert len(errs) >= 8
    assert np.sqrt(np.mean(np.square(errs))) < 3.0
    assert summary["sides"]["left"]["level"]["median"]["knee_min_flexion_stance_deg"] > 10.0


def test_knee_wobble_recording_ranks_frontal_range():
    steps, summary, truth, rows = _analyse("knee_wobble_both")
    assert len(steps) == len(truth)
    wob = [(tr.frontal_wobble_dps, det.frontal_wobble_dps) for tr, det in rows
           if not (np.isnan(tr.frontal_wobble_dps) or np.isnan(det.frontal_wobble_dps))]
    truth_w, det_w = np.array(wob).T
    assert np.corrcoef(truth_w, det_w)[0, 1] > 0.5
    assert summary["sides"]["left"]["all"]["median"]["frontal_wobble_dps"] > 20.0
