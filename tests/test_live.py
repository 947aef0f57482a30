"""`imu-knee live`: live analysis beside the recording, terminal output, Ctrl-C, summary."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from imu_knee.recording import read_recording, write_recording

pytest.importorskip("bumble")
pytest.importorskip("bleak")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def short_walk(tmp_path_factory):
    """About 6 s: 1 s standing, three strides per leg, a short stop (simulated, with truth)."""
    from imu_knee.simulate.api import simulate

    result = simulate("level:3", rate_hz=100, standing_start_s=1.0, standing_end_s=0.3, seed=5)
    path = tmp_path_factory.mktemp("walk") / "walk.csv"
    write_recording(path, result.recording, meta=result.meta)
    return path, result.truth


def _step_lines(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines() if re.match(r"^\s+\d+\.\d\d s\s+(left|right)\s", line)]


def test_live_prints_one_line_per_step_matching_the_offline_analysis_of_its_own_file(tmp_path, short_walk, capsys):
    from imu_knee.analysis.engine import analyze_recording
    from imu_knee.cli import main

    src, truth = short_walk
    out = tmp_path / "out.csv"
    assert main(["live", "--virtual", str(src), "--profile", "imu-knee", "--rate", "100", "--out", str(out),
                 "--status-every", "0.5"]) == 0
    captured = capsys.readouterr()
    lines = _step_lines(captured.out)
    offline, _ = analyze_recording(read_recording(out))
    # live steps = the offline analysis of what was recorded (same engine, same samples)
    assert len(lines) == len(offline) > 0
    live_ic = sorted((w[2], float(w[0])) for w in lines)
    off_ic = sorted(zip(offline.side, offline.ic_s))
    for (side_a, ic_a), (side_b, ic_b) in zip(live_ic, off_ic):
        assert side_a == side_b and abs(ic_a - ic_b) < 0.015
    # and they are the walk's contacts (recording time starts at the first sample)
    t0 = read_recording(out).streams["left_shank"].t_s[0]
    for side, ic in live_ic:
        tr = truth[truth.side == side].ic_s.to_numpy()
        assert np.min(np.abs(tr - (ic - t0))) < 0.1  # strides are 1.1 s apart: it is that contact
    for w in lines:  # impact is shown with its sample rate, stride in metres
        assert "impact" in w and "@100" in w and "stride" in w
    by_side = {s: sum(1 for w in lines if w[2] == s) for s in ("left", "right")}
    for side, n in by_side.items():
        assert re.search(rf"steps {side}: {n} \(level {n}\)", captured.out)
    assert f"wrote {out}" in captured.out
    assert re.search(r"imu-knee: +\d+/\d+ s \| left_shank +\d+\.\d Hz, lost 0 \| right_shank", captured.err)


def test_console_rewrites_the_status_line_in_place_on_a_terminal():
    from imu_knee.commands.live import Console

    class Tty(io.StringIO):
        def isatty(self):
            return True

    out, err = io.StringIO(), Tty()
    console = Console(out=out, err=err)
    console.status("1 s | left_shank 100.0 Hz")
    console.line("step one")
    console.status("2 s | left_shank 99.0 Hz")
    console.end_status()
    assert out.getvalue() == "step one\n"
    # status written, cleared before the step line, redrawn after it, then replaced
    assert err.getvalue() == ("\r\x1b[K1 s | left_shank 100.0 Hz" "\r\x1b[K" "1 s | left_shank 100.0 Hz"
                              "\r\x1b[K2 s | left_shank 99.0 Hz" "\n")
    plain = io.StringIO()
    console = Console(out=io.StringIO(), err=plain)
    console.status("1 s")
    console.status("2 s")
    assert plain.getvalue() == "imu-knee: 1 s\nimu-knee: 2 s\n"


def test_ctrl_c_stops_cleanly_with_every_received_sample_in_the_file(tmp_path, short_walk):
    from imu_knee.ble.profiles import get_profile

    src, _ = short_walk
    out = tmp_path / "out.csv"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "imu_knee", "live", "--virtual", str(src), "--profile",
                             "imu-knee", "--rate", "100", "--out", str(out), "--status-every", "0.3"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (out.exists() and out.stat().st_size > 2000):
        time.sleep(0.1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "stopped by Ctrl-C" in stdout and f"wrote {out}" in stdout
    got = read_recording(out)
    source = read_recording(src)
    profile = get_profile("imu-knee")
    acc_lsb, gyr_lsb = profile.resolution(profile.settings(100))
    for name, s in source.streams.items():
        received = int(re.search(rf"{name}: (\d+) samples", stdout).group(1))
        o = got.streams[name]
        assert len(o) == received  # every sample received before the stop is in the file
        assert 0 < len(o) < len(s)  # stopped mid-way
        # rows are the start of the source, none missing, none twice
        np.testing.assert_allclose(o.acc_mps2, s.acc_mps2[:len(o)], atol=acc_lsb * 0.51 + 1e-4)
        np.testing.assert_allclose(o.gyr_dps, s.gyr_dps[:len(o)], atol=gyr_lsb * 0.51 + 1e-3)
        assert np.all(np.abs(np.diff(o.t_s) - 0.01) < 0.002)


def test_live_analysis_in_its_thread_gives_the_offline_rows_and_times_them(short_walk):
    """Blocks pushed as they would arrive give exactly the offline analysis; undeclared sensors
    are ignored; the contact sample's arrival time is looked up for each row."""
    from imu_knee.analysis.engine import analyze_recording
    from imu_knee.ble.live_analysis import LiveAnalysis

    rec = read_recording(short_walk[0])
    offline, _ = analyze_recording(rec)
    lag_s = 0.02
    live = LiveAnalysis(lambda: {n: s.rate_hz for n, s in rec.streams.items()}, leg_length_m=rec.leg_length_m,
                        use_coach=True).start()
    names = list(rec.streams)
    n = len(rec.streams[names[0]])
    for i in range(0, n, 7):  # interleaved blocks of 7 samples, arrival = sample time + 20 ms
        for name in names:
            s = rec.streams[name]
            sl = slice(i, min(i + 7, len(s)))
            live.push(name, s.t_s[sl], s.acc_mps2[sl], s.gyr_dps[sl], s.t_s[sl] + lag_s)
        live.push("left_thigh", np.arange(3.0), np.zeros((3, 3)), np.zeros((3, 3)), np.arange(3.0))
    finals = live.finish()
    assert live.error is None
    got = sorted((e.row.side, e.row.ic_s, e.row.stride_length_m, e.row.impact_g) for e in finals)
    want = sorted(zip(offline.side, offline.ic_s, offline.stride_length_m, offline.impact_g))
    assert len(got) == len(want) > 0
    for g, w in zip(got, want):
        assert g[0] == w[0] and g[1] == pytest.approx(w[1]) and g[2] == pytest.approx(w[2], nan_ok=True)
        assert g[3] == pytest.approx(w[3], nan_ok=True)
    for e in live.events:  # the sample at (or just after) the contact arrived 20 ms after it
        assert 0.0 <= e.contact_arrival_mono_s - e.row.ic_s - lag_s < 0.011
    counts = live.step_counts()
    assert sum(counts.values()) == len(want) and set(counts) <= {("left", "level"), ("right", "level")}
    # each final row is linked to the contact row of its contact, which came before it and
    # gives the step's terminal line; the final row adds a line only with something new
    from imu_knee.ble.live_analysis import console_line

    contacts = [e for e in live.events if e.stage == "contact"]
    assert len(contacts) == len(finals)
    for f in finals:
        c = f.contact
        assert c is not None and c.row.side == f.row.side and abs(c.row.ic_s - f.row.ic_s) < 0.06
        assert c.emitted_mono_s <= f.emitted_mono_s and c.row.impact_rate_hz == f.row.impact_rate_hz
        line = console_line(f)
        assert line is None or line.startswith("    > ")
    lines = [console_line(e) for e in live.events]
    assert sum(1 for x in lines if x and re.match(r"^\s+\d+\.\d\d s\s+(left|right)\s", x)) == len(contacts)
    rep = live.latency_report(after_calibration=False)
    assert rep["contact_row_signal"]["n"] == len(contacts)  # this short walk is mostly calibration


def test_live_shows_the_battery_of_devices_that_report_it(tmp_path, short_walk, capsys):
    """Thingy:52 has the standard Battery Service: the status and summary lines show it."""
    from imu_knee.ble.virtual.sensor import DEFAULT_BATTERY_PERCENT
    from imu_knee.cli import main

    src, _ = short_walk
    out = tmp_path / "out.csv"
    assert main(["live", "--virtual", str(src), "--profile", "thingy52", "--rate", "100", "--out", str(out),
                 "--duration", "2", "--no-analysis", "--status-every", "0.5"]) == 0
    captured = capsys.readouterr()
    battery = f"battery {DEFAULT_BATTERY_PERCENT} %"
    status = [line for line in captured.err.splitlines() if " Hz, lost " in line]
    assert status and all(line.count(battery) == 2 for line in status[1:])   # both sensors
    summary = [line for line in captured.out.splitlines() if " samples at " in line]
    assert len(summary) == 2 and all(line.endswith(battery) for line in summary)
