"""MbientLab MetaMotion (MetaWear protocol), plain and packed.

GATT: service ``326a9000-85cb-9195-d9dd-464cfbbae75a``, command ``…9001``, notify ``…9006``.
Messages are ``module register payload…``: accelerometer module 0x03, gyro 0x13, settings 0x11.

Accelerometer: config ``03 03 acc_conf acc_range``, subscribe ``03 04 01`` (packed ``03 1C 01``),
enable ``03 02 01 00``, start ``03 01 01``; data ``03 04`` + 3 × int16 (packed: 3 samples).
Gyro (BMI160): config ``13 03 gyr_conf gyr_range``, subscribe ``13 05 01`` (packed ``13 07 01``),
enable ``13 02 01 00``, start ``13 01 01``. A BMI270 board (``03 80`` read reply byte 2 = 4)
uses gyro data registers 04 (plain) and 05 (packed). Counts per unit: acc {2 g: 16384,
4 g: 8192, 8 g: 4096, 16 g: 2048} per g; gyro {2000: 16.4, 1000: 32.8, 500: 65.6, 250: 131.2,
125: 262.4} per deg/s. Acc and gyro arrive in separate notifications; the decoder pairs them
in arrival order. No device clock. Above 100 Hz use packed mode and a 7.5 ms connection
interval (``11 09`` + min, max (1.25 ms units), latency, timeout (10 ms units), all u16 LE).
"""

from __future__ import annotations

import struct
from collections import deque

from .base import (
    BATTERY_LEVEL_UUID,
    GRAVITY_MPS2, Command, Decoder, DecodeError, Encoder, Notification, Profile, Sample,
    as_sample_arrays, quantise,
)

_SUFFIX = "-85cb-9195-d9dd-464cfbbae75a"
SERVICE_UUID = "326a9000" + _SUFFIX
COMMAND_UUID = "326a9001" + _SUFFIX
NOTIFY_UUID = "326a9006" + _SUFFIX

MODULE_ACC = 0x03
MODULE_GYRO = 0x13
MODULE_SETTINGS = 0x11
REG_ACC_DATA = 0x04
REG_ACC_PACKED = 0x1C
REG_IMU_TYPE = 0x80
GYRO_DATA_REG = {"bmi160": 0x05, "bmi270": 0x04}
GYRO_PACKED_REG = {"bmi160": 0x07, "bmi270": 0x05}
IMU_TYPE_CODES = {1: "bmi160", 4: "bmi270"}

ACC_COUNTS_PER_G = {2.0: 16384.0, 4.0: 8192.0, 8.0: 4096.0, 16.0: 2048.0}
GYR_COUNTS_PER_DPS = {2000.0: 16.4, 1000.0: 32.8, 500.0: 65.6, 250.0: 131.2, 125.0: 262.4}
ACC_RANGE_CODE = {"bmi160": {2.0: 0x03, 4.0: 0x05, 8.0: 0x08, 16.0: 0x0C},
                  "bmi270": {2.0: 0x00, 4.0: 0x01, 8.0: 0x02, 16.0: 0x03}}
GYR_RANGE_CODE = {2000.0: 0, 1000.0: 1, 500.0: 2, 250.0: 3, 125.0: 4}
#: Bosch ODR codes shared by acc and gyro (bits 3..0 of ACC_CONF/GYR_CONF)
ODR_CODE = {25.0: 6, 50.0: 7, 100.0: 8, 200.0: 9, 400.0: 10, 800.0: 11, 1600.0: 12}
#: upper bits of the conf byte: normal filter (bwp=2); BMI270 also sets filter_perf (bit 7)
CONF_HIGH_BITS = {"bmi160": 0x20, "bmi270": 0xA0}

MAX_UNPAIRED = 64
_THREE_INT16 = struct.Struct("<3h")
_NINE_INT16 = struct.Struct("<9h")


def connection_parameters(min_ms: float, max_ms: float, latency: int, timeout_ms: float) -> bytes:
    """``11 09`` + min/max interval (1.25 ms units), slave latency, supervision timeout (10 ms)."""
    return bytes((MODULE_SETTINGS, 0x09)) + struct.pack(
        "<4H", round(min_ms / 1.25), round(max_ms / 1.25), latency, round(timeout_ms / 10))


