"""A set of virtual sensors for a live session: build them, find them by scanning, and tell
when they have all finished streaming. Shared by `imu-knee live --virtual` and the dashboard."""

from __future__ import annotations

import time
from typing import Callable

from ...errors import InputError
from .radio import VirtualRadio
from .sensor import VirtualSensor

SCAN_S = 0.3
TAIL_S = 0.3  # after the virtual sensors finish, wait this long for the last notifications


def make_virtual_sensors(profile, streams: dict, radio: VirtualRadio) -> dict[str, VirtualSensor]:
    """One real-time virtual sensor per recording stream, named like the device plus a number."""
    base = getattr(profile, "advertised_name", None) or profile.device_name or profile.name
    return {name: VirtualSensor(profile, stream, realtime=True, radio=radio, name=f"{base} {i + 1}")
            for i, (name, stream) in enumerate(streams.items())}


async def start_and_find(sensors: dict[str, VirtualSensor], profile, radio: VirtualRadio
                         ) -> dict[str, tuple]:
    """Start advertising and scan through the real bleak API: ``{name: (device, adv)}``."""
    from bleak import BleakScanner

    from ..bumble_backend import BumbleScanner

    for sensor in sensors.values():
        await sensor.start()
    found = await BleakScanner.discover(SCAN_S, return_adv=True, service_uuids=[profile.service_uuid],
                                        backend=BumbleScanner, radio=radio)
    missing = [name for name, sensor in sensors.items() if sensor.address not in found]
    if missing:
        raise InputError(f"virtual sensor for {missing[0]} was not seen while scanning")
    return {name: found[sensor.address] for name, sensor in sensors.items()}


def all_finished(sensors: dict[str, VirtualSensor]) -> Callable[..., bool]:
    """A predicate for a session's ``until``: every sensor has streamed its whole recording,
    TAIL_S ago or more (arguments the session passes are ignored)."""
    done_since: dict[str, float] = {}

    def finished(*_session) -> bool:
        now = time.monotonic()
        for name, sensor in sensors.items():
            if sensor.finished.is_set():
                done_since.setdefault(name, now)
        return len(done_since) == len(sensors) and now - max(done_since.values()) >= TAIL_S

    return finished
