"""The analysis engine: live (random small blocks) equals offline, events on known signals,
bad input handled. Uses only synthetic data made here (tests/analysis_synth.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "analysis"))
from synth import synth_recording  # noqa: E402

from imu_knee.analysis.engine import Engine, analyze_recording, rows_to_frame  # noqa: E402
from imu_knee.analysis.lowpass import StreamingLowpass  # noqa: E402
from imu_knee.analysis.orientation import StreamingOrientation  # noqa: E402
from imu_knee.cli import main  # noqa: E402
from imu_knee.recording import Recording, SensorStream, write_recording  # noqa: E402
from imu_knee.replay_source import interleaved_sample_blocks  # noqa: E402
from imu_knee.analysis.steps import cells, round_like_python  # noqa: E402


def push_in_random_blocks(rec: Recording, seed: int, max_block: int = 12, with_engine: bool = False,
                          contact_rows: bool = True):
    """Interleave the sensors' samples in time order, in random small blocks per sensor."""
    rng = np.random.default_rng(seed)
    engine = Engine({n: s.rate_hz for n, s in rec.streams.items()}, leg_length_m=rec.leg_length_m,
                    contact_rows=contact_rows)
    rows = []
    for block in interleaved_sample_blocks(rec, lambda: rng.integers(1, max_block + 1)):
        rows.extend(engine.push(*block))
    rows.extend(engine.finish())
    return (rows, engine) if with_engine else rows


def test_blocks_give_the_same_steps_as_the_whole_recording():
    rec, truth = synth_recording(("left_shank", "right_shank", "left_thigh"))
    whole, summary = analyze_recording(rec)
    assert len(whole) >= 20
    # the left leg has thigh + shank: knee columns are measured, or, when the hinge
    # calibration is refused, empty and flagged; the right leg has no thigh: always empty
    left, right = whole[whole.side == "left"], whole[whole.side == "right"]
    if summary["knee"]["left"]["calibrated"]:
        assert left.knee_flexion_ic_deg.notna().all()
    else:
        assert left["flags"].str.contains("knee_not_calibrated").all()
        assert summary["knee"]["left"]["message"]
    assert right.knee_flexion_ic_deg.isna().all() and "right" not in summary["knee"]
    assert whole.frontal_range_deg.notna().sum() >= len(whole) - 2
    for seed in (1, 2):
        rows = push_in_random_blocks(rec, seed)
        live = rows_to_frame(rows)
        pd.testing.assert_frame_equal(live, whole, check_exact=False, rtol=1e-9, atol=1e-9)
        # without contact rows (the default): the same final rows, notices, no contact rows
        plain = push_in_random_blocks(rec, seed, contact_rows=False)
        pd.testing.assert_frame_equal(rows_to_frame(plain), whole, check_exact=False, rtol=1e-9, atol=1e-9)
        assert {r.stage for r in plain} == {"notice", "final"}
        # every contact was announced early (notice, then contact row) before its full row; on
        # stairs the final contact time may be refined by up to a few tens of ms
        final = sorted(zip(whole.side, whole.ic_s))
        for stage in ("notice", "contact"):
            early = sorted((r.side, r.ic_s) for r in rows if r.stage == stage and not r.final)
            assert len(early) == len(final)
            assert all(a[0] == b[0] and abs(a[1] - b[1]) < 0.06 for a, b in zip(early, final))


