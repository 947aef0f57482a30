"""The bleak backend over Bumble: real bleak API against virtual peripherals, in process."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

pytest.importorskip("bumble")
bleak = pytest.importorskip("bleak")

from bleak import BleakClient, BleakScanner  # noqa: E402
from bleak.exc import BleakDeviceNotFoundError, BleakError  # noqa: E402

from imu_knee.ble.bumble_backend import BumbleClient, BumbleScanner  # noqa: E402
from imu_knee.ble.virtual import CharSpec, ServiceSpec, VirtualPeripheral, VirtualRadio  # noqa: E402

SERVICE = "0000ffe5-0000-1000-8000-00805f9a34fb"
NOTIFY = "0000ffe4-0000-1000-8000-00805f9a34fb"
WRITE = "0000ffe9-0000-1000-8000-00805f9a34fb"
OTHER_SERVICE = "34802252-7185-4d5d-b431-630e7050e8f0"
OTHER_NOTIFY = "34800002-7185-4d5d-b431-630e7050e8f0"
OTHER_WRITE = "34800001-7185-4d5d-b431-630e7050e8f0"
BATTERY = "00002a19-0000-1000-8000-00805f9b34fb"


def run(coro, timeout_s: float = 20.0):
    async def bounded():
        async with asyncio.timeout(timeout_s):
            return await coro
    return asyncio.run(bounded())


def echo_peripheral(radio, name, service, notify, write, transform=lambda b: b[::-1]):
    """A peripheral that answers every write by notifying transform(data)."""
    spec = ServiceSpec(service, [
        CharSpec(notify, {"notify"}),
        CharSpec(write, {"write", "write-without-response"}),
        CharSpec(BATTERY, {"read"}, b"\x57"),
    ])
    holder = {}

    async def on_write(char_uuid, data):
        await holder["p"].notify(notify, transform(data))

    holder["p"] = VirtualPeripheral(radio, name, [spec], on_write=on_write)
    return holder["p"]


def test_scan_finds_two_peripherals_with_name_address_rssi_and_services():
    async def main():
        radio = VirtualRadio()
        a = echo_peripheral(radio, "WT901BLE68", SERVICE, NOTIFY, WRITE)
        b = echo_peripheral(radio, "Movesense 1234", OTHER_SERVICE, OTHER_NOTIFY, OTHER_WRITE)
        await a.start()
        await b.start()
        found = await BleakScanner.discover(0.15, return_adv=True, backend=BumbleScanner, radio=radio)
        only_b = await BleakScanner.discover(
            0.15, return_adv=True, service_uuids=[OTHER_SERVICE], backend=BumbleScanner, radio=radio)
        by_name = await BleakScanner.find_device_by_name(
            "Movesense 1234", timeout=1.0, backend=BumbleScanner, radio=radio)
        return a, b, found, only_b, by_name

    a, b, found, only_b, by_name = run(main())
    assert set(found) == {a.address, b.address}
    dev_a, adv_a = found[a.address]
    dev_b, adv_b = found[b.address]
    assert (dev_a.name, adv_a.local_name) == ("WT901BLE68", "WT901BLE68")
    assert adv_a.service_uuids == [SERVICE]
    assert adv_b.service_uuids == [OTHER_SERVICE]
    assert isinstance(adv_a.rssi, int) and -127 <= adv_a.rssi <= 20
    assert set(only_b) == {b.address}
    assert by_name is not None and by_name.address == b.address


def test_connect_discover_read_write_notify_round_trip_exact_bytes():
    async def main():
        radio = VirtualRadio()
        p = echo_peripheral(radio, "WT901BLE68", SERVICE, NOTIFY, WRITE)
        await p.start()
        dev = await BleakScanner.find_device_by_address(p.address, timeout=1.0, backend=BumbleScanner, radio=radio)
        got: list[bytes] = []
        senders = []
        async with BleakClient(dev, backend=BumbleClient) as client:
            service = client.services.get_service(SERVICE)
            chars = {c.uuid: c for c in service.characteristics}
            battery = await client.read_gatt_char(BATTERY)

            def on_note(sender, data):
                senders.append(sender.uuid)
                got.append(bytes(data))

            await client.start_notify(NOTIFY, on_note)
            rng = random.Random(7)
            sent = [bytes(rng.randrange(256) for _ in range(n)) for n in (1, 5, 20, 64, 120, 244)]
            for i, payload in enumerate(sent):
                await client.write_gatt_char(WRITE, payload, response=i % 2 == 0)
            for _ in range(50):
                if len(got) == len(sent):
                    break
                await asyncio.sleep(0.01)
            await client.stop_notify(NOTIFY)
            after_stop = await p.notify(NOTIFY, b"\x01\x02")
            await asyncio.sleep(0.02)
            name = client.name
        return p, chars, battery, sent, got, senders, after_stop, name

    p, chars, battery, sent, got, senders, after_stop, name = run(main())
    assert set(chars) == {NOTIFY, WRITE, BATTERY}
    assert chars[NOTIFY].properties == ["notify"]
    assert set(chars[WRITE].properties) == {"write", "write-without-response"}
    assert [d.uuid for d in chars[NOTIFY].descriptors] == ["00002902-0000-1000-8000-00805f9b34fb"]
    assert battery == bytearray(b"\x57")
    assert [w for _, w in p.writes] == sent          # the peripheral saw the exact bytes, in order
    assert got == [s[::-1] for s in sent]             # and the client got its exact answers
    assert set(senders) == {NOTIFY}
    assert after_stop == 0                            # unsubscribed: nothing sent
    assert name == "WT901BLE68"


def test_two_clients_stream_at_once_without_cross_talk():
    n_notes = 200

    async def client_run(dev, notify_uuid, peripheral, tag):
        got = []
        async with BleakClient(dev, backend=BumbleClient) as client:
            await client.start_notify(notify_uuid, lambda _s, d: got.append(bytes(d)))
            await peripheral.wait_subscribed(notify_uuid)
            for i in range(n_notes):
                await peripheral.notify(notify_uuid, tag + i.to_bytes(2, "little"))
                if i % 20 == 0:
                    await asyncio.sleep(0)
            for _ in range(100):
                if len(got) == n_notes:
                    break
                await asyncio.sleep(0.01)
        return got

    async def main():
        radio = VirtualRadio()
        a = echo_peripheral(radio, "left", SERVICE, NOTIFY, WRITE)
        b = echo_peripheral(radio, "right", OTHER_SERVICE, OTHER_NOTIFY, OTHER_WRITE)
        await a.start()
        await b.start()
        found = await BleakScanner.discover(0.15, return_adv=True, backend=BumbleScanner, radio=radio)
        return await asyncio.gather(
            client_run(found[a.address][0], NOTIFY, a, b"L"),
            client_run(found[b.address][0], OTHER_NOTIFY, b, b"R"),
        )

    got_a, got_b = run(main())
    assert got_a == [b"L" + i.to_bytes(2, "little") for i in range(n_notes)]
    assert got_b == [b"R" + i.to_bytes(2, "little") for i in range(n_notes)]


@pytest.mark.parametrize("att_mtu, expected_mtu", [(247, 247), (185, 185), (None, 23)])
def test_mtu_exchange_sets_notification_size_limit(att_mtu, expected_mtu):
    payload = bytes(range(200))

    async def main():
        radio = VirtualRadio()
        p = echo_peripheral(radio, "WT901BLE68", SERVICE, NOTIFY, WRITE, transform=lambda b: payload)
        await p.start()
        got = []
        async with BleakClient(p.address, backend=BumbleClient, radio=radio, att_mtu=att_mtu) as client:
            mtu = client.mtu_size
            max_wwr = client.services.get_characteristic(WRITE).max_write_without_response_size
            await client.start_notify(NOTIFY, lambda _s, d: got.append(bytes(d)))
            await client.write_gatt_char(WRITE, b"\x00", response=True)
            await asyncio.sleep(0.02)
            server_mtu = p.mtu
        return mtu, max_wwr, server_mtu, got

    mtu, max_wwr, server_mtu, got = run(main())
    assert mtu == server_mtu == expected_mtu
    assert max_wwr == expected_mtu - 3
    assert got == [payload[: min(len(payload), expected_mtu - 3)]]
    if att_mtu is None:
        assert len(got[0]) == 20


def test_peripheral_side_disconnect_reaches_disconnected_callback_and_reconnect_works():
    async def main():
        radio = VirtualRadio()
        p = echo_peripheral(radio, "WT901BLE68", SERVICE, NOTIFY, WRITE)
        await p.start()
        lost = asyncio.Event()
        calls = []

        def on_disconnect(client):
            calls.append(client)
            lost.set()

        client = BleakClient(p.address, on_disconnect, backend=BumbleClient, radio=radio)
        await client.connect()
        connected_before = client.is_connected
        t0 = time.perf_counter()
        await p.drop_connection(come_back_after_s=None)
        await asyncio.wait_for(lost.wait(), 2.0)
        reported_after_s = time.perf_counter() - t0
        gone = not client.is_connected and not p.connected
        with pytest.raises(BleakError):
            await client.write_gatt_char(WRITE, b"\x00", response=True)
        # the sensor stays silent: connecting times out; then it comes back and it works
        quiet = BleakClient(p.address, backend=BumbleClient, radio=radio, timeout=0.2)
        with pytest.raises((asyncio.TimeoutError, TimeoutError)):
            await quiet.connect()
        await p.start()
        await client.connect()
        got = []
        await client.start_notify(NOTIFY, lambda _s, d: got.append(bytes(d)))
        await client.write_gatt_char(WRITE, b"\x01\x02", response=True)
        await asyncio.sleep(0.02)
        await client.disconnect()  # a disconnect we asked for is reported too (as on BlueZ)
        await asyncio.sleep(0.02)
        return connected_before, gone, reported_after_s, calls, client, got, p.connected

    before, gone, reported_after_s, calls, client, got, still = run(main())
    assert before and gone
    assert reported_after_s < 0.5
    assert len(calls) == 2 and calls[0] is client
    assert got == [b"\x02\x01"]
    assert not still


def test_unknown_address_is_device_not_found():
    async def main():
        radio = VirtualRadio()
        with pytest.raises(BleakDeviceNotFoundError):
            await BleakClient("C0:00:00:00:99:99", backend=BumbleClient, radio=radio).connect()

    run(main())


def test_notification_throughput_is_enough_for_two_200_hz_sensors():
    """Packets of one 20-byte sample each: the link must carry far more than 2 × 200/s."""
    n_notes = 1000

    async def main():
        radio = VirtualRadio()
        p = echo_peripheral(radio, "WT901BLE68", SERVICE, NOTIFY, WRITE)
        await p.start()
        got = []
        async with BleakClient(p.address, backend=BumbleClient, radio=radio) as client:
            await client.start_notify(NOTIFY, lambda _s, d: got.append(time.perf_counter()))
            t0 = time.perf_counter()
            for i in range(n_notes):
                await p.notify(NOTIFY, bytes(20))
            while len(got) < n_notes and time.perf_counter() - t0 < 5:
                await asyncio.sleep(0.005)
        return len(got) / (got[-1] - t0), len(got)

    rate, count = run(main())
    assert count == n_notes
    assert rate > 400.0


# -- virtual sensors serving the device profiles -------------------------------------------------

import math  # noqa: E402

import numpy as np  # noqa: E402

from imu_knee.recording import SensorStream  # noqa: E402


def synthetic_stream(rate_hz: float = 100.0, duration_s: float = 0.6) -> SensorStream:
    """Smooth, non-trivial motion inside every device's range (±8 g, ±1000 deg/s)."""
    t = np.arange(int(round(rate_hz * duration_s))) / rate_hz
    acc = np.column_stack([3 * np.sin(2 * np.pi * 1.3 * t), -2 * np.cos(2 * np.pi * 0.7 * t),
                           9.81 + 4 * np.sin(2 * np.pi * 2.1 * t)])
    gyr = np.column_stack([300 * np.sin(2 * np.pi * 1.1 * t), -150 * np.cos(2 * np.pi * 1.7 * t),
                           80 * np.sin(2 * np.pi * 0.5 * t)])
    return SensorStream("left_shank", t, acc, gyr, rate_hz)


