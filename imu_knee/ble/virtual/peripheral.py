"""A generic virtual BLE peripheral: advertises a name, serves a GATT service from a spec.

    spec = ServiceSpec("0000ffe5-...", [
        CharSpec("0000ffe4-...", {"notify"}),
        CharSpec("0000ffe9-...", {"write", "write-without-response"}),
    ])
    dev = VirtualPeripheral(radio, "WT901BLE68", [spec], on_write=handler)
    await dev.start()                      # power on + advertise
    await dev.notify("0000ffe4-...", data)  # to every subscribed central

`on_write(char_uuid, data)` (plain function or coroutine function) sees every write, with
or without response. The peripheral accepts one connection at a time like the real sensors;
it advertises again after a disconnection unless it was told to stay away.
"""

from __future__ import annotations

import asyncio
import inspect
import uuid as uuid_mod
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Iterable

from bumble import att, gatt
from bumble.core import UUID as BumbleUUID
from bumble.core import AdvertisingData
from bumble.hci import HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR

from .radio import VirtualRadio

WriteHandler = Callable[[str, bytes], "None | Awaitable[None]"]
SubscribeHandler = Callable[[str, bool], "None | Awaitable[None]"]

_PROPERTY_FLAGS = {
    "broadcast": gatt.Characteristic.Properties.BROADCAST,
    "read": gatt.Characteristic.Properties.READ,
    "write-without-response": gatt.Characteristic.Properties.WRITE_WITHOUT_RESPONSE,
    "write": gatt.Characteristic.Properties.WRITE,
    "notify": gatt.Characteristic.Properties.NOTIFY,
    "indicate": gatt.Characteristic.Properties.INDICATE,
}
ADVERTISING_INTERVAL_MS = 20.0  # fast, so that a 0.1 s scan sees every device


def canonical_uuid(value: object) -> str:
    """Lower-case 128-bit UUID text; 16/32-bit short forms get the Bluetooth SIG base."""
    text = str(value).strip().lower()
    if len(text) in (4, 8):
        return f"{int(text, 16):08x}-0000-1000-8000-00805f9b34fb"
    return str(uuid_mod.UUID(text))


def bumble_uuid_text(value: BumbleUUID) -> str:
    """A Bumble UUID as lower-case 128-bit text."""
    little_endian = value.to_bytes(force_128=True)
    return str(uuid_mod.UUID(bytes=bytes(reversed(little_endian))))


@dataclass
class CharSpec:
    """One characteristic: UUID, properties (names as bleak spells them), initial value."""

    uuid: str
    properties: set[str] | frozenset[str] | tuple[str, ...]
    value: bytes = b""

    def __post_init__(self) -> None:
        self.uuid = canonical_uuid(self.uuid)
        unknown = set(self.properties) - set(_PROPERTY_FLAGS)
        if unknown:
            raise ValueError(f"unknown characteristic properties: {sorted(unknown)}")
        self.properties = frozenset(self.properties)


@dataclass
class ServiceSpec:
    """One primary service and its characteristics."""

    uuid: str
    characteristics: list[CharSpec] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.uuid = canonical_uuid(self.uuid)


def advertising_payload(name: str, service_uuids: Iterable[str]) -> bytes:
    """Flags + complete local name + service UUID list, as a peripheral advertises them."""
    structures: list[tuple[int, bytes]] = [(AdvertisingData.FLAGS, bytes([0x06]))]
    structures.append((AdvertisingData.COMPLETE_LOCAL_NAME, name.encode("utf-8")))
    short, long_ = b"", b""
    for text in service_uuids:
        u = uuid_mod.UUID(canonical_uuid(text))
        if str(u).endswith("-0000-1000-8000-00805f9b34fb") and u.int >> 96 <= 0xFFFF:
            short += (u.int >> 96).to_bytes(2, "little")
        else:
            long_ += u.bytes[::-1]
    if short:
        structures.append((AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS, short))
    if long_:
        structures.append((AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS, long_))
    return bytes(AdvertisingData(structures))


