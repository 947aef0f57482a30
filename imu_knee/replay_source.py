"""Replay a recording as if it were live (no Qt): sample blocks at a chosen pace.

Two ways to drive it:

- `play(rec, push, speed=1.0, block_s=0.05, stop=event)`: in the caller's thread, push the
  samples in blocks of `block_s` signal seconds, interleaved across sensors in time order, each
  block once the replay clock (`speed` x wall time; 0 = as fast as possible) has passed its
  last sample, as a sensor would deliver it. Used by `imu-knee replay`.
- `ReplaySource`: a thread with pause, seek and speed changes (the dashboard):

    src = ReplaySource(recording, pipeline.push, on_reset=pipeline.reset,
                       on_finish=pipeline.finish, speed=4.0)
    src.start()            # a thread pushes each sensor's samples as the replay clock passes them
    src.seek(12.0); src.set_speed(0.25); src.pause(); src.resume(); src.stop()

The replay clock runs at ``speed`` × wall time. Seeking forward pushes the skipped samples as
fast as possible (the engine is causal, so it must see them); seeking backwards restarts the
session (``on_reset``) and runs forward to the target. The same blocks, at any speed, reach
the same engine as in live use.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Callable, Iterator

import numpy as np

from imu_knee.recording import Recording

SPEED_MIN = 0.25
SPEED_MAX = 16.0
TICK_S = 0.02
FAST_BLOCK_S = 1.0


class RecordingCursor:
    """Per sensor, the index of the next sample not yet handed out."""

    def __init__(self, rec: Recording) -> None:
        self.rec = rec
        self.next_index = {n: 0 for n in rec.streams}

    def done(self) -> bool:
        return all(self.next_index[n] >= len(s.t_s) for n, s in self.rec.streams.items())

    def advance_to(self, target_s: float) -> list[tuple]:
        """Blocks ``(sensor, t_s, acc_mps2, gyr_dps)`` of every sample at or before `target_s`
        not handed out yet, one per sensor that has some, earliest first sample first."""
        blocks = []
        for name, s in self.rec.streams.items():
            i0 = self.next_index[name]
            i1 = int(np.searchsorted(s.t_s, target_s, side="right"))
            if i1 > i0:
                blocks.append((name, s.t_s[i0:i1], s.acc_mps2[i0:i1], s.gyr_dps[i0:i1]))
                self.next_index[name] = i1
        blocks.sort(key=lambda b: float(b[1][0]))
        return blocks


def recording_span_s(rec: Recording) -> tuple[float, float]:
    """(first, last) sample time over all sensors."""
    streams = [s for s in rec.streams.values() if len(s.t_s)]
    if not streams:
        raise ValueError("the recording has no samples")
    return min(float(s.t_s[0]) for s in streams), max(float(s.t_s[-1]) for s in streams)


def iter_blocks(rec: Recording, block_s: float = 0.05) -> Iterator[tuple[float, list[tuple]]]:
    """``(end_s, blocks)`` per window of `block_s` signal seconds, in time order: the blocks
    (see `RecordingCursor.advance_to`) hold every sample with time in (end_s - block_s, end_s]
    (the first window also its start). Every sample comes out exactly once."""
    if not (math.isfinite(block_s) and block_s > 0):
        raise ValueError(f"block {block_s} s: must be a positive number of seconds")
    t_start_s, t_end_s = recording_span_s(rec)
    cursor = RecordingCursor(rec)
    k = 0
    while not cursor.done():
        end_s = min(t_start_s + k * block_s, t_end_s)
        k += 1
        blocks = cursor.advance_to(end_s if end_s < t_end_s else math.inf)
        if blocks:
            yield end_s, blocks


def interleaved_sample_blocks(rec: Recording, block_size: Callable[[], int]) -> Iterator[tuple]:
    """``(sensor, t_s, acc_mps2, gyr_dps)`` blocks of ``block_size()`` samples each, the sensor
    whose next sample is earliest going next (like a live merge by arrival). Every sample comes
    out exactly once; tests and benchmarks use it to push a recording as small live blocks."""
    pos = {n: 0 for n in rec.streams}
    while True:
        open_ = [n for n in rec.streams if pos[n] < len(rec.streams[n])]
        if not open_:
            return
        name = min(open_, key=lambda n: rec.streams[n].t_s[pos[n]])
        s = rec.streams[name]
        sl = slice(pos[name], min(pos[name] + max(1, int(block_size())), len(s)))
        pos[name] = sl.stop
        yield name, s.t_s[sl], s.acc_mps2[sl], s.gyr_dps[sl]


def play(rec: Recording, push: Callable, speed: float = 1.0, block_s: float = 0.05,
         stop: threading.Event | None = None, on_block: Callable[[float], None] | None = None) -> float:
    """Push `rec`'s samples to ``push(sensor, t_s, acc_mps2, gyr_dps)`` in blocks (see
    `iter_blocks`), each when ``speed`` x the wall time since the start has reached its last
    sample (speed 0: as fast as possible). Returns the signal time reached (the end, or where
    `stop` was set). ``on_block(end_s)`` is called after each window."""
    if not (math.isfinite(speed) and speed >= 0):
        raise ValueError(f"speed {speed}: must be 0 (as fast as possible) or a positive number")
    stop = stop or threading.Event()
    t_start_s, _ = recording_span_s(rec)
    wall0 = time.monotonic()
    reached_s = t_start_s
    for end_s, blocks in iter_blocks(rec, block_s):
        if speed > 0:
            wait_s = wall0 + (end_s - t_start_s) / speed - time.monotonic()
            if wait_s > 0 and stop.wait(wait_s):
                break
        if stop.is_set():
            break
        for block in blocks:
            push(*block)
        reached_s = end_s
        if on_block is not None:
            on_block(end_s)
    return reached_s


class ReplaySource:
    """Pushes a Recording's samples to ``push(sensor, t, acc, gyr)`` at ``speed`` (see module doc)."""

    def __init__(self, rec: Recording, push: Callable, on_reset: Callable | None = None,
                 on_finish: Callable | None = None, speed: float = 1.0, tick_s: float = TICK_S):
        if not rec.streams:
            raise ValueError("the recording has no sensors")
        self.rec = rec
        self._push = push
        self._on_reset = on_reset
        self._on_finish = on_finish
        self.tick_s = tick_s
        self.t_start_s = min(float(s.t_s[0]) for s in rec.streams.values() if len(s))
        self.t_end_s = max(float(s.t_s[-1]) for s in rec.streams.values() if len(s))
        self._speed = clamp_speed(speed)
        self._cursor = RecordingCursor(rec)
        self._pos_s = self.t_start_s
        self._paused = False
        self._seek_to: float | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._anchor = (time.monotonic(), self._pos_s)  # (wall, signal) of the running clock
        self.finished = False
        self.error: BaseException | None = None

    # ------------------------------------------------------------------ control

    @property
    def duration_s(self) -> float:
        return self.t_end_s - self.t_start_s

    @property
    def position_s(self) -> float:
        return self._pos_s

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def paused(self) -> bool:
        return self._paused

    def set_speed(self, speed: float) -> None:
        with self._lock:
            self._speed = clamp_speed(speed)
            self._anchor = (time.monotonic(), self._pos_s)

    def pause(self) -> None:
        self._paused = True

    def resume(self) -> None:
        with self._lock:
            self._paused = False
            self._anchor = (time.monotonic(), self._pos_s)
        self._wake.set()

    def seek(self, t_s: float) -> None:
        """Go to signal time ``t_s`` (seconds on the recording's clock)."""
        self._seek_to = float(min(max(t_s, self.t_start_s), self.t_end_s))
        self._wake.set()

    def wall_at(self, t_s: float) -> float:
        """Wall clock (time.monotonic) at which the running replay clock passes ``t_s``."""
        wall0, sig0 = self._anchor
        return wall0 + (t_s - sig0) / self._speed

    def start(self) -> None:
        self._anchor = (time.monotonic(), self._pos_s)
        self._thread = threading.Thread(target=self._run, name="imu-knee replay", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    # ------------------------------------------------------------------ the thread

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if self._seek_to is not None:
                    target, self._seek_to = self._seek_to, None
                    self._do_seek(target)
                    continue
                if self._paused or self.finished:
                    self._wake.wait(0.05)
                    self._wake.clear()
                    continue
                with self._lock:
                    wall0, sig0 = self._anchor
                    target = sig0 + (time.monotonic() - wall0) * self._speed
                self._advance_to(min(target, self.t_end_s))
                if self._pos_s >= self.t_end_s:
                    self._finish()
                    continue
                self._wake.wait(self.tick_s)
                self._wake.clear()
        except BaseException as exc:  # reported to the GUI, never lost in a thread
            self.error = exc

    def _advance_to(self, target_s: float) -> None:
        for block in self._cursor.advance_to(target_s):
            self._push(*block)
        self._pos_s = max(self._pos_s, target_s)

    def _do_seek(self, target_s: float) -> None:
        if target_s < self._pos_s:
            if self._on_reset is not None:
                self._on_reset()
            self._cursor = RecordingCursor(self.rec)
            self._pos_s = self.t_start_s
            self.finished = False
        t = self._pos_s
        while t < target_s and not self._stop.is_set() and self._seek_to is None:
            t = min(t + FAST_BLOCK_S, target_s)
            self._advance_to(t)
        with self._lock:
            self._anchor = (time.monotonic(), self._pos_s)
        if self._pos_s >= self.t_end_s:
            self._finish()

    def _finish(self) -> None:
        if not self.finished:
            self.finished = True
            if self._on_finish is not None:
                self._on_finish()


def clamp_speed(speed: float) -> float:
    """The dashboard's speed range (SPEED_MIN..SPEED_MAX); ValueError if not a positive number."""
    if not math.isfinite(speed) or speed <= 0:
        raise ValueError(f"speed {speed}: must be a positive number")
    return float(min(max(speed, SPEED_MIN), SPEED_MAX))