def load_profile(name):
    from imu_knee.ble.profiles import get_profile
    try:
        return get_profile(name)
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        pytest.skip(f"profile {name} not available yet: {exc}")


def other_rate(profile) -> float:
    """A supported rate near 50 Hz that differs from the configured default."""
    default = float(profile.config["rate_hz"])
    choices = [r for r in profile.rates_hz if not math.isclose(r, default)] or [default]
    return min(choices, key=lambda r: abs(r - 50.0))


async def stream_through_bleak(radio, sensor, profile, rate_hz, stop_after=None):
    """Connect with bleak, configure and start as a real client would; collect notifications."""
    from bleak import BleakClient
    received = []
    async with BleakClient(sensor.address, backend=BumbleClient, radio=radio) as client:
        for command in profile.setup_commands(rate_hz=rate_hz):
            await client.write_gatt_char(command.char_uuid, command.data, response=True)
        for uuid in profile.notify_uuids:
            await client.start_notify(uuid, lambda ch, d: received.append((ch.uuid, bytes(d), time.perf_counter())))
        t0 = time.perf_counter()
        for command in profile.start_commands(rate_hz=rate_hz):
            await client.write_gatt_char(command.char_uuid, command.data, response=True)
        if stop_after is None:
            await asyncio.wait_for(sensor.finished.wait(), 5.0)
            await asyncio.sleep(0.02)
        else:
            await asyncio.sleep(stop_after)
            for command in profile.stop_commands():
                await client.write_gatt_char(command.char_uuid, command.data, response=True)
            for uuid in profile.notify_uuids:
                await client.stop_notify(uuid)
            count_at_stop = len(received)
            await asyncio.sleep(0.1)
            assert len(received) == count_at_stop  # stopped means stopped
        mtu = client.mtu_size
    return received, t0, mtu


