"""`imu-knee analyze` on the bundled recordings: outputs, findings, history, usage errors."""

import json
from pathlib import Path

import pandas as pd
import pytest

from imu_knee.cli import main

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"


def analyze(tmp_path, name, *extra):
    steps, summary = tmp_path / "steps.csv", tmp_path / "summary.json"
    code = main(["analyze", str(RECORDINGS / name), "--steps", str(steps),
                 "--summary", str(summary), *extra])
    return code, steps, summary


def test_hard_landing_recording_gives_steps_and_the_right_finding(tmp_path, capsys):
    code, steps, summary = analyze(tmp_path, "stairs_hard_landing.csv")
    assert code == 0
    rows = pd.read_csv(steps)
    truth = pd.read_csv(RECORDINGS / "stairs_hard_landing.truth.csv")
    assert abs(len(rows) - len(truth)) <= 2
    findings = json.loads(summary.read_text())["findings"]
    assert [(f["pattern"], f["side"]) for f in findings] == [("hard_landing", "right")]
    assert all(t in set(rows.ic_s) for t in findings[0]["steps"])
    out = capsys.readouterr().out
    assert "Hard landings" in out and "physical therapist" in out


def test_clean_walk_has_no_findings_and_is_stored_in_history(tmp_path, capsys):
    code, _, summary = analyze(tmp_path, "level_walk_shank.csv")
    assert code == 0
    assert json.loads(summary.read_text())["findings"] == []
    assert "Nothing worth flagging" in capsys.readouterr().out
    assert main(["history"]) == 0
    assert "level_walk_shank.csv" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["analyze", str(RECORDINGS / "level_walk_shank.csv")], "--steps STEPS.csv and --summary"),
    (["analyze", "missing.csv", "--steps", "s.csv", "--summary", "s.json"], "no such file"),
])
def test_usage_errors_are_one_line(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err.splitlines()[-1] and "Traceback" not in err


BAD_FILES = {
    "empty.csv": b"",
    "no_header.csv": b"0.0,left_shank,0,9.8,0,0,0,0\n",
    "unknown_sensor.csv": b"timestamp_s,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n0.0,left_foot,0,9.8,0,0,0,0\n",
    "text.csv": b"timestamp_s,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n0.0,left_shank,zero,9.8,0,0,0,0\n",
    "nan.csv": b"timestamp_s,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n0.0,left_shank,NaN,9.8,0,0,0,0\n",
    "backwards.csv": b"timestamp_s,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n"
                     b"0.5,left_shank,0,9.8,0,0,0,0\n0.4,left_shank,0,9.8,0,0,0,0\n",
    "in_g.csv": b"timestamp_s,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n"
                + b"".join(b"%.2f,left_shank,0,1.0,0,0,0,0\n" % (i / 100) for i in range(100)),
    "garbage.csv": bytes(range(256)) * 40000,
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_recordings_exit_2_with_one_line_and_no_traceback(tmp_path, capsys, name):
    path = tmp_path / name
    path.write_bytes(BAD_FILES[name])
    code = main(["analyze", str(path), "--steps", str(tmp_path / "s.csv"),
                 "--summary", str(tmp_path / "s.json"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("imu-knee: ") and "Traceback" not in err
    assert not (tmp_path / "s.csv").exists()
