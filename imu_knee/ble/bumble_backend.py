"""A bleak backend over Bumble: the real bleak API, virtual sensors, no Bluetooth hardware.

    from bleak import BleakClient, BleakScanner
    from imu_knee.ble.bumble_backend import BumbleScanner, BumbleClient

    devices = await BleakScanner.discover(0.2, backend=BumbleScanner, radio=radio)
    async with BleakClient(devices[0], backend=BumbleClient) as client:
        await client.start_notify(char_uuid, callback)

Each scanner and each client gets its own Bumble central (host + controller) on the
`VirtualRadio`'s in-memory link, like a separate adapter: clients can start together and
nothing binds a port. `radio=` picks the radio (default: the `BLEDevice.details` of a
scanned device, else `default_radio()`).

Client options beyond bleak's own: `att_mtu=` (default 247) is the ATT MTU the central asks
for right after connecting, as BlueZ, CoreBluetooth and WinRT do; `att_mtu=None` skips the
exchange so the MTU stays 23 and notifications are cut to 20 bytes. `exchange_mtu(n)` on the
backend (``client._backend``) does the exchange later. The disconnected callback runs on
every disconnection, asked for or not (as with BlueZ).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Literal, Optional

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
from bumble import att
from bumble.core import AdvertisingData
from bumble.device import Peer
from bumble.gatt import Characteristic
from bumble.hci import Address

from .virtual.peripheral import bumble_uuid_text
from .virtual.radio import VirtualDeviceDetails, VirtualRadio, default_radio

logger = logging.getLogger(__name__)

DEFAULT_ATT_MTU = 247
SCAN_INTERVAL_MS = 20.0

_PROPERTY_NAMES = (
    (Characteristic.Properties.BROADCAST, "broadcast"),
    (Characteristic.Properties.READ, "read"),
    (Characteristic.Properties.WRITE_WITHOUT_RESPONSE, "write-without-response"),
    (Characteristic.Properties.WRITE, "write"),
    (Characteristic.Properties.NOTIFY, "notify"),
    (Characteristic.Properties.INDICATE, "indicate"),
    (Characteristic.Properties.AUTHENTICATED_SIGNED_WRITES, "authenticated-signed-writes"),
    (Characteristic.Properties.EXTENDED_PROPERTIES, "extended-properties"),
)


def _radio_for(target: Any, radio: VirtualRadio | None) -> VirtualRadio:
    if radio is not None:
        return radio
    details = getattr(target, "details", None)
    if isinstance(details, VirtualDeviceDetails):
        return details.radio
    return default_radio()


def advertisement_from_bumble(advertisement: Any) -> AdvertisementData:
    """bleak's AdvertisementData from a Bumble advertisement report."""
    local_name: str | None = None
    manufacturer: dict[int, bytes] = {}
    service_data: dict[str, bytes] = {}
    uuids: list[str] = []
    tx_power: int | None = None
    for ad_type, value in advertisement.data.ad_structures:
        if ad_type in (AdvertisingData.COMPLETE_LOCAL_NAME, AdvertisingData.SHORTENED_LOCAL_NAME):
            if local_name is None or ad_type == AdvertisingData.COMPLETE_LOCAL_NAME:
                local_name = value.decode("utf-8", errors="replace")
        elif ad_type in (
            AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
            AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
        ):
            for i in range(0, len(value) - 1, 2):
                uuids.append(f"{int.from_bytes(value[i:i + 2], 'little'):08x}-0000-1000-8000-00805f9b34fb")
        elif ad_type in (
            AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
            AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
        ):
            for i in range(0, len(value) - 15, 16):
                raw = value[i:i + 16][::-1].hex()
                uuids.append(f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}")
        elif ad_type == AdvertisingData.MANUFACTURER_SPECIFIC_DATA and len(value) >= 2:
            manufacturer[int.from_bytes(value[:2], "little")] = bytes(value[2:])
        elif ad_type == AdvertisingData.SERVICE_DATA_16_BIT_UUID and len(value) >= 2:
            key = f"{int.from_bytes(value[:2], 'little'):08x}-0000-1000-8000-00805f9b34fb"
            service_data[key] = bytes(value[2:])
        elif ad_type == AdvertisingData.TX_POWER_LEVEL and value:
            tx_power = int.from_bytes(value[:1], "little", signed=True)
    return AdvertisementData(
        local_name=local_name,
        manufacturer_data=manufacturer,
        service_data=service_data,
        service_uuids=list(dict.fromkeys(uuids)),  # Bumble merges ADV + SCAN_RSP: drop repeats
        tx_power=tx_power,
        rssi=int(advertisement.rssi),
        platform_data=(advertisement,),
    )


