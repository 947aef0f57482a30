"""Issue 3, bad input: a recording with no quiet standing at the start (the bundled four-sensor
stairs walk with its first 4 s cut off). Every step is still measured; what needs the standing
pose (the knee angle's zero) is left empty with a flag and a one-line warning."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from imu_knee.cli import main
from imu_knee.recording import Recording, SensorStream, read_recording, write_recording

ROOT = Path(__file__).resolve().parents[1]
CUT_S = 4.0  # the recording starts with 3 s of standing; cut a little more


def _without_standing(tmp_path: Path) -> Path:
    rec = read_recording(ROOT / "recordings" / "stairs_hard_landing.csv")
    streams = {}
    for name, s in rec.streams.items():
        keep = s.t_s >= CUT_S
        streams[name] = SensorStream(name, s.t_s[keep] - CUT_S, s.acc_mps2[keep], s.gyr_dps[keep],
                                     s.rate_hz, s.device)
    path = tmp_path / "no_standing.csv"
    write_recording(path, Recording(streams=streams, leg_length_m=rec.leg_length_m))
    return path


def test_no_standing_keeps_every_step_and_empties_only_the_knee_angles(tmp_path, capsys):
    truth = pd.read_csv(ROOT / "recordings" / "stairs_hard_landing.truth.csv")
    truth = truth[truth.ic_s > CUT_S + 0.3]
    path = _without_standing(tmp_path)
    rc = main(["analyze", str(path), "--steps", str(tmp_path / "s.csv"),
               "--summary", str(tmp_path / "s.json"), "--no-history"])
    err = capsys.readouterr().err
    assert rc == 0
    steps = pd.read_csv(tmp_path / "s.csv")
    for side in ("left", "right"):
        got = steps[steps.side == side].ic_s.to_numpy() + CUT_S
        want = truth[truth.side == side].ic_s.to_numpy()
        matched = sum(min(abs(got - ic)) < 0.1 for ic in want)
        assert matched >= len(want) - 1, (side, matched, len(want))
    assert steps.knee_flexion_ic_deg.isna().all()
    assert steps.knee_min_flexion_stance_deg.isna().all()
    assert steps["flags"].str.contains("no_standing").all()
    assert steps.impact_g.notna().mean() > 0.9
    assert steps.stride_length_m.notna().mean() > 0.7
    assert "no quiet standing" in err
    assert "Traceback" not in err
    # the shin's forward lean is relative to the standing pose: no standing, no lean
    assert steps.shank_tilt_max_stance_deg.isna().all()
    findings = json.loads((tmp_path / "s.json").read_text())["findings"]
    assert [f["pattern"] for f in findings] == ["hard_landing"]  # the injected problem only
