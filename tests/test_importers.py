"""Importers (imu_knee/importers) and the `imu-knee import` command.

Every fixture carries a known motion (tests/fixtures/importers/make_fixtures.py); the imported
recording must reproduce it in m/s² and deg/s on the right axes and times.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imu_knee.cli import main
from imu_knee.errors import InputError
from imu_knee.importers import ImportOptions, import_source
from imu_knee.importers.detect import detect_format
from imu_knee.importers.sources import open_source
from imu_knee.importers.timeline import spread_repeated
from imu_knee.recording import read_recording

FIX = Path(__file__).parent / "fixtures" / "importers"
_spec = importlib.util.spec_from_file_location("make_fixtures", FIX / "make_fixtures.py")
mf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mf)

TRUTH_GRAVITY = float(np.linalg.norm([1.0, 2.0, 9.5]))  # |f| of the fixtures' motion at t = 0
GAITMAP_REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "real" / \
    "gaitmap_foot_example" / "imu_sample.csv"


def origin_of(writer, name: str) -> float:
    """Source time that becomes t = 0 after import (the writers are deterministic)."""
    with tempfile.TemporaryDirectory() as tmp:
        return writer(Path(tmp) / name)


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("imu-knee: ")
    for needle in needles:
        assert needle.lower() in lines[0].lower(), lines[0]


def assert_matches_truth(rec_path: Path, t0: float, placement: str = "left_shank",
                         acc_tol: float = 0.02, gyr_tol: float = 0.3, sign: float = 1.0) -> None:
    rec = read_recording(rec_path)
    s = rec.streams[placement]
    assert s.t_s[0] == 0.0 and np.all(np.diff(s.t_s) > 0)
    t_src = s.t_s + t0
    np.testing.assert_allclose(s.acc_mps2, sign * mf.truth_acc_mps2(t_src), atol=acc_tol)
    np.testing.assert_allclose(s.gyr_dps, sign * mf.truth_gyr_dps(t_src), atol=gyr_tol)
    gravity = np.median(np.linalg.norm(s.acc_mps2, axis=1))
    assert abs(gravity - TRUTH_GRAVITY) < 0.15


# ----------------------------------------------------------------------------- each format


def test_phyphox_zip_converts_rad_to_deg_and_keeps_acc(tmp_path, capsys):
    src = FIX / "phyphox_simple_experiment.zip"
    out = tmp_path / "rec.csv"
    code, stdout, err = run_cli(capsys, "import", src, "--placement", "left_shank", "-o", out)
    assert code == 0, err
    assert err == ""
    assert_matches_truth(out, origin_of(mf.write_phyphox_zip, "x.zip"))
    rec = read_recording(out)
    assert rec.streams["left_shank"].device == "phyphox on google Pixel 7"
    assert rec.meta["source_app"] == "phyphox"
    assert abs(rec.streams["left_shank"].rate_hz - 100.0) < 1.0
    assert "phyphox" in stdout


@pytest.mark.parametrize("sep,decimal", [(",", "."), ("\t", "."), (";", "."), ("\t", ","), (";", ",")])
def test_phyphox_all_five_csv_variants(tmp_path, sep, decimal):
    src = tmp_path / "export.zip"
    t0 = mf.write_phyphox_zip(src, sep, decimal)
    result = import_source([src], "right_shank")
    out = tmp_path / "rec.csv"
    from imu_knee.importers import write_import
    write_import(result, out)
    assert_matches_truth(out, t0, placement="right_shank")


def test_phyphox_bare_csv_with_two_time_columns_and_nan_padding(tmp_path, capsys):
    src = FIX / "phyphox_one_set_semicolon_decimal_comma.csv"
    out = tmp_path / "rec.csv"
    code, _, err = run_cli(capsys, "import", src, "--placement", "left_thigh", "-o", out)
    assert code == 0, err
    assert err == ""  # the NaN padding of the shorter gyro columns is not a data problem
    assert_matches_truth(out, origin_of(mf.write_phyphox_one_set_csv, "x.csv"), placement="left_thigh")


def test_phyphox_bare_csv_of_two_sets_one_after_another(tmp_path):
    """The minimalistic export writes every set with its own header into one file."""
    acc_t, acc, gyr_t, gyr = mf.phyphox_streams()
    text = mf.phyphox_csv([("Time (s)", acc_t)] + [(f"Acceleration {a} (m/s^2)", acc[:, k])
                                                  for k, a in enumerate("xyz")], "\t", ",")
    text += mf.phyphox_csv([("Time (s)", gyr_t)] + [(f"Gyroscope {a} (rad/s)", gyr[:, k])
                                                   for k, a in enumerate("xyz")], "\t", ",")
    src = tmp_path / "phyphox.csv"
    src.write_text(text)
    from imu_knee.importers import write_import
    out = write_import(import_source([src], "left_shank"), tmp_path / "rec.csv")
    assert_matches_truth(out, float(acc_t[acc_t >= gyr_t[0]][0]))


def test_phyphox_two_files_named_on_the_command_line(tmp_path, capsys):
    with zipfile.ZipFile(FIX / "phyphox_simple_experiment.zip") as zf:
        zf.extract("Accelerometer.csv", tmp_path)
        zf.extract("Gyroscope.csv", tmp_path / "elsewhere")
    out = tmp_path / "rec.csv"
    code, _, err = run_cli(capsys, "import", tmp_path / "Accelerometer.csv",
                           tmp_path / "elsewhere" / "Gyroscope.csv", "--placement", "left_shank",
                           "-o", out)
    assert code == 0, err
    assert_matches_truth(out, origin_of(mf.write_phyphox_zip, "x.zip"))


def test_phyphox_acceleration_without_g_is_refused(tmp_path, capsys):
    code, _, err = run_cli(capsys, "import", FIX / "phyphox_acceleration_without_g.zip",
                           "--placement", "left_shank", "-o", tmp_path / "rec.csv")
    assert_one_line_error(code, err, "linear acceleration", "with g")
    assert not (tmp_path / "rec.csv").exists()


def test_phyphox_accelerometer_only_says_gyroscope_is_missing(tmp_path, capsys):
    acc_t, acc, _, _ = mf.phyphox_streams()
    src = tmp_path / "acc.csv"
    src.write_text(mf.phyphox_csv([("Time (s)", acc_t)] + [(f"Acceleration {a} (m/s^2)", acc[:, k])
                                                           for k, a in enumerate("xyz")]))
    code, _, err = run_cli(capsys, "import", src, "--placement", "left_shank", "-o", tmp_path / "r.csv")
    assert_one_line_error(code, err, "no gyroscope")


def test_sensor_logger_android_uses_total_acceleration_and_zyx_columns(tmp_path, capsys):
    out = tmp_path / "rec.csv"
    code, _, err = run_cli(capsys, "import", FIX / "sensorlogger_android.zip",
                           "--placement", "left_shank", "-o", out)
    assert code == 0, err
    assert_matches_truth(out, origin_of(mf.write_sensor_logger_android_zip, "x.zip"))
    rec = read_recording(out)
    assert rec.meta["source_acc"].startswith("TotalAcceleration.csv")
    assert rec.meta["start_utc"].startswith("2024-05-04T10:11:12.3")  # the epoch clock is kept
    assert rec.streams["left_shank"].device == "Sensor Logger on Test Phone"


def test_sensor_logger_ios_adds_gravity_and_flips_the_ios_sign(tmp_path, capsys):
    out = tmp_path / "rec.csv"
    code, _, err = run_cli(capsys, "import", FIX / "sensorlogger_ios", "--placement", "left_shank",
                           "-o", out)
    assert code == 0, err
    assert_matches_truth(out, origin_of(mf.write_sensor_logger_ios_folder, "ios"))


def test_sensor_logger_without_gravity_is_refused(tmp_path, capsys):
    folder = tmp_path / "sl"
    mf.write_sensor_logger_ios_folder(folder)
    (folder / "Gravity.csv").unlink()
    (folder / "Metadata.csv").write_text(mf.sensor_logger_metadata("android", False))
    code, _, err = run_cli(capsys, "import", folder, "--placement", "left_shank", "-o", tmp_path / "r.csv")
    assert_one_line_error(code, err, "without gravity")


def test_metabase_pair_g_to_mps2_and_spread_epoch_stamps(tmp_path, capsys):
    out = tmp_path / "rec.csv"
    code, _, err = run_cli(capsys, "import", FIX / "metabase", "--placement", "right_thigh", "-o", out)
    assert code == 0, err
    assert_matches_truth(out, origin_of(mf.write_metabase_pair, "mb"), placement="right_thigh")
    s = read_recording(out).streams["right_thigh"]
    dt = np.diff(s.t_s)
    assert dt.min() > 0.008 and dt.max() < 0.012  # 3 samples per stamp, spread to ~10 ms
    assert s.device == "MbientLab MetaWear D1C2B3A4F5E6"


def test_metabase_single_file_finds_its_partner(tmp_path, capsys):
    gyro = next((FIX / "metabase").glob("*_Gyroscope_*.csv"))
    out = tmp_path / "rec.csv"
    code, _, err = run_cli(capsys, "import", gyro, "--placement", "left_shank", "-o", out)
    assert code == 0, err
    assert_matches_truth(out, origin_of(mf.write_metabase_pair, "mb"))


def test_movesense_packets_with_empty_timestamps(tmp_path, capsys):
    out = tmp_path / "rec.csv"
    code, _, err = run_cli(capsys, "import", FIX / "movesense", "--placement", "left_shank", "-o", out)
    assert code == 0, err
    assert_matches_truth(out, 0.0)
    s = read_recording(out).streams["left_shank"]
    assert abs(s.rate_hz - 104.0) < 0.5
    assert s.device == "Movesense 213730000123"


def test_gaitmap_two_row_header_needs_rate_and_sensor_column(tmp_path, capsys):
    src = FIX / "gaitmap_two_row_header.csv"
    out = tmp_path / "rec.csv"
    code, _, err = run_cli(capsys, "import", src, "--placement", "left_shank", "-o", out)
    assert_one_line_error(code, err, "--sensor-column", "left_sensor", "right_sensor")
    code, _, err = run_cli(capsys, "import", src, "--placement", "left_shank", "-o", out,
                           "--sensor-column", "left_sensor")
    assert_one_line_error(code, err, "--rate")
    code, _, err = run_cli(capsys, "import", src, "--placement", "left_shank", "-o", out,
                           "--sensor-column", "right_sensor", "--rate", "204.8")
    assert code == 0, err
    assert_matches_truth(out, 0.0, sign=-1.0)  # the right sensor holds the negated motion
    assert abs(read_recording(out).streams["left_shank"].rate_hz - 204.8) < 0.01


def test_gaitmap_flat_with_time_column(tmp_path, capsys):
    out = tmp_path / "rec.csv"
    code, _, err = run_cli(capsys, "import", FIX / "gaitmap_flat.csv", "--placement", "left_shank",
                           "-o", out)
    assert code == 0, err
    assert_matches_truth(out, 5.0)


@pytest.mark.skipif(not GAITMAP_REAL.exists(), reason="shared development data not present")
def test_gaitmap_real_example_data(tmp_path, capsys):
    out = tmp_path / "rec.csv"
    code, _, err = run_cli(capsys, "import", GAITMAP_REAL, "--placement", "left_shank", "-o", out,
                           "--sensor-column", "left_sensor", "--rate", "204.8")
    assert code == 0, err
    raw = pd.read_csv(GAITMAP_REAL, header=[0, 1], index_col=0)
    s = read_recording(out).streams["left_shank"]
    assert len(s) == len(raw)
    np.testing.assert_allclose(s.acc_mps2[:, 2], raw[("left_sensor", "acc_z")].to_numpy(), atol=1e-4)
    np.testing.assert_allclose(s.gyr_dps[:, 0], raw[("left_sensor", "gyr_x")].to_numpy(), atol=1e-3)


# ----------------------------------------------------------------------------- detection


@pytest.mark.parametrize("name,expected", [
    ("phyphox_simple_experiment.zip", "phyphox"),
    ("phyphox_one_set_semicolon_decimal_comma.csv", "phyphox"),
    ("phyphox_acceleration_without_g.zip", "phyphox"),
    ("sensorlogger_android.zip", "sensorlogger"),
    ("sensorlogger_ios", "sensorlogger"),
    ("sensorlogger_ios/Gyroscope.csv", "sensorlogger"),
    ("metabase", "metabase"),
    ("movesense", "movesense"),
    ("gaitmap_two_row_header.csv", "gaitmap"),
    ("gaitmap_flat.csv", "gaitmap"),
])
def test_detection(name, expected):
    bundle = open_source([FIX / name])
    try:
        assert detect_format(bundle) == expected
    finally:
        bundle.close()


def test_metabase_gyro_file_is_not_taken_for_phyphox():
    gyro = next((FIX / "metabase").glob("*_Gyroscope_*.csv"))
    bundle = open_source([gyro])
    try:
        assert detect_format(bundle) == "metabase"
    finally:
        bundle.close()


def test_an_imu_knee_recording_is_not_imported_again(tmp_path, capsys):
    out = tmp_path / "rec.csv"
    assert run_cli(capsys, "import", FIX / "gaitmap_flat.csv", "--placement", "left_shank",
                   "-o", out)[0] == 0
    code, _, err = run_cli(capsys, "import", out, "--placement", "left_shank", "-o", tmp_path / "again.csv")
    assert_one_line_error(code, err, "already an imu-knee recording")


def test_files_without_csv_suffix_named_explicitly(tmp_path, capsys):
    for name in ("a_acc_stream.dat", "a_gyro_stream.dat"):
        real = next((FIX / "movesense").glob("*" + name.split("_", 1)[1].replace(".dat", ".csv")))
        (tmp_path / name).write_bytes(real.read_bytes())
    out = tmp_path / "rec.csv"
    code, _, err = run_cli(capsys, "import", tmp_path / "a_acc_stream.dat", tmp_path / "a_gyro_stream.dat",
                           "--placement", "left_shank", "-o", out)
    assert code == 0, err
    assert_matches_truth(out, 0.0)


def test_format_override_that_does_not_fit(tmp_path, capsys):
    code, _, err = run_cli(capsys, "import", FIX / "movesense", "--placement", "left_shank",
                           "-o", tmp_path / "r.csv", "--format", "metabase")
    assert_one_line_error(code, err, "not a metabase export")


def test_format_override_that_fits(tmp_path, capsys):
    code, _, err = run_cli(capsys, "import", FIX / "movesense", "--placement", "left_shank",
                           "-o", tmp_path / "r.csv", "--format", "movesense")
    assert code == 0, err


# ----------------------------------------------------------------------------- units


def _gaitmap_flat_in_g(path: Path) -> None:
    t = np.arange(200) / 100.0
    acc, gyr = mf.truth_acc_mps2(t) / mf.G, mf.truth_gyr_dps(t)
    rows = ["t_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z"]
    rows += [",".join(repr(float(v)) for v in [t[i], *acc[i], *gyr[i]]) for i in range(len(t))]
    path.write_text("\n".join(rows) + "\n")


def test_gravity_near_one_where_mps2_expected_warns_and_converts(tmp_path, capsys):
    src = tmp_path / "in_g.csv"
    _gaitmap_flat_in_g(src)
    out = tmp_path / "rec.csv"
    code, _, err = run_cli(capsys, "import", src, "--placement", "left_shank", "-o", out)
    assert code == 0
    warnings = err.strip().splitlines()
    assert len(warnings) == 1 and "gravity reads 1.00" in warnings[0] and "--acc-unit" in warnings[0]
    assert_matches_truth(out, 0.0)


def test_explicit_acc_unit_g_converts_silently(tmp_path, capsys):
    src = tmp_path / "in_g.csv"
    _gaitmap_flat_in_g(src)
    out = tmp_path / "rec.csv"
    code, _, err = run_cli(capsys, "import", src, "--placement", "left_shank", "-o", out,
                           "--acc-unit", "g")
    assert code == 0 and err == ""
    assert_matches_truth(out, 0.0)


def test_explicit_acc_unit_that_contradicts_gravity_is_refused(tmp_path, capsys):
    src = tmp_path / "in_g.csv"
    _gaitmap_flat_in_g(src)
    code, _, err = run_cli(capsys, "import", src, "--placement", "left_shank",
                           "-o", tmp_path / "r.csv", "--acc-unit", "mps2")
    assert_one_line_error(code, err, "gravity reads 1.00", "--acc-unit g")


def test_gyr_unit_option_rads(tmp_path, capsys):
    out = tmp_path / "rec.csv"
    code, _, err = run_cli(capsys, "import", FIX / "gaitmap_flat.csv", "--placement", "left_shank",
                           "-o", out, "--gyr-unit", "rads")
    assert code == 0, err
    s = read_recording(out).streams["left_shank"]
    expected = mf.truth_gyr_dps(s.t_s + 5.0) * 180.0 / np.pi
    np.testing.assert_allclose(s.gyr_dps, expected, rtol=1e-4, atol=0.01)


# ----------------------------------------------------------------------------- output


def test_refuses_to_overwrite_without_force(tmp_path, capsys):
    out = tmp_path / "rec.csv"
    out.write_text("keep me\n")
    code, _, err = run_cli(capsys, "import", FIX / "gaitmap_flat.csv", "--placement", "left_shank",
                           "-o", out)
    assert_one_line_error(code, err, "exists already", "--force")
    assert out.read_text() == "keep me\n"
    code, _, err = run_cli(capsys, "import", FIX / "gaitmap_flat.csv", "--placement", "left_shank",
                           "-o", out, "--force")
    assert code == 0, err
    assert read_recording(out).streams["left_shank"].t_s[-1] > 2.0


def test_output_is_the_recording_format_with_source_metadata(tmp_path, capsys):
    out = tmp_path / "rec.csv"
    code, _, err = run_cli(capsys, "import", FIX / "movesense", "--placement", "right_shank",
                           "-o", out, "--leg-length", "0.92")
    assert code == 0, err
    text = out.read_text()
    assert text.startswith("# imu-knee recording 1\n")
    assert "# source_app: Movesense Showcase" in text and "# source_format: movesense" in text
    df = pd.read_csv(out, comment="#")
    assert list(df.columns[:8]) == ["timestamp_s", "sensor", "acc_x", "acc_y", "acc_z",
                                    "gyr_x", "gyr_y", "gyr_z"]
    assert set(df["sensor"]) == {"right_shank"}
    assert read_recording(out).leg_length_m == pytest.approx(0.92)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


# ----------------------------------------------------------------------------- bad input


def _zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def _phyphox_text(rows: list[str]) -> str:
    header = '"Time (s)","Acceleration x (m/s^2)","Acceleration y (m/s^2)","Acceleration z (m/s^2)",' \
             '"Time (s)","Gyroscope x (rad/s)","Gyroscope y (rad/s)","Gyroscope z (rad/s)"'
    return header + "\n" + "\n".join(rows) + "\n"


def _good_rows(n: int) -> list[str]:
    t = np.arange(n) * 0.01
    acc, gyr = mf.truth_acc_mps2(t), np.radians(mf.truth_gyr_dps(t))
    return [",".join(mf.java_sci(v) for v in [t[i], *acc[i], t[i], *gyr[i]]) for i in range(n)]


def bad_inputs(tmp: Path) -> dict[str, tuple[Path, tuple[str, ...]]]:
    cases = {}
    cases["zip_not_an_export"] = (_zip(tmp / "holiday.zip", {"readme.txt": b"hello\n",
                                                             "photo.png": b"\x89PNG\r\n\x1a\n" + bytes(200)}),
                                  ("no recognisable columns", "holiday.zip"))
    corrupt = tmp / "broken.zip"
    corrupt.write_bytes(b"PK\x03\x04" + os.urandom(300))
    cases["corrupt_zip"] = (corrupt, ("not a readable zip",))
    empty = tmp / "empty.csv"
    empty.write_bytes(b"")
    cases["empty_file"] = (empty, ("empty",))
    blank = tmp / "blank.csv"
    blank.write_text("\n\n  \n")
    cases["blank_lines_only"] = (blank, ("blank lines",))
    nocols = tmp / "prices.csv"
    nocols.write_text("item,price,count\napple,1.20,3\npear,0.80,5\n")
    cases["no_recognisable_columns"] = (nocols, ("no recognisable columns",))
    rows = _good_rows(50)
    rows[4] = rows[4].replace(rows[4].split(",")[2], "abc", 1)
    text_in_numbers = tmp / "text.csv"
    text_in_numbers.write_text(_phyphox_text(rows))
    cases["text_in_numbers"] = (text_in_numbers, ("line 6", "not a number", "'abc'"))
    rows = _good_rows(50)
    rows = rows[:3] + ["NaN,NaN,1,NaN,NaN,NaN,NaN,NaN"] * 40 + rows[3:10]
    mostly_nan = tmp / "mostly_nan.csv"
    mostly_nan.write_text(_phyphox_text(rows))
    cases["mostly_nan_rows"] = (mostly_nan, ("line 5", "missing values"))
    garbage = tmp / "garbage.csv"
    with open(garbage, "wb") as fh:
        rng = np.random.default_rng(7)
        for _ in range(20):
            fh.write(rng.integers(0, 256, 1024 * 1024, dtype=np.uint8).tobytes())
    cases["huge_binary_garbage"] = (garbage, ("binary",))
    long_line = tmp / "long_line.csv"
    with open(long_line, "w") as fh:
        for _ in range(200):
            fh.write("x" * 100_000)
    cases["huge_text_without_newlines"] = (long_line, ("longer than",))
    cases["missing_file"] = (tmp / "nowhere.csv", ("no such file",))
    (tmp / "empty_folder").mkdir()
    cases["empty_folder"] = (tmp / "empty_folder", ("folder is empty",))
    return cases


BAD_CASES = ["zip_not_an_export", "corrupt_zip", "empty_file", "blank_lines_only",
             "no_recognisable_columns", "text_in_numbers", "mostly_nan_rows",
             "huge_binary_garbage", "huge_text_without_newlines", "missing_file", "empty_folder"]


@pytest.fixture(scope="module")
def bad_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad")
    return tmp, bad_inputs(tmp)


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_gives_one_line_and_exit_2(case, bad_dir, capsys):
    tmp, cases = bad_dir
    src, needles = cases[case]
    out = tmp / f"out_{case}.csv"
    start = time.monotonic()
    code, stdout, err = run_cli(capsys, "import", src, "--placement", "left_shank", "-o", out)
    assert time.monotonic() - start < 10.0
    assert_one_line_error(code, err, *needles)
    assert stdout == ""
    assert not out.exists()


def test_zip_that_is_not_phyphox_with_format_phyphox(bad_dir, capsys):
    tmp, cases = bad_dir
    src = _zip(tmp / "other.zip", {"data.csv": b"time,seconds_elapsed,z,y,x\n1,0.1,1,2,3\n"})
    code, _, err = run_cli(capsys, "import", src, "--placement", "left_shank", "-o", tmp / "o.csv",
                           "--format", "phyphox")
    assert_one_line_error(code, err, "not a phyphox export")


def test_a_few_nan_rows_are_dropped_with_one_warning(tmp_path, capsys):
    rows = _good_rows(100)
    rows[20] = "NaN,NaN,NaN,NaN," + ",".join(rows[20].split(",")[4:])
    parts = rows[21].split(",")
    parts[2] = ""
    rows[21] = ",".join(parts)
    src = tmp_path / "gappy.csv"
    src.write_text(_phyphox_text(rows))
    out = tmp_path / "rec.csv"
    code, _, err = run_cli(capsys, "import", src, "--placement", "left_shank", "-o", out)
    assert code == 0, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "dropped 2 row(s)" in lines[0] and "line 22" in lines[0]
    s = read_recording(out).streams["left_shank"]
    assert len(s) == 98
    assert np.isclose(np.diff(s.t_s).max(), 0.03)  # the dropped rows are a gap, nothing invented


def test_times_in_milliseconds_where_seconds_are_expected_are_refused(tmp_path, capsys):
    src = tmp_path / "ms.csv"
    text = (FIX / "gaitmap_flat.csv").read_text().splitlines()
    rows = [text[0]] + [",".join([str(float(r.split(",")[0]) * 1000.0)] + r.split(",")[1:]) for r in text[1:]]
    src.write_text("\n".join(rows) + "\n")
    code, _, err = run_cli(capsys, "import", src, "--placement", "left_shank", "-o", tmp_path / "r.csv")
    assert_one_line_error(code, err, "0.1 hz", "seconds")


def test_bad_rate_and_unknown_placement_are_usage_errors(tmp_path, capsys):
    code, _, err = run_cli(capsys, "import", FIX / "gaitmap_flat.csv", "--placement", "knee",
                           "-o", tmp_path / "r.csv")
    assert_one_line_error(code, err, "placement")
    code, _, err = run_cli(capsys, "import", FIX / "gaitmap_two_row_header.csv", "--placement",
                           "left_shank", "-o", tmp_path / "r.csv", "--rate", "-3",
                           "--sensor-column", "left_sensor")
    assert_one_line_error(code, err, "--rate")


# ----------------------------------------------------------------------------- timeline


def test_spread_repeated_stamps_restores_even_sampling():
    true_t = 10.0 + np.arange(30) * 0.01
    stamped = np.repeat(true_t[::3], 3)
    np.testing.assert_allclose(spread_repeated(stamped, "x"), true_t, atol=1e-9)


def test_spread_repeated_does_not_stretch_over_a_gap():
    stamped = np.repeat([0.0, 0.03, 0.06, 0.09, 1.0], 3)  # a lost packet stretch before 1.0 s
    t = spread_repeated(stamped, "x")
    np.testing.assert_allclose(t[9:12], [0.09, 0.10, 0.11], atol=1e-9)
    np.testing.assert_allclose(t[12:], [1.0, 1.01, 1.02], atol=1e-9)


# ----------------------------------------------------------------------------- properties

_HEADERS = [
    '"Time (s)","Acceleration x (m/s^2)","Acceleration y (m/s^2)","Acceleration z (m/s^2)","Time (s)","Gyroscope x (rad/s)","Gyroscope y (rad/s)","Gyroscope z (rad/s)"\n',
    "epoc (ms),timestamp (+1300),elapsed (s),x-axis (g),y-axis (g),z-axis (g)\n",
    "time,seconds_elapsed,z,y,x\n",
    "timestamp,x,y,z\n",
    "t_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n",
    "",
]


def _import_quietly(path: Path, **opts) -> None:
    try:
        import_source([path], "left_shank", ImportOptions(**opts))
    except InputError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_random_bytes_never_raise_anything_but_input_error(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "random.csv"
        path.write_bytes(data)
        _import_quietly(path)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_HEADERS),
       st.text(alphabet="0123456789.,;\t -eENaninf\"x\n", max_size=1500),
       st.sampled_from(["auto", "g", "mps2"]))
def test_csv_like_garbage_never_raises_anything_but_input_error(header, body, acc_unit):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        path.write_text(header + body, encoding="utf-8")
        _import_quietly(path, acc_unit=acc_unit, rate_hz=100.0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["Accelerometer.csv", "Gyroscope.csv", "TotalAcceleration.csv",
                                        "meta/device.csv", "x_Accelerometer.csv", "x_Gyroscope.csv",
                                        "a_acc_stream.csv", "a_gyro_stream.csv"]),
                       st.builds(lambda h, b: (h + b).encode(), st.sampled_from(_HEADERS),
                                 st.text(alphabet="0123456789.,-\nNa", max_size=400)),
                       max_size=4))
def test_random_zips_never_raise_anything_but_input_error(files):
    with tempfile.TemporaryDirectory() as tmp:
        path = _zip(Path(tmp) / "export.zip", files)
        _import_quietly(path)


def test_committed_fixtures_match_their_generator(tmp_path):
    for name, writer in mf.FIXTURES.items():
        target = tmp_path / name
        writer(target)
        committed = FIX / name
        if target.is_dir():
            for f in target.iterdir():
                assert f.read_bytes() == (committed / f.name).read_bytes(), f
        elif name.endswith(".zip"):
            with zipfile.ZipFile(target) as a, zipfile.ZipFile(committed) as b:
                assert a.namelist() == b.namelist()
                for n in a.namelist():
                    assert a.read(n) == b.read(n), n
        else:
            assert target.read_bytes() == committed.read_bytes(), name


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(FIX.glob("*.zip"))), st.integers(0, 10 ** 6),
       st.binary(min_size=1, max_size=8))
def test_damaged_zips_never_raise_anything_but_input_error(src, position, junk):
    raw = bytearray(src.read_bytes())
    i = position % len(raw)
    raw[i:i + len(junk)] = junk
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "damaged.zip"
        path.write_bytes(bytes(raw))
        _import_quietly(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(FIX.rglob("*.csv"))),
       st.lists(st.tuples(st.floats(0, 1), st.sampled_from(
           list(",;\t\n.-eNa x\"0123456789") + ["\x00", "", "NaN", "1e999"])), min_size=1, max_size=6))
def test_mutated_exports_never_raise_anything_but_input_error(src, mutations):
    text = src.read_text()
    for position, replacement in mutations:
        i = int(position * (len(text) - 1))
        text = text[:i] + replacement + text[i + 1:]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "export"
        folder.mkdir()
        for sibling in src.parent.glob("*.csv"):
            (folder / sibling.name).write_bytes(sibling.read_bytes())
        (folder / src.name).write_text(text)
        _import_quietly(folder / src.name, rate_hz=204.8, sensor_column="left_sensor")


def test_recording_in_g_is_refused_then_fixed_by_import(tmp_path, capsys):
    """The reader's advice for acc in g works as written: import --acc-unit g fixes the file."""
    from imu_knee.cli import main
    from imu_knee.recording import read_recording

    src = tmp_path / "in_g.csv"
    src.write_text("timestamp_s,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n"
                   + "".join(f"{i / 100:.2f},right_thigh,0.02,0.99,0.05,1,2,3\n" for i in range(200)))
    fixed = tmp_path / "fixed.csv"
    assert main(["analyze", str(src), "--steps", str(tmp_path / "s.csv"),
                 "--summary", str(tmp_path / "s.json"), "--quiet"]) == 2
    assert f"imu-knee import {src} --acc-unit g -o FIXED.csv" in capsys.readouterr().err
    assert main(["import", str(src), "-o", str(fixed)]) == 2
    assert main(["import", str(src), "--acc-unit", "g", "-o", str(fixed)]) == 0
    stream = read_recording(fixed).streams["right_thigh"]
    assert abs(float(np.median(np.linalg.norm(stream.acc_mps2, axis=1))) - 9.73) < 0.05
    assert stream.gyr_dps[0].tolist() == [1, 2, 3]
