"""A virtual sensor: a device profile's GATT layout and protocol, fed by a recording.

    sensor = VirtualSensor(get_profile("movesense"), rec.streams["left_shank"], radio=radio)
    await sensor.start()        # advertises; a bleak client connects and sends the real
                                # setup/start commands; samples then stream at real time

What the sensor understands of the client's writes comes from the profile itself, so it
follows the device's real protocol without a second implementation of it:

- settings: every command of `setup_commands()`/`start_commands()` for every supported
  (rate, acc range, gyro range) is tabulated; a written command that occurs only with one
  value of a setting sets it (e.g. WitMotion's rate register, Movesense's ``/Meas/IMU6/104``);
- start: the last command of `start_commands()` starts the stream (a profile without start
  commands, like WitMotion, streams as soon as a client subscribes to its data
  characteristic); any command of `stop_commands()`, an unsubscription or a disconnection
  stops it;
- replies: every write is passed to the encoder's `reply()`, whose notifications are sent.

Samples are resampled to the rate the client asked for, put through a fresh encoder (with the
connection's ATT MTU) and sent in batches the way a device fills its notifications. The
sensor's own clock keeps running while nobody listens: after a drop and a reconnection the
stream resumes at the sample that is due now, so the gap is real (missing samples).
`packet_loss` drops that share of data notifications (radio loss) to exercise loss counting.
A profile with a `battery_uuid` also gets the standard Battery Service: `battery_percent` is
read at connect and `set_battery()` notifies subscribers, as the device would.
Optional profile hooks: `gatt_characteristics` (dict UUID → set of property names) and
`read_values` (dict UUID → bytes, e.g. Polar's control feature read).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
from typing import Any

import numpy as np

from .peripheral import CharSpec, ServiceSpec, VirtualPeripheral, canonical_uuid
from .radio import VirtualRadio, default_radio

logger = logging.getLogger(__name__)

MAX_BATCH_S = 0.06  # a device holds at most this much data back to fill a notification
DEFAULT_TICK_S = 0.0075  # 7.5 ms: the shortest BLE connection interval
DEVICE_CLOCK_START_S = 1000.0  # the device clock reads this at the first sample
DEFAULT_BATTERY_PERCENT = 87


def _gatt_layout(profile: Any) -> list[CharSpec]:
    """Characteristics of the profile's service with their properties."""
    declared = getattr(profile, "gatt_characteristics", None)
    props: dict[str, set[str]] = {}
    if declared:
        for uuid, names in dict(declared).items():
            props.setdefault(canonical_uuid(uuid), set()).update(names)
    else:
        for uuid in profile.notify_uuids:
            props.setdefault(canonical_uuid(uuid), set()).add("notify")
        if profile.write_uuid:
            props.setdefault(canonical_uuid(profile.write_uuid), set()).update(
                {"read", "write", "write-without-response"})
    reads = {canonical_uuid(u): bytes(v) for u, v in dict(getattr(profile, "read_values", {}) or {}).items()}
    for uuid in reads:
        props.setdefault(uuid, set()).add("read")
    return [CharSpec(uuid, names, reads.get(uuid, b"")) for uuid, names in props.items()]


class _CommandTable:
    """What each written command says about the settings, and which commands start/stop."""

    def __init__(self, profile: Any) -> None:
        self.by_data: dict[bytes, set[tuple[float, float, float]]] = {}
        self.start: set[bytes] = set()
        rates = profile.rates_hz or (profile.config.get("rate_hz"),)
        accs = profile.acc_ranges_g or (profile.config.get("acc_range_g"),)
        gyrs = profile.gyr_ranges_dps or (profile.config.get("gyr_range_dps"),)
        for combo in itertools.product(rates, accs, gyrs):
            try:
                setup = profile.setup_commands(*combo)
                start = profile.start_commands(*combo)
            except Exception:  # a combination the device cannot do
                continue
            for command in list(setup) + list(start):
                self.by_data.setdefault(bytes(command.data), set()).add(tuple(map(float, combo)))
            if start:
                self.start.add(bytes(start[-1].data))
        self.stop = {bytes(c.data) for c in profile.stop_commands()}
        self.starts_on_subscribe = not self.start

    def settings_from(self, data: bytes) -> dict[str, float]:
        combos = self.by_data.get(bytes(data))
        found: dict[str, float] = {}
        if not combos:
            return found
        for index, key in enumerate(("rate_hz", "acc_range_g", "gyr_range_dps")):
            values = {combo[index] for combo in combos}
            if len(values) == 1:
                found[key] = values.pop()
        return found


