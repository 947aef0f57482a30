"""Record BLE sensors to a recording file: connect, stream, decode, time-stamp, write.

    session = RecordingSession([SensorSpec("left_shank", get_profile("movesense"), address)],
                               "out.csv", client_kwargs={"backend": BumbleClient, "radio": radio})
    summary = await session.run(duration_s=30)

- Sensors are connected one at a time (a lock: BlueZ dislikes parallel connects), then
  stream in parallel, each in its own task.
- The bleak notification callback only puts (characteristic, bytes, arrival time) on a
  queue; a separate task decodes with the profile's decoder.
- Device clocks (or, for devices without one, a sample counter at the nominal rate) are
  mapped onto the session clock by a `ClockMapper`. Each sensor's first `WARMUP_S` of
  samples is held back: it shows the rate the sensor really sends (a sensor streaming at
  another rate than asked for is recorded at its real rate, with a note) and primes the
  clock mapping with the least delayed notification, so the first samples are evenly spaced.
- Notifications that do not decode (truncated, oversized, garbage) are counted and reported
  once (`on_note`); the stream goes on. A sensor that connects but sends nothing for
  `SILENT_S` is reported and no longer holds back the others' rows. A sensor that cannot be
  reached or set up at the start is reported and left out (the session fails only when no
  sensor at all can be recorded); setting a sensor up is bounded by `setup_timeout_s`.
- `on_samples(placement, t, acc, gyr)` and `on_block(..., arrival_s)` see every block as it
  is placed on the session clock (for live analysis; keep them quick: hand the block over).
- A lost connection is retried with exponential backoff; the time without data is a gap:
  missing rows in the file (DESIGN.md section 1) and an entry in the summary.
- Rows are merged across sensors in time order before they reach `RecordingWriter`, so the
  file's timestamps never go backwards. The file is opened when the first rows are ready
  (its header then holds the rates the sensors really send).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from imu_knee.recording import RecordingWriter

logger = logging.getLogger(__name__)

RELEASE_EVERY_S = 0.2
HOLD_BACK_S = 0.25  # rows stay this long in the merger so late sensors can slot in
WARMUP_S = 0.6  # samples held back at the start: rate check and clock priming
REWARM_S = 0.25  # the same after a reconnection (clock priming only)
RATE_TOLERANCE = 0.2  # a measured rate further than this from the asked one is a mismatch
SILENT_S = 1.5  # a connected sensor without data this long no longer holds back the others
# Each of the two corrections below moves a notification's samples by at most this share of a
# period, so sample spacing stays within ±10 % of the period.
CLOCK_STEP_OF_PERIOD = 0.05  # host clock mapping, per notification
STAMP_STEP_OF_PERIOD = 0.04  # device stamps, per packet


@dataclass
class SensorSpec:
    """One sensor to record: where it sits, its profile, how to reach it."""

    placement: str
    profile: Any
    target: Any  # address string or bleak BLEDevice
    rate_hz: float | None = None


@dataclass
class SensorStats:
    placement: str
    notifications: int = 0
    payload_bytes: int = 0
    samples: int = 0
    decode_errors: int = 0
    lost_packets: int = 0
    late_samples: int = 0
    connects: int = 0
    gaps: list[tuple[float, float]] = field(default_factory=list)
    first_arrival_s: float | None = None
    last_arrival_s: float | None = None
    battery_percent: int | None = None  # the device's Battery Level, when it reports one

    def as_dict(self) -> dict:
        span = (self.last_arrival_s or 0.0) - (self.first_arrival_s or 0.0)
        return {
            "placement": self.placement, "notifications": self.notifications,
            "samples": self.samples, "decode_errors": self.decode_errors,
            "lost_packets": self.lost_packets, "late_samples": self.late_samples,
            "reconnects": max(0, self.connects - 1),
            "gaps_s": [(round(a, 3), round(b, 3)) for a, b in self.gaps],
            "notifications_per_s": round(self.notifications / span, 1) if span > 0 else 0.0,
            "battery_percent": self.battery_percent,
        }


class ClockMapper:
    """Maps a device clock onto the session clock: session = device + offset.

    The target offset is the smallest (arrival − device time of the newest sample) seen: the
    least delayed notification. It creeps up by `follow` of each larger difference, so a
    device clock slower than the host's is followed too. The offset applied moves toward the
    target by at most `max_step_s` per notification (so sample spacing stays even), and jumps
    only when it is more than `snap_s` away (the first notification, a long gap).
    """

    def __init__(self, max_step_s: float = 0.002, follow: float = 0.01, snap_s: float = 0.5) -> None:
        self.max_step_s = max_step_s
        self.follow = follow
        self.snap_s = snap_s
        self.target_s: float | None = None
        self.offset_s: float | None = None

    def reset(self) -> None:
        self.target_s = None
        self.offset_s = None

    def prime(self, device_last_s: np.ndarray, arrival_s: np.ndarray) -> float:
        """Start from the least delayed of several notifications (device time of each one's
        newest sample, its arrival) instead of the first one: no catching up afterwards."""
        self.target_s = float(np.min(np.asarray(arrival_s, float) - np.asarray(device_last_s, float)))
        self.offset_s = self.target_s
        return self.offset_s

    def update(self, device_last_s: float, arrival_s: float) -> float:
        candidate = arrival_s - device_last_s
        if self.target_s is None or candidate < self.target_s:
            self.target_s = candidate
        else:
            self.target_s += (candidate - self.target_s) * self.follow
        if self.offset_s is None or abs(self.target_s - self.offset_s) > self.snap_s:
            self.offset_s = self.target_s
        else:
            step = self.target_s - self.offset_s
            self.offset_s += max(-self.max_step_s, min(self.max_step_s, step))
        return self.offset_s


class DeviceStampSmoother:
    """Evens out coarse device time stamps (Movesense stamps each packet to the millisecond).

    A packet's first sample is placed one period after the previous packet's last sample,
    moved toward the device's stamp by at most `max_step` periods, so the long-run timing
    stays the device's. A stamp more than `jump_periods` away (lost packets, a restart) is
    taken as it is: the gap stays.
    """

    def __init__(self, rate_hz: float, max_step: float = STAMP_STEP_OF_PERIOD, jump_periods: float = 1.5) -> None:
        self.period_s = 1.0 / rate_hz
        self.max_step = max_step
        self.jump_periods = jump_periods
        self.last_s: float | None = None

    def reset(self) -> None:
        self.last_s = None

    def place(self, device_t_s: np.ndarray) -> np.ndarray:
        out = np.asarray(device_t_s, dtype=float)
        if self.last_s is not None and len(out):
            error = float(out[0]) - (self.last_s + self.period_s)
            if abs(error) <= self.jump_periods * self.period_s:
                limit = self.max_step * self.period_s
                out = out - error + max(-limit, min(limit, error))
        if len(out):
            self.last_s = float(out[-1])
        return out


class TimeOrderedSink:
    """Buffers rows per sensor and writes them merged in time order up to a watermark.

    `writer` is a RecordingWriter, or a function that opens one (called when the first rows
    are written)."""

    def __init__(self, writer: RecordingWriter | Callable[[], RecordingWriter]) -> None:
        self._opener = None if isinstance(writer, RecordingWriter) else writer
        self.writer: RecordingWriter | None = writer if self._opener is None else None
        self._buffers: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
        self.last_written_s = -math.inf
        self.late: dict[str, int] = {}

    def push(self, name: str, t_s: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> None:
        self._buffers.setdefault(name, []).append((t_s, acc, gyr))

    def release(self, watermark_s: float = math.inf) -> int:
        """Write every buffered row with t ≤ watermark, in time order; rows older than what
        is already written are dropped (counted in `late`). Returns the rows written."""
        parts = []
        for name, blocks in self._buffers.items():
            if not blocks:
                continue
            t = np.concatenate([b[0] for b in blocks])
            acc = np.concatenate([b[1] for b in blocks])
            gyr = np.concatenate([b[2] for b in blocks])
            ready = t <= watermark_s
            late = ready & (t < self.last_written_s)
            if late.any():
                self.late[name] = self.late.get(name, 0) + int(late.sum())
            take = ready & ~late
            keep = ~ready
            self._buffers[name] = [(t[keep], acc[keep], gyr[keep])] if keep.any() else []
            if take.any():
                parts.append((name, t[take], acc[take], gyr[take]))
        if not parts:
            return 0
        t = np.concatenate([p[1] for p in parts])
        which = np.concatenate([np.full(len(p[1]), i) for i, p in enumerate(parts)])
        acc = np.concatenate([p[2] for p in parts])
        gyr = np.concatenate([p[3] for p in parts])
        order = np.lexsort((which, t))
        if self.writer is None:
            self.writer = self._opener()
        # runs of one sensor in time order → one append each
        t, which, acc, gyr = t[order], which[order], acc[order], gyr[order]
        breaks = np.flatnonzero(np.diff(which)) + 1
        for start, stop in zip(np.r_[0, breaks], np.r_[breaks, len(t)]):
            self.writer.append(parts[which[start]][0], t[start:stop], acc[start:stop], gyr[start:stop])
        self.last_written_s = float(t[-1])
        return len(t)


class _SensorLink:
    """One sensor: connection with reconnects, the notification queue, and decoding."""

    def __init__(self, session: "RecordingSession", spec: SensorSpec) -> None:
        self.session = session
        self.spec = spec
        self.profile = spec.profile
        self.settings = spec.profile.settings(spec.rate_hz)
        self.rate_hz = float(self.settings.rate_hz)  # the rate the sensor really sends (after warm-up)
        self.stats = SensorStats(spec.placement)
        self.queue: asyncio.Queue = asyncio.Queue()
        self.clock = ClockMapper(max_step_s=CLOCK_STEP_OF_PERIOD / self.rate_hz)
        self.stamps = DeviceStampSmoother(self.rate_hz)
        self.latest_t_s = -math.inf
        self.streaming = False
        self.failed: BaseException | None = None  # could not be recorded at all
        self.connected_at_s: float | None = None
        self.last_arrival_s: float | None = None  # session time of the newest notification
        self.silent = False
        self.rate_checked = False
        self._disconnected = asyncio.Event()
        self._epoch = 0
        self._count_in_epoch = 0
        self._decoder = None
        self._has_clock = bool(getattr(spec.profile, "has_device_clock", False))
        self._pending: list = []  # decoded SampleArrays held back during warm-up
        self._pending_raw: list[tuple[str, bytes, float]] = []
        self._warm = False
        self._decode_error_noted = False

    # -- connection ------------------------------------------------------------------------
    def _on_disconnect(self, _client) -> None:
        self._disconnected.set()

    async def _connect(self):
        from bleak import BleakClient

        kwargs = dict(self.session.client_kwargs)
        client = BleakClient(self.spec.target, self._on_disconnect, timeout=self.session.connect_timeout_s, **kwargs)
        async with self.session.connect_lock:
            await client.connect()
            self._disconnected.clear()
            try:
                await asyncio.wait_for(self._set_up(client), self.session.setup_timeout_s)
            except BaseException:
                await _quietly_disconnect(client)
                raise
        return client

    async def _set_up(self, client) -> None:
        s = self.settings
        for command in self.profile.setup_commands(rate_hz=s.rate_hz, acc_range_g=s.acc_range_g,
                                                   gyr_range_dps=s.gyr_range_dps):
            await client.write_gatt_char(command.char_uuid, command.data)
        for uuid in self.profile.notify_uuids:
            await client.start_notify(uuid, self._on_notification)
        for command in self.profile.start_commands(rate_hz=s.rate_hz, acc_range_g=s.acc_range_g,
                                                   gyr_range_dps=s.gyr_range_dps):
            await client.write_gatt_char(command.char_uuid, command.data)
        await self._watch_battery(client)

    async def _watch_battery(self, client) -> None:
        """Battery level (standard Battery Service) read at connect, then followed through its
        notifications when the device sends them. A unit without it, or one that refuses,
        simply has no battery figure; streaming does not depend on it."""
        uuid = getattr(self.profile, "battery_uuid", None)
        services = getattr(client, "services", None)
        char = services.get_characteristic(uuid) if uuid and services is not None else None
        if char is None:
            return
        try:
            if "read" in char.properties:
                self._on_battery(char, await client.read_gatt_char(char))
            if "notify" in char.properties:
                await client.start_notify(char, self._on_battery)
        except Exception as exc:  # best effort: the level is information, not data
            logger.debug("%s: battery level not available: %s", self.spec.placement, exc)

    def _on_battery(self, _characteristic, data: bytearray) -> None:
        from imu_knee.ble.profiles.base import battery_percent

        level = battery_percent(bytes(data))
        if level is not None:
            self.stats.battery_percent = level

    def _on_notification(self, characteristic, data: bytearray) -> None:
        # keep this tiny: bytes and arrival time onto the queue, decoding happens elsewhere
        self.queue.put_nowait((characteristic.uuid, bytes(data), time.monotonic(), self._epoch))

    def _describe(self, exc: BaseException) -> str:
        if isinstance(exc, asyncio.TimeoutError):
            return f"no answer within {self.session.setup_timeout_s:g} s while setting it up"
        text = str(exc) or type(exc).__name__
        return text

    async def run(self, stop: asyncio.Event) -> None:
        delay_s = self.session.reconnect_base_s
        lost_at: float | None = None
        while not stop.is_set():
            try:
                client = await self._connect()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.info("%s: connect failed (%s); retrying in %.1f s", self.spec.placement, exc, delay_s)
                if self.stats.connects == 0 and not self.session.retry_first_connect:
                    self.failed = exc
                    self.session.note(f"{self.spec.placement}: cannot record it ({self._describe(exc)})")
                    return
                await _wait_or_stop(stop, delay_s)
                delay_s = min(delay_s * 2.0, self.session.reconnect_max_s)
                continue
            self.stats.connects += 1
            delay_s = self.session.reconnect_base_s
            self.connected_at_s = self.session.now_s()
            self.silent = False
            self.streaming = True
            if lost_at is not None:
                self.session.note(f"{self.spec.placement}: reconnected")
            waiter = asyncio.ensure_future(self._disconnected.wait())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            stopper.cancel()
            self.streaming = False
            if stop.is_set():
                await self._stop_device(client)
                return
            lost_at = self.session.now_s()
            self.session.note(f"{self.spec.placement}: connection lost at {lost_at:.2f} s")
            self._epoch += 1  # samples counted from scratch after a reconnect
            await _wait_or_stop(stop, delay_s)

    async def _stop_device(self, client) -> None:
        try:
            if client.is_connected:
                for command in self.profile.stop_commands():
                    await asyncio.wait_for(client.write_gatt_char(command.char_uuid, command.data),
                                           self.session.setup_timeout_s)
        except Exception as exc:  # stopping is best effort: the link may be going away
            logger.debug("%s: stop commands failed: %s", self.spec.placement, exc)
        await _quietly_disconnect(client)

    def holds_back(self, now_s: float) -> bool:
        """Whether rows of the other sensors must wait for this one (see `_watermark`)."""
        if not self.streaming:
            return False
        heard = max(self.connected_at_s or 0.0, self.last_arrival_s or -math.inf)
        if now_s - heard > SILENT_S:
            if not self.silent:
                self.silent = True
                what = "no data since it connected" if self.last_arrival_s is None else "no data"
                self.session.note(f"{self.spec.placement}: {what} for {now_s - heard:.1f} s "
                                  "(sensor not streaming?); recording the others")
            return False
        self.silent = False
        return True

    # -- decoding --------------------------------------------------------------------------
    def _fresh_decoder(self, rate_hz: float):
        s = self.settings
        return self.profile.new_decoder(rate_hz, s.acc_range_g, s.gyr_range_dps)

    async def decode_forever(self) -> None:
        self._decoder = self._fresh_decoder(self.settings.rate_hz)
        epoch = 0
        while True:
            uuid, data, arrival_s, item_epoch = await self.queue.get()
            if item_epoch != epoch:
                epoch = item_epoch
                self._new_epoch()
            self.decode_one(uuid, data, arrival_s)

    def decode_one(self, uuid: str, data: bytes, arrival_s: float) -> None:
        from imu_knee.ble.profiles import DecodeError, stack_samples

        stats = self.stats
        stats.notifications += 1
        stats.payload_bytes += len(data)
        if stats.first_arrival_s is None:
            stats.first_arrival_s = arrival_s
        stats.last_arrival_s = arrival_s
        self.last_arrival_s = arrival_s - self.session.t0_monotonic
        try:
            items = self._decoder.feed(uuid, data, arrival_s)
        except DecodeError as exc:
            stats.decode_errors += 1
            logger.debug("%s: %s", self.spec.placement, exc)
            if not self._decode_error_noted:
                self._decode_error_noted = True
                self.session.note(f"{self.spec.placement}: a {len(data)}-byte notification does not decode "
                                  f"({exc}); skipped (all such are counted)")
            return
        stats.lost_packets = int(getattr(self._decoder, "lost_packets", 0))
        if not items:
            return
        arrays = stack_samples(items)
        if self._warm:
            self._emit(arrays)
            return
        self._pending.append(arrays)
        if not self.rate_checked:
            self._pending_raw.append((uuid, data, arrival_s))
        span_s = arrival_s - float(self._pending[0].arrival_s[-1])
        if span_s >= (REWARM_S if self.rate_checked else WARMUP_S):
            self.end_warmup()

    def end_warmup(self) -> None:
        """Decide the rate (first time only), prime the clock, emit what was held back."""
        if self._warm or not self._pending:
            return
        if not self.rate_checked:
            self.rate_checked = True
            self._check_rate()
        self._pending_raw = []
        pending, self._pending = self._pending, []
        timed = [(self._device_times(a), a) for a in pending]
        self.clock.prime(np.array([d[-1] for d, _ in timed]), np.array([a.arrival_s[-1] for _, a in timed]))
        self._warm = True
        for device_t, arrays in timed:
            self._place(device_t, arrays)

    def _check_rate(self) -> None:
        """Compare the rate the sensor sends with the one asked for; follow the sensor."""
        from imu_knee.ble.profiles import DecodeError, SettingError, stack_samples

        asked = self.rate_hz
        measured = _measured_rate_hz(self._pending)
        if measured is None or abs(measured / asked - 1.0) <= RATE_TOLERANCE:
            return
        supported = [float(r) for r in (self.profile.rates_hz or ())]
        near = min(supported, key=lambda r: abs(r - measured), default=None)
        rate = near if near is not None and abs(near / measured - 1.0) <= RATE_TOLERANCE else round(measured, 1)
        self.session.note(f"{self.spec.placement}: the sensor sends about {measured:.0f} Hz, not the {asked:g} Hz "
                          f"asked for; recording it at {rate:g} Hz")
        self.rate_hz = rate
        self.clock.max_step_s = CLOCK_STEP_OF_PERIOD / rate
        self.stamps = DeviceStampSmoother(rate)
        try:
            decoder = self._fresh_decoder(rate)
        except SettingError:
            return  # not a rate the profile knows: keep the decoder, time by the measured rate
        redone = []
        try:
            for uuid, data, arrival_s in self._pending_raw:
                items = decoder.feed(uuid, data, arrival_s)
                if items:
                    redone.append(stack_samples(items))
        except DecodeError:
            return
        self._decoder = decoder
        self._pending = redone

    def _new_epoch(self) -> None:
        """After a reconnect: fresh decoder state; clocks primed again."""
        self.end_warmup()  # whatever was held back from before the drop
        self._decoder = self._fresh_decoder(self.rate_hz if self.rate_checked else self.settings.rate_hz)
        self._count_in_epoch = 0
        self._warm = False
        self.clock.reset()
        self.stamps.reset()

    def _device_times(self, arrays) -> np.ndarray:
        n = len(arrays)
        device_t = arrays.device_t_s
        if not self._has_clock or not np.all(np.isfinite(device_t)):
            device_t = (self._count_in_epoch + np.arange(n)) / self.rate_hz
        else:
            device_t = self.stamps.place(device_t)
        self._count_in_epoch += n
        return device_t

    def _emit(self, arrays) -> None:
        if len(arrays):
            self._place(self._device_times(arrays), arrays)

    def _place(self, device_t: np.ndarray, arrays) -> None:
        offset = self.clock.update(float(device_t[-1]), float(arrays.arrival_s[-1]))
        t = device_t + offset - self.session.t0_monotonic
        acc = arrays.acc_mps2
        gyr = arrays.gyr_dps
        arrival = arrays.arrival_s
        if not getattr(self.profile, "has_gyro", True):
            gyr = np.nan_to_num(gyr, nan=0.0)
        keep = t > self.latest_t_s
        if not keep.all():
            self.stats.late_samples += int((~keep).sum())
            t, acc, gyr, arrival = t[keep], acc[keep], gyr[keep], arrival[keep]
        if len(t) == 0:
            return
        if self.latest_t_s > -math.inf and t[0] - self.latest_t_s > self.session.gap_min_s:
            self.stats.gaps.append((self.latest_t_s, float(t[0])))
        self.latest_t_s = float(t[-1])
        self.stats.samples += len(t)
        self.session.sink.push(self.spec.placement, t, acc, gyr)
        if self.session.on_samples is not None:
            self.session.on_samples(self.spec.placement, t, acc, gyr)
        if self.session.on_block is not None:
            self.session.on_block(self.spec.placement, t, acc, gyr, arrival)


def _measured_rate_hz(pending: list) -> float | None:
    """Samples per second over held-back notifications: from the device clock when there is
    one, else from arrival times (the samples of the first notification are not counted)."""
    if len(pending) < 3:
        return None
    dev = np.concatenate([a.device_t_s for a in pending])
    n = len(dev)
    if np.all(np.isfinite(dev)) and dev[-1] > dev[0]:
        by_clock = (n - 1) / (dev[-1] - dev[0])
    else:
        by_clock = None
    span = float(pending[-1].arrival_s[-1] - pending[0].arrival_s[-1])
    by_arrival = (n - len(pending[0])) / span if span > 0 else None
    # a decoder spaces a packet's samples by the asked rate, so its clock alone cannot show a
    # mismatch: trust it only when arrivals agree with it roughly
    if by_clock is not None and by_arrival is not None and abs(by_clock / by_arrival - 1) < RATE_TOLERANCE:
        return by_clock
    return by_arrival


async def _quietly_disconnect(client) -> None:
    try:
        await client.disconnect()
    except Exception as exc:
        logger.debug("disconnect failed: %s", exc)


async def _wait_or_stop(stop: asyncio.Event, delay_s: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), delay_s)
    except asyncio.TimeoutError:
        pass


class RecordingSession:
    """Records several sensors into one recording file (see module docstring)."""

    def __init__(
        self,
        sensors: list[SensorSpec],
        out_path,
        *,
        client_kwargs: dict | None = None,
        meta: dict | None = None,
        connect_timeout_s: float = 10.0,
        setup_timeout_s: float = 5.0,
        reconnect_base_s: float = 0.2,
        reconnect_max_s: float = 5.0,
        retry_first_connect: bool = False,
        gap_min_s: float = 0.25,
        on_samples: Callable[[str, np.ndarray, np.ndarray, np.ndarray], None] | None = None,
        on_block: Callable[[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray], None] | None = None,
        on_note: Callable[[str], None] | None = None,
    ) -> None:
        names = [s.placement for s in sensors]
        if len(set(names)) != len(names):
            raise ValueError("each sensor placement may appear once")
        self.specs = list(sensors)
        self.out_path = out_path
        self.client_kwargs = dict(client_kwargs or {})
        self.meta = dict(meta or {})
        self.connect_timeout_s = connect_timeout_s
        self.setup_timeout_s = setup_timeout_s
        self.reconnect_base_s = reconnect_base_s
        self.reconnect_max_s = reconnect_max_s
        self.retry_first_connect = retry_first_connect
        self.gap_min_s = gap_min_s
        self.on_samples = on_samples
        self.on_block = on_block
        self.on_note = on_note
        self.notes: list[str] = []
        self.t0_monotonic = time.monotonic()
        self.connect_lock = asyncio.Lock()
        self.sink: TimeOrderedSink | None = None
        self.links: list[_SensorLink] = []
        self.writer: RecordingWriter | None = None

    def now_s(self) -> float:
        return time.monotonic() - self.t0_monotonic

    def note(self, text: str) -> None:
        """Something the user should know (a lost connection, a wrong rate, bad data)."""
        self.notes.append(text)
        logger.info("%s", text)
        if self.on_note is not None:
            self.on_note(text)

    def _watermark(self) -> float:
        now = self.now_s()
        limit = now - HOLD_BACK_S
        waiting = [link.latest_t_s for link in self.links if link.holds_back(now)]
        return min([limit] + waiting)

    def _open_writer(self) -> RecordingWriter:
        sensors_meta = {link.spec.placement: {"device": link.profile.device_name,
                                              "rate_hz": _rate_text(link.rate_hz)}
                        for link in self.links if link.failed is None}
        self.writer = RecordingWriter(self.out_path, sensors_meta, self.meta)
        return self.writer

    async def run(self, duration_s: float | None = None, stop: asyncio.Event | None = None,
                  until: Callable[[], bool] | None = None) -> dict:
        """Record until `duration_s` passes, `stop` is set or `until()` is true.

        The file is written only once there are rows; a session that records nothing leaves
        no file behind."""
        stop = stop or asyncio.Event()
        self.links = [_SensorLink(self, spec) for spec in self.specs]
        self.t0_monotonic = time.monotonic()
        self.writer = None
        try:
            return await self._record(stop, duration_s, until)
        finally:
            if self.writer is not None:
                self.writer.close()
                if self.writer.rows_written == 0:
                    Path(self.out_path).unlink(missing_ok=True)

    async def _record(self, stop: asyncio.Event, duration_s: float | None,
                      until: Callable[[], bool] | None) -> dict:
        self.sink = TimeOrderedSink(self._open_writer)
        decoders = [asyncio.ensure_future(link.decode_forever()) for link in self.links]
        tasks = [asyncio.ensure_future(link.run(stop)) for link in self.links]
        try:
            while not stop.is_set():
                await asyncio.sleep(RELEASE_EVERY_S)
                for task in tasks + decoders:
                    if task.done() and not task.cancelled() and task.exception() is not None:
                        raise task.exception()
                if all(link.failed is not None for link in self.links):
                    raise self.links[0].failed
                self.sink.release(self._watermark())
                if duration_s is not None and self.now_s() >= duration_s:
                    break
                if until is not None and until():
                    break
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.sleep(0.05)  # let the last queued notifications be decoded
            for link, decoder in zip(self.links, decoders):
                for _ in range(100):
                    if link.queue.empty() or decoder.done():
                        break
                    await asyncio.sleep(0.01)
            for task in decoders:
                task.cancel()
            await asyncio.gather(*decoders, return_exceptions=True)
            for link in self.links:
                link.end_warmup()  # a session shorter than the warm-up still keeps its samples
            self.sink.release()
            for link in self.links:
                link.stats.late_samples += self.sink.late.get(link.spec.placement, 0)
        return self.summary()

    def summary(self) -> dict:
        sensors = []
        for link in self.links:
            d = link.stats.as_dict()
            d["rate_hz"] = _rate_text(link.rate_hz)
            d["asked_rate_hz"] = _rate_text(link.settings.rate_hz)
            d["failed"] = None if link.failed is None else link._describe(link.failed)
            sensors.append(d)
        return {
            "duration_s": round(self.now_s(), 3),
            "sensors": sensors,
            "notes": list(self.notes),
            "out_path": str(self.out_path) if self.writer is not None and self.writer.rows_written else None,
        }


@contextlib.contextmanager
def stop_on_interrupt(stop: asyncio.Event, on_interrupt: Callable[[], None] | None = None):
    """Within a running event loop: the first Ctrl-C (SIGINT) sets `stop` so the session ends
    cleanly (file complete, summary returned); a second one interrupts as usual."""
    loop = asyncio.get_running_loop()

    def first() -> None:
        stop.set()
        _remove()
        if on_interrupt is not None:
            on_interrupt()

    def _remove() -> None:
        try:
            loop.remove_signal_handler(signal.SIGINT)
        except (NotImplementedError, RuntimeError, ValueError):
            pass

    try:
        loop.add_signal_handler(signal.SIGINT, first)
        installed = True
    except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not the main thread
        installed = False
    try:
        yield
    finally:
        if installed:
            _remove()


def _rate_text(rate_hz: float) -> float | int:
    return int(round(rate_hz)) if abs(rate_hz - round(rate_hz)) < 0.05 else round(rate_hz, 2)
