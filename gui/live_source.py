"""Live sources (no Qt): virtual BLE sensors through the real bleak client code, or a
recording paced at real time when the BLE stack is not installed.

Both call ``push(placement, t_s, acc_mps2, gyr_dps)`` from their own thread and offer
``start()``, ``stop()``, ``error``, ``finished``, ``wall_at(t_s)`` and ``sensor_stats()``
(per placement: notifications, lost packets, reconnects, battery when the device reports it).

:class:`VirtualBleSource` is what ``imu-knee live --virtual`` does: one virtual sensor per
stream of a recording, speaking a device profile's real protocol on Bumble's in-memory radio,
found by a scan and recorded by ``imu_knee.ble.session.RecordingSession``; its ``on_samples``
hook feeds the dashboard.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
import time
from typing import Callable

from imu_knee.recording import Recording

from .replay_source import ReplaySource


def stream_rate_hz(profile_name: str, wanted_hz: float | None) -> float:
    """The rate a profile's sensor will stream at: ``wanted_hz`` if the device can, else the
    nearest rate it supports (Polar: 104 Hz for 100), else its configured one."""
    from imu_knee.ble.profiles import get_profile

    profile = get_profile(profile_name)
    choices = [float(r) for r in (profile.rates_hz or ())]
    if wanted_hz is not None and choices:
        wanted_hz = min(choices, key=lambda r: abs(r - wanted_hz))
    try:
        return float(profile.settings(wanted_hz).rate_hz)
    except Exception:  # the device cannot do that rate: it streams at its configured one
        return float(profile.settings(None).rate_hz)


def ble_available() -> bool:
    try:
        import bleak  # noqa: F401
        import bumble  # noqa: F401
        from imu_knee.ble import session  # noqa: F401
        from imu_knee.ble.virtual.sensor import VirtualSensor  # noqa: F401
    except ImportError:
        return False
    return True


class VirtualBleSource:
    """Virtual BLE sensors streaming ``rec`` (one per placement), recorded live over bleak."""

    kind = "virtual BLE"

    def __init__(self, rec: Recording, push: Callable, on_finish: Callable | None = None,
                 profile: str = "imu-knee", assignment: dict[str, str] | None = None):
        """``assignment``: stream name in ``rec`` -> placement the user gave that sensor."""
        self.rec = rec
        self._push = push
        self._on_finish = on_finish
        self.profile_name = profile
        self.assignment = dict(assignment or {n: n for n in rec.streams})
        self.error: BaseException | None = None
        self.finished = False
        self.found: list[dict] = []
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._session = None
        self._out = os.path.join(tempfile.mkdtemp(prefix="imu-knee-live-"), "session.csv")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="imu-knee live", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        loop, ev = self._loop, self._stop_event
        if loop is not None and ev is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(ev.set)
            except RuntimeError:
                pass
        if self._thread is not None:
            self._thread.join(timeout_s)

    def wall_at(self, t_s: float) -> float:
        """Wall clock at which the session clock read ``t_s`` (samples arrive after that)."""
        s = self._session
        return (s.t0_monotonic if s is not None else time.monotonic()) + t_s

    def sensor_stats(self) -> dict:
        s = self._session
        if s is None:
            return {}
        out = {}
        for link in list(getattr(s, "links", [])):
            out[link.spec.placement] = link.stats.as_dict()   # with battery_percent
        return out

    # ------------------------------------------------------------------ the thread

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            self.error = exc
        finally:
            self.finished = True
            if self._on_finish is not None:
                self._on_finish()
            try:
                os.remove(self._out)
                os.rmdir(os.path.dirname(self._out))
            except OSError:
                pass

    async def _main(self) -> None:
        from imu_knee.ble.bumble_backend import BumbleClient
        from imu_knee.ble.profiles import get_profile
        from imu_knee.ble.session import RecordingSession, SensorSpec
        from imu_knee.ble.virtual import VirtualRadio
        from imu_knee.ble.virtual.fleet import all_finished, make_virtual_sensors, start_and_find

        # Bumble objects belong to the event loop running when they are made: the radio and
        # the sensors are made here, inside this thread's loop (made in another loop, their
        # GATT answers never arrive: setup times out; see imu_knee.ble.virtual.radio)
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        profile = get_profile(self.profile_name)
        radio = VirtualRadio("dashboard")
        sensors = make_virtual_sensors(profile, {name: self.rec.streams[name] for name in self.assignment}, radio)
        try:
            found = await start_and_find(sensors, profile, radio)
            specs = []
            for name, (device, adv) in found.items():
                self.found.append({"name": adv.local_name, "address": device.address, "rssi": adv.rssi,
                                   "placement": self.assignment[name]})
                rate = stream_rate_hz(self.profile_name, self.rec.streams[name].rate_hz)
                specs.append(SensorSpec(self.assignment[name], profile, device, rate))
            session = RecordingSession(specs, self._out, client_kwargs={"backend": BumbleClient},
                                       on_samples=self._push)
            self._session = session
            await session.run(stop=self._stop_event, until=all_finished(sensors))
        finally:
            for sensor in sensors.values():
                await sensor.close()


class PacedSource(ReplaySource):
    """A recording played at real time as if it were live (no BLE stack needed)."""

    kind = "virtual (direct)"

    def __init__(self, rec: Recording, push: Callable, on_finish: Callable | None = None,
                 assignment: dict[str, str] | None = None, speed: float = 1.0):
        self.assignment = dict(assignment or {n: n for n in rec.streams})

        def renamed(name, t, a, g):
            push(self.assignment.get(name, name), t, a, g)

        super().__init__(rec, renamed, on_finish=on_finish, speed=speed)

    def sensor_stats(self) -> dict:
        return {}


class BleSource(VirtualBleSource):
    """Real Bluetooth sensors (found by a scan), recorded live over bleak as `imu-knee record` does."""

    kind = "BLE"

    def __init__(self, devices: list[dict], push: Callable, on_finish: Callable | None = None):
        """``devices``: dicts with ``placement``, ``profile`` (name) and ``address``."""
        self.devices = list(devices)
        self._push = push
        self._on_finish = on_finish
        self.error = None
        self.finished = False
        self.found = list(devices)
        self._thread = None
        self._loop = None
        self._stop_event = None
        self._session = None
        self._out = os.path.join(tempfile.mkdtemp(prefix="imu-knee-live-"), "session.csv")

    async def _main(self) -> None:
        from imu_knee.ble.profiles import get_profile
        from imu_knee.ble.session import RecordingSession, SensorSpec

        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        specs = [SensorSpec(d["placement"], get_profile(d["profile"]), d["address"], None)
                 for d in self.devices]
        session = RecordingSession(specs, self._out, on_samples=self._push)
        self._session = session
        try:
            await session.run(stop=self._stop_event)
        except Exception as exc:  # say what failed in words a user can act on
            raise RuntimeError(f"could not stream from the sensors over Bluetooth "
                               f"({type(exc).__name__}: {exc}); is Bluetooth on and the sensor awake?") from exc
