"""Movesense with the GATT SensorData Protocol firmware (IMU6 = acc + gyro).

GATT: service ``34802252-7185-4d5d-b431-630e7050e8f0``, write ``34800001-…``, notify
``34800002-…`` (same base). Subscribe: ``01 ref`` + ASCII path ``/Meas/IMU6/<rate>``;
unsubscribe ``02 ref``. `ref` is a byte the client picks to tell its subscriptions apart.

Data: ``02 ref`` + u32 LE device time in ms of the first sample + N × 3 float32 acc (m/s²)
+ N × 3 float32 gyro (deg/s), N = (len − 6)/24. A payload longer than one notification comes
as a first part (type 02) and continuations (type 03, then 04) that each repeat ``ref`` and
carry the next bytes. The decoder holds a first part whose length is not 6 + 24·N and
completes it with its continuations (a first part that happens to be exactly 6 + 24·N bytes
cannot be told from a whole packet; the virtual sensor never cuts there). Sample i of a
packet is at time t0 + i/rate on the device clock. Ranges cannot be set through this
protocol; the values arrive as floats in physical units, so decoding does not need them.
"""

from __future__ import annotations

import struct

import numpy as np

from .base import (
    Command, Decoder, WrappingCounter, DecodeError, Encoder, Notification, Profile, SampleBlock,
    as_sample_arrays,
)

_SUFFIX = "-7185-4d5d-b431-630e7050e8f0"
SERVICE_UUID = "34802252" + _SUFFIX
WRITE_UUID = "34800001" + _SUFFIX
NOTIFY_UUID = "34800002" + _SUFFIX

CMD_SUBSCRIBE = 0x01
CMD_UNSUBSCRIBE = 0x02
TYPE_COMMAND_RESULT = 0x01
TYPE_DATA = 0x02
TYPE_PART2 = 0x03
TYPE_PART3 = 0x04
SAMPLE_BYTES = 24  # 3 float32 acc + 3 float32 gyro
RATES_HZ = (13.0, 26.0, 52.0, 104.0, 208.0, 416.0, 833.0, 1666.0)
U32 = 1 << 32
MAX_PAYLOAD_BYTES = 4 + 64 * SAMPLE_BYTES  # refuse to collect more than this from parts


class MovesenseDecoder(Decoder):
    def __init__(self, profile, settings):
        super().__init__(profile, settings)
        self.ref = int(settings.options.get("reference", 1)) & 0xFF
        self.period_s = 1.0 / settings.rate_hz
        self._pending: bytes | None = None
        self._clock = WrappingCounter(32)
        self._offsets: dict[int, np.ndarray] = {}
        self._register(NOTIFY_UUID, self._on_notify)

    def _on_notify(self, payload: bytes, arrival_s: float) -> list:
        n = len(payload)
        if n < 2:
            raise DecodeError(f"movesense: {n}-byte notification has no type/reference")
        kind, ref = payload[0], payload[1]
        if ref != self.ref or kind == TYPE_COMMAND_RESULT:
            return []
        if kind == TYPE_DATA:
            body = bytes(payload[2:])
            self._pending = None
            if len(body) > 4 and (len(body) - 4) % SAMPLE_BYTES == 0:
                return [self._block(body, arrival_s)]
            if len(body) <= 4:
                raise DecodeError(f"movesense: data packet of {n} bytes holds no sample")
            self._pending = body
            return []
        if kind in (TYPE_PART2, TYPE_PART3):
            if self._pending is None:
                raise DecodeError("movesense: continuation part without a first part")
            body = self._pending + bytes(payload[2:])
            if len(body) > MAX_PAYLOAD_BYTES:
                self._pending = None
                raise DecodeError("movesense: continued payload grows beyond any IMU6 packet")
            if (len(body) - 4) % SAMPLE_BYTES == 0:
                self._pending = None
                return [self._block(body, arrival_s)]
            self._pending = body
            return []
        return []

    def _block(self, body: bytes, arrival_s: float) -> SampleBlock:
        t_ms = self._clock.unwrap(int.from_bytes(body[:4], "little"))
        values = np.frombuffer(body, dtype="<f4", offset=4).astype(np.float64)
        n = values.shape[0] // 6
        offsets = self._offsets.get(n)
        if offsets is None:
            offsets = self._offsets[n] = np.arange(n) * self.period_s
        return SampleBlock(
            arrival_s, t_ms * 1e-3 + offsets,
            values[: 3 * n].reshape(n, 3), values[3 * n:].reshape(n, 3),
        )