def decode_all(profile, rate_hz, received):
    from imu_knee.ble.profiles import stack_samples
    decoder = profile.new_decoder(rate_hz=rate_hz)
    out = []
    for uuid, data, arrival in received:
        out += decoder.feed(uuid, data, arrival)
    out += decoder.flush()
    return stack_samples(out)


@pytest.mark.parametrize("name", ["witmotion", "metamotion", "movesense", "polar", "thingy52", "imu-knee"])
def test_virtual_sensor_speaks_the_profile_protocol_through_bleak(name):
    from imu_knee.ble.virtual.sensor import VirtualSensor, resample
    profile = load_profile(name)
    rate = other_rate(profile)
    stream = synthetic_stream(100.0, 0.6)

    async def main():
        radio = VirtualRadio()
        async with VirtualSensor(profile, stream, realtime=False, radio=radio) as sensor:
            received, _, mtu = await stream_through_bleak(radio, sensor, profile, rate)
            return received, sensor.settings, sensor.samples_sent, mtu

    received, settings, sent, mtu = run(main())
    assert math.isclose(settings.rate_hz, rate)          # the sensor followed the client's commands
    assert all(len(d) <= mtu - 3 for _, d, _ in received)
    got = decode_all(profile, rate, received)
    if math.isclose(rate, 100.0):
        ref_acc, ref_gyr = stream.acc_mps2, stream.gyr_dps
    else:
        _, ref_acc = resample(stream.t_s, stream.acc_mps2, rate)
        _, ref_gyr = resample(stream.t_s, stream.gyr_dps, rate)
    assert len(got) == sent == len(ref_acc)
    acc_lsb, gyr_lsb = profile.resolution(settings)
    np.testing.assert_allclose(got.acc_mps2, ref_acc, atol=acc_lsb * 0.51 + 1e-5)
    np.testing.assert_allclose(got.gyr_dps, ref_gyr, atol=gyr_lsb * 0.51 + 1e-4)
    if profile.has_device_clock:
        dt = np.diff(got.device_t_s)
        np.testing.assert_allclose(dt, 1.0 / rate, atol=1.5e-3)


