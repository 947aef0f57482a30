"""imu-knee's own open BLE protocol (specification: firmware_config/imu_knee_protocol.md).

One service, one notify characteristic with batched samples and one control characteristic.
Every packet carries a u16 packet counter and a u32 µs device time, so lost packets and the
exact sample times are known. Two packet kinds, told apart by the first byte:

single (0x11, 20 bytes — fits the 20-byte payload of the default MTU 23):
    u8 0x11 | u8 ranges | u16 seq | u32 t_us | 6 × int16 (acc xyz, gyro xyz)
batch (0x12, 12 + 12·N bytes, needs an MTU exchange; N ≤ 19 at MTU 247):
    u8 0x12 | u8 ranges | u16 seq | u32 t0_us | u16 period_us | u8 N | u8 0 | N × 6 × int16

ranges: bits 0–1 acc code (0: 2 g, 1: 4 g, 2: 8 g, 3: 16 g), bits 2–4 gyro code (0: 125,
1: 250, 2: 500, 3: 1000, 4: 2000 deg/s); one count = range/32768. Control writes:
``01 rate_u16 acc_code gyr_code max_batch`` configure, ``02`` start, ``03`` stop.
"""

from __future__ import annotations

import struct

import numpy as np

from .base import (
    GRAVITY_MPS2, Command, Decoder, DecodeError, Encoder, Notification, Profile, Sample,
    SampleBlock, WrappingCounter, as_sample_arrays, quantise,
)

_SUFFIX = "-5cc5-4910-83c0-657a8b17e6ae"
SERVICE_UUID = "02630001" + _SUFFIX
DATA_UUID = "02630002" + _SUFFIX
CONTROL_UUID = "02630003" + _SUFFIX

VERSION = 1
KIND_SINGLE = 0x1
KIND_BATCH = 0x2
HEADER_SINGLE = (VERSION << 4) | KIND_SINGLE
HEADER_BATCH = (VERSION << 4) | KIND_BATCH
SINGLE_BYTES = 20
BATCH_HEADER_BYTES = 12
SAMPLE_BYTES = 12
CMD_CONFIGURE = 0x01
CMD_START = 0x02
CMD_STOP = 0x03
ACC_RANGES_G = (2.0, 4.0, 8.0, 16.0)
GYR_RANGES_DPS = (125.0, 250.0, 500.0, 1000.0, 2000.0)
RATES_HZ = (25.0, 50.0, 100.0, 200.0, 400.0, 800.0)

_SINGLE = struct.Struct("<BBHI6h")
_BATCH_HEADER = struct.Struct("<BBHIHBB")


def ranges_byte(acc_range_g: float, gyr_range_dps: float) -> int:
    return ACC_RANGES_G.index(acc_range_g) | (GYR_RANGES_DPS.index(gyr_range_dps) << 2)


def _scales(ranges: int) -> tuple[float, float]:
    acc_code, gyr_code = ranges & 0x03, (ranges >> 2) & 0x07
    if gyr_code >= len(GYR_RANGES_DPS):
        raise DecodeError(f"imu-knee: gyro range code {gyr_code} is not defined")
    return (ACC_RANGES_G[acc_code] / 32768.0 * GRAVITY_MPS2, GYR_RANGES_DPS[gyr_code] / 32768.0)


class ImuKneeDecoder(Decoder):
    def __init__(self, profile, settings):
        super().__init__(profile, settings)
        self._seq = WrappingCounter(16)
        self._clock = WrappingCounter(32)
        self._scale_cache: dict[int, tuple[float, float]] = {}
        self._register(DATA_UUID, self._on_data)

    def _scales(self, ranges: int) -> tuple[float, float]:
        scales = self._scale_cache.get(ranges)
        if scales is None:
            scales = self._scale_cache[ranges] = _scales(ranges)
        return scales

    def _count(self, seq_raw: int) -> int:
        last = self._seq.last
        seq = self._seq.unwrap(seq_raw)
        if last is not None and seq > last + 1:
            self.lost_packets += seq - last - 1
        return seq

    def _on_data(self, payload: bytes, arrival_s: float) -> list:
        n_bytes = len(payload)
        if n_bytes == 0:
            raise DecodeError("imu-knee: empty notification")
        header = payload[0]
        if header == HEADER_SINGLE:
            if n_bytes != SINGLE_BYTES:
                raise DecodeError(f"imu-knee: single-sample packet must be 20 bytes, got {n_bytes}")
            _, ranges, seq_raw, t_us, ax, ay, az, gx, gy, gz = _SINGLE.unpack(payload)
            a, g = self._scales(ranges)
            seq = self._count(seq_raw)
            t_s = self._clock.unwrap(t_us) * 1e-6
            return [Sample(arrival_s, t_s, (ax * a, ay * a, az * a), (gx * g, gy * g, gz * g), seq)]
        if header == HEADER_BATCH:
            if n_bytes < BATCH_HEADER_BYTES + SAMPLE_BYTES:
                raise DecodeError(f"imu-knee: batch packet of {n_bytes} bytes holds no sample")
            _, ranges, seq_raw, t_us, period_us, n, _ = _BATCH_HEADER.unpack_from(payload)
            if n_bytes != BATCH_HEADER_BYTES + SAMPLE_BYTES * n:
                raise DecodeError(f"imu-knee: batch says {n} samples but has {n_bytes} bytes")
            if n > 1 and period_us == 0:
                raise DecodeError("imu-knee: batch of several samples with a zero sample period")
            a, g = self._scales(ranges)
            seq = self._count(seq_raw)
            t0_s = self._clock.unwrap(t_us) * 1e-6
            counts = np.frombuffer(payload, dtype="<i2", offset=BATCH_HEADER_BYTES).reshape(n, 6)
            return [SampleBlock(
                arrival_s, t0_s + np.arange(n) * (period_us * 1e-6),
                counts[:, :3] * a, counts[:, 3:] * g, seq,
            )]
        version = header >> 4
        if version != VERSION:
            raise DecodeError(f"imu-knee: protocol version {version} is not supported (this is {VERSION})")
        raise DecodeError(f"imu-knee: unknown packet kind 0x{header:02x}")


