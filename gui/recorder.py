"""Record what arrives in live mode to a recording file (no Qt; runs in the analysis process)."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import numpy as np

from imu_knee.recording import RecordingWriter


class SessionRecorder:
    """Writes what arrives to a recording file, merged across sensors in time order
    (the session's ``TimeOrderedSink``); thread-safe, the source thread calls ``append``."""

    def __init__(self, path: Path, rates_hz: dict[str, float], leg_length_m: float | None):
        from imu_knee.ble.session import TimeOrderedSink

        meta = {"source": "imu-knee dashboard"}
        if leg_length_m:
            meta["subject"] = {"leg_length_m": leg_length_m}
        self.path = path
        self._lock = threading.Lock()
        self._writer = RecordingWriter(path, {n: {"rate_hz": r} for n, r in rates_hz.items()}, meta)
        self._sink = TimeOrderedSink(self._writer)
        self._latest = {n: -math.inf for n in rates_hz}

    def append(self, name, t, acc, gyr) -> None:
        with self._lock:
            if self._writer is None or len(t) == 0:
                return
            self._sink.push(name, np.asarray(t), np.asarray(acc), np.asarray(gyr))
            self._latest[name] = max(self._latest.get(name, -math.inf), float(t[-1]))
            self._sink.release(min(self._latest.values()))

    def close(self) -> None:
        with self._lock:
            if self._writer is not None:
                self._sink.release()
                self._writer.close()
                self._writer = None