class MetaMotionDecoder(Decoder):
    def __init__(self, profile, settings):
        super().__init__(profile, settings)
        self.acc_scale = GRAVITY_MPS2 / ACC_COUNTS_PER_G[settings.acc_range_g]
        self.gyr_scale = 1.0 / GYR_COUNTS_PER_DPS[settings.gyr_range_dps]
        self.imu_type: str | None = None
        self._acc: deque = deque()
        self._gyr: deque = deque()
        self._register(NOTIFY_UUID, self._on_notify)

    def _on_notify(self, payload: bytes, arrival_s: float) -> list:
        n = len(payload)
        if n < 2:
            raise DecodeError(f"metamotion: {n}-byte notification has no module/register")
        module, register = payload[0], payload[1]
        if module == MODULE_ACC:
            if register == REG_ACC_DATA:
                queue, scale, packed = self._acc, self.acc_scale, False
            elif register == REG_ACC_PACKED:
                queue, scale, packed = self._acc, self.acc_scale, True
            elif register == REG_IMU_TYPE:
                if n >= 3:
                    self.imu_type = IMU_TYPE_CODES.get(payload[2], f"unknown ({payload[2]})")
                return []
            else:
                return []
        elif module == MODULE_GYRO:
            if register == 0x05:  # BMI160 plain (8 bytes) or BMI270 packed (20 bytes)
                packed = n == 20
            elif register == 0x04:
                packed = False
            elif register == 0x07:
                packed = True
            else:
                return []
            queue, scale = self._gyr, self.gyr_scale
        else:
            return []
        if packed:
            if n != 20:
                raise DecodeError(f"metamotion: packed data {module:02x} {register:02x} must be 20 bytes, got {n}")
            v = _NINE_INT16.unpack_from(payload, 2)
            queue.append((v[0] * scale, v[1] * scale, v[2] * scale))
            queue.append((v[3] * scale, v[4] * scale, v[5] * scale))
            queue.append((v[6] * scale, v[7] * scale, v[8] * scale))
        else:
            if n != 8:
                raise DecodeError(f"metamotion: data {module:02x} {register:02x} must be 8 bytes, got {n}")
            x, y, z = _THREE_INT16.unpack_from(payload, 2)
            queue.append((x * scale, y * scale, z * scale))
        return self._pairs(arrival_s)

    def _pairs(self, arrival_s: float) -> list:
        acc, gyr = self._acc, self._gyr
        out = []
        while acc and gyr:
            out.append(Sample(arrival_s, None, acc.popleft(), gyr.popleft()))
        for queue in (acc, gyr):
            while len(queue) > MAX_UNPAIRED:  # partner stream silent: keep the newest only
                queue.popleft()
                self.dropped_samples += 1
        return out


class MetaMotionEncoder(Encoder):
    def __init__(self, profile, settings, mtu=23):
        super().__init__(profile, settings, mtu)
        self.imu = profile.imu
        self.packed = profile.packed(settings.rate_hz)
        self.acc_lsb = GRAVITY_MPS2 / ACC_COUNTS_PER_G[settings.acc_range_g]
        self.gyr_lsb = 1.0 / GYR_COUNTS_PER_DPS[settings.gyr_range_dps]

    def encode(self, acc_mps2, gyr_dps=None, device_t_s=None) -> list[Notification]:
        acc, gyr, _ = as_sample_arrays(acc_mps2, gyr_dps, device_t_s)
        acc_counts = quantise(acc, self.acc_lsb)
        gyr_counts = quantise(gyr, self.gyr_lsb)
        out = []
        n = acc.shape[0]
        i = 0
        if self.packed:
            acc_head = bytes((MODULE_ACC, REG_ACC_PACKED))
            gyr_head = bytes((MODULE_GYRO, GYRO_PACKED_REG[self.imu]))
            while i + 3 <= n:
                out.append(Notification(NOTIFY_UUID, acc_head + acc_counts[i:i + 3].tobytes()))
                out.append(Notification(NOTIFY_UUID, gyr_head + gyr_counts[i:i + 3].tobytes()))
                i += 3
        acc_head = bytes((MODULE_ACC, REG_ACC_DATA))
        gyr_head = bytes((MODULE_GYRO, GYRO_DATA_REG[self.imu]))
        for j in range(i, n):
            out.append(Notification(NOTIFY_UUID, acc_head + acc_counts[j].tobytes()))
            out.append(Notification(NOTIFY_UUID, gyr_head + gyr_counts[j].tobytes()))
        return out

    def reply(self, command: Command) -> list[Notification]:
        if bytes(command.data[:2]) == bytes((MODULE_ACC, REG_IMU_TYPE)):
            code = next(c for c, name in IMU_TYPE_CODES.items() if name == self.imu)
            return [Notification(NOTIFY_UUID, bytes((MODULE_ACC, REG_IMU_TYPE, code, 1)))]
        return []