class ImuKneeEncoder(Encoder):
    def __init__(self, profile, settings, mtu=23):
        super().__init__(profile, settings, mtu)
        self.ranges = ranges_byte(settings.acc_range_g, settings.gyr_range_dps)
        self.acc_lsb, self.gyr_lsb = _scales(self.ranges)
        fit = (self.max_payload - BATCH_HEADER_BYTES) // SAMPLE_BYTES
        self.batch = min(fit, int(profile.config.get("max_batch", 8)), 255)
        self.period_us = int(round(1e6 / settings.rate_hz))
        self.seq = 0

    def encode(self, acc_mps2, gyr_dps=None, device_t_s=None) -> list[Notification]:
        acc, gyr, t = as_sample_arrays(acc_mps2, gyr_dps, device_t_s)
        n = acc.shape[0]
        t = self._device_times(n, t)
        counts = np.empty((n, 6), dtype="<i2")
        counts[:, :3] = quantise(acc, self.acc_lsb)
        counts[:, 3:] = quantise(gyr, self.gyr_lsb)
        t_us = np.rint(t * 1e6).astype(np.int64) % (1 << 32)
        out = []
        if self.batch < 2:
            for i in range(n):
                out.append(Notification(DATA_UUID, struct.pack(
                    "<BBHI", HEADER_SINGLE, self.ranges, self.seq, int(t_us[i])) + counts[i].tobytes()))
                self.seq = (self.seq + 1) & 0xFFFF
            return out
        for i in range(0, n, self.batch):
            j = min(n, i + self.batch)
            head = _BATCH_HEADER.pack(HEADER_BATCH, self.ranges, self.seq, int(t_us[i]),
                                      self.period_us, j - i, 0)
            out.append(Notification(DATA_UUID, head + counts[i:j].tobytes()))
            self.seq = (self.seq + 1) & 0xFFFF
        return out


class ImuKneeProfile(Profile):
    name = "imu-knee"
    device_name = "imu-knee open sensor"
    service_uuid = SERVICE_UUID
    notify_uuids = (DATA_UUID,)
    write_uuid = CONTROL_UUID
    has_device_clock = True
    rates_hz = RATES_HZ
    acc_ranges_g = ACC_RANGES_G
    gyr_ranges_dps = GYR_RANGES_DPS
    decoder_class = ImuKneeDecoder
    encoder_class = ImuKneeEncoder

    def resolution(self, settings):
        return _scales(ranges_byte(settings.acc_range_g, settings.gyr_range_dps))

    def setup_commands(self, rate_hz=None, acc_range_g=None, gyr_range_dps=None):
        s = self.settings(rate_hz, acc_range_g, gyr_range_dps)
        data = struct.pack("<BHBBB", CMD_CONFIGURE, int(round(s.rate_hz)),
                           ACC_RANGES_G.index(s.acc_range_g), GYR_RANGES_DPS.index(s.gyr_range_dps),
                           int(self.config.get("max_batch", 8)))
        return [Command(CONTROL_UUID, data)]

    def start_commands(self, rate_hz=None, acc_range_g=None, gyr_range_dps=None):
        return [Command(CONTROL_UUID, bytes((CMD_START,)))]

    def stop_commands(self):
        return [Command(CONTROL_UUID, bytes((CMD_STOP,)))]