class BumbleScanner(BaseBleakScanner):
    """bleak scanner backend: a Bumble central scanning a `VirtualRadio`."""

    def __init__(
        self,
        detection_callback: Optional[AdvertisementDataCallback],
        service_uuids: Optional[list[str]],
        scanning_mode: Literal["active", "passive"] = "active",
        *,
        radio: VirtualRadio | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._scanning_mode = scanning_mode
        self._radio_arg = radio
        self._radio: VirtualRadio | None = None
        self._device = None

    async def start(self) -> None:
        self.seen_devices = {}
        if self._device is not None:
            return
        self._radio = _radio_for(None, self._radio_arg)
        device = self._radio.new_host("bleak-scanner")
        await device.power_on()
        device.on("advertisement", self._on_advertisement)
        await device.start_scanning(
            active=self._scanning_mode == "active", scan_interval=SCAN_INTERVAL_MS,
            scan_window=SCAN_INTERVAL_MS, filter_duplicates=False,
        )
        self._device = device

    async def stop(self) -> None:
        device, self._device = self._device, None
        if device is None or self._radio is None:
            return
        try:
            await device.stop_scanning()
        finally:
            self._radio.release_host(device)

    def _on_advertisement(self, advertisement: Any) -> None:
        adv = advertisement_from_bumble(advertisement)
        if not self.is_allowed_uuid(adv.service_uuids):
            return
        address = str(advertisement.address).split("/")[0].upper()
        assert self._radio is not None
        device = self.create_or_update_device(
            address, address, adv.local_name, VirtualDeviceDetails(self._radio, address), adv
        )
        self.call_detection_callbacks(device, adv)


class BumbleClient(BaseBleakClient):
    """bleak client backend: a Bumble central connecting over a `VirtualRadio`."""

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        services: set[str] | None = None,
        radio: VirtualRadio | None = None,
        att_mtu: int | None = DEFAULT_ATT_MTU,
        **kwargs: Any,
    ) -> None:
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout)
        self.address = self.address.upper()
        self._radio = _radio_for(address_or_ble_device, radio)
        self._device_name = getattr(address_or_ble_device, "name", None)
        self._service_filter = set(services) if services else None
        self._att_mtu_wanted = att_mtu
        self._host = None
        self._connection = None
        self._peer: Peer | None = None
        self._subscribers: dict[int, Callable[[bytes], None]] = {}
        self._disconnected = asyncio.Event()

    # -- info ------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        peripheral = self._radio.peripheral(self.address)
        if peripheral is not None:
            return peripheral.name
        return self._device_name or self.address.replace(":", "-")

    @property
    def mtu_size(self) -> int:
        if self._connection is None:
            return 23
        return int(self._connection.att_mtu)

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    # -- connection ------------------------------------------------------------------------
    async def connect(self, pair: bool = False, **kwargs: Any) -> None:
        if self._connection is not None:
            return
        if self._radio.peripheral(self.address) is None:
            raise BleakDeviceNotFoundError(self.address, f"Device with address {self.address} was not found.")
        host = self._radio.new_host("bleak-client")
        self._host = host
        attempt: asyncio.Future | None = None
        try:
            await host.power_on()
            # Our own timeout: Bumble's cancels the attempt in a way that surfaces as CancelledError.
            attempt = asyncio.ensure_future(host.connect(Address(self.address), timeout=None))
            done, _ = await asyncio.wait({attempt}, timeout=self._timeout)
            if not done:
                raise asyncio.TimeoutError(f"no connection to {self.address} within {self._timeout:g} s")
            connection = attempt.result()
        except BaseException:
            if attempt is not None and not attempt.done():
                attempt.cancel()
                await asyncio.gather(attempt, return_exceptions=True)
            self._radio.release_host(host)
            self._host = None
            raise
        self._connection = connection
        self._disconnected.clear()
        connection.on("disconnection", self._on_disconnection)
        try:
            self._peer = Peer(connection)
            if self._att_mtu_wanted is not None and self._att_mtu_wanted > 23:
                await self.exchange_mtu(self._att_mtu_wanted)
            self.services = await self._discover()
        except BaseException:
            await self.disconnect()
            raise

    async def exchange_mtu(self, mtu: int) -> int:
        """ATT MTU exchange (once per connection); returns the MTU both sides agreed."""
        peer = self._require_peer()
        return int(await peer.request_mtu(mtu))

    async def _discover(self) -> BleakGATTServiceCollection:
        peer = self._require_peer()
        collection = BleakGATTServiceCollection()
        for service in await peer.discover_services():
            service_uuid = bumble_uuid_text(service.uuid)
            if self._service_filter is not None and service_uuid not in self._service_filter:
                continue
            bleak_service = BleakGATTService(service, service.handle, service_uuid)
            collection.add_service(bleak_service)
            for char in await service.discover_characteristics():
                props = [name for flag, name in _PROPERTY_NAMES if char.properties & flag]
                bleak_char = BleakGATTCharacteristic(
                    char, char.handle, bumble_uuid_text(char.uuid), props,
                    lambda: self.mtu_size - 3, bleak_service,
                )
                collection.add_characteristic(bleak_char)
                for descriptor in await char.discover_descriptors():
                    collection.add_descriptor(BleakGATTDescriptor(
                        descriptor, descriptor.handle, bumble_uuid_text(descriptor.type), bleak_char,
                    ))
        return collection

    def _on_disconnection(self, _reason: int) -> None:
        host = self._host
        self._connection = None
        self._peer = None
        self._host = None
        self._subscribers.clear()
        self._disconnected.set()
        if host is not None:
            # Let Bumble finish its own disconnection handlers before the host leaves the air.
            asyncio.get_running_loop().call_soon(self._radio.release_host, host)
        if self._disconnected_callback is not None:
            asyncio.get_running_loop().call_soon(self._disconnected_callback)

    async def disconnect(self) -> None:
        connection = self._connection
        if connection is None:
            return
        try:
            await connection.disconnect()
        except Exception as exc:  # the link may already be gone
            logger.debug("disconnect: %s", exc)
        try:
            await asyncio.wait_for(self._disconnected.wait(), timeout=self._timeout)
        except asyncio.TimeoutError:
            self._on_disconnection(0)

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """Virtual sensors need no pairing: nothing to do."""

    async def unpair(self) -> None:
        """Virtual sensors need no pairing: nothing to do."""

    # -- I/O -------------------------------------------------------------------------------
    def _require_peer(self) -> Peer:
        if self._peer is None:
            raise BleakError("Not connected")
        return self._peer

    async def _att(self, operation):
        try:
            return await operation
        except att.ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        peer = self._require_peer()
        return bytearray(await self._att(peer.read_value(characteristic.obj)))

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        peer = self._require_peer()
        return bytearray(await self._att(peer.read_value(descriptor.obj)))

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic, data: Any, response: bool) -> None:
        peer = self._require_peer()
        await self._att(peer.write_value(characteristic.obj, bytes(data), with_response=bool(response)))

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        peer = self._require_peer()
        await self._att(peer.write_value(descriptor.obj, bytes(data), with_response=True))

    async def start_notify(self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any) -> None:
        self._require_peer()
        old = self._subscribers.pop(characteristic.handle, None)
        if old is not None:
            await self._att(characteristic.obj.unsubscribe(old))

        def on_value(value: bytes) -> None:
            callback(bytearray(value))

        self._subscribers[characteristic.handle] = on_value
        await self._att(characteristic.obj.subscribe(on_value, prefer_notify=True))

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        self._require_peer()
        subscriber = self._subscribers.pop(characteristic.handle, None)
        await self._att(characteristic.obj.unsubscribe(subscriber, force=subscriber is None))
