"""Recording session over BLE and `imu-knee live --virtual`, end to end through bleak + Bumble."""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imu_knee.ble.session import ClockMapper, TimeOrderedSink
from imu_knee.recording import Recording, SensorStream, read_recording, write_recording


def synthetic_recording(duration_s=1.5, rate_hz=100.0, names=("left_shank", "right_shank")) -> Recording:
    streams = {}
    for k, name in enumerate(names):
        t = np.arange(int(round(duration_s * rate_hz))) / rate_hz
        acc = np.column_stack([2 * np.sin(2 * np.pi * (1 + k) * t), np.cos(2 * np.pi * 0.5 * t),
                               9.81 + 3 * np.sin(2 * np.pi * 2 * t)])
        gyr = np.column_stack([200 * np.sin(2 * np.pi * 1.2 * t), -90 * np.cos(2 * np.pi * 0.8 * t),
                               40 * np.sin(2 * np.pi * (0.3 + k) * t)])
        streams[name] = SensorStream(name, t, acc, gyr, rate_hz)
    return Recording(streams, leg_length_m=0.9)


# -- pure parts ------------------------------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31), drift_ppm=st.floats(-200, 200), rate_hz=st.sampled_from([50.0, 104.0, 200.0]))
def test_clock_mapper_tracks_true_time_within_the_latency_jitter(seed, drift_ppm, rate_hz):
    rng = np.random.default_rng(seed)
    mapper = ClockMapper(max_step_s=0.25 / rate_hz)
    per_packet = 4
    n_packets = 1500
    true_offset = 123.4
    errors, mapped = [], []
    for i in range(n_packets):
        device_last = (i + 1) * per_packet / rate_hz
        true_time = device_last * (1 + drift_ppm * 1e-6) + true_offset
        arrival = true_time + 0.005 + rng.uniform(0, 0.030)  # 5 ms to 35 ms late
        offset = mapper.update(device_last, arrival)
        mapped.append(device_last + offset)
        errors.append(device_last + offset - true_time)
    settled = np.array(errors[n_packets // 3:])
    assert settled.min() > -0.002 and settled.max() < 0.040
    spacing = np.diff(mapped)
    nominal = per_packet / rate_hz
    assert spacing.min() > nominal - 0.3 / rate_hz  # never bunches samples up much


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_time_ordered_sink_writes_every_row_once_in_time_order(tmp_path_factory, data):
    from imu_knee.recording import RecordingWriter

    path = tmp_path_factory.mktemp("sink") / "rec.csv"
    names = ["left_shank", "right_shank", "left_thigh"]
    clocks = {n: 0.0 for n in names}
    pushed = {n: 0 for n in names}
    with RecordingWriter(path) as writer:
        sink = TimeOrderedSink(writer)
        for _ in range(data.draw(st.integers(1, 25))):
            name = data.draw(st.sampled_from(names))
            n = data.draw(st.integers(1, 6))
            t = clocks[name] + 0.01 * np.arange(1, n + 1)
            clocks[name] = float(t[-1])
            sink.push(name, t, np.full((n, 3), 9.81), np.zeros((n, 3)))
            pushed[name] += n
            if data.draw(st.booleans()):
                sink.release(min(clocks.values()))  # the slowest sensor sets the watermark
        sink.release()
    rec = read_recording(path, check_units=False)  # the reader rejects decreasing time
    for name in names:
        got = len(rec.streams[name]) if name in rec.streams else 0
        assert got + sink.late.get(name, 0) == pushed[name]
    assert sum(sink.late.values()) == 0  # with a min-watermark nothing arrives late


# -- live --virtual, end to end ------------------------------------------------------------------

pytest.importorskip("bumble")
pytest.importorskip("bleak")


@pytest.mark.parametrize("profile_name", ["movesense", "witmotion", "imu-knee"])
def test_live_virtual_records_what_the_virtual_sensors_send(tmp_path, profile_name):
    from imu_knee.ble.profiles import get_profile
    from imu_knee.ble.virtual.sensor import resample
    from imu_knee.cli import main

    src = tmp_path / "src.csv"
    out = tmp_path / "out.csv"
    write_recording(src, synthetic_recording(1.5))
    rc = main(["live", "--virtual", str(src), "--profile", profile_name, "--out", str(out), "--quiet"])
    assert rc == 0
    profile = get_profile(profile_name)
    rate = float(profile.config["rate_hz"])
    source = read_recording(src)
    got = read_recording(out)
    assert set(got.streams) == set(source.streams)
    assert got.leg_length_m == pytest.approx(0.9)
    acc_lsb, gyr_lsb = profile.resolution(profile.settings())
    for name, s in source.streams.items():
        o = got.streams[name]
        if math.isclose(rate, s.rate_hz):
            ref_acc, ref_gyr = s.acc_mps2, s.gyr_dps
        else:
            _, ref_acc = resample(s.t_s, s.acc_mps2, rate)
            _, ref_gyr = resample(s.t_s, s.gyr_dps, rate)
        assert len(o) == len(ref_acc)  # every sample arrived, none twice
        np.testing.assert_allclose(o.acc_mps2, ref_acc, atol=acc_lsb * 0.51 + 1e-4)
        np.testing.assert_allclose(o.gyr_dps, ref_gyr, atol=gyr_lsb * 0.51 + 1e-3)
        dt = np.diff(o.t_s)
        assert np.all(dt > 0)
        assert np.median(dt) == pytest.approx(1.0 / rate, rel=0.05)
        assert o.t_s[-1] - o.t_s[0] == pytest.approx((len(o) - 1) / rate, rel=0.05)


def test_session_reconnects_after_a_drop_and_leaves_a_gap(tmp_path):
    from imu_knee.ble.bumble_backend import BumbleClient
    from imu_knee.ble.profiles import get_profile
    from imu_knee.ble.session import RecordingSession, SensorSpec
    from imu_knee.ble.virtual import VirtualRadio
    from imu_knee.ble.virtual.sensor import VirtualSensor

    out = tmp_path / "out.csv"
    rec = synthetic_recording(3.0, names=("left_shank",))
    profiles = {"left_shank": get_profile("movesense")}
    away_s = 0.5

    async def main():
        radio = VirtualRadio()
        sensor = VirtualSensor(profiles["left_shank"], rec.streams["left_shank"], radio=radio)
        await sensor.start()
        session = RecordingSession([SensorSpec("left_shank", profiles["left_shank"], sensor.address)], out,
                                   client_kwargs={"backend": BumbleClient, "radio": radio},
                                   reconnect_base_s=0.1)

        async def saboteur():
            await asyncio.sleep(1.0)
            await sensor.drop_connection(come_back_after_s=away_s)

        chaos = asyncio.ensure_future(saboteur())
        try:
            return await session.run(duration_s=2.5)
        finally:
            await chaos
            await sensor.close()

    summary = asyncio.run(main())
    stats = summary["sensors"][0]
    assert stats["reconnects"] == 1
    assert len(stats["gaps_s"]) == 1
    gap_from, gap_to = stats["gaps_s"][0]
    assert 0.8 < gap_from < 1.3
    assert away_s - 0.1 < gap_to - gap_from < away_s + 0.5
    got = read_recording(out).streams["left_shank"]
    dt = np.diff(got.t_s)
    assert np.all(dt > 0)
    assert (dt > 0.3).sum() == 1  # the gap is missing rows, nothing else
    assert stats["samples"] == len(got)


def test_live_command_rejects_bad_input_with_exit_code_2(tmp_path, capsys):
    from imu_knee.cli import main

    src = tmp_path / "src.csv"
    write_recording(src, synthetic_recording(0.2))
    out = tmp_path / "out.csv"
    assert main(["live", "--virtual", str(src), "--profile", "fitbit", "--out", str(out)]) == 2
    assert main(["live", "--virtual", str(tmp_path / "nope.csv"), "--profile", "movesense", "--out", str(out)]) == 2
    assert main(["live", "--virtual", str(src), "--profile", "movesense", "--out", str(out),
                 "--sensors", "left_thigh"]) == 2
    assert main(["live", "--virtual", str(src), "--profile", "movesense", "--out", str(out), "--rate", "77"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("imu-knee:") == 4
    assert not out.exists()


def test_session_that_cannot_connect_fails_and_leaves_no_file(tmp_path):
    from bleak.exc import BleakDeviceNotFoundError

    from imu_knee.ble.bumble_backend import BumbleClient
    from imu_knee.ble.profiles import get_profile
    from imu_knee.ble.session import RecordingSession, SensorSpec
    from imu_knee.ble.virtual import VirtualRadio

    out = tmp_path / "out.csv"

    async def main():
        session = RecordingSession([SensorSpec("left_shank", get_profile("witmotion"), "C0:00:00:00:77:77")], out,
                                   client_kwargs={"backend": BumbleClient, "radio": VirtualRadio()})
        await session.run(duration_s=2.0)

    with pytest.raises(BleakDeviceNotFoundError):
        asyncio.run(main())
    assert not out.exists()


def test_scan_lists_every_virtual_profile_and_recognises_names(capsys):
    from imu_knee.ble.profiles import PROFILE_NAMES
    from imu_knee.cli import main
    from imu_knee.commands.scan import match_profile

    assert main(["scan", "--virtual", ",".join(PROFILE_NAMES), "--timeout", "0.3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()[1:]
    assert sorted(line.split()[2] for line in lines) == sorted(PROFILE_NAMES)
    assert match_profile("WT901BLE68", []) == "witmotion"
    assert match_profile("Movesense 204730000331", []) == "movesense"
    assert match_profile("Polar H10 A1B2C3D4", []) == "polar"
    assert match_profile("JBL Flip 5", ["0000fe8f-0000-1000-8000-00805f9b34fb"]) is None


def test_record_rejects_bad_sensor_arguments(tmp_path, capsys):
    from imu_knee.cli import main

    out = str(tmp_path / "o.csv")
    assert main(["record", "--sensor", "left_knee=movesense@AA:BB", "--out", out]) == 2
    assert main(["record", "--sensor", "left_shank=fitbit@AA:BB", "--out", out]) == 2
    assert main(["record", "--sensor", "left_shank", "--out", out]) == 2
    assert main(["record", "--sensor", "left_shank=movesense@A", "--sensor", "left_shank=polar@B", "--out", out]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("imu-knee:") == 4


def test_session_counts_packets_lost_on_the_air(tmp_path):
    """imu-knee packets carry a counter: every notification the sensor drops is counted."""
    from imu_knee.ble.bumble_backend import BumbleClient
    from imu_knee.ble.profiles import get_profile
    from imu_knee.ble.session import RecordingSession, SensorSpec
    from imu_knee.ble.virtual import VirtualRadio
    from imu_knee.ble.virtual.sensor import VirtualSensor

    out = tmp_path / "out.csv"
    profile = get_profile("imu-knee")
    rec = synthetic_recording(1.5, names=("left_shank",))

    async def main():
        radio = VirtualRadio()
        sensor = VirtualSensor(profile, rec.streams["left_shank"], radio=radio, packet_loss=0.2, seed=3)
        await sensor.start()
        session = RecordingSession([SensorSpec("left_shank", profile, sensor.address)], out,
                                   client_kwargs={"backend": BumbleClient, "radio": radio})
        try:
            summary = await session.run(duration_s=3.0, until=lambda: sensor.finished.is_set())
        finally:
            await sensor.close()
        return summary, sensor.notifications_lost, sensor.notifications_sent

    summary, lost, sent = asyncio.run(main())
    stats = summary["sensors"][0]
    assert lost > 0
    # a loss at the very end cannot be seen (no later packet reveals it)
    assert lost - 1 <= stats["lost_packets"] <= lost
    assert stats["notifications"] == sent
    assert len(read_recording(out).streams["left_shank"]) == stats["samples"]


# -- clock mapping and rate check through the session's own decoding path (no radio) ---------------

class _StubSession:
    """What a _SensorLink needs of its session: a clock origin, a sink and a place for notes."""

    t0_monotonic = 0.0
    gap_min_s = 0.25
    on_samples = None
    on_block = None

    def __init__(self):
        self.notes, self.times = [], []
        self.sink = self

    def push(self, name, t, acc, gyr):
        self.times.append(np.asarray(t))

    def note(self, text):
        self.notes.append(text)


def _stream_through_link(profile_name, asked_hz, sent_hz, seed, per_note, latency_s=(0.005, 0.035),
                         duration_s=3.0):
    """Encode a steady stream at `sent_hz`, deliver it with random latency (in order, as BLE
    does) to a link that asked for `asked_hz`; return (link, stub session, true times)."""
    from imu_knee.ble.profiles import get_profile
    from imu_knee.ble.session import SensorSpec, _SensorLink

    profile = get_profile(profile_name)
    rng = np.random.default_rng(seed)
    session = _StubSession()
    link = _SensorLink(session, SensorSpec("left_shank", profile, "C0:00:00:00:00:01", asked_hz))
    link._decoder = link._fresh_decoder(asked_hz)
    encoder = profile.new_encoder(sent_hz, mtu=247)
    n = int(duration_s * sent_hz)
    t_true = 5.0 + np.arange(n) / sent_hz
    acc = np.column_stack([np.sin(t_true), np.cos(t_true), 9.81 + 0 * t_true])
    gyr = np.column_stack([50 * np.sin(3 * t_true), 0 * t_true, 10 + 0 * t_true])
    last_arrival = 0.0
    for i in range(0, n - per_note + 1, per_note):
        sl = slice(i, i + per_note)
        send_s = t_true[sl][-1]
        for note in encoder.encode(acc[sl], gyr[sl], 1000.0 + t_true[sl] - 5.0):
            last_arrival = max(last_arrival, send_s + rng.uniform(*latency_s))
            link.decode_one(note.char_uuid, note.payload, last_arrival)
    link.end_warmup()
    return link, session, t_true[: (n // per_note) * per_note]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), profile_rate=st.sampled_from([("witmotion", 100.0), ("witmotion", 200.0),
                                                                 ("movesense", 104.0), ("imu-knee", 200.0),
                                                                 ("imu-knee", 100.0)]),
       per_note=st.integers(1, 6))
def test_mapped_times_are_evenly_spaced_from_the_first_notification_on(seed, profile_rate, per_note):
    profile_name, rate = profile_rate
    link, session, t_true = _stream_through_link(profile_name, rate, rate, seed, per_note)
    t = np.concatenate(session.times)
    assert len(t) == len(t_true)  # nothing dropped
    dt = np.diff(t)
    assert np.all(np.abs(dt * rate - 1.0) <= 0.10)  # within ±10 % of the period, first samples too
    delay = t - t_true  # the mapping may be late by the least latency seen, never early
    assert delay.min() >= 0.0 and delay.max() <= 0.035 + 0.002  # latency 5-35 ms, device stamps to 1 ms
    assert not session.notes


@pytest.mark.parametrize("profile_name,asked,sent", [("witmotion", 100.0, 200.0), ("movesense", 104.0, 208.0),
                                                     ("imu-knee", 200.0, 100.0)])
def test_a_sensor_sending_another_rate_is_recorded_at_its_real_rate_with_a_note(profile_name, asked, sent):
    link, session, t_true = _stream_through_link(profile_name, asked, sent, seed=1, per_note=4)
    assert link.rate_hz == sent
    assert len(session.notes) == 1
    assert f"not the {asked:g} Hz asked for; recording it at {sent:g} Hz" in session.notes[0]
    t = np.concatenate(session.times)
    assert len(t) == len(t_true)
    np.testing.assert_allclose(np.diff(t), 1.0 / sent, rtol=0.10)
    assert t[-1] - t[0] == pytest.approx(t_true[-1] - t_true[0], abs=0.02)


# -- bad input through the virtual link ------------------------------------------------------------

def _virtual_session(out, sensors: dict, duration_s: float, **kwargs):
    """Record {placement: (VirtualSensor factory(radio), profile)} for `duration_s`; returns
    (summary, {placement: sensor}). Sensors whose factory is None are absent addresses."""
    from imu_knee.ble.bumble_backend import BumbleClient
    from imu_knee.ble.session import RecordingSession, SensorSpec
    from imu_knee.ble.virtual import VirtualRadio

    async def main():
        radio = VirtualRadio()
        made, specs = {}, []
        for place, (factory, profile) in sensors.items():
            if factory is None:
                specs.append(SensorSpec(place, profile, "C0:00:00:00:77:77"))
                continue
            made[place] = factory(radio)
            await made[place].start()
            specs.append(SensorSpec(place, profile, made[place].address))
        session = RecordingSession(specs, out, client_kwargs={"backend": BumbleClient, "radio": radio},
                                   connect_timeout_s=1.0, setup_timeout_s=1.0, **kwargs)
        try:
            return await session.run(duration_s=duration_s), made
        finally:
            for sensor in made.values():
                await sensor.close()

    return asyncio.run(main())


def _assert_rows_equal_source(out, name, profile, stream, rate_hz):
    acc_lsb, gyr_lsb = profile.resolution(profile.settings(rate_hz))
    got = read_recording(out).streams[name]
    n = len(got)
    assert n > 0
    np.testing.assert_allclose(got.acc_mps2, stream.acc_mps2[:n], atol=acc_lsb * 0.51 + 1e-4)
    np.testing.assert_allclose(got.gyr_dps, stream.gyr_dps[:n], atol=gyr_lsb * 0.51 + 1e-3)
    assert np.all(np.abs(np.diff(got.t_s) * rate_hz - 1) < 0.1)
    return got


@pytest.mark.parametrize("profile_name", ["imu-knee", "witmotion"])
def test_truncated_oversized_and_garbage_notifications_are_skipped_and_reported(tmp_path, profile_name):
    from imu_knee.ble.profiles import get_profile
    from imu_knee.ble.virtual.sensor import VirtualSensor

    profile = get_profile(profile_name)
    rec = synthetic_recording(2.0, names=("left_shank",))
    stream = rec.streams["left_shank"]
    rng = np.random.default_rng(7)

    class GarbageSensor(VirtualSensor):
        """After every third data notification: a truncated, an oversized or a random one."""

        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            self.garbage_sent = 0
            self._real_notify, self._count = self.peripheral.notify, 0
            self.peripheral.notify = self._notify

        async def _notify(self, uuid, data):
            sent = await self._real_notify(uuid, data)
            if uuid == self._data_uuid and self.streaming and len(data) > 8:
                self._count += 1
                kind = self._count % 9
                bad = {3: data[:len(data) - 7], 6: data + bytes(range(1, 8)),
                       0: bytes([0xAA]) + rng.integers(0, 256, 30, dtype=np.uint8).tobytes()}.get(kind)
                if bad is not None:
                    await self._real_notify(uuid, bad)
                    self.garbage_sent += 1
            return sent

    out = tmp_path / "out.csv"
    notes = []
    summary, made = _virtual_session(
        out, {"left_shank": (lambda radio: GarbageSensor(profile, stream, radio=radio), profile)}, 3.0,
        on_note=notes.append)
    stats = summary["sensors"][0]
    garbage = made["left_shank"].garbage_sent
    assert garbage >= 5
    assert stats["decode_errors"] == garbage
    assert stats["lost_packets"] == 0
    assert sum("does not decode" in n for n in notes) == 1  # said once, counted always
    rate = float(profile.settings().rate_hz)
    got = _assert_rows_equal_source(out, "left_shank", profile, stream if rate == 100 else _resampled(stream, rate), rate)
    assert len(got) == stats["samples"] == made["left_shank"].samples_sent  # every good sample is in the file


def _resampled(stream, rate_hz):
    from imu_knee.ble.virtual.sensor import resample
    from imu_knee.recording import SensorStream

    t, acc = resample(stream.t_s, stream.acc_mps2, rate_hz)
    _, gyr = resample(stream.t_s, stream.gyr_dps, rate_hz)
    return SensorStream(stream.name, t, acc, gyr, rate_hz)


def test_a_sensor_that_never_answers_the_start_command_is_reported_and_the_other_records(tmp_path):
    from imu_knee.ble.profiles import get_profile
    from imu_knee.ble.virtual.sensor import VirtualSensor

    profile = get_profile("imu-knee")
    rec = synthetic_recording(2.0, names=("left_shank", "right_shank"))

    class Mute(VirtualSensor):
        """Takes the start command but never acknowledges it (the write never completes)."""

        async def _on_write(self, char_uuid, data):
            if data in self._table.start:
                await asyncio.sleep(3.0)
            return await super()._on_write(char_uuid, data)

    out = tmp_path / "out.csv"
    notes = []
    summary, made = _virtual_session(out, {
        "left_shank": (lambda radio: Mute(profile, rec.streams["left_shank"], radio=radio), profile),
        "right_shank": (lambda radio: VirtualSensor(profile, rec.streams["right_shank"], radio=radio), profile),
    }, 2.5, on_note=notes.append)
    left, right = summary["sensors"]
    assert left["failed"] and "no answer within 1 s" in left["failed"]
    assert any(n.startswith("left_shank: cannot record it (no answer") for n in notes)
    got = read_recording(out)
    assert set(got.streams) == {"right_shank"}
    assert len(got.streams["right_shank"]) == right["samples"] > 50
    _assert_rows_equal_source(out, "right_shank", profile, _resampled(rec.streams["right_shank"], 200.0), 200.0)


def test_a_connected_sensor_that_sends_nothing_does_not_hold_back_the_others_rows(tmp_path):
    from imu_knee.ble.profiles import get_profile
    from imu_knee.ble.virtual.sensor import VirtualSensor

    profile = get_profile("movesense")
    rec = synthetic_recording(4.0, names=("left_shank", "right_shank"))

    class Silent(VirtualSensor):
        async def _start_streaming(self):  # acknowledges everything, streams nothing
            return None

    out = tmp_path / "out.csv"
    notes, rows_seen = [], []

    async def watch():  # the file must grow while the session runs
        await asyncio.sleep(0.8)
        rows_seen.append(sum(1 for _ in open(out)) if out.exists() else 0)

    summary, _ = _virtual_session(out, {
        "left_shank": (lambda radio: Silent(profile, rec.streams["left_shank"], radio=radio), profile),
        "right_shank": (lambda radio: VirtualSensor(profile, rec.streams["right_shank"], radio=radio), profile),
    }, 3.5, on_note=lambda n: (notes.append(n), asyncio.ensure_future(watch()) if "no data" in n else None))
    assert any(n.startswith("left_shank: no data since it connected") for n in notes)
    assert rows_seen and rows_seen[0] > 100  # written during the session, not only at the end
    left, right = summary["sensors"]
    assert left["samples"] == 0 and not left["failed"]
    got = read_recording(out)
    assert len(got.streams["right_shank"]) == right["samples"]


def test_a_virtual_sensor_streaming_another_rate_is_recorded_at_that_rate(tmp_path):
    from imu_knee.ble.profiles import get_profile
    from imu_knee.ble.virtual.sensor import VirtualSensor

    profile = get_profile("witmotion")
    rec = synthetic_recording(2.5, names=("left_shank",))

    class Stubborn(VirtualSensor):
        """Ignores the rate register: always streams at 200 Hz."""

        def _new_encoder(self, keep=True):
            self._wanted["rate_hz"] = 200.0
            return super()._new_encoder(keep)

    out = tmp_path / "out.csv"
    notes = []
    summary, made = _virtual_session(out, {"left_shank": (
        lambda radio: Stubborn(profile, rec.streams["left_shank"], radio=radio), profile)}, 3.0,
        on_note=notes.append)
    assert summary["sensors"][0]["rate_hz"] == 200 and summary["sensors"][0]["asked_rate_hz"] == 100
    assert any("not the 100 Hz asked for; recording it at 200 Hz" in n for n in notes)
    got = _assert_rows_equal_source(out, "left_shank", profile, _resampled(rec.streams["left_shank"], 200.0), 200.0)
    assert got.rate_hz == 200  # the file's header says the real rate
    assert len(got) == made["left_shank"].samples_sent


def test_an_absent_address_is_reported_and_the_present_sensor_records(tmp_path):
    from imu_knee.ble.profiles import get_profile
    from imu_knee.ble.virtual.sensor import VirtualSensor

    profile = get_profile("imu-knee")
    rec = synthetic_recording(2.0, names=("right_shank",))
    out = tmp_path / "out.csv"
    notes = []
    summary, made = _virtual_session(out, {
        "left_shank": (None, profile),
        "right_shank": (lambda radio: VirtualSensor(profile, rec.streams["right_shank"], radio=radio), profile),
    }, 2.5, on_note=notes.append)
    assert any(n.startswith("left_shank: cannot record it (") and "C0:00:00:00:77:77" in n for n in notes)
    assert set(read_recording(out).streams) == {"right_shank"}
    assert len(read_recording(out).streams["right_shank"]) == summary["sensors"][1]["samples"] > 50


def test_live_with_real_sensors_but_no_bluetooth_says_so_in_one_line(tmp_path, capsys):
    from imu_knee.cli import main

    out = tmp_path / "o.csv"
    # no Bluetooth adapter here and no such sensor: one clear line, exit code 2, no file
    assert main(["live", "--sensor", "left_shank=movesense@C0:00:00:00:77:77", "--out", str(out),
                 "--duration", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("imu-knee: ") and "Traceback" not in err
    assert not out.exists()


def test_battery_level_read_at_connect_and_followed_by_notification(tmp_path):
    """Devices with the standard Battery Service report it in the link's stats (read at
    connect, then notified); a device without one reports None, and both stream the same."""
    from imu_knee.ble.bumble_backend import BumbleClient
    from imu_knee.ble.profiles import get_profile
    from imu_knee.ble.session import RecordingSession, SensorSpec
    from imu_knee.ble.virtual import VirtualRadio
    from imu_knee.ble.virtual.sensor import VirtualSensor

    rec = synthetic_recording(2.0)
    profiles = {"left_shank": get_profile("thingy52"), "right_shank": get_profile("witmotion")}
    seen: dict[str, list] = {}

    async def main():
        radio = VirtualRadio()
        sensors = {name: VirtualSensor(profiles[name], rec.streams[name], radio=radio, battery_percent=64)
                   for name in profiles}
        for sensor in sensors.values():
            await sensor.start()
        session = RecordingSession(
            [SensorSpec(name, profiles[name], sensors[name].address) for name in profiles],
            tmp_path / "out.csv", client_kwargs={"backend": BumbleClient, "radio": radio})

        async def battery_drains():
            while not session.links or not all(link.stats.samples for link in session.links):
                await asyncio.sleep(0.05)
            seen["at_connect"] = [link.stats.battery_percent for link in session.links]
            await sensors["left_shank"].set_battery(63)
            await asyncio.sleep(0.3)
            seen["after_notify"] = [link.stats.battery_percent for link in session.links]

        watcher = asyncio.ensure_future(battery_drains())
        try:
            return await session.run(duration_s=1.6)
        finally:
            await watcher
            for sensor in sensors.values():
                await sensor.close()

    summary = asyncio.run(main())
    assert seen["at_connect"] == [64, None]
    assert seen["after_notify"] == [63, None]
    by_name = {s["placement"]: s for s in summary["sensors"]}
    assert by_name["left_shank"]["battery_percent"] == 63
    assert by_name["right_shank"]["battery_percent"] is None
    assert all(s["samples"] > 100 for s in summary["sensors"])


@settings(max_examples=60, deadline=None)
@given(payload=st.binary(max_size=4))
def test_battery_level_parser_takes_one_byte_percent_and_nothing_else(payload):
    from imu_knee.ble.profiles.base import battery_percent

    level = battery_percent(payload)
    if payload and payload[0] <= 100:
        assert level == payload[0]
    else:
        assert level is None
