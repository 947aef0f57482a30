"""`imu-knee replay`: a recording through the live analysis, paced; same steps as `analyze`."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from imu_knee.cli import main
from imu_knee.recording import Recording, read_recording, write_recording
from imu_knee.replay_source import iter_blocks, play

ROOT = Path(__file__).resolve().parents[1]
STAIRS = ROOT / "recordings" / "stairs_hard_landing.csv"
STEP_LINE = re.compile(r"^\s+(\d+\.\d\d) s\s+(left|right)\s+(\S+)\s")
FOLLOW_UP = re.compile(r"^    > (\d+\.\d\d) s\s+(left|right)\s+(.*)$")


@pytest.fixture(scope="module")
def stairs():
    from imu_knee.analysis.engine import analyze_recording

    rec = read_recording(STAIRS)
    steps, _ = analyze_recording(rec)
    assert len(steps) > 10
    return rec, steps


def _printed_steps(text: str) -> list[tuple[str, float, str]]:
    """(side, ic_s, final activity) per step line; a follow-up line may change the activity."""
    steps: list[list] = []
    for line in text.splitlines():
        m = STEP_LINE.match(line)
        if m:
            steps.append([m.group(2), float(m.group(1)), m.group(3)])
            continue
        m = FOLLOW_UP.match(line)
        if m:
            act = re.search(r"activity (\S+?)(;|$)", m.group(3))
            mine = [s for s in steps if s[0] == m.group(2) and abs(s[1] - float(m.group(1))) < 0.07]
            assert mine, f"follow-up line without its step: {line!r}"
            if act:
                mine[-1][2] = act.group(1)
    return [tuple(s) for s in steps]


def _summary_counts(text: str) -> dict[tuple[str, str], int]:
    counts = {}
    for side, total, detail in re.findall(r"^steps (left|right): (\d+) \((.*)\)$", text, re.M):
        parts = dict((a, int(n)) for a, n in (p.split() for p in detail.split(", ")))
        assert sum(parts.values()) == int(total)
        counts.update({(side, a): n for a, n in parts.items()})
    return counts


def test_blocks_hold_every_sample_once_in_time_order(stairs):
    rec, _ = stairs
    got = {n: [] for n in rec.streams}
    last_end = -np.inf
    for end_s, blocks in iter_blocks(rec, 0.05):
        assert end_s > last_end
        for name, t, acc, gyr in blocks:
            assert len(t) == len(acc) == len(gyr) > 0
            assert t[-1] <= end_s + 1e-12 and t[0] > last_end  # inside this window
            assert t[-1] - t[0] < 0.05 + 1e-9                  # small blocks
            got[name].append(np.asarray(t))
        last_end = end_s
    for name, s in rec.streams.items():
        assert np.array_equal(np.concatenate(got[name]), s.t_s)


def test_live_analysis_fed_by_play_gives_the_offline_steps(stairs):
    from imu_knee.ble.live_analysis import LiveAnalysis

    rec, offline = stairs
    live = LiveAnalysis(lambda: {n: s.rate_hz for n, s in rec.streams.items()},
                        leg_length_m=rec.leg_length_m).start()
    play(rec, live.push, speed=0, block_s=0.05)
    finals = live.finish()
    assert live.error is None
    got = sorted((e.row.side, e.row.ic_s, e.row.activity, e.row.impact_g) for e in finals)
    want = sorted(zip(offline.side, offline.ic_s, offline.activity, offline.impact_g))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g[0] == w[0] and g[1] == pytest.approx(w[1], abs=1e-9) and g[2] == w[2]
        assert g[3] == pytest.approx(w[3], nan_ok=True)


def test_replay_prints_one_line_per_step_of_the_offline_analysis_and_the_summary(stairs, capsys):
    rec, offline = stairs
    assert main(["replay", str(STAIRS), "--speed", "0"]) == 0
    out = capsys.readouterr().out
    printed = sorted(_printed_steps(out))
    want = sorted(zip(offline.side, offline.ic_s, offline.activity))
    assert len(printed) == len(want)
    for (side, ic, act), (w_side, w_ic, w_act) in zip(printed, want):
        # the line comes at the contact row (as in `live`), whose contact time the final row
        # may refine by up to ~0.06 s; the final rows themselves match exactly (test above)
        assert side == w_side and abs(ic - w_ic) < 0.07 and act == w_act
    assert _summary_counts(out) == dict(Counter(zip(offline.side, offline.activity)))
    assert re.search(r"^replayed: 18\.0 of 18\.0 s in [\d.]+ s$", out, re.M)
    # the hard landings going down are there with their impact
    down_right = offline[(offline.side == "right") & (offline.activity == "stairs_down")]
    assert down_right.impact_g.min() > 4
    shown = [float(g) for g in re.findall(r"^\s+[\d.]+ s  right  stairs_down\s+impact\s+([\d.]+) g @100 Hz", out, re.M)]
    assert len(shown) == len(down_right) and min(shown) > 4


@pytest.fixture(scope="module")
def one_shank(tmp_path_factory):
    """The stairs walk, left shank only (cheap to analyse, so the pace is what takes time)."""
    rec = read_recording(STAIRS)
    path = tmp_path_factory.mktemp("replay") / "left.csv"
    write_recording(path, Recording(streams={"left_shank": rec.streams["left_shank"]}, meta=rec.meta))
    return path


def _wall_s(out: str) -> tuple[float, float]:
    m = re.search(r"^replayed: ([\d.]+) of [\d.]+ s in ([\d.]+) s", out, re.M)
    assert m, out
    return float(m.group(1)), float(m.group(2))


def test_speed_paces_the_replay(one_shank, capsys):
    duration_s = read_recording(one_shank).duration_s
    assert main(["replay", str(one_shank), "--speed", "20", "--status-every", "0.2"]) == 0
    captured = capsys.readouterr()
    paced_signal_s, paced_s = _wall_s(captured.out)
    # progress on stderr: the position in the recording grows by about 20 x 0.2 s a line
    positions = [int(p) for p in re.findall(r"^imu-knee: +(\d+)/18 s \| steps \d+$", captured.err, re.M)]
    assert len(positions) >= 2 and all(0 < b - a <= 6 for a, b in zip(positions, positions[1:]))
    assert paced_signal_s == pytest.approx(duration_s, abs=0.06)
    assert duration_s / 20 - 0.02 <= paced_s < duration_s / 20 + 1.5
    assert main(["replay", str(one_shank), "--speed", "0"]) == 0
    _, fast_s = _wall_s(capsys.readouterr().out)
    assert fast_s < paced_s


def test_play_follows_the_clock_and_stops_when_asked(stairs):
    rec, _ = stairs
    seen = []
    start = time.monotonic()
    end_s = play(rec, lambda n, t, a, g: seen.append((time.monotonic() - start, t[-1])), speed=40)
    wall_s = time.monotonic() - start
    t0 = min(s.t_s[0] for s in rec.streams.values())
    assert end_s == pytest.approx(max(s.t_s[-1] for s in rec.streams.values()))
    assert rec.duration_s / 40 - 0.02 <= wall_s < rec.duration_s / 40 + 0.5
    for wall, t_last in seen:  # no block before the replay clock passed its last sample
        assert wall >= (t_last - t0) / 40 - 0.002
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    reached = play(rec, lambda *a: None, speed=20, stop=stop)
    assert 0.15 * 20 <= reached - t0 <= 0.5 * 20


def test_ctrl_c_stops_cleanly_with_the_summary(tmp_path):
    err_path = tmp_path / "stderr.txt"
    with open(err_path, "w") as err_file:
        proc = subprocess.Popen([sys.executable, "-m", "imu_knee", "replay", str(STAIRS), "--speed", "3"],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=err_file, text=True)
        lines: list[str] = []
        first_step = threading.Event()

        def read() -> None:
            for line in proc.stdout:
                lines.append(line)
                if STEP_LINE.match(line):
                    first_step.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        assert first_step.wait(60), "".join(lines)  # the analysis is running
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
        reader.join(10)
    out, err = "".join(lines), err_path.read_text()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "stopping (Ctrl-C again to abort)" in err
    reached_s, _ = _wall_s(out)
    assert 4.0 < reached_s < 16.0  # stopped well before the end (18 s: 6 s of wall time)
    assert "(stopped by Ctrl-C)" in out
    counts = _summary_counts(out)
    assert sum(counts.values()) == len(_printed_steps(out)) > 0


@pytest.mark.parametrize("argv, message", [
    (["--speed", "-1"], "--speed -1.0"),
    (["--speed", "100000"], "--speed 100000.0"),
    (["--speed", "nan"], "--speed nan"),
    (["--speed", "fast"], "invalid float value"),
    (["--block-s", "0"], "--block-s 0.0"),
    (["--leg-length", "3"], "--leg-length 3.0"),
])
def test_bad_options_exit_2_with_one_line(argv, message, capsys):
    assert main(["replay", str(STAIRS), *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("imu-knee: ") and message in lines[0]


def test_bad_recordings_exit_2_with_the_readers_line(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp_s,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n"
                   "0.00,left_shank,0,9.8,0,0,0,0\n0.01,left_shank,0,nan,0,0,0,0\n")
    for path, needle in ((tmp_path / "missing.csv", "missing.csv"), (bad, "line 3")):
        assert main(["replay", str(path)]) == 2
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert captured.out == "" and len(lines) == 1 and needle in lines[0], captured.err
