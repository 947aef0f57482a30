"""The recording file: reader validation, writer flushing, round trips, the kill test."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, HealthCheck
from hypothesis import strategies as st

from imu_knee.errors import InputError
from imu_knee.recording import (
    COLUMNS, Recording, RecordingWriter, SensorStream, estimate_rate_hz, read_recording,
    write_recording,
)

HEADER = "# imu-knee recording 1\n# sensor: left_shank rate_hz=100\n" + ",".join(COLUMNS) + "\n"
GOOD_ROW = "{t:.4f},left_shank,0.12,9.79,0.30,0.5,-0.2,1.1\n"


def standing_rows(n: int, sensor: str = "left_shank", rate_hz: float = 100.0) -> str:
    return "".join(GOOD_ROW.format(t=i / rate_hz).replace("left_shank", sensor) for i in range(n))


def make_recording(seed: int = 0, n: int = 500) -> Recording:
    rng = np.random.default_rng(seed)
    streams = {}
    for k, name in enumerate(["left_shank", "right_thigh"]):
        rate = 100.0 if k == 0 else 52.0
        t = np.arange(n) / rate + 0.003 * k
        acc = rng.normal(0, 2, (n, 3)) + [0, 0, 9.81]
        gyr = rng.normal(0, 50, (n, 3))
        streams[name] = SensorStream(name, t, acc, gyr, rate, device="test device")
    return Recording(streams=streams, leg_length_m=0.9)


def test_round_trip_keeps_values_and_metadata(tmp_path):
    rec = make_recording()
    path = tmp_path / "r.csv"
    write_recording(path, rec, meta={"note": "round trip"})
    back = read_recording(path)
    assert list(back.streams) == ["left_shank", "right_thigh"]
    assert back.leg_length_m == pytest.approx(0.9)
    assert back.meta["note"] == "round trip"
    for name, s in rec.streams.items():
        b = back.streams[name]
        assert b.rate_hz == pytest.approx(s.rate_hz)
        assert b.device == "test device"
        np.testing.assert_allclose(b.t_s, s.t_s, atol=1e-6)
        np.testing.assert_allclose(b.acc_mps2, s.acc_mps2, atol=1e-5)
        np.testing.assert_allclose(b.gyr_dps, s.gyr_dps, atol=1e-4)
    # the contract: pandas reads it with comment="#"
    df = pd.read_csv(path, comment="#")
    assert list(df.columns) == COLUMNS
    assert len(df) == 1000
    assert df["timestamp_s"].is_monotonic_increasing


def test_writer_streams_blocks_and_reader_reads_them(tmp_path):
    rec = make_recording(n=300)
    path = tmp_path / "w.csv"
    with RecordingWriter(path, sensors={"left_shank": {"rate_hz": 100, "device": "Witmotion BWT901"}},
                         meta={"subject": {"leg_length_m": 0.88}}) as w:
        s = rec.streams["left_shank"]
        for i in range(0, 300, 7):
            w.append("left_shank", s.t_s[i:i + 7], s.acc_mps2[i:i + 7], s.gyr_dps[i:i + 7])
    back = read_recording(path)
    assert back.streams["left_shank"].device == "Witmotion BWT901"
    assert back.leg_length_m == pytest.approx(0.88)
    np.testing.assert_allclose(back.streams["left_shank"].acc_mps2, s.acc_mps2, atol=1e-5)


def test_writer_drops_non_finite_samples(tmp_path):
    path = tmp_path / "nan.csv"
    with RecordingWriter(path) as w:
        w.append("left_shank", [0.0, 0.01, 0.02], [[0, 0, 9.8], [np.nan, 0, 9.8], [0, 0, 9.8]],
                 np.zeros((3, 3)))
    assert len(read_recording(path).streams["left_shank"]) == 2


def test_reader_accepts_file_without_metadata_and_extra_columns(tmp_path):
    path = tmp_path / "plain.csv"
    rows = "".join(f"{i / 50:.4f},right_shank,0.1,9.8,0.2,1,2,3,{i},7\n" for i in range(100))
    path.write_text(",".join(COLUMNS) + ",seq,mag_x\n" + rows)
    rec = read_recording(path)
    assert rec.streams["right_shank"].rate_hz == pytest.approx(50.0)
    assert rec.meta == {}


def test_reader_reads_the_virtual_imu_style_header(tmp_path):
    path = tmp_path / "v.csv"
    path.write_text("# imu-knee recording\n# subject: F1\n"
                    "# sensor left_shank rate_hz=100 placement=lateral shank, 40% below\n"
                    + ",".join(COLUMNS) + "\n" + standing_rows(20))
    rec = read_recording(path)
    assert rec.streams["left_shank"].rate_hz == 100
    assert rec.leg_length_m is None


def test_reader_paths_agree_and_comments_after_the_header_still_read(tmp_path, monkeypatch):
    """pyarrow's reader (when installed) and pandas' give the same streams; a file pyarrow
    cannot read as plain CSV (comments between the rows) is read by pandas."""
    from imu_knee import recording

    rec = make_recording(n=700)
    path = tmp_path / "r.csv"
    write_recording(path, rec)
    fast = read_recording(path)
    if importlib.util.find_spec("pyarrow") is not None:  # it did read this file itself
        assert recording._parse_rows_arrow(path, recording._read_header(path)) is not None
    monkeypatch.setattr(recording, "_parse_rows_arrow", lambda *a: None)
    plain = read_recording(path)
    monkeypatch.undo()
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(40, "# the subject stopped to tie a shoe\n")
    lines[50] = lines[50].rstrip("\n") + "  # a note\n"
    commented = tmp_path / "c.csv"
    commented.write_text("".join(lines))
    with_comments = read_recording(commented)
    for name, s in rec.streams.items():
        for other in (plain, with_comments):
            o, f = other.streams[name], fast.streams[name]
            assert o.rate_hz == f.rate_hz and o.device == f.device
            for a, b in ((o.t_s, f.t_s), (o.acc_mps2, f.acc_mps2), (o.gyr_dps, f.gyr_dps)):
                np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(fast.streams[name].acc_mps2, s.acc_mps2, atol=1e-5)


@pytest.mark.parametrize("body, expected", [
    ("", "empty"),
    ("1,2,3\n4,5,6\n", "line 1: expected the header"),
    (HEADER + standing_rows(3) + "0.0300,left_knee,0,9.8,0,0,0,0\n", "line 7: unknown sensor name 'left_knee'"),
    (HEADER + standing_rows(3) + "0.0300,left_shank,abc,9.8,0,0,0,0\n", "line 7: acc_x is not a number: 'abc'"),
    (HEADER + standing_rows(3) + "0.0300,left_shank,nan,9.8,0,0,0,0\n", "line 7: acc_x is nan"),
    (HEADER + standing_rows(3) + "0.0300,left_shank,,9.8,0,0,0,0\n", "line 7: acc_x is not a number"),
    (HEADER + standing_rows(5) + "0.0100,left_shank,0,9.8,0,0,0,0\n", "line 9: timestamp_s goes backwards"),
    (HEADER + standing_rows(3) + "0.0300,left_shank,0,9.8\n", "line 7: expected 8 values, found 4"),
    (HEADER, "holds no samples"),
    ("# just a comment\n", "no column header"),
])
def test_reader_rejects_bad_files_naming_the_line(tmp_path, body, expected):
    path = tmp_path / "bad.csv"
    path.write_text(body)
    with pytest.raises(InputError) as err:
        read_recording(path)
    message = str(err.value)
    assert expected in message
    assert "\n" not in message


def test_reader_rejects_acceleration_in_g(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text(HEADER + "".join(f"{i / 100:.4f},left_shank,0.01,0.99,0.02,0,0,0\n" for i in range(50)))
    with pytest.raises(InputError, match="looks like it is in g"):
        read_recording(path)
    assert len(read_recording(path, check_units=False).streams["left_shank"]) == 50


def test_reader_rejects_binary_garbage_quickly(tmp_path):
    path = tmp_path / "garbage.csv"
    rng = np.random.default_rng(1)
    path.write_bytes(rng.integers(0, 256, 30_000_000, dtype=np.uint8).tobytes())
    start = time.perf_counter()
    with pytest.raises(InputError):
        read_recording(path)
    assert time.perf_counter() - start < 2.0


def test_reader_rejects_missing_file_and_folder(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_recording(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="folder"):
        read_recording(tmp_path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_reader_never_raises_anything_but_input_error(tmp_path, text):
    path = tmp_path / "fuzz.csv"
    path.write_text(HEADER + standing_rows(3) + text, encoding="utf-8")
    try:
        read_recording(path)
    except InputError as exc:
        assert "\n" not in str(exc)


def test_rate_from_timestamps_ignores_gaps_and_jitter():
    rng = np.random.default_rng(3)
    t = np.arange(1000) / 200.0 + rng.uniform(-0.0005, 0.0005, 1000)
    t = np.sort(np.delete(t, np.s_[300:500]))
    assert estimate_rate_hz(t) == pytest.approx(200.0, rel=0.01)


WRITER_SCRIPT = textwrap.dedent("""
    import sys, time
    import numpy as np
    from imu_knee.recording import RecordingWriter
    w = RecordingWriter(sys.argv[1], sensors={"left_shank": {"rate_hz": 100}})
    t0 = time.monotonic()
    i = 0
    while True:
        w.append("left_shank", [i / 100.0], [[0.0, 9.81, 0.0]], [[0.0, 0.0, float(i)]])
        if i % 10 == 0:
            print(i, flush=True)
        i += 1
        time.sleep(max(0.0, t0 + i / 100.0 - time.monotonic()))
