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