def test_contact_rows_come_soon_after_the_contact_with_the_final_impact():
    """Live: a contact row per contact within 160 ms (100 Hz, one-sample blocks) of the true
    contact, before its final row, carrying the final row's impact; the same values for any
    split into blocks."""
    rec, truth = synth_recording(("left_shank", "right_shank"), strides=14)
    rows, engine = push_in_random_blocks(rec, seed=4, max_block=1, with_engine=True)
    contact = [r for r in rows if r.stage == "contact"]
    final = {(r.side, r.ic_s): r for r in rows if r.final}
    assert len(contact) == len(final) == sum(len(v) for v in truth.values())
    # contacts before calibration wait for it (they come out together once it is decided)
    cal_s = max(c.calibration.calibrated_at_s for c in engine.chains.values())
    order = {id(r): i for i, r in enumerate(rows)}
    delays = []
    for r in contact:
        f = final[(r.side, r.ic_s)]  # level walking: same contact time
        assert order[id(r)] < order[id(f)]
        assert r.impact_g == pytest.approx(f.impact_g, abs=1e-9)
        assert r.loading_rate_gps == pytest.approx(f.loading_rate_gps, abs=1e-6)
        assert r.activity == f.activity == "level"
        assert "provisional_stride" in r.flags or r.stride_length_m is None
        tr = truth[f"{r.side}_shank"]
        true_ic = tr[np.argmin(np.abs(tr - r.ic_s))]
        if true_ic > cal_s:
            delays.append(r.emitted_t_s - true_ic)
            assert r.emitted_t_s - true_ic <= 0.160
            assert f.emitted_t_s - true_ic > 0.5  # the final row waits for the stance to end
    assert len(delays) >= 10
    assert np.median(delays) <= 0.150
    # provisional stride: close to the final one once walking is steady
    steady = [(r.stride_length_m, final[(r.side, r.ic_s)].stride_length_m) for r in contact[4:-2]]
    assert all(p is not None and abs(p - q) < 0.1 for p, q in steady)
    # contact rows do not depend on how the samples arrived
    other = [r for r in push_in_random_blocks(rec, seed=9, max_block=25) if r.stage == "contact"]
    key = lambda r: (r.side, r.ic_s, r.impact_g, r.loading_rate_gps, r.stride_length_m, r.activity)  # noqa: E731
    assert sorted(map(key, other)) == sorted(map(key, contact))


def _landing(rate_hz: float, peaks: list[tuple[float, float]]):
    """|acc| = 1 g plus Gaussian bumps (time after contact s, height g) along z; contact at 1 s."""
    t = np.arange(0.0, 2.0, 1.0 / rate_hz)
    mag = np.ones_like(t)
    for at_s, h in peaks:
        mag += h * np.exp(-0.5 * ((t - 1.0 - at_s) / 0.008) ** 2)
    acc = np.zeros((len(t), 3))
    acc[:, 2] = mag * 9.80665
    return t, acc


@pytest.mark.parametrize("rate_hz", [100.0, 200.0])
def test_impact_window_closes_early_only_after_a_clear_settled_peak(rate_hz):
    from imu_knee.analysis.impact import IMPACT_WINDOW_S, impact_at, window_end

    ic = 1.0
    t, acc = _landing(rate_hz, [(0.02, 2.0)])
    full = impact_at(t, acc, ic, rate_hz, None)
    # the samples arrive one by one: the window closes as soon as the peak has settled, well
    # before its 150 ms, with the full window's values; later samples do not change the answer
    closed = next(n for n in range(1, len(t)) if window_end(t[:n], acc[:n], ic)[0] is not None)
    end, early = window_end(t[:closed], acc[:closed], ic)
    assert early and t[closed - 1] < ic + 0.08
    assert window_end(t, acc, ic) == (end, True)
    assert impact_at(t[:end], acc[:end], ic, rate_hz, None)[:2] == pytest.approx(full[:2])
    # a small bump is no clear peak and a descent may land twice: the whole window is waited for
    for peaks, allow in (([(0.02, 0.4)], True), ([(0.02, 2.0), (0.11, 3.0)], False)):
        t2, acc2 = _landing(rate_hz, peaks)
        n_open = int(np.searchsorted(t2, ic + IMPACT_WINDOW_S)) - 1
        assert window_end(t2[:n_open + 1], acc2[:n_open + 1], ic, allow) == (None, False)
        end2, early2 = window_end(t2, acc2, ic, allow)
        assert not early2 and t2[end2 - 1] <= ic + IMPACT_WINDOW_S < t2[end2]
        assert impact_at(t2[:end2], acc2[:end2], ic, rate_hz, None)[0] == pytest.approx(1.0 + max(h for _, h in peaks), abs=0.05)


def test_contacts_found_for_any_mounting_within_20ms():
    rec, truth = synth_recording(("left_shank", "right_shank", "left_thigh", "right_thigh"))
    steps, summary = analyze_recording(rec)
    for name, ics in truth.items():
        side = name.split("_")[0]
        det = steps.loc[steps.side == side, "ic_s"].to_numpy()
        assert len(det) == len(ics)
        assert np.max(np.abs(det - ics)) < 0.020
    cal = summary["sensors"]["left_shank"]["calibration"]
    assert cal["quality"]["flexion_axis_share"] > 0.9
    assert summary["sides"]["left"]["all"]["count"] == len(truth["left_shank"])
    assert summary["findings"] == []
    assert (steps.activity == "level").all()
    # the synthetic impact is 2 g on top of gravity and the swing deceleration
    assert steps.impact_g.between(2.3, 3.5).all()
    assert summary["sides"]["left"]["level"]["cadence_spm"] == pytest.approx(120 / 1.1, rel=0.01)


