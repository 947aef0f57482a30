"""WitMotion BWT901BLECL / WT901BLE 5.0.

GATT: service ffe5, notify ffe4, write ffe9 — note the vendor base ends in ``9a34fb``, not the
SIG ``9b34fb``. Subscribing starts the stream. Registers are written as ``FF AA reg lo hi``
(unlock ``FF AA 69 88 B5`` first; save to flash ``FF AA 00 00 00``; output rate register 0x03).

Data packet (20 bytes): ``55 61`` + 9 × int16 LE: acc xyz (× 16/32768 g), gyro xyz
(× 2000/32768 deg/s), angle roll/pitch/yaw (× 180/32768 deg). One notification can carry
several packets back to back. Register replies are ``55 71`` + u16 register + 8 × int16.
The scales of the 0x61 packet are fixed (±16 g, ±2000 deg/s); the device has no clock.
"""

from __future__ import annotations

import math
import struct

import numpy as np

from .base import (
    GRAVITY_MPS2, Command, Decoder, DecodeError, Encoder, Notification, Profile, Sample,
    as_sample_arrays, quantise,
)

VENDOR_SUFFIX = "-0000-1000-8000-00805f9a34fb"
SERVICE_UUID = "0000ffe5" + VENDOR_SUFFIX
NOTIFY_UUID = "0000ffe4" + VENDOR_SUFFIX
WRITE_UUID = "0000ffe9" + VENDOR_SUFFIX

PACKET_BYTES = 20
HEADER = 0x55
FLAG_DATA = 0x61
FLAG_REGISTER = 0x71
ACC_LSB_G = 16.0 / 32768.0
GYR_LSB_DPS = 2000.0 / 32768.0
ANGLE_LSB_DEG = 180.0 / 32768.0
ACC_LSB_MPS2 = ACC_LSB_G * GRAVITY_MPS2

#: output-rate register 0x03 codes (WitMotion SDK and datasheet)
RATE_CODES = {1.0: 0x03, 5.0: 0x05, 10.0: 0x06, 50.0: 0x08, 100.0: 0x09, 200.0: 0x0B}
REG_SAVE = 0x00
REG_RATE = 0x03
UNLOCK = bytes.fromhex("ffaa6988b5")
SAVE = bytes.fromhex("ffaa000000")

_SIX_INT16 = struct.Struct("<6h")
_REGISTER_REPLY = struct.Struct("<H8h")


def write_register(register: int, value: int) -> bytes:
    """``FF AA reg lo hi``: write a 16-bit value into a register."""
    return bytes((0xFF, 0xAA, register & 0xFF, value & 0xFF, (value >> 8) & 0xFF))


def parse_register_reply(packet: bytes) -> tuple[int, tuple[int, ...]]:
    """``55 71`` reply → (first register, its 8 int16 values)."""
    if len(packet) != PACKET_BYTES or packet[0] != HEADER or packet[1] != FLAG_REGISTER:
        raise DecodeError("witmotion: not a 20-byte 55 71 register reply")
    register, *values = _REGISTER_REPLY.unpack_from(packet, 2)
    return register, tuple(values)


class WitMotionDecoder(Decoder):
    def __init__(self, profile, settings):
        super().__init__(profile, settings)
        self.registers: dict[int, tuple[int, ...]] = {}
        self.skipped_packets = 0
        self._register(NOTIFY_UUID, self._on_notify)

    def _on_notify(self, payload: bytes, arrival_s: float) -> list:
        n_bytes = len(payload)
        if n_bytes == 0 or n_bytes % PACKET_BYTES:
            raise DecodeError(
                f"witmotion: notification of {n_bytes} bytes is not a whole number of "
                f"{PACKET_BYTES}-byte packets"
            )
        out = []
        unpack = _SIX_INT16.unpack_from
        a, g = ACC_LSB_MPS2, GYR_LSB_DPS
        for off in range(0, n_bytes, PACKET_BYTES):
            if payload[off] != HEADER:
                raise DecodeError(f"witmotion: packet at byte {off} does not start with 0x55")
            flag = payload[off + 1]
            if flag == FLAG_DATA:
                ax, ay, az, gx, gy, gz = unpack(payload, off + 2)
                out.append(Sample(arrival_s, None, (ax * a, ay * a, az * a),
                                  (gx * g, gy * g, gz * g)))
            elif flag == FLAG_REGISTER:
                register, values = parse_register_reply(bytes(payload[off:off + PACKET_BYTES]))
                self.registers[register] = values
            else:
                self.skipped_packets += 1
        return out


def packets_for(acc_mps2: np.ndarray, gyr_dps: np.ndarray) -> np.ndarray:
    """(N, 20) uint8: one ``55 61`` packet per sample; angles from the acc (yaw 0)."""
    n = acc_mps2.shape[0]
    roll = np.degrees(np.arctan2(acc_mps2[:, 1], acc_mps2[:, 2]))
    pitch = np.degrees(np.arctan2(-acc_mps2[:, 0], np.hypot(acc_mps2[:, 1], acc_mps2[:, 2])))
    words = np.zeros((n, 10), dtype="<i2")
    words.view(np.uint8)[:, 0] = HEADER
    words.view(np.uint8)[:, 1] = FLAG_DATA
    words[:, 1:4] = quantise(acc_mps2, ACC_LSB_MPS2)
    words[:, 4:7] = quantise(gyr_dps, GYR_LSB_DPS)
    words[:, 7] = quantise(roll, ANGLE_LSB_DEG)
    words[:, 8] = quantise(pitch, ANGLE_LSB_DEG)
    return words.view(np.uint8)


class WitMotionEncoder(Encoder):
    def encode(self, acc_mps2, gyr_dps=None, device_t_s=None) -> list[Notification]:
        acc, gyr, _ = as_sample_arrays(acc_mps2, gyr_dps, device_t_s)
        packets = packets_for(acc, gyr)
        per_note = max(1, self.max_payload // PACKET_BYTES)
        return [
            Notification(NOTIFY_UUID, packets[i:i + per_note].tobytes())
            for i in range(0, packets.shape[0], per_note)
        ]


class WitMotionProfile(Profile):
    name = "witmotion"
    device_name = "WitMotion BWT901BLECL"
    service_uuid = SERVICE_UUID
    notify_uuids = (NOTIFY_UUID,)
    write_uuid = WRITE_UUID
    rates_hz = tuple(RATE_CODES)
    acc_ranges_g = (16.0,)
    gyr_ranges_dps = (2000.0,)
    decoder_class = WitMotionDecoder
    encoder_class = WitMotionEncoder

    def resolution(self, settings):
        return ACC_LSB_MPS2, GYR_LSB_DPS

    def setup_commands(self, rate_hz=None, acc_range_g=None, gyr_range_dps=None):
        s = self.settings(rate_hz, acc_range_g, gyr_range_dps)
        code = next(c for r, c in RATE_CODES.items() if math.isclose(r, s.rate_hz))
        commands = [Command(WRITE_UUID, UNLOCK), Command(WRITE_UUID, write_register(REG_RATE, code))]
        if self.config.get("save_to_flash", False):
            commands.append(Command(WRITE_UUID, SAVE))
        return commands
