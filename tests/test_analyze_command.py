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