""")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_writer_loses_at_most_the_last_second(tmp_path, sig):
    """A process recording at 100 Hz is killed; the file keeps all but the last second."""
    path = tmp_path / "killed.csv"
    proc = subprocess.Popen([sys.executable, "-c", WRITER_SCRIPT, str(path)],
                            stdout=subprocess.PIPE, text=True)
    last_reported = 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        last_reported = int(proc.stdout.readline())
        if last_reported >= 300:  # three seconds of samples appended
            break
    os.kill(proc.pid, sig)
    proc.wait(timeout=10)
    rec = read_recording(path)
    samples = rec.streams["left_shank"]
    # every row is complete and in order; at most one second (100 samples) is missing
    assert len(samples) >= last_reported - 100
    np.testing.assert_array_equal(samples.gyr_dps[:, 2], np.arange(len(samples)))


def test_row_cut_short_by_a_crash_is_dropped_and_the_rest_kept(tmp_path):
    path = tmp_path / "cut.csv"
    path.write_text(HEADER + standing_rows(40) + "0.4000,left_shank,0.12,9.7")
    assert len(read_recording(path).streams["left_shank"]) == 40
    path.write_text(HEADER + standing_rows(40) + "0.4000,left_shank,0.12,9.7\n")
    with pytest.raises(InputError, match="line 44: expected 8 values"):
        read_recording(path)


@settings(max_examples=60, deadline=None)
@given(codes=st.lists(st.integers(-1, 3), max_size=60), block_rows=st.integers(1, 9))
def test_split_by_sensor_gathers_each_sensors_rows_in_file_order(codes, block_rows):
    """Blocks of any size give each sensor its own rows, in order; code -1 (a missing name in
    the pandas path) and sensors without rows are left out."""
    from imu_knee import recording

    codes = np.array(codes, dtype=np.int8)
    values = np.arange(7 * len(codes), dtype=float).reshape(7, -1) + 0.5
    names = ["right_thigh", "left_shank", "left_thigh", "right_shank"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(recording, "SPLIT_BLOCK_ROWS", block_rows)
        split = recording._split_by_sensor(recording._Rows(list(values), codes, names))
    assert list(split) == [names[c] for c in sorted(set(codes.tolist()) - {-1})]
    for name, (t_s, acc, gyr) in split.items():
        mine = codes == names.index(name)
        assert np.array_equal(t_s, values[0, mine])
        assert np.array_equal(acc, values[1:4, mine].T) and acc.flags.c_contiguous
        assert np.array_equal(gyr, values[4:7, mine].T) and gyr.flags.c_contiguous
