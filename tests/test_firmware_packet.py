"""The reference firmware's packet header, compiled on the host, against the Python decoder.

tests/firmware/test_packet.cpp packs deterministic sample sequences with
firmware_config/firmware/imu_knee_ble/imu_knee_packet.h exactly as the firmware does and prints the
samples it was given and the notification payloads it produced. Here every payload goes
through imu-knee's own decoder (imu_knee/ble/profiles/imuknee.py) and must give back the
samples within quantisation, with the right times, packet counters and packet kinds.
The program is built as C++11 (g++) and as C99 (gcc); both must print the same bytes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from imu_knee.ble.profiles import get_profile, imuknee, stack_samples
from imu_knee.ble.profiles.imuknee import (
    ACC_RANGES_G, BATCH_HEADER_BYTES, CONTROL_UUID, DATA_UUID, GYR_RANGES_DPS, HEADER_BATCH,
    HEADER_SINGLE, RATES_HZ, SAMPLE_BYTES, SINGLE_BYTES,
)
from imu_knee.recording import GRAVITY_MPS2

REPO = Path(__file__).resolve().parents[1]
HEADER_DIR = REPO / "firmware_config" / "firmware" / "imu_knee_ble"  # the sketch folder holds it
SOURCE = REPO / "tests" / "firmware" / "test_packet.cpp"
WARNINGS = ["-Wall", "-Wextra", "-Werror", "-pedantic", "-Wconversion", "-Wsign-conversion", "-Wshadow"]


def _compile(compiler: str, args: list[str], out: Path) -> Path:
    if shutil.which(compiler) is None:
        pytest.skip(f"{compiler} is not installed: cannot build the firmware packet test on the host")
    cmd = [compiler, *args, *WARNINGS, f"-I{HEADER_DIR}", "-o", str(out), str(SOURCE)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{' '.join(cmd)}\n{result.stderr}"
    return out


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("firmware_packet")


@pytest.fixture(scope="module")
def cpp_program(build_dir) -> Path:
    return _compile("g++", ["-std=c++11", "-O2"], build_dir / "test_packet_cpp")


@pytest.fixture(scope="module")
def cpp_output(cpp_program) -> str:
    return subprocess.run([str(cpp_program)], capture_output=True, text=True, check=True, timeout=60).stdout


@dataclass
class Scenario:
    name: str
    mtu: int
    max_batch: int
    acc_code: int
    gyr_code: int
    rate_hz: int
    per_packet: int
    inputs: list = field(default_factory=list)   # (t_us, acc_g xyz, gyr_dps xyz)
    dropped_t_us: list = field(default_factory=list)
    packets: list = field(default_factory=list)  # payload bytes
    dropped_total: int = 0


def parse_output(text: str) -> dict[str, Scenario]:
    scenarios: dict[str, Scenario] = {}
    current = None
    for line in text.splitlines():
        kind, _, rest = line.partition(" ")
        parts = rest.split()
        if kind == "SCENARIO":
            name, *numbers = parts
            current = scenarios[name] = Scenario(name, *map(int, numbers))
        elif kind == "IN":
            current.inputs.append((int(parts[0]), [float(v) for v in parts[1:4]], [float(v) for v in parts[4:7]]))
        elif kind == "DROP":
            current.dropped_t_us.append(int(parts[0]))
        elif kind == "PKT":
            current.packets.append(bytes.fromhex(parts[0]))
        elif kind == "END":
            current.dropped_total = int(parts[0])
        else:
            raise AssertionError(f"unexpected line from the test program: {line!r}")
    return scenarios


@pytest.fixture(scope="module")
def scenarios(cpp_output) -> dict[str, Scenario]:
    return parse_output(cpp_output)


def decode(sc: Scenario):
    profile = get_profile("imu-knee", {"max_batch": sc.max_batch})
    decoder = profile.new_decoder(rate_hz=sc.rate_hz, acc_range_g=ACC_RANGES_G[sc.acc_code],
                                  gyr_range_dps=GYR_RANGES_DPS[sc.gyr_code])
    decoder.strict = True
    items = []
    for i, payload in enumerate(sc.packets):
        items.extend(decoder.feed(DATA_UUID, payload, 0.01 * i))
    return decoder, items


def unwrap_us(raw: list[int]) -> np.ndarray:
    """Device times unwrapped the way the protocol says (within half a wrap of the previous)."""
    out = [raw[0]]
    for value in raw[1:]:
        step = (value - out[-1]) % (1 << 32)
        out.append(out[-1] + (step if step < (1 << 31) else step - (1 << 32)))
    return np.array(out, dtype=np.int64)


def kept_inputs(sc: Scenario):
    dropped = set(sc.dropped_t_us)
    return [row for row in sc.inputs if row[0] not in dropped]


def expected_physical(values: np.ndarray, lsb: float) -> np.ndarray:
    """What a perfect sensor reports: the value clamped to the int16 range, NaN as 0."""
    clean = np.nan_to_num(values, nan=0.0, posinf=np.inf, neginf=-np.inf)
    return np.clip(clean, -32768 * lsb, 32767 * lsb)


ALL = ["batch_default", "single_mtu23", "batch_19", "batch_mtu100", "batch_2", "single_mtu38",
       "gap", "ring_overflow"]


def test_program_prints_every_scenario(scenarios):
    assert sorted(scenarios) == sorted([*ALL, "special"])
    for sc in scenarios.values():
        assert sc.packets, sc.name


@pytest.mark.parametrize("name", ALL)
def test_values_times_and_counters_decode(scenarios, name):
    sc = scenarios[name]
    decoder, items = decode(sc)
    arrays = stack_samples(items)
    kept = kept_inputs(sc)
    assert len(arrays) == len(kept), "every sample the ring kept arrives exactly once"
    assert decoder.lost_packets == 0

    # device times: exact µs, including across the 32-bit clock wrap and around gaps
    t_expected_us = unwrap_us([row[0] for row in kept])
    np.testing.assert_allclose(arrays.device_t_s * 1e6, t_expected_us, rtol=0, atol=1e-3)

    # values within half a count of the input (clamped at full scale)
    acc_lsb = ACC_RANGES_G[sc.acc_code] / 32768 * GRAVITY_MPS2
    gyr_lsb = GYR_RANGES_DPS[sc.gyr_code] / 32768
    acc_in = np.array([row[1] for row in kept]) * GRAVITY_MPS2
    gyr_in = np.array([row[2] for row in kept])
    assert np.all(np.abs(arrays.acc_mps2 - expected_physical(acc_in, acc_lsb)) <= 0.5001 * acc_lsb)
    assert np.all(np.abs(arrays.gyr_dps - expected_physical(gyr_in, gyr_lsb)) <= 0.5001 * gyr_lsb)

    # saturation: at or beyond full scale the wire holds the int16 limits exactly
    acc_counts = np.rint(arrays.acc_mps2 / acc_lsb)
    gyr_counts = np.rint(arrays.gyr_dps / gyr_lsb)
    over_acc = acc_in >= ACC_RANGES_G[sc.acc_code] * GRAVITY_MPS2
    under_acc = acc_in <= -ACC_RANGES_G[sc.acc_code] * GRAVITY_MPS2
    over_gyr = gyr_in >= GYR_RANGES_DPS[sc.gyr_code]
    under_gyr = gyr_in <= -GYR_RANGES_DPS[sc.gyr_code]
    assert over_acc.any() and under_acc.any() and over_gyr.any() and under_gyr.any()
    assert np.all(acc_counts[over_acc] == 32767) and np.all(acc_counts[under_acc] == -32768)
    assert np.all(gyr_counts[over_gyr] == 32767) and np.all(gyr_counts[under_gyr] == -32768)

    # packet counter: +1 per notification, through the 16-bit wrap
    seqs = [item.seq for item in items]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    raw_seqs = [int.from_bytes(p[2:4], "little") for p in sc.packets]
    assert all((b - a) % 65536 == 1 for a, b in zip(raw_seqs, raw_seqs[1:]))


@pytest.mark.parametrize("name", ALL)
def test_packet_kind_and_size_follow_the_mtu(scenarios, name):
    sc = scenarios[name]
    fit = max(0, (sc.mtu - 3 - BATCH_HEADER_BYTES) // SAMPLE_BYTES)
    n_expected = min(sc.max_batch, fit, 19)
    assert sc.per_packet == (n_expected if n_expected >= 2 else 1)
    for payload in sc.packets:
        assert len(payload) <= sc.mtu - 3, "a notification never exceeds MTU - 3 bytes"
        assert payload[1] == sc.acc_code | (sc.gyr_code << 2)
        if sc.per_packet == 1:
            assert payload[0] == HEADER_SINGLE and len(payload) == SINGLE_BYTES
        else:
            n = payload[10]
            assert payload[0] == HEADER_BATCH and payload[11] == 0
            assert 1 <= n <= sc.per_packet and len(payload) == BATCH_HEADER_BYTES + SAMPLE_BYTES * n
            assert int.from_bytes(payload[8:10], "little") == round(1e6 / sc.rate_hz)
    if sc.per_packet > 1 and sc.name not in ("gap", "ring_overflow"):
        sizes = [p[10] for p in sc.packets]
        assert all(n == sc.per_packet for n in sizes[:-1]), "only the last packet (at stop) is short"


def test_device_clock_and_counter_wrap_in_the_default_scenario(scenarios):
    sc = scenarios["batch_default"]
    raw_t = [int.from_bytes(p[4:8], "little") for p in sc.packets]
    raw_seq = [int.from_bytes(p[2:4], "little") for p in sc.packets]
    assert any(b < a for a, b in zip(raw_t, raw_t[1:])), "the scenario must cross the 2^32 µs wrap"
    assert any(b < a for a, b in zip(raw_seq, raw_seq[1:])), "the scenario must cross the counter wrap"


def test_gap_closes_the_packet_and_the_next_starts_at_the_right_time(scenarios):
    sc = scenarios["gap"]
    period = round(1e6 / sc.rate_hz)
    sizes = [p[10] for p in sc.packets]
    assert sizes[:2] == [8, 5], "13 samples before the gap: one full batch and one of 5"
    t0 = [int.from_bytes(p[4:8], "little") for p in sc.packets]
    assert t0[2] == 14 * period, "sample 13 was never taken, the next packet starts at sample 14"
    assert all(t % period == 0 for t in t0)


def test_ring_overflow_drops_the_newest_and_the_gap_shows_in_the_times(scenarios):
    sc = scenarios["ring_overflow"]
    period = round(1e6 / sc.rate_hz)
    assert sc.dropped_total == len(sc.dropped_t_us) == 100 - 64
    assert sc.dropped_t_us == [k * period for k in range(64, 100)]
    _, items = decode(sc)
    t_us = np.rint(stack_samples(items).device_t_s * 1e6).astype(int)
    assert list(t_us) == [k * period for k in [*range(64), *range(100, 120)]]


def test_nan_and_infinity_are_zero_and_saturated(scenarios):
    sc = scenarios["special"]
    assert len(sc.packets) == 1 and sc.packets[0][0] == HEADER_SINGLE
    counts = np.frombuffer(sc.packets[0], dtype="<i2", offset=8)
    assert list(counts) == [0, 32767, -32768, 0, 32767, -32768]
    assert int.from_bytes(sc.packets[0][4:8], "little") == 7


@pytest.mark.parametrize("name", ["single_mtu23", "batch_19", "batch_mtu100", "batch_2", "single_mtu38"])
def test_bytes_equal_the_python_reference_encoder(scenarios, name):
    """The firmware and the Python encoder (used by the virtual sensors) send the same bytes."""
    sc = scenarios[name]
    profile = get_profile("imu-knee", {"max_batch": sc.max_batch})
    encoder = profile.new_encoder(rate_hz=sc.rate_hz, acc_range_g=ACC_RANGES_G[sc.acc_code],
                                  gyr_range_dps=GYR_RANGES_DPS[sc.gyr_code], mtu=sc.mtu)
    acc = np.array([row[1] for row in sc.inputs]) * GRAVITY_MPS2
    gyr = np.array([row[2] for row in sc.inputs])
    t_s = unwrap_us([row[0] for row in sc.inputs]) * 1e-6
    sent = [n.payload for n in encoder.encode(acc, gyr, t_s)]
    assert len(sent) == len(sc.packets)
    header = HEADER_SINGLE == sc.packets[0][0] and 8 or BATCH_HEADER_BYTES
    for ours, theirs in zip(sc.packets, sent):
        assert ours[:header] == theirs[:header]
    # counts: the firmware computes in float32, Python in float64; they may differ by one
    # count only where the exact value sits within a thousandth of a count of a half
    ours = np.concatenate([np.frombuffer(p, dtype="<i2", offset=header) for p in sc.packets]).reshape(-1, 6)
    theirs = np.concatenate([np.frombuffer(p, dtype="<i2", offset=header) for p in sent]).reshape(-1, 6)
    exact = np.hstack([acc / encoder.acc_lsb, gyr / encoder.gyr_lsb])
    differ = ours != theirs
    assert np.all(np.abs(ours.astype(int) - theirs) <= 1)
    assert np.all(np.abs(np.abs(exact[differ] - np.floor(exact[differ])) - 0.5) < 1e-3)
    assert differ.mean() < 0.01


def test_c99_build_prints_the_same_bytes(build_dir, cpp_output):
    c_program = _compile("gcc", ["-x", "c", "-std=c99", "-O2"], build_dir / "test_packet_c")
    c_output = subprocess.run([str(c_program)], capture_output=True, text=True, check=True, timeout=60).stdout
    assert c_output == cpp_output


def test_no_undefined_behaviour_under_sanitizers(build_dir, cpp_output):
    if shutil.which("g++") is None:
        pytest.skip("g++ is not installed")
    out = build_dir / "test_packet_san"
    cmd = ["g++", "-std=c++11", "-O1", "-g", "-fsanitize=undefined,address", "-fno-sanitize-recover=all",
           *WARNINGS, f"-I{HEADER_DIR}", "-o", str(out), str(SOURCE)]
    built = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if built.returncode != 0:
        pytest.skip(f"this g++ cannot build with sanitizers: {built.stderr.strip().splitlines()[-1:]}")
    run = subprocess.run([str(out)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stderr == "", run.stderr
    assert run.stdout == cpp_output


def test_control_writes_from_the_python_profile_parse(cpp_program):
    profile = get_profile("imu-knee")
    writes, expected = [], []
    for rate in RATES_HZ:
        for acc_code, acc_g in enumerate(ACC_RANGES_G):
            for gyr_code, gyr_dps in enumerate(GYR_RANGES_DPS):
                (cmd,) = profile.setup_commands(rate, acc_g, gyr_dps)
                assert cmd.char_uuid == CONTROL_UUID
                writes.append(cmd.data.hex())
                expected.append([1, int(rate), round(1e6 / rate), acc_code, gyr_code,
                                 int(profile.config["max_batch"])])
    writes += [profile.start_commands()[0].data.hex(), profile.stop_commands()[0].data.hex()]
    result = subprocess.run([str(cpp_program), "control", *writes], capture_output=True, text=True,
                            check=True, timeout=60)
    lines = [list(map(int, line.split()[1:])) for line in result.stdout.splitlines()]
    assert lines[:-2] == expected
    assert [line[0] for line in lines[-2:]] == [2, 3]


@pytest.mark.parametrize("hex_bytes", [
    "",                    # empty write
    "01c8000304",          # configure one byte short
    "01c80003040800",      # configure one byte long
    "01c9000304" "08",     # 201 Hz is not a rate
    "01c8000404" "08",     # acc code 4
    "01c8000305" "08",     # gyro code 5
    "01c8000304" "00",     # max_batch 0
    "01c8000304" "14",     # max_batch 20
    "0200",                # start with a payload
    "04",                  # unknown command
])
def test_malformed_control_writes_are_refused_and_change_nothing(cpp_program, hex_bytes):
    result = subprocess.run([str(cpp_program), "control", hex_bytes], capture_output=True, text=True, check=True, timeout=60)
    kind, rate, period, acc, gyr, batch = map(int, result.stdout.split()[1:])
    assert kind == 255
    assert (rate, period, acc, gyr, batch) == (200, 5000, 3, 4, 8), "the defaults stay"


def test_header_constants_match_the_python_profile():
    text = (HEADER_DIR / "imu_knee_packet.h").read_text(encoding="utf-8")

    def define(name: str) -> str:
        for line in text.splitlines():
            if line.startswith(f"#define {name} "):
                return line.split(None, 2)[2].split("/*")[0].strip()
        raise AssertionError(f"{name} not defined in the header")

    assert define("IKP_SERVICE_UUID").strip('"') == imuknee.SERVICE_UUID
    assert define("IKP_DATA_UUID").strip('"') == imuknee.DATA_UUID
    assert define("IKP_CONTROL_UUID").strip('"') == imuknee.CONTROL_UUID
    for c_name, py_value in [("IKP_HEADER_SINGLE", imuknee.HEADER_SINGLE), ("IKP_HEADER_BATCH", imuknee.HEADER_BATCH),
                             ("IKP_SINGLE_BYTES", imuknee.SINGLE_BYTES),
                             ("IKP_BATCH_HEADER_BYTES", imuknee.BATCH_HEADER_BYTES),
                             ("IKP_SAMPLE_BYTES", imuknee.SAMPLE_BYTES), ("IKP_VERSION", imuknee.VERSION),
                             ("IKP_CMD_CONFIGURE", imuknee.CMD_CONFIGURE), ("IKP_CMD_START", imuknee.CMD_START),
                             ("IKP_CMD_STOP", imuknee.CMD_STOP),
                             ("IKP_N_ACC_RANGES", len(imuknee.ACC_RANGES_G)),
                             ("IKP_N_GYR_RANGES", len(imuknee.GYR_RANGES_DPS)),
                             ("IKP_N_RATES", len(imuknee.RATES_HZ))]:
        assert int(define(c_name).rstrip("u"), 0) == py_value, c_name


# ---------------------------------------------------------------- the Arduino sketch (not built in CI)
SKETCH_DIR = HEADER_DIR
SKETCH = SKETCH_DIR / "imu_knee_ble.ino"


@pytest.mark.parametrize("array, uuid_name", [("kServiceUuid", "SERVICE_UUID"), ("kDataUuid", "DATA_UUID"),
                                              ("kControlUuid", "CONTROL_UUID")])
def test_sketch_uuid_bytes_are_the_protocol_uuids(array, uuid_name):
    text = SKETCH.read_text(encoding="utf-8")
    match = re.search(rf"{array}\[16\]\s*=\s*\{{([^}}]*)\}}", text)
    assert match, f"{array} not found in the sketch"
    values = bytes(int(v, 16) for v in match.group(1).replace("\n", " ").split(","))
    assert values == uuid.UUID(getattr(imuknee, uuid_name)).bytes[::-1], "Bluefruit wants the UUID LSB first"


def test_sketch_is_well_formed_cpp_against_stub_core_headers(build_dir):
    """A syntax and type check only: the stubs declare the core's API as the sketch uses it."""
    if shutil.which("g++") is None:
        pytest.skip("g++ is not installed")
    stubs = REPO / "tests" / "firmware" / "sketch_stubs"
    cmd = ["g++", "-std=gnu++11", "-fsyntax-only", "-Wall", "-Wextra", "-Werror", "-x", "c++",
           f"-I{stubs}", f"-I{SKETCH_DIR}", str(SKETCH)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------- property test: any stream
_f32 = st.floats(width=32, allow_nan=True, allow_infinity=True)


@st.composite
def streams(draw):
    mtu = draw(st.integers(23, 300))
    max_batch = draw(st.integers(1, 19))
    acc_code = draw(st.integers(0, 3))
    gyr_code = draw(st.integers(0, 4))
    rate = int(draw(st.sampled_from(RATES_HZ)))
    seq_start = draw(st.integers(0, 65535))
    t0 = draw(st.integers(0, (1 << 32) - 1))
    n = draw(st.integers(1, 60))
    # a sample is skipped (never taken) now and then; times wrap modulo 2^32
    taken = draw(st.lists(st.integers(0, 9).map(lambda v: v != 0), min_size=n, max_size=n))
    if not any(taken):
        taken[0] = True
    values = draw(st.lists(st.tuples(*[_f32] * 6), min_size=n, max_size=n))
    period = round(1e6 / rate)
    rows = [((t0 + k * period) % (1 << 32), values[k]) for k in range(n) if taken[k]]
    return mtu, max_batch, acc_code, gyr_code, rate, seq_start, rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stream=streams())