async def _maybe_await(result: object) -> None:
    if inspect.isawaitable(result):
        await result


class VirtualPeripheral:
    """A Bumble peripheral on a `VirtualRadio`, serving the given GATT services."""

    def __init__(
        self,
        radio: VirtualRadio,
        name: str,
        services: Iterable[ServiceSpec],
        *,
        on_write: WriteHandler | None = None,
        on_subscribe: SubscribeHandler | None = None,
        on_disconnect: Callable[[], None] | None = None,
        address: str | None = None,
        max_mtu: int = 247,
        advertise_service_uuids: bool | Iterable[str] = True,
    ) -> None:
        """``advertise_service_uuids``: True advertises every service's UUID, False none, or
        the UUIDs to advertise (a legacy advertisement holds 31 bytes)."""
        self.radio = radio
        self.name = name
        self.address = (address or radio.allocate_address()).upper()
        self.services = list(services)
        self.on_write = on_write
        self.on_subscribe = on_subscribe
        self.on_disconnect = on_disconnect
        self.writes: list[tuple[str, bytes]] = []  # every write received, in order
        if isinstance(advertise_service_uuids, bool):
            advertised = [s.uuid for s in self.services] if advertise_service_uuids else []
        else:
            advertised = [canonical_uuid(u) for u in advertise_service_uuids]
        self._advertised_uuids = advertised
        self._device = radio.new_host(name, self.address)
        self._device.gatt_server.max_mtu = max_mtu
        self._chars: dict[str, gatt.Characteristic] = {}
        self._subscribed: dict[str, bool] = {}
        self._subscription_changed = asyncio.Event()
        self._stay_away = True  # not advertising until start()
        self._started = False
        self._connected_event = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()
        for spec in self.services:
            self._device.add_service(gatt.Service(spec.uuid, [self._make_char(c) for c in spec.characteristics]))
        self._device.on("connection", self._on_connection)

    # -- GATT ------------------------------------------------------------------------------
    def _make_char(self, spec: CharSpec) -> gatt.Characteristic:
        flags = gatt.Characteristic.Properties(0)
        for prop in spec.properties:
            flags |= _PROPERTY_FLAGS[prop]
        permissions = gatt.Characteristic.Permissions(0)
        if "read" in spec.properties or "notify" in spec.properties or "indicate" in spec.properties:
            permissions |= gatt.Characteristic.READABLE
        if "write" in spec.properties or "write-without-response" in spec.properties:
            permissions |= gatt.Characteristic.WRITEABLE
        char_uuid = spec.uuid
        values = {"v": bytes(spec.value)}

        readable = "read" in spec.properties

        def read(_connection) -> bytes:
            if not readable:
                raise att.ATT_Error(error_code=att.ATT_READ_NOT_PERMITTED_ERROR)
            return values["v"]

        writable = bool({"write", "write-without-response"} & spec.properties)

        async def write(_connection, data: bytes) -> None:
            if not writable:
                raise att.ATT_Error(error_code=att.ATT_WRITE_NOT_PERMITTED_ERROR)
            data = bytes(data)
            self.writes.append((char_uuid, data))
            if self.on_write is not None:
                await _maybe_await(self.on_write(char_uuid, data))

        char = gatt.Characteristic(char_uuid, flags, permissions, gatt.CharacteristicValue(read=read, write=write))
        char._imu_values = values  # type: ignore[attr-defined]  # value served to reads
        char.on("subscription", lambda _bearer, notify, indicate: self._on_subscription(char_uuid, notify or indicate))
        self._chars[char_uuid] = char
        return char

    def _on_subscription(self, char_uuid: str, enabled: bool) -> None:
        self._subscribed[char_uuid] = enabled
        self._subscription_changed.set()
        if self.on_subscribe is not None:
            self._spawn(_maybe_await(self.on_subscribe(char_uuid, enabled)))

    def set_value(self, char_uuid: str, data: bytes) -> None:
        """Value that reads of `char_uuid` return from now on."""
        self._char(char_uuid)._imu_values["v"] = bytes(data)  # type: ignore[attr-defined]

    def _char(self, char_uuid: str) -> gatt.Characteristic:
        try:
            return self._chars[canonical_uuid(char_uuid)]
        except KeyError:
            raise KeyError(f"{self.name}: no characteristic {char_uuid}") from None

    def is_subscribed(self, char_uuid: str) -> bool:
        return self._subscribed.get(canonical_uuid(char_uuid), False)

    async def wait_subscribed(self, char_uuid: str, timeout_s: float = 5.0) -> None:
        """Wait until a central has enabled notifications on `char_uuid`."""
        async with asyncio.timeout(timeout_s):
            while not self.is_subscribed(char_uuid):
                self._subscription_changed.clear()
                await self._subscription_changed.wait()

    async def notify(self, char_uuid: str, data: bytes) -> int:
        """Send `data` to every central subscribed to `char_uuid`; returns how many got it.

        Like a real stack, a payload longer than ATT MTU − 3 is cut to that length.
        """
        char = self._char(char_uuid)
        if not self._subscribed.get(canonical_uuid(char_uuid)):
            return 0
        await self._device.notify_subscribers(char, bytes(data))
        return len(self._device.connections)

    # -- connection ------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return bool(self._device.connections)

    @property
    def mtu(self) -> int:
        """ATT MTU of the current connection (23 when none)."""
        for connection in self._device.connections.values():
            return int(connection.att_mtu)
        return 23

    async def wait_connected(self, timeout_s: float = 5.0) -> None:
        async with asyncio.timeout(timeout_s):
            while not self.connected:
                self._connected_event.clear()
                await self._connected_event.wait()

    def _on_connection(self, connection) -> None:
        self._connected_event.set()
        connection.on("disconnection", lambda _reason: self._on_disconnection())

    def _on_disconnection(self) -> None:
        self._subscribed.clear()
        self._subscription_changed.set()
        if self.on_disconnect is not None:
            self.on_disconnect()
        if not self._stay_away:
            self._spawn(self._advertise())

    async def start(self) -> None:
        """Power on, join the radio and advertise."""
        if not self._started:
            await self._device.power_on()
            self.radio.register(self)
            self._started = True
        self._stay_away = False
        if not self.connected:
            await self._advertise()

    async def _advertise(self) -> None:
        if self._stay_away or self.connected:
            return
        await self._device.start_advertising(
            advertising_data=advertising_payload(self.name, self._advertised_uuids),
            advertising_interval_min=ADVERTISING_INTERVAL_MS,
            advertising_interval_max=ADVERTISING_INTERVAL_MS,
        )

    async def stop_advertising(self) -> None:
        """Go quiet: no more advertising (the device looks out of range or off)."""
        self._stay_away = True
        await self._device.stop_advertising()

    async def drop_connection(self, come_back_after_s: float | None = 0.0) -> None:
        """Disconnect every central from the peripheral side (as a sensor going out of range).

        `come_back_after_s`: advertise again after that many seconds (0 = at once);
        None = stay silent until `start()` is called again.
        """
        self._stay_away = True
        for connection in list(self._device.connections.values()):
            await connection.disconnect(reason=HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR)
        if come_back_after_s is None:
            return
        if come_back_after_s > 0:
            await asyncio.sleep(come_back_after_s)
        self._stay_away = False
        await self._advertise()

    async def close(self) -> None:
        """Disconnect, stop advertising and leave the radio."""
        self._stay_away = True
        # let pending re-advertising finish: cancelling a Bumble HCI command midway leaves
        # the host waiting on a cancelled future
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        for connection in list(self._device.connections.values()):
            try:
                await connection.disconnect()
            except Exception:  # already gone
                pass
        if self._started:
            try:
                await self._device.stop_advertising()
            except Exception:
                pass
        self.radio.unregister(self)
        self.radio.release_host(self._device)

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def __aenter__(self) -> "VirtualPeripheral":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"VirtualPeripheral({self.name!r}, {self.address})"