def test_virtual_sensor_streams_at_real_time_and_stop_command_stops_it():
    from imu_knee.ble.virtual.sensor import VirtualSensor
    profile = load_profile("movesense")
    stream = synthetic_stream(100.0, 2.0)

    async def main():
        radio = VirtualRadio()
        async with VirtualSensor(profile, stream, realtime=True, radio=radio) as sensor:
            return await stream_through_bleak(radio, sensor, profile, 52.0, stop_after=0.5)

    received, t0, _ = run(main())
    got = decode_all(profile, 52.0, received)
    lag_s = got.arrival_s - t0 - (got.device_t_s - got.device_t_s[0])
    # 0.5 s of streaming at 52 Hz: about 26 samples, each at most one batch (≤ 0.06 s) late
    assert 20 <= len(got) <= 30
    assert lag_s.min() > -0.01 and lag_s.max() < 0.12


def test_virtual_sensor_drop_leaves_a_real_gap_and_streaming_resumes():
    from bleak import BleakClient
    from imu_knee.ble.virtual.sensor import VirtualSensor
    profile = load_profile("movesense")
    stream = synthetic_stream(104.0, 3.0)

    async def main():
        radio = VirtualRadio()
        received = []
        lost = asyncio.Event()
        async with VirtualSensor(profile, stream, realtime=True, radio=radio) as sensor:
            client = BleakClient(sensor.address, lambda _c: lost.set(), backend=BumbleClient, radio=radio)

            async def start():
                await client.connect()
                await client.start_notify(profile.notify_uuids[0],
                                          lambda ch, d: received.append((ch.uuid, bytes(d), time.perf_counter())))
                for command in profile.start_commands(rate_hz=104.0):
                    await client.write_gatt_char(command.char_uuid, command.data, response=True)

            await start()
            await asyncio.sleep(0.4)
            await sensor.drop_connection(come_back_after_s=0.3)
            await asyncio.wait_for(lost.wait(), 1.0)
            await start()
            await asyncio.sleep(0.4)
            await client.disconnect()
            return received, sensor.samples_skipped

    received, skipped = run(main())
    got = decode_all(profile, 104.0, received)
    gaps = np.diff(got.device_t_s)
    big = gaps[gaps > 0.1]
    assert len(big) == 1                       # one gap on the device clock ...
    assert 0.2 < big[0] < 0.6                  # ... about as long as the sensor was away
    assert skipped == pytest.approx(big[0] * 104.0, abs=8)
    assert np.all(gaps > 0)


