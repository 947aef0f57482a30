"""The coach on the bundled simulator recordings' per-step truth (recordings/*.truth.csv).

Each truth table is cut down to what the recording's sensors could measure (the truth holds
both legs and knee angles even where no sensor was worn), then coached.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imu_knee.coach import SHANK_TILT_COLUMN, coach_steps
from imu_knee.recording import read_recording

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"


def measurable_steps(name):
    rec = read_recording(RECORDINGS / f"{name}.csv")
    truth = pd.read_csv(RECORDINGS / f"{name}.truth.csv")
    truth["impact_g"] = truth["impact_g_at_rate"]  # as the sensor sees it at its rate
    truth[SHANK_TILT_COLUMN] = truth["shank_forward_tilt_max_deg"]
    worn = set(rec.streams)
    truth = truth[truth.side.map(lambda s: f"{s}_shank" in worn)].copy()
    for side in ("left", "right"):
        if f"{side}_thigh" not in worn:
            truth.loc[truth.side == side, ["knee_flexion_ic_deg", "knee_min_flexion_stance_deg"]] = np.nan
    rate = min(s.rate_hz for s in rec.streams.values())
    return truth, rate, rec.leg_length_m


@pytest.mark.parametrize("name,expected", [
    ("level_walk_shank", []),
    ("stairs_hard_landing", [("hard_landing", "right")]),
    ("knee_wobble_both", [("knee_wobble", "both")]),
    ("incomplete_extension_left", [("incomplete_extension", "left")]),
])
def test_bundled_recordings(name, expected):
    steps, rate, leg_m = measurable_steps(name)
    result = coach_steps(steps, shank_rate_hz=rate, leg_length_m=leg_m)
    assert [(f.pattern, f.side) for f in result.findings] == expected
    if name == "level_walk_shank":  # one shin sensor: no knee angle, no stairs
        assert {n.pattern for n in result.not_assessed} >= {"incomplete_extension", "hard_landing", "heel_lift"}
    if name == "stairs_hard_landing":
        assert "100 samples per second" in result.findings[0].evidence
        assert "under-read" in result.findings[0].evidence
