"""Nordic Thingy:52 motion service, raw data characteristic.

GATT base ``ef68xxxx-9b35-4933-9b10-52ffa9740042``: motion service 0400, motion config 0401,
raw data 0406 (notify). Subscribing to 0406 starts the stream. The config characteristic holds
u16 step-counter interval (ms), u16 temperature-compensation interval (ms), u16 magnetometer-
compensation interval (ms), u16 motion processing frequency (Hz, 1–200), u8 wake-on-motion;
imu-knee writes all nine bytes from firmware_config/thingy52.json with the chosen rate.

Raw data: 18 bytes = 9 × int16 LE in the firmware's fixed-point formats: acc Q6.10 (g, ÷1024),
gyro Q11.5 (deg/s, ÷32), compass Q12.4 (µT, ÷16). One sample per notification, no clock.
Full-scale ranges are set by the firmware and cannot be changed over BLE; the gyro format
itself stops at ±1024 deg/s.
"""

from __future__ import annotations

import struct

import numpy as np

from .base import (
    BATTERY_LEVEL_UUID,
    GRAVITY_MPS2, Command, Decoder, DecodeError, Encoder, Notification, Profile, Sample,
    as_sample_arrays, quantise,
)

_SUFFIX = "-9b35-4933-9b10-52ffa9740042"
MOTION_SERVICE_UUID = "ef680400" + _SUFFIX
CONFIG_UUID = "ef680401" + _SUFFIX
RAW_DATA_UUID = "ef680406" + _SUFFIX

RAW_BYTES = 18
ACC_LSB_G = 1.0 / 1024.0
GYR_LSB_DPS = 1.0 / 32.0
COMPASS_LSB_UT = 1.0 / 16.0
ACC_LSB_MPS2 = ACC_LSB_G * GRAVITY_MPS2
_RAW = struct.Struct("<6h")
_CONFIG = struct.Struct("<4HB")


class Thingy52Decoder(Decoder):
    def __init__(self, profile, settings):
        super().__init__(profile, settings)
        self._register(RAW_DATA_UUID, self._on_raw)

    def _on_raw(self, payload: bytes, arrival_s: float) -> list:
        if len(payload) != RAW_BYTES:
            raise DecodeError(f"thingy52: raw motion data must be {RAW_BYTES} bytes, got {len(payload)}")
        ax, ay, az, gx, gy, gz = _RAW.unpack_from(payload)
        a, g = ACC_LSB_MPS2, GYR_LSB_DPS
        return [Sample(arrival_s, None, (ax * a, ay * a, az * a), (gx * g, gy * g, gz * g))]


class Thingy52Encoder(Encoder):
    def encode(self, acc_mps2, gyr_dps=None, device_t_s=None) -> list[Notification]:
        acc, gyr, _ = as_sample_arrays(acc_mps2, gyr_dps, device_t_s)
        words = np.zeros((acc.shape[0], 9), dtype="<i2")
        words[:, 0:3] = quantise(acc, ACC_LSB_MPS2)
        words[:, 3:6] = quantise(gyr, GYR_LSB_DPS)
        return [Notification(RAW_DATA_UUID, row.tobytes()) for row in words]


class Thingy52Profile(Profile):
    name = "thingy52"
    device_name = "Nordic Thingy:52"
    service_uuid = MOTION_SERVICE_UUID
    battery_uuid = BATTERY_LEVEL_UUID
    notify_uuids = (RAW_DATA_UUID,)
    write_uuid = CONFIG_UUID
    rates_hz = tuple(float(r) for r in range(1, 201))
    acc_ranges_g = (2.0, 4.0, 8.0, 16.0)
    gyr_ranges_dps = (250.0, 500.0, 1000.0)
    decoder_class = Thingy52Decoder
    encoder_class = Thingy52Encoder

    def resolution(self, settings):
        return ACC_LSB_MPS2, GYR_LSB_DPS

    def setup_commands(self, rate_hz=None, acc_range_g=None, gyr_range_dps=None):
        s = self.settings(rate_hz, acc_range_g, gyr_range_dps)
        c = self.config
        data = _CONFIG.pack(
            int(c.get("step_counter_interval_ms", 1000)),
            int(c.get("temperature_compensation_interval_ms", 1000)),
            int(c.get("magnetometer_compensation_interval_ms", 1000)),
            int(round(s.rate_hz)),
            1 if c.get("wake_on_motion", False) else 0,
        )
        return [Command(CONFIG_UUID, data)]


def parse_motion_config(data: bytes) -> dict:
    """The nine config bytes → their fields (to check what the device holds)."""
    if len(data) != _CONFIG.size:
        raise DecodeError(f"thingy52: motion config must be {_CONFIG.size} bytes, got {len(data)}")
    step, temp, mag, rate, wake = _CONFIG.unpack(data)
    return {"step_counter_interval_ms": step, "temperature_compensation_interval_ms": temp,
            "magnetometer_compensation_interval_ms": mag, "rate_hz": rate, "wake_on_motion": bool(wake)}