class MetaMotionProfile(Profile):
    name = "metamotion"
    device_name = "MbientLab MetaMotion"
    service_uuid = SERVICE_UUID
    battery_uuid = BATTERY_LEVEL_UUID
    notify_uuids = (NOTIFY_UUID,)
    write_uuid = COMMAND_UUID
    rates_hz = tuple(ODR_CODE)
    acc_ranges_g = tuple(ACC_COUNTS_PER_G)
    gyr_ranges_dps = tuple(GYR_COUNTS_PER_DPS)
    decoder_class = MetaMotionDecoder
    encoder_class = MetaMotionEncoder

    @property
    def imu(self) -> str:
        imu = str(self.config.get("imu", "bmi160")).lower()
        if imu not in GYRO_DATA_REG:
            raise ValueError(f"metamotion: imu must be one of {sorted(GYRO_DATA_REG)}, got {imu!r}")
        return imu

    def packed(self, rate_hz: float) -> bool:
        """Packed mode: as configured, or "auto" = above 100 Hz."""
        mode = self.config.get("packed", "auto")
        return rate_hz > 100 if mode == "auto" else bool(mode)

    def resolution(self, settings):
        return (GRAVITY_MPS2 / ACC_COUNTS_PER_G[settings.acc_range_g],
                1.0 / GYR_COUNTS_PER_DPS[settings.gyr_range_dps])

    def imu_type_query(self) -> Command:
        """``03 80``: the reply tells BMI160 (1) from BMI270 (4); set config["imu"] from it."""
        return Command(COMMAND_UUID, bytes((MODULE_ACC, REG_IMU_TYPE)))

    def setup_commands(self, rate_hz=None, acc_range_g=None, gyr_range_dps=None):
        s = self.settings(rate_hz, acc_range_g, gyr_range_dps)
        imu = self.imu
        odr = ODR_CODE[s.rate_hz] | CONF_HIGH_BITS[imu]
        commands = [
            Command(COMMAND_UUID, bytes((MODULE_ACC, 0x03, odr, ACC_RANGE_CODE[imu][s.acc_range_g]))),
            Command(COMMAND_UUID, bytes((MODULE_GYRO, 0x03, odr, GYR_RANGE_CODE[s.gyr_range_dps]))),
        ]
        interval = self.config.get("connection_interval_ms")
        if interval:
            commands.append(Command(COMMAND_UUID, connection_parameters(
                interval, interval, int(self.config.get("connection_latency", 0)),
                float(self.config.get("supervision_timeout_ms", 6000)))))
        return commands

    def start_commands(self, rate_hz=None, acc_range_g=None, gyr_range_dps=None):
        s = self.settings(rate_hz, acc_range_g, gyr_range_dps)
        packed = self.packed(s.rate_hz)
        acc_reg = REG_ACC_PACKED if packed else REG_ACC_DATA
        gyr_reg = (GYRO_PACKED_REG if packed else GYRO_DATA_REG)[self.imu]
        return [Command(COMMAND_UUID, bytes(b)) for b in (
            (MODULE_ACC, acc_reg, 1), (MODULE_ACC, 0x02, 1, 0),
            (MODULE_GYRO, gyr_reg, 1), (MODULE_GYRO, 0x02, 1, 0),
            (MODULE_GYRO, 0x01, 1), (MODULE_ACC, 0x01, 1),
        )]

    def stop_commands(self):
        imu = self.imu
        return [Command(COMMAND_UUID, bytes(b)) for b in (
            (MODULE_ACC, 0x01, 0), (MODULE_GYRO, 0x01, 0),
            (MODULE_ACC, 0x02, 0, 1), (MODULE_GYRO, 0x02, 0, 1),
            (MODULE_ACC, REG_ACC_DATA, 0), (MODULE_ACC, REG_ACC_PACKED, 0),
            (MODULE_GYRO, GYRO_DATA_REG[imu], 0), (MODULE_GYRO, GYRO_PACKED_REG[imu], 0),
        )]