@pytest.mark.parametrize("rise_m, stride_m, activity", [
    (0.0, 1.3, "level"), (0.17, 0.6, "stairs_up"), (-0.17, 0.6, "stairs_down")])
def test_stride_length_step_height_and_activity(rise_m, stride_m, activity):
    rec, truth = synth_recording(("left_shank", "right_shank"), rise_m=rise_m, stride_m=stride_m)
    steps, summary = analyze_recording(rec)
    assert len(steps) == sum(len(v) for v in truth.values())
    assert (steps.activity == activity).mean() >= 0.9
    inner = steps.iloc[2:-2]  # the first stride starts from standing, the last ends in it
    assert np.abs(inner.stride_length_m - stride_m).max() < 0.06
    assert np.abs(inner.step_height_m - rise_m).max() < 0.08
    assert summary["sides"]["right"][activity]["count"] >= 0.9 * len(truth["right_shank"])


def test_filter_and_orientation_stages_are_block_invariant():
    rng = np.random.default_rng(3)
    gyr = rng.normal(0, 50, (700, 3))
    acc = rng.normal(0, 1, (700, 3)) + [0, 0, 9.81]
    lp_whole = StreamingLowpass(12, 100, 3).process(gyr)
    or_whole = StreamingOrientation(100).process(acc, gyr)
    lp, ori = StreamingLowpass(12, 100, 3), StreamingOrientation(100)
    cuts = np.sort(rng.choice(np.arange(1, 700), 60, replace=False))
    parts_lp, parts_or = [], []
    for a, b in zip(np.r_[0, cuts], np.r_[cuts, 700]):
        parts_lp.append(lp.process(gyr[a:b]))
        parts_or.append(ori.process(acc[a:b], gyr[a:b]))
    np.testing.assert_allclose(np.concatenate(parts_lp), lp_whole, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(np.concatenate(parts_or), or_whole)


def test_step_rows_column_order_and_empty_cells(tmp_path):
    rec, _ = synth_recording(("left_shank",))
    path = tmp_path / "rec.csv"
    write_recording(path, rec)
    steps, summ = tmp_path / "steps.csv", tmp_path / "summary.json"
    assert main(["analyze", str(path), "--steps", str(steps), "--summary", str(summ), "--quiet"]) == 0
    df = pd.read_csv(steps)
    assert list(df.columns[:12]) == [
        "side", "ic_s", "to_s", "activity", "stride_length_m", "step_height_m", "impact_g",
        "loading_rate_gps", "knee_flexion_ic_deg", "knee_min_flexion_stance_deg",
        "frontal_range_deg", "frontal_wobble_dps"]
    assert (df.side == "left").all() and df.ic_s.is_monotonic_increasing
    assert df.knee_flexion_ic_deg.isna().all()  # no thigh: not measurable
    assert df.impact_g.notna().all()
    s = json.loads(summ.read_text())
    assert "right" not in s["sides"] and s["sides"]["left"]["all"]["count"] == len(df)


def _still_recording(seconds: float, rate: float = 100.0) -> Recording:
    n = int(seconds * rate)
    t = np.arange(n) / rate
    acc = np.tile([0.3, 0.2, 9.8], (n, 1))
    gyr = np.zeros((n, 3))
    return Recording({"left_shank": SensorStream("left_shank", t, acc, gyr, rate)})


def test_sensors_that_never_move_are_refused_clearly(tmp_path, capsys):
    path = tmp_path / "still.csv"
    write_recording(path, _still_recording(20))
    rc = main(["analyze", str(path), "--steps", str(tmp_path / "s.csv"), "--summary",
               str(tmp_path / "s.json")])
    assert rc == 2
    assert "no walking found" in capsys.readouterr().err


def test_too_short_recording_is_refused_clearly(tmp_path, capsys):
    rec, _ = synth_recording(("left_shank",), strides=1)
    s = rec.streams["left_shank"]
    short = Recording({"left_shank": SensorStream("left_shank", s.t_s[:150], s.acc_mps2[:150],
                                                  s.gyr_dps[:150], 100.0)})
    path = tmp_path / "short.csv"
    write_recording(path, short)
    rc = main(["analyze", str(path), "--steps", str(tmp_path / "s.csv"), "--summary",
               str(tmp_path / "s.json")])
    assert rc == 2
    assert "too short to hold a step" in capsys.readouterr().err


def test_saturated_accelerometer_flags_impacts():
    rec, truth = synth_recording(("left_shank",), impact_g=3.0)
    s = rec.streams["left_shank"]
    full = 2.0 * 9.80665  # a +-2 g sensor
    acc = np.clip(s.acc_mps2, -full, full)
    clipped = Recording({"left_shank": SensorStream("left_shank", s.t_s, acc, s.gyr_dps, 100.0)})
    steps, summary = analyze_recording(clipped)
    assert len(steps) == len(truth["left_shank"])  # every step still reported
    assert "left_shank: acc_reaches_full_scale" in summary["flags"]
    hit = steps["flags"].str.contains("acc_saturated")
    assert hit.sum() >= 1
    assert steps.loc[hit, "impact_g"].isna().all()
    # a step is flagged exactly when its impact window touches the rail
    for _, row in steps.iterrows():
        w = (s.t_s >= row.ic_s - 0.03) & (s.t_s <= row.ic_s + 0.15)
        assert bool(hit[_]) == bool((np.abs(acc[w]) >= 0.995 * full).any())


def test_too_short_recording_gives_no_crash():
    rec, _ = synth_recording(("left_shank",), strides=1)
    s = rec.streams["left_shank"]
    short = Recording({"left_shank": SensorStream("left_shank", s.t_s[:350], s.acc_mps2[:350],
                                                  s.gyr_dps[:350], 100.0)})
    steps, summary = analyze_recording(short)
    assert len(steps) <= 1
    assert "left_shank: not_calibrated" in summary["flags"] or len(steps) <= 1


def test_gap_mid_walk_is_flagged_and_other_steps_reported():
    rec, truth = synth_recording(("left_shank",), strides=16)
    s = rec.streams["left_shank"]
    keep = (s.t_s < 9.0) | (s.t_s > 12.0)
    gapped = Recording({"left_shank": SensorStream("left_shank", s.t_s[keep], s.acc_mps2[keep],
                                                   s.gyr_dps[keep], 100.0)})
    steps, summary = analyze_recording(gapped)
    ics = truth["left_shank"]
    expected = ics[(ics < 8.8) | (ics > 12.3)]
    found = steps.ic_s.to_numpy()
    assert all(np.min(np.abs(found - ic)) < 0.03 for ic in expected)
    assert "left_shank: gaps" in summary["flags"]
    after = steps[(steps.ic_s > 9.0) & (steps.ic_s < 16.0)]
    assert after["flags"].str.contains("gap").all()
    assert after.stride_length_m.isna().all()  # not measurable until orientation settles
    late = steps[steps.ic_s > 18.5]
    assert late.stride_length_m.notna().all()


def test_25hz_recording_measures_steps_but_not_impact():
    rec, truth = synth_recording(("left_shank",), rate_hz=25.0)
    steps, summary = analyze_recording(rec)
    assert abs(len(steps) - len(truth["left_shank"])) <= 1
    assert steps.impact_g.isna().all()
    assert steps["flags"].str.contains("rate_too_low_for_impact").all()


def _ties_near(x: float, digits: int) -> list[float]:
    """x, the decimal tie next to it (a half unit of the last kept digit) and its neighbours."""
    tie = (np.floor(x * 10 ** digits) + 0.5) / 10 ** digits
    return [x, float(tie), float(np.nextafter(tie, np.inf)), float(np.nextafter(tie, -np.inf))]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), max_size=20)
       | st.lists(st.floats(min_value=-5000, max_value=5000), max_size=20),
       st.sampled_from([1, 2, 3, 4]))
@example([0.05, 2.675, -0.0, float("nan"), float("inf"), 2.0 ** 40 + 2.0 ** -11, 1.7976931348623157e308], 1)
def test_columns_round_as_python_rounds_each_cell(values, digits):
    # the step rows' columns are rounded in one numpy pass: exactly as round() per cell,
    # ties and the floats either side of them included
    finite = [v for v in values if np.isfinite(v) and abs(v) < 1e12]
    values = values + [y for v in finite for y in _ties_near(v, digits)]
    got = cells(round_like_python(np.array(values, dtype=float), digits))
    want = [None if v != v else round(v, digits) for v in values]
    assert [repr(g) for g in got] == [repr(w) for w in want]  # repr: -0.0 and 0.0 apart