# -- smaller pieces ----------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(
    name=st.text(st.characters(min_codepoint=32, max_codepoint=0x2FFF, blacklist_categories=("Cs",)), min_size=1, max_size=12),
    uuids=st.lists(st.one_of(st.integers(0, 0xFFFF).map(lambda v: f"{v:04x}"), st.uuids().map(str)),
                   max_size=3, unique=True),
)
def test_advertising_payload_round_trips_through_the_bleak_parser(name, uuids):
    from types import SimpleNamespace

    from bumble.core import AdvertisingData

    from imu_knee.ble.bumble_backend import advertisement_from_bumble
    from imu_knee.ble.virtual.peripheral import advertising_payload, canonical_uuid

    payload = advertising_payload(name, uuids)
    fake = SimpleNamespace(data=AdvertisingData.from_bytes(payload), rssi=-61)
    adv = advertisement_from_bumble(fake)
    assert adv.local_name == name
    assert sorted(adv.service_uuids) == sorted(canonical_uuid(u) for u in uuids)
    assert adv.rssi == -61


def test_gatt_errors_surface_as_bleak_protocol_errors_and_server_mtu_caps_the_exchange():
    from bleak.exc import BleakGATTProtocolError

    async def main():
        radio = VirtualRadio()
        spec = ServiceSpec(SERVICE, [CharSpec(NOTIFY, {"notify"}), CharSpec(BATTERY, {"read"}, b"\x10")])
        p = VirtualPeripheral(radio, "small", [spec], max_mtu=100)
        await p.start()
        async with BleakClient(p.address, backend=BumbleClient, radio=radio, att_mtu=247) as client:
            with pytest.raises(BleakGATTProtocolError):
                await client.write_gatt_char(BATTERY, b"\x01", response=True)  # read-only
            result = client.mtu_size, p.mtu
        await p.close()
        return result

    assert run(main()) == (100, 100)
