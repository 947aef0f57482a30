"""Record BLE sensors to a recording file: connect, stream, decode, time-stamp, write.

    session = RecordingSession([SensorSpec("left_shank", get_profile("movesense"), address)],
                               "out.csv", client_kwargs={"backend": BumbleClient, "radio": radio})
    summary = await session.run(duration_s=30)

- Sensors are connected one at a time (a lock: BlueZ dislikes parallel connects), then
  stream in parallel, each in its own task.
- The bleak notification callback only puts (characteristic, bytes, arrival time) on a
  queue; a separate task decodes with the profile's decoder.
- Device clocks (or, for devices without one, a sample counter at the nominal rate) are
  mapped onto the session clock by a `ClockMapper`.
- A lost connection is retried with exponential backoff; the time without data is a gap:
  missing rows in the file (DESIGN.md section 1) and an entry in the summary.
- Rows are merged across sensors in time order before they reach `RecordingWriter`, so the
  file's timestamps never go backwards.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from imu_knee.recording import RecordingWriter

logger = logging.getLogger(__name__)

RELEASE_EVERY_S = 0.2
HOLD_BACK_S = 0.25  # rows stay this long in the merger so late sensors can slot in


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

    def as_dict(self) -> dict:
        span = (self.last_arrival_s or 0.0) - (self.first_arrival_s or 0.0)
        return {
            "placement": self.placement, "notifications": self.notifications,
            "samples": self.samples, "decode_errors": self.decode_errors,
            "lost_packets": self.lost_packets, "late_samples": self.late_samples,
            "reconnects": max(0, self.connects - 1),
            "gaps_s": [(round(a, 3), round(b, 3)) for a, b in self.gaps],
            "notifications_per_s": round(self.notifications / span, 1) if span > 0 else 0.0,
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


class TimeOrderedSink:
    """Buffers rows per sensor and writes them merged in time order up to a watermark."""

    def __init__(self, writer: RecordingWriter) -> None:
        self.writer = writer
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
        self.stats = SensorStats(spec.placement)
        self.queue: asyncio.Queue = asyncio.Queue()
        self.clock = ClockMapper(max_step_s=0.25 / self.settings.rate_hz)
        self.latest_t_s = -math.inf
        self.streaming = False
        self._disconnected = asyncio.Event()
        self._epoch = 0
        self._count_in_epoch = 0
        self._decoder = None
        self._has_clock = bool(getattr(spec.profile, "has_device_clock", False))

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
            rate = self.settings.rate_hz
            for command in self.profile.setup_commands(rate_hz=rate, acc_range_g=self.settings.acc_range_g,
                                                       gyr_range_dps=self.settings.gyr_range_dps):
                await client.write_gatt_char(command.char_uuid, command.data)
            for uuid in self.profile.notify_uuids:
                await client.start_notify(uuid, self._on_notification)
            for command in self.profile.start_commands(rate_hz=rate, acc_range_g=self.settings.acc_range_g,
                                                       gyr_range_dps=self.settings.gyr_range_dps):
                await client.write_gatt_char(command.char_uuid, command.data)
        return client

    def _on_notification(self, characteristic, data: bytearray) -> None:
        # keep this tiny: bytes and arrival time onto the queue, decoding happens elsewhere
        self.queue.put_nowait((characteristic.uuid, bytes(data), time.monotonic(), self._epoch))

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
                    raise
                await _wait_or_stop(stop, delay_s)
                delay_s = min(delay_s * 2.0, self.session.reconnect_max_s)
                continue
            self.stats.connects += 1
            delay_s = self.session.reconnect_base_s
            self.streaming = True
            if lost_at is not None:
                self.session.notes.append(f"{self.spec.placement}: reconnected")
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
            self.session.notes.append(f"{self.spec.placement}: connection lost at {lost_at:.2f} s")
            self._epoch += 1  # samples counted from scratch after a reconnect
            await _wait_or_stop(stop, delay_s)

    async def _stop_device(self, client) -> None:
        try:
            if client.is_connected:
                for command in self.profile.stop_commands():
                    await client.write_gatt_char(command.char_uuid, command.data)
        except Exception as exc:  # stopping is best effort: the link may be going away
            logger.debug("%s: stop commands failed: %s", self.spec.placement, exc)
        try:
            await client.disconnect()
        except Exception as exc:
            logger.debug("%s: disconnect failed: %s", self.spec.placement, exc)

    # -- decoding --------------------------------------------------------------------------
    async def decode_forever(self) -> None:
        from imu_knee.ble.profiles import DecodeError, stack_samples

        self._decoder = self.profile.new_decoder(self.settings.rate_hz, self.settings.acc_range_g,
                                                 self.settings.gyr_range_dps)
        epoch = 0
        while True:
            uuid, data, arrival_s, item_epoch = await self.queue.get()
            stats = self.stats
            stats.notifications += 1
            stats.payload_bytes += len(data)
            if stats.first_arrival_s is None:
                stats.first_arrival_s = arrival_s
            stats.last_arrival_s = arrival_s
            if item_epoch != epoch:
                epoch = item_epoch
                self._new_epoch()
            try:
                items = self._decoder.feed(uuid, data, arrival_s)
            except DecodeError as exc:
                stats.decode_errors += 1
                logger.debug("%s: %s", self.spec.placement, exc)
                continue
            stats.lost_packets = int(getattr(self._decoder, "lost_packets", 0))
            if items:
                self._emit(stack_samples(items))

    def _new_epoch(self) -> None:
        """After a reconnect: fresh decoder state; count-based clocks restart."""
        self._decoder = self.profile.new_decoder(self.settings.rate_hz, self.settings.acc_range_g,
                                                 self.settings.gyr_range_dps)
        self._count_in_epoch = 0
        if not self._has_clock:
            self.clock.reset()

    def _emit(self, arrays) -> None:
        n = len(arrays)
        if n == 0:
            return
        rate = self.settings.rate_hz
        device_t = arrays.device_t_s
        if not self._has_clock or not np.all(np.isfinite(device_t)):
            device_t = (self._count_in_epoch + np.arange(n)) / rate
        self._count_in_epoch += n
        offset = self.clock.update(float(device_t[-1]), float(arrays.arrival_s[-1]))
        t = device_t + offset - self.session.t0_monotonic
        acc = arrays.acc_mps2
        gyr = arrays.gyr_dps
        if not getattr(self.profile, "has_gyro", True):
            gyr = np.nan_to_num(gyr, nan=0.0)
        keep = t > self.latest_t_s
        if not keep.all():
            self.stats.late_samples += int((~keep).sum())
            t, acc, gyr = t[keep], acc[keep], gyr[keep]
        if len(t) == 0:
            return
        if self.latest_t_s > -math.inf and t[0] - self.latest_t_s > self.session.gap_min_s:
            self.stats.gaps.append((self.latest_t_s, float(t[0])))
        self.latest_t_s = float(t[-1])
        self.stats.samples += len(t)
        self.session.sink.push(self.spec.placement, t, acc, gyr)
        if self.session.on_samples is not None:
            self.session.on_samples(self.spec.placement, t, acc, gyr)


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
        reconnect_base_s: float = 0.2,
        reconnect_max_s: float = 5.0,
        retry_first_connect: bool = False,
        gap_min_s: float = 0.25,
        on_samples: Callable[[str, np.ndarray, np.ndarray, np.ndarray], None] | None = None,
    ) -> None:
        names = [s.placement for s in sensors]
        if len(set(names)) != len(names):
            raise ValueError("each sensor placement may appear once")
        self.specs = list(sensors)
        self.out_path = out_path
        self.client_kwargs = dict(client_kwargs or {})
        self.meta = dict(meta or {})
        self.connect_timeout_s = connect_timeout_s
        self.reconnect_base_s = reconnect_base_s
        self.reconnect_max_s = reconnect_max_s
        self.retry_first_connect = retry_first_connect
        self.gap_min_s = gap_min_s
        self.on_samples = on_samples
        self.notes: list[str] = []
        self.t0_monotonic = time.monotonic()
        self.connect_lock = asyncio.Lock()
        self.sink: TimeOrderedSink | None = None
        self.links: list[_SensorLink] = []

    def now_s(self) -> float:
        return time.monotonic() - self.t0_monotonic

    def _watermark(self) -> float:
        limit = self.now_s() - HOLD_BACK_S
        streaming = [link.latest_t_s for link in self.links if link.streaming]
        return min([limit] + streaming)

    async def run(self, duration_s: float | None = None, stop: asyncio.Event | None = None,
                  until: Callable[[], bool] | None = None) -> dict:
        """Record until `duration_s` passes, `stop` is set or `until()` is true."""
        stop = stop or asyncio.Event()
        self.links = [_SensorLink(self, spec) for spec in self.specs]
        sensors_meta = {link.spec.placement: {"device": link.profile.device_name,
                                              "rate_hz": _rate_text(link.settings.rate_hz)}
                        for link in self.links}
        self.t0_monotonic = time.monotonic()
        writer = RecordingWriter(self.out_path, sensors_meta, self.meta)
        try:
            return await self._record(writer, stop, duration_s, until)
        except BaseException:
            writer.close()
            if writer.rows_written == 0:  # nothing recorded: leave no empty file behind
                Path(self.out_path).unlink(missing_ok=True)
            raise
        finally:
            writer.close()

    async def _record(self, writer: RecordingWriter, stop: asyncio.Event, duration_s: float | None,
                      until: Callable[[], bool] | None) -> dict:
        self.sink = TimeOrderedSink(writer)
        decoders = [asyncio.ensure_future(link.decode_forever()) for link in self.links]
        tasks = [asyncio.ensure_future(link.run(stop)) for link in self.links]
        try:
            while not stop.is_set():
                await asyncio.sleep(RELEASE_EVERY_S)
                for task in tasks + decoders:
                    if task.done() and not task.cancelled() and task.exception() is not None:
                        raise task.exception()
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
            self.sink.release()
            for link in self.links:
                link.stats.late_samples += self.sink.late.get(link.spec.placement, 0)
        return self.summary()

    def summary(self) -> dict:
        return {
            "duration_s": round(self.now_s(), 3),
            "sensors": [link.stats.as_dict() for link in self.links],
            "notes": list(self.notes),
        }


def _rate_text(rate_hz: float) -> float | int:
    return int(round(rate_hz)) if abs(rate_hz - round(rate_hz)) < 0.05 else round(rate_hz, 2)
