"""An in-memory Bluetooth LE "air": one Bumble link that virtual controllers share.

Every virtual peripheral and every central the bleak backend opens gets its own Bumble
controller + host on the same `LocalLink`, so they talk through Bumble's real HCI, L2CAP,
ATT and GATT code with no sockets and no hardware. Nothing here is bound to a port, so any
number of clients can start at once.

All Bumble objects belong to the event loop that was running when they were created; a
radio is therefore used from one event loop only (`default_radio()` makes a new one when
the running loop changes).
"""

from __future__ import annotations

import asyncio
import itertools
from typing import TYPE_CHECKING, NamedTuple

from bumble.controller import Controller
from bumble.device import Device
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

if TYPE_CHECKING:
    from .peripheral import VirtualPeripheral


class VirtualDeviceDetails(NamedTuple):
    """`BLEDevice.details` for a device seen on a virtual radio."""

    radio: "VirtualRadio"
    address: str


class VirtualRadio:
    """The shared medium: allocates addresses, creates hosts, knows the peripherals on it."""

    def __init__(self, name: str = "radio") -> None:
        self.name = name
        self.link = LocalLink()
        self._serial = itertools.count(1)
        self._peripherals: dict[str, "VirtualPeripheral"] = {}
        self._hosts: dict[int, Controller] = {}

    def allocate_address(self) -> str:
        """A fresh static random address (two top bits set), unique on this radio."""
        n = next(self._serial)
        return f"C0:00:00:00:{(n >> 8) & 0xFF:02X}:{n & 0xFF:02X}"

    def new_host(self, name: str, address: str | None = None) -> Device:
        """A Bumble device (host + controller) attached to this radio, not yet powered on."""
        address = address or self.allocate_address()
        controller = Controller(name, link=self.link)
        device = Device(name=name, address=Address(address), host=Host(controller, AsyncPipeSink(controller)))
        self._hosts[id(device)] = controller
        return device

    def release_host(self, device: Device) -> None:
        """Detach a device's controller from the link (it no longer hears or is heard)."""
        controller = self._hosts.pop(id(device), None)
        if controller is not None and controller in self.link.controllers:
            self.link.remove_controller(controller)

    def register(self, peripheral: "VirtualPeripheral") -> None:
        self._peripherals[peripheral.address] = peripheral

    def unregister(self, peripheral: "VirtualPeripheral") -> None:
        self._peripherals.pop(peripheral.address, None)

    def peripheral(self, address: str) -> "VirtualPeripheral | None":
        """The virtual peripheral at `address` (any case), or None."""
        return self._peripherals.get(address.upper())

    @property
    def peripherals(self) -> list["VirtualPeripheral"]:
        return list(self._peripherals.values())

    def __repr__(self) -> str:
        return f"VirtualRadio({self.name!r}, peripherals={sorted(self._peripherals)})"


_default: tuple[asyncio.AbstractEventLoop | None, VirtualRadio] | None = None


def default_radio() -> VirtualRadio:
    """The process-wide radio for the running event loop (a new one for a new loop)."""
    global _default
    try:
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if _default is None or (loop is not None and _default[0] is not loop):
        _default = (loop, VirtualRadio("default"))
    return _default[1]