def samples_per_packet(rate_hz: float, max_payload: int) -> int:
    """How many samples the virtual sensor puts in one packet: about 13 packets/s, at most 8,
    and never more than fit into three parts (first part + two continuations)."""
    wanted = max(1, min(8, round(rate_hz / 13.0)))
    fit = (max_payload + 2 * (max_payload - 2) - 6) // SAMPLE_BYTES
    return max(1, min(wanted, fit))


class MovesenseEncoder(Encoder):
    def __init__(self, profile, settings, mtu=23):
        super().__init__(profile, settings, mtu)
        self.ref = int(settings.options.get("reference", 1)) & 0xFF
        self.per_packet = samples_per_packet(settings.rate_hz, self.max_payload)

    def encode(self, acc_mps2, gyr_dps=None, device_t_s=None) -> list[Notification]:
        acc, gyr, t = as_sample_arrays(acc_mps2, gyr_dps, device_t_s)
        n = acc.shape[0]
        t = self._device_times(n, t)
        out = []
        for i in range(0, n, self.per_packet):
            j = min(n, i + self.per_packet)
            t_ms = int(round(float(t[i]) * 1000.0)) % U32
            packet = (bytes((TYPE_DATA, self.ref)) + struct.pack("<I", t_ms)
                      + acc[i:j].astype("<f4").tobytes() + gyr[i:j].astype("<f4").tobytes())
            out.extend(self._split(packet))
        return out

    def _split(self, packet: bytes) -> list[Notification]:
        limit = self.max_payload
        if len(packet) <= limit:
            return [Notification(NOTIFY_UUID, packet)]
        if (limit - 6) % SAMPLE_BYTES == 0:
            limit -= 1  # a first part must not look like a whole packet
        parts = [packet[:limit]]
        rest = packet[limit:]
        kind = TYPE_PART2
        while rest:
            take = self.max_payload - 2
            parts.append(bytes((kind, self.ref)) + rest[:take])
            rest = rest[take:]
            kind += 1
        return [Notification(NOTIFY_UUID, p) for p in parts]


class MovesenseProfile(Profile):
    name = "movesense"
    device_name = "Movesense"
    service_uuid = SERVICE_UUID
    notify_uuids = (NOTIFY_UUID,)
    write_uuid = WRITE_UUID
    has_device_clock = True
    rates_hz = RATES_HZ
    acc_ranges_g = (2.0, 4.0, 8.0, 16.0)
    gyr_ranges_dps = (245.0, 500.0, 1000.0, 2000.0)
    decoder_class = MovesenseDecoder
    encoder_class = MovesenseEncoder

    @property
    def reference(self) -> int:
        return int(self.config.get("reference", 1)) & 0xFF

    def resolution(self, settings):
        return 1e-6, 1e-6  # float32 in physical units

    def start_commands(self, rate_hz=None, acc_range_g=None, gyr_range_dps=None):
        s = self.settings(rate_hz, acc_range_g, gyr_range_dps)
        path = f"/Meas/IMU6/{int(s.rate_hz)}".encode("ascii")
        return [Command(WRITE_UUID, bytes((CMD_SUBSCRIBE, self.reference)) + path)]

    def stop_commands(self):
        return [Command(WRITE_UUID, bytes((CMD_UNSUBSCRIBE, self.reference)))]