def test_any_stream_decodes_to_what_was_packed(cpp_program, stream):
    mtu, max_batch, acc_code, gyr_code, rate, seq_start, rows = stream
    text = "".join(f"{t} " + " ".join(repr(float(v)) for v in vals) + "\n" for t, vals in rows)
    result = subprocess.run([str(cpp_program), "pack", str(mtu), str(max_batch), str(acc_code), str(gyr_code),
                             str(rate), str(seq_start)], input=text, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    packets = [bytes.fromhex(line.split()[1]) for line in result.stdout.splitlines()]

    profile = get_profile("imu-knee", {"max_batch": max_batch})
    decoder = profile.new_decoder(rate_hz=rate, acc_range_g=ACC_RANGES_G[acc_code],
                                  gyr_range_dps=GYR_RANGES_DPS[gyr_code])
    decoder.strict = True
    items = []
    for payload in packets:
        assert len(payload) <= mtu - 3
        items.extend(decoder.feed(DATA_UUID, payload, 0.0))
    arrays = stack_samples(items)
    assert decoder.lost_packets == 0
    assert len(arrays) == len(rows)
    np.testing.assert_allclose(arrays.device_t_s * 1e6, unwrap_us([t for t, _ in rows]), rtol=0, atol=1e-3)

    acc_lsb = ACC_RANGES_G[acc_code] / 32768 * GRAVITY_MPS2
    gyr_lsb = GYR_RANGES_DPS[gyr_code] / 32768
    vals = np.array([v for _, v in rows], dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        assert np.all(np.abs(arrays.acc_mps2 - expected_physical(vals[:, :3] * GRAVITY_MPS2, acc_lsb)) <= 0.5001 * acc_lsb)
        assert np.all(np.abs(arrays.gyr_dps - expected_physical(vals[:, 3:], gyr_lsb)) <= 0.5001 * gyr_lsb)

    raw_seq = [int.from_bytes(p[2:4], "little") for p in packets]
    assert raw_seq == [(seq_start + i) % 65536 for i in range(len(packets))]
    per_packet = 1 if packets[0][0] == HEADER_SINGLE else None
    if per_packet is None:
        fit = (mtu - 3 - BATCH_HEADER_BYTES) // SAMPLE_BYTES
        n_max = min(max_batch, fit, 19)
        # a packet is short only at the end or right before a skipped sample
        starts = np.cumsum([0] + [p[10] for p in packets])
        times = [t for t, _ in rows]
        period = round(1e6 / rate)
        for i, payload in enumerate(packets[:-1]):
            assert payload[0] == HEADER_BATCH and 1 <= payload[10] <= n_max
            if payload[10] < n_max:
                last, nxt = times[starts[i + 1] - 1], times[starts[i + 1]]
                assert (nxt - last) % (1 << 32) != period, "a short packet must end at a gap"
    else:
        assert all(len(p) == SINGLE_BYTES and p[0] == HEADER_SINGLE for p in packets)
        assert min(max_batch, max(0, (mtu - 15) // 12)) < 2
