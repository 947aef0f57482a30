"""Step events against the bundled simulator recordings' truth: toe-off per activity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imu_knee.analysis.engine import analyze_recording
from imu_knee.analysis.events import toe_off_time_s
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
    assert toe_off_time_s(1.0, 1.1, -0.15) == pytest.approx(1.09)
    # never before the minimum
    assert toe_off_time_s(1.0, 1.005, -0.15) == 1.0
