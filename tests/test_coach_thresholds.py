"""Coach thresholds file (defaults + user override) and the exercise library as data."""

import re
import tomllib

import pytest

from imu_knee.coach import PATTERNS, coach_steps, load_library, load_thresholds
from imu_knee.coach.exercises import EXERCISES_PATH, parse_library
from imu_knee.coach.synthetic import Injection, SessionSpec, synthetic_steps
from imu_knee.coach.thresholds import DEFAULT_THRESHOLDS_PATH, ENV_VAR
from imu_knee.errors import InputError


@pytest.fixture(autouse=True)
def no_user_file(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def test_defaults_load_and_every_setting_is_documented():
    th = load_thresholds()
    assert th.source == "defaults"
    assert th["hard_landing"]["ratio_vs_level"] > 1
    lines = DEFAULT_THRESHOLDS_PATH.read_text().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^\w+\s*=", line):
            assert "#" in line or lines[i - 1].startswith("#"), line


def _hard_landing_found(th):
    df = synthetic_steps(SessionSpec(seed=3, injections=[Injection("hard_landing", "left", 2)]))
    return [f.pattern for f in coach_steps(df, shank_rate_hz=200, thresholds=th).findings]


def test_user_file_overrides_only_what_it_names(tmp_path, monkeypatch):
    assert _hard_landing_found(load_thresholds()) == ["hard_landing"]
    user = tmp_path / "mine.toml"
    user.write_text("[hard_landing]\nratio_vs_level = 4.0\nratio_vs_other_side = 4\n")
    th = load_thresholds(user)
    assert th["hard_landing"]["ratio_vs_level"] == 4.0
    assert th["hard_landing"]["ratio_vs_other_side"] == 4.0
    assert th["knee_wobble"] == load_thresholds()["knee_wobble"]
    assert th.source == str(user)
    signed = tmp_path / "signed.toml"
    signed.write_text("[incomplete_extension]\nimplausible_below_deg = -20\n")
    assert load_thresholds(signed)["incomplete_extension"]["implausible_below_deg"] == -20.0
    assert _hard_landing_found(th) == []
    # The environment variable and the per-user file are found too.
    monkeypatch.setenv(ENV_VAR, str(user))
    assert load_thresholds()["hard_landing"]["ratio_vs_level"] == 4.0
    monkeypatch.delenv(ENV_VAR)
    home_file = tmp_path / "home" / ".config" / "imu-knee" / "coach_thresholds.toml"
    home_file.parent.mkdir(parents=True)
    home_file.write_text("[live]\nmin_repeat_s = 45\n")
    assert load_thresholds()["live"]["min_repeat_s"] == 45.0


@pytest.mark.parametrize("text,words", [
    ("[hard_landing\nratio_vs_level = 2\n", "not valid TOML"),
    ("[hard_landing]\nratio_vs_level = \n", "not valid TOML"),
    ("[hard_landings]\nratio_vs_level = 2\n", "unknown section"),
    ("[hard_landing]\nratio_vs_levl = 2\n", "unknown setting hard_landing.ratio_vs_levl"),
    ("[hard_landing]\nratio_vs_level = \"high\"\n", "must be a number"),
    ("[hard_landing]\nratio_vs_level = -1\n", ">= 0"),
    ("[general]\nmin_steps = 2.5\n", "whole number"),
    ("[general]\nmin_fraction_flagged = 3\n", "between 0 and 1"),
    ("[live]\non_steps = 9\n", "must not exceed"),
    ("hard_landing = 3\n", "must be a [section]"),
])
def test_broken_file_gives_one_line_input_error(tmp_path, text, words):
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(InputError) as exc:
        load_thresholds(bad)
    msg = str(exc.value)
    assert words in msg and "\n" not in msg and str(bad) in msg


def test_missing_user_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_thresholds(tmp_path / "nope.toml")


def test_library_covers_every_pattern_with_cues_and_dosage():
    lib = load_library()
    for pattern in PATTERNS:
        advice = lib.advice(pattern)
        assert advice.cue and advice.cue_detail and advice.exercises
        for ex in advice.exercises:
            assert ex.dosage and ex.instructions and pattern in ex.patterns
    assert lib.advice("hard_landing").cue == "Softer landing"
    assert lib.advice("knee_wobble").cue == "Knee over the second toe"


def test_library_never_words_itself_as_a_diagnosis():
    data = tomllib.loads(EXERCISES_PATH.read_text())
    texts = [v for table in data["patterns"].values() for v in table.values() if isinstance(v, str)]
    texts += [v for table in data["exercises"].values() for v in table.values() if isinstance(v, str)]
    assert len(texts) > 50
    for text in texts:
        low = text.lower()
        for word in ("you have", "diagnos", "syndrome", "tendin", "arthritis", "injury"):
            assert word not in low, text
    for pattern in data["patterns"].values():
        assert "often" in pattern["resembles"]


def test_broken_library_gives_input_error():
    data = tomllib.loads(EXERCISES_PATH.read_text())
    data["patterns"]["heel_lift"]["exercises"].append("moon_walk")
    with pytest.raises(InputError, match="moon_walk"):
        parse_library(data)
    del data["patterns"]["knee_wobble"]
    with pytest.raises(InputError, match="knee_wobble"):
        parse_library(data)
