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


# ---------------------------------------------------------------- thigh-only activity

def _thigh_chain(flexion_deg: np.ndarray, rate_hz: float = 100.0):
    """A stand-in thigh chain: its orientation follows ``flexion_deg`` (knee ahead of the hip
    = +) about the flexion axis; one stride from a contact at 0 to a contact at the end."""
    from types import SimpleNamespace

    from imu_knee.analysis.events import Swing

    n = len(flexion_deg)
    t = np.arange(n) / rate_hz
    half = np.radians(flexion_deg) / 2
    flex_axis = np.array([0.0, -1.0, 0.0])   # swinging forward = about -y; up = z, forward = x
    quat = np.column_stack([np.cos(half), np.zeros(n), -np.sin(half), np.zeros(n)])
    to_i = int(np.argmin(flexion_deg))
    mk = lambda i: Swing(0, float(t[max(i - 40, 0)]), 0, 0.0, 200.0, i, float(t[i]), False)  # noqa: E731
    swings = [mk(0), mk(n - 1)]
    swings[1].to_s = float(t[to_i])
    cal = SimpleNamespace(up_axis=np.array([0.0, 0.0, 1.0]), flexion_axis=flex_axis,
                          forward_axis=np.cross([0.0, 0.0, 1.0], flex_axis))
    view = lambda a: SimpleNamespace(view=lambda: a)  # noqa: E731
    return SimpleNamespace(swings=swings, calibration=cal, t=view(t), quat=view(quat))


@pytest.mark.parametrize("at_ic, at_to, expected", [
    (25.0, -12.0, "level"),        # hip extends behind vertical before the swing
    (55.0, -3.0, "stairs_up"),     # hip flexed well over 40 degrees at contact
    (22.0, 14.0, "stairs_down"),   # the thigh stays ahead of vertical all through
])
def test_thigh_only_activity_from_the_thigh_inclination(at_ic, at_to, expected):
    from imu_knee.analysis.activity import sagittal_inclination_deg, thigh_stride_activity

    stance = np.linspace(at_ic - 3.0, at_to, 60)
    swing = np.linspace(at_to, at_ic, 41)[1:]
    chain = _thigh_chain(np.concatenate([stance, swing]))
    # the inclination's sign: + = hip ahead of the knee (extended)
    incl = sagittal_inclination_deg(chain.quat.view(), chain.calibration.up_axis,
                                    chain.calibration.forward_axis)
    assert incl[0] == pytest.approx(-(at_ic - 3.0), abs=1e-6)
    assert thigh_stride_activity(chain, float(chain.t.view()[-1])) == expected


def test_thigh_only_recording_tells_stairs_up_from_level():
    """stairs_hard_landing with its thigh sensors only (the simulator's thigh contacts come
    up to 0.2 s early on stairs, so strides are paired with the nearest true contact)."""
    from imu_knee.recording import Recording

    rec = read_recording(RECORDINGS / "stairs_hard_landing.csv")
    rec = Recording(streams={n: s for n, s in rec.streams.items() if n.endswith("thigh")},
                    meta=rec.meta, leg_length_m=rec.leg_length_m, path=rec.path)
    truth = pd.read_csv(RECORDINGS / "stairs_hard_landing.truth.csv")
    steps, _ = analyze_recording(rec)
    pairs = []
    for _, r in steps.iterrows():
        tr = truth[truth.side == r.side]
        j = int(np.argmin(np.abs(tr.ic_s.to_numpy() - r.ic_s)))
        pairs.append((tr.activity.iloc[j], r.activity))
    up = [det for true, det in pairs if true == "stairs_up"]
    level = [det for true, det in pairs if true == "level"]
    assert len(up) >= 5 and up.count("stairs_up") >= len(up) - 1
    assert len(level) >= 6 and level.count("level") >= len(level) - 1
