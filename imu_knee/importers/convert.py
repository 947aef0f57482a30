"""From a format module's raw result to one imu-knee sensor stream: units, one timeline,
time from zero."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from ..errors import InputError
from ..recording import Recording, SensorStream
from .model import RawImport, Stream3
from .timeline import merge_onto_acc, order_by_time, rate_hz
from .units import ACC_FACTORS, ACC_UNIT_TEXT, GYR_FACTORS, GYR_UNIT_TEXT, resolve_acc_unit, resolve_gyr_unit


_YEAR_2000_S = 946684800.0
MIN_RATE_HZ = 5.0
MAX_RATE_HZ = 5000.0


@dataclass
class ImportResult:
    """The imported recording (one sensor), its metadata lines and the warnings."""

    recording: Recording
    meta: dict[str, str]
    notes: list[str] = field(default_factory=list)
    app: str = ""
    dropped_samples: int = 0


def _prepared(stream: Stream3, what: str, notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    t, xyz, moved = order_by_time(stream.t_s, stream.xyz)
    if moved and not stream.presorted:
        notes.append(f"{stream.source}: {moved} {what} sample(s) out of time order were sorted")
    return t, xyz


def to_recording(raw: RawImport, placement: str, acc_unit: str = "auto",
                 gyr_unit: str = "auto") -> ImportResult:
    notes = list(raw.notes)
    acc_t, acc = _prepared(raw.acc, "accelerometer", notes)
    gyr_t, gyr = _prepared(raw.gyr, "gyroscope", notes)
    a_unit = resolve_acc_unit(acc, raw.acc.unit, acc_unit, raw.acc.source, notes)
    g_unit = resolve_gyr_unit(gyr, raw.gyr.unit, gyr_unit, raw.gyr.source, notes)
    try:
        t, acc, gyr, outside, in_gap = merge_onto_acc(acc_t, acc, gyr_t, gyr)
    except InputError as exc:
        raise InputError(f"{raw.meta.get('source_file', raw.app)}: {exc}") from None
    if len(t) < 2:
        raise InputError(f"{raw.meta.get('source_file', raw.app)}: fewer than 2 samples remain"
                         " where accelerometer and gyroscope overlap")
    if in_gap:
        notes.append(f"{in_gap} accelerometer sample(s) fall in gaps of the gyroscope recording"
                     " and were left out (they stay gaps)")
    if outside > 0.1 * len(acc_t):
        notes.append(f"{outside} accelerometer sample(s) before or after the gyroscope recording"
                     " were left out")
    acc_mps2 = acc * ACC_FACTORS[a_unit]
    gyr_dps = gyr * GYR_FACTORS[g_unit]
    t_s = t - t[0]
    meta = dict(raw.meta)
    if t[0] > _YEAR_2000_S:  # the source clock is UNIX time: keep the absolute start
        start = datetime.fromtimestamp(float(t[0]), tz=timezone.utc)
        meta["start_utc"] = start.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    rate = rate_hz(t_s)
    if not MIN_RATE_HZ <= rate <= MAX_RATE_HZ:
        raise InputError(f"{raw.meta.get('source_file', raw.app)}: the timestamps give a sample rate"
                         f" of {rate:.3g} Hz, which no wearable IMU uses; are the times in seconds"
                         " (or is --rate right)?")
    stream = SensorStream(name=placement, t_s=t_s, acc_mps2=acc_mps2, gyr_dps=gyr_dps,
                          rate_hz=rate, device=raw.device)
    meta["source_units"] = (f"acc {ACC_UNIT_TEXT[a_unit]}, gyro {GYR_UNIT_TEXT[g_unit]}"
                            " (converted to m/s² and deg/s)")
    return ImportResult(recording=Recording(streams={placement: stream}), meta=meta,
                        notes=notes, app=raw.app, dropped_samples=outside + in_gap)