def resample(t_s: np.ndarray, values: np.ndarray, rate_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """Linear interpolation of (N, 3) `values` onto a regular grid at `rate_hz` from t_s[0]."""
    if len(t_s) < 2:
        return t_s.copy(), values.copy()
    n = int(math.floor((t_s[-1] - t_s[0]) * rate_hz + 1e-9)) + 1
    grid = t_s[0] + np.arange(n) / rate_hz
    out = np.column_stack([np.interp(grid, t_s, values[:, k]) for k in range(values.shape[1])])
    return grid, out


class VirtualSensor:
    """A profile's device on a virtual radio, streaming `recording_stream`'s samples."""

    def __init__(
        self,
        profile: Any,
        recording_stream: Any,
        realtime: bool = True,
        *,
        radio: VirtualRadio | None = None,
        name: str | None = None,
        speed: float = 1.0,
        tick_s: float = DEFAULT_TICK_S,
        packet_loss: float = 0.0,
        seed: int = 0,
        battery_percent: int = DEFAULT_BATTERY_PERCENT,
    ) -> None:
        self.profile = profile
        self.stream = recording_stream
        self.realtime = realtime
        self.speed = float(speed)
        self.tick_s = float(tick_s)
        if not 0.0 <= packet_loss < 1.0:
            raise ValueError("packet_loss must be in [0, 1)")
        self.packet_loss = float(packet_loss)  # share of data notifications lost on the air
        self._rng = np.random.default_rng(seed)
        self.radio = radio or default_radio()
        self.name = name or getattr(profile, "advertised_name", None) or profile.device_name or profile.name
        self._table = _CommandTable(profile)
        self._notify_uuids = {canonical_uuid(u) for u in profile.notify_uuids}
        write_uuid = canonical_uuid(profile.write_uuid) if profile.write_uuid else None
        data_uuids = [u for u in self._notify_uuids if u != write_uuid] or sorted(self._notify_uuids)
        self._data_uuid = next(canonical_uuid(u) for u in profile.notify_uuids if canonical_uuid(u) in data_uuids)
        self._wanted: dict[str, float] = {}
        self.settings = None
        self._encoder = None
        self._stream_task: asyncio.Task | None = None
        self._clock_origin: float | None = None  # loop time of sample 0 on the sensor's clock
        self._grid_t_s: np.ndarray | None = None
        self._acc: np.ndarray | None = None
        self._gyr: np.ndarray | None = None
        self._next_index = 0
        self.samples_sent = 0
        self.notifications_sent = 0
        self.samples_skipped = 0  # due while nobody listened (the gap after a drop)
        self.notifications_lost = 0  # dropped on purpose (packet_loss)
        self.finished = asyncio.Event()
        self.streaming_started = asyncio.Event()
        services = [ServiceSpec(profile.service_uuid, _gatt_layout(profile))]
        self.battery_uuid = getattr(profile, "battery_uuid", None)
        self.battery_percent = int(battery_percent)
        if self.battery_uuid:
            from imu_knee.ble.profiles.base import BATTERY_SERVICE_UUID

            services.append(ServiceSpec(BATTERY_SERVICE_UUID, [
                CharSpec(self.battery_uuid, {"read", "notify"}, bytes([self.battery_percent]))]))
        self.peripheral = VirtualPeripheral(
            self.radio, self.name, services, advertise_service_uuids=[profile.service_uuid],
            on_write=self._on_write, on_subscribe=self._on_subscribe, on_disconnect=self._on_disconnect,
        )

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def address(self) -> str:
        return self.peripheral.address

    @property
    def streaming(self) -> bool:
        return self._stream_task is not None and not self._stream_task.done()

    async def start(self) -> None:
        await self.peripheral.start()

    async def close(self) -> None:
        await self._stop_streaming()
        await self.peripheral.close()

    async def drop_connection(self, come_back_after_s: float | None = 0.0) -> None:
        """The sensor goes out of range (see `VirtualPeripheral.drop_connection`)."""
        await self._stop_streaming()
        await self.peripheral.drop_connection(come_back_after_s)

    async def __aenter__(self) -> "VirtualSensor":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def set_battery(self, percent: int) -> None:
        """The battery level changes: reads return it and subscribers are notified."""
        if not self.battery_uuid:
            raise ValueError(f"{self.name}: this device has no battery service")
        self.battery_percent = int(percent)
        self.peripheral.set_value(self.battery_uuid, bytes([self.battery_percent]))
        await self.peripheral.notify(self.battery_uuid, bytes([self.battery_percent]))

    def _on_disconnect(self) -> None:
        task = self._stream_task
        if task is not None and not task.done():
            task.cancel()

    # -- protocol --------------------------------------------------------------------------
    async def _on_write(self, char_uuid: str, data: bytes) -> None:
        from imu_knee.ble.profiles.base import Command

        before = dict(self._wanted)
        self._wanted.update(self._table.settings_from(data))
        command = Command(char_uuid, data)
        if self.streaming and self._wanted != before and data not in self._table.start:
            self._new_encoder()  # a setting changed while streaming: the device follows it
            await self._start_streaming()
        if data in self._table.start:
            await self._send(self._new_encoder().reply(command))
            await self._start_streaming()
            return
        if data in self._table.stop:
            await self._stop_streaming()
        encoder = self._encoder or self._new_encoder(keep=False)
        await self._send(encoder.reply(command))

    async def _on_subscribe(self, char_uuid: str, enabled: bool) -> None:
        if char_uuid != self._data_uuid or not self._table.starts_on_subscribe:
            if not enabled and char_uuid == self._data_uuid:
                await self._stop_streaming()
            return
        if enabled:
            self._new_encoder()
            await self._start_streaming()
        else:
            await self._stop_streaming()

    def _new_encoder(self, keep: bool = True):
        settings = self.profile.settings(
            self._wanted.get("rate_hz"), self._wanted.get("acc_range_g"), self._wanted.get("gyr_range_dps"))
        encoder = self.profile.new_encoder(settings.rate_hz, settings.acc_range_g, settings.gyr_range_dps,
                                           mtu=self.peripheral.mtu)
        if keep:
            self.settings = settings
            self._encoder = encoder
        return encoder

    async def _send(self, notifications) -> None:
        for note in notifications:
            await self.peripheral.notify(note.char_uuid, note.payload)

    # -- streaming -------------------------------------------------------------------------
    def _prepare_samples(self) -> None:
        rate = self.settings.rate_hz
        t = np.asarray(self.stream.t_s, dtype=float)
        acc = np.asarray(self.stream.acc_mps2, dtype=float)
        gyr = np.asarray(self.stream.gyr_dps, dtype=float)
        if len(t) >= 2 and not math.isclose(float(self.stream.rate_hz or 0.0), rate, rel_tol=0.01):
            grid, acc = resample(t, acc, rate)
            _, gyr = resample(t, gyr, rate)
            t = grid
        self._grid_t_s, self._acc, self._gyr = t, acc, gyr

    def _batch_size(self) -> int:
        """Samples per notification group: as many as the encoder packs into its first
        notification group, but no more than MAX_BATCH_S of data."""
        rate = self.settings.rate_hz
        cap = max(1, int(rate * MAX_BATCH_S))
        probe = self._new_encoder(keep=False)
        zeros = np.zeros((64, 3))
        one = len(probe.encode(zeros[:1], zeros[:1], np.zeros(1)))
        best = 1
        for k in range(2, min(cap, 64) + 1):
            probe = self._new_encoder(keep=False)
            if len(probe.encode(zeros[:k], zeros[:k], np.arange(k) / rate)) == one:
                best = k
        return best

    async def _start_streaming(self) -> None:
        await self._stop_streaming()
        if self._encoder is None or self.settings is None:
            self._new_encoder()
        self._prepare_samples()
        self._stream_task = asyncio.ensure_future(self._stream(self._batch_size()))
        self.streaming_started.set()

    async def _stop_streaming(self) -> None:
        task, self._stream_task = self._stream_task, None
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def _due_index(self, now: float) -> int:
        assert self._grid_t_s is not None and self._clock_origin is not None
        elapsed_s = (now - self._clock_origin) * self.speed
        return int(np.searchsorted(self._grid_t_s - self._grid_t_s[0], elapsed_s, side="right"))

    async def _stream(self, batch: int) -> None:
        loop = asyncio.get_running_loop()
        t, acc, gyr = self._grid_t_s, self._acc, self._gyr
        assert t is not None and acc is not None and gyr is not None
        n = len(t)
        if self._clock_origin is None:
            self._clock_origin = loop.time()
        if self.realtime:
            due = self._due_index(loop.time())
            resume = min(n, max(self._next_index, due - batch))  # a device buffers one batch at most
            self.samples_skipped += resume - self._next_index  # the gap: due while nobody listened
            self._next_index = resume
        encoder = self._encoder
        rel_t = t - t[0]
        try:
            while self._next_index < n:
                if self.realtime:
                    due = min(n, self._due_index(loop.time()))
                    if due - self._next_index < batch and due < n:
                        await asyncio.sleep(self.tick_s)
                        continue
                else:
                    due = min(n, self._next_index + batch)
                while self._next_index < due:
                    i = self._next_index
                    j = min(due, i + batch)
                    if j - i < batch and j < n:
                        break
                    notes = encoder.encode(acc[i:j], gyr[i:j], DEVICE_CLOCK_START_S + rel_t[i:j])
                    for note in notes:
                        if self.packet_loss and self._rng.random() < self.packet_loss:
                            self.notifications_lost += 1
                            continue
                        await self.peripheral.notify(note.char_uuid, note.payload)
                        self.notifications_sent += 1
                    self.samples_sent += j - i
                    self._next_index = j
                if not self.realtime:
                    await asyncio.sleep(0)
            self.finished.set()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("virtual %s: streaming failed", self.profile.name)
            raise

    def __repr__(self) -> str:
        return f"VirtualSensor({self.profile.name!r}, {self.address})"
