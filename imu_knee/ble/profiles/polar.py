"""Polar Verity Sense / H10 over the Polar Measurement Data (PMD) service: ACC and GYRO.

GATT: service ``fb005c80-02e7-f387-1cad-8acd2d8df0c8``, control point ``…5c81`` (write +
indicate), data ``…5c82`` (notify). Measurement types: ACC = 2, GYRO = 5.
Start: ``02 type`` + settings ``{setting, 1, u16 value}…`` (0 rate, 1 resolution, 2 range);
stop ``03 type``. Reply on the control point: ``F0 op type status more`` + settings in the same
form; a start reply carries setting 5 (factor, float32).

Data frame: type, u64 LE ns since 2000-01-01 of the LAST sample, frame type (bit 7 =
compressed), content. Raw ACC frame types 0/1/2: int8/int16/int24 xyz in mG. Compressed
frame type 0/1: a reference sample (3 × int16), then blocks ``[bit width][count][count × 3
signed deltas, packed LSB first]``; each delta adds to the previous sample. ACC type 0 × factor
× 1000 → mG, ACC type 1 × factor → mG, GYRO type 0 × factor → deg/s. The factor comes in the
start reply (feed control-point indications to the decoder too); until one arrives the
decoder assumes range/32768 for type 0 frames and 1 for type 1.

Sample i of an N-sample frame is timed back from the frame's time: t_last − (N−1−i)·period,
where period is measured from the previous frame of the same type when plausible (else 1/rate).
The H10 has no gyro: its samples come with gyr_dps None. Verity ACC and GYRO frames are
paired on the device clock (heads more than half a period apart are dropped).
"""

from __future__ import annotations

import math
import struct

import numpy as np

from .base import (
    BATTERY_LEVEL_UUID,
    GRAVITY_MPS2, Command, Decoder, DecodeError, Encoder, Notification, Profile, SampleBlock,
    as_sample_arrays, load_firmware_config, quantise,
)

_SUFFIX = "-02e7-f387-1cad-8acd2d8df0c8"
SERVICE_UUID = "fb005c80" + _SUFFIX
CONTROL_UUID = "fb005c81" + _SUFFIX
DATA_UUID = "fb005c82" + _SUFFIX

TYPE_ACC = 2
TYPE_GYRO = 5
OP_GET_SETTINGS = 0x01
OP_START = 0x02
OP_STOP = 0x03
RESPONSE = 0xF0
SETTING_RATE = 0
SETTING_RESOLUTION = 1
SETTING_RANGE = 2
SETTING_FACTOR = 5
SETTING_FIELD_BYTES = {0: 2, 1: 2, 2: 2, 3: 4, 4: 1, 5: 4, 6: 1}
HEADER_BYTES = 10
COMPRESSED = 0x80
MG_TO_MPS2 = GRAVITY_MPS2 / 1000.0
MAX_DELTA_BITS = 32
MAX_UNPAIRED = 1024
MAX_FACTOR = 1e3

MODELS = {
    "verity_sense": {"rates_hz": (26.0, 52.0, 104.0, 208.0, 416.0),
                     "acc_ranges_g": (2.0, 4.0, 8.0, 16.0),
                     "gyr_ranges_dps": (250.0, 500.0, 1000.0, 2000.0), "gyro": True,
                     "name": "Polar Verity Sense"},
    "h10": {"rates_hz": (25.0, 50.0, 100.0, 200.0), "acc_ranges_g": (2.0, 4.0, 8.0),
            "gyr_ranges_dps": (), "gyro": False, "name": "Polar H10"},
}


def parse_settings(data: bytes) -> dict[int, list[int | float]]:
    """``{setting, count, values…}…`` → {setting: [values]} (factor decoded as float32)."""
    out: dict[int, list] = {}
    off, n = 0, len(data)
    while off < n:
        if off + 2 > n:
            raise DecodeError("polar: settings cut inside a setting header")
        kind, count = data[off], data[off + 1]
        off += 2
        size = SETTING_FIELD_BYTES.get(kind)
        if size is None:
            raise DecodeError(f"polar: unknown setting type {kind}")
        if off + size * count > n:
            raise DecodeError("polar: settings cut inside a value")
        values = []
        for _ in range(count):
            raw = bytes(data[off:off + size])
            values.append(struct.unpack("<f", raw)[0] if kind == SETTING_FACTOR
                          else int.from_bytes(raw, "little"))
            off += size
        out[kind] = values
    return out


def settings_bytes(values: dict[int, float]) -> bytes:
    """{setting: value} → ``{setting, 1, value}…`` (factor as float32)."""
    out = bytearray()
    for kind, value in values.items():
        out += bytes((kind, 1))
        if kind == SETTING_FACTOR:
            out += struct.pack("<f", value)
        else:
            out += int(value).to_bytes(SETTING_FIELD_BYTES[kind], "little")
    return bytes(out)


def parse_delta_frame(content: bytes, channels: int = 3) -> np.ndarray:
    """Compressed PMD content (int16 reference + delta blocks) → (N, channels) int64."""
    ref_bytes = 2 * channels
    n = len(content)
    if n < ref_bytes:
        raise DecodeError(f"polar: compressed frame content of {n} bytes has no reference sample")
    ref = np.frombuffer(content, dtype="<i2", count=channels).astype(np.int64)
    parts = [ref[None, :]]
    last = ref
    off = ref_bytes
    raw = np.frombuffer(content, dtype=np.uint8)
    while off < n:
        if off + 2 > n:
            raise DecodeError("polar: compressed frame cut inside a block header")
        width, count = raw[off], raw[off + 1]
        off += 2
        if width > MAX_DELTA_BITS:
            raise DecodeError(f"polar: delta width {width} bits is not possible")
        n_bits = int(width) * int(count) * channels
        n_bytes = (n_bits + 7) // 8
        if off + n_bytes > n:
            raise DecodeError("polar: compressed frame cut inside a delta block")
        if count == 0:
            off += n_bytes
            continue
        if width == 0:
            deltas = np.zeros((count, channels), dtype=np.int64)
        else:
            bits = np.unpackbits(raw[off:off + n_bytes], bitorder="little")[:n_bits]
            weights = np.left_shift(np.int64(1), np.arange(width, dtype=np.int64))
            values = bits.reshape(-1, width).astype(np.int64) @ weights
            values -= (values >> (width - 1)) << width  # two's complement of `width` bits
            deltas = values.reshape(count, channels)
        block = np.cumsum(deltas, axis=0) + last
        parts.append(block)
        last = block[-1]
        off += n_bytes
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def delta_frame_content(counts: np.ndarray) -> bytes:
    """(N, 3) integer samples → reference + one delta block (the smallest width that fits)."""
    counts = np.asarray(counts, dtype=np.int64)
    out = counts[0].astype("<i2").tobytes()
    if counts.shape[0] == 1:
        return out
    deltas = np.diff(counts, axis=0)
    width = delta_width(deltas)
    mask = (1 << width) - 1
    unsigned = (deltas.reshape(-1) & mask).astype(np.uint64)
    bits = ((unsigned[:, None] >> np.arange(width, dtype=np.uint64)) & np.uint64(1)).astype(np.uint8)
    return out + bytes((width, deltas.shape[0])) + np.packbits(bits.reshape(-1), bitorder="little").tobytes()


def delta_width(deltas: np.ndarray) -> int:
    """Bits of a signed field that holds every delta."""
    top = max(int(deltas.max(initial=0)), int((-deltas - 1).max(initial=-1)), 0)
    return top.bit_length() + 1


class _Stream:
    """Per measurement type: samples waiting for a partner, and the last frame time."""

    __slots__ = ("t_s", "values", "last_ns")

    def __init__(self):
        self.t_s = np.empty(0)
        self.values = np.empty((0, 3))
        self.last_ns: int | None = None

    def add(self, t_s: np.ndarray, values: np.ndarray) -> None:
        self.t_s = np.concatenate((self.t_s, t_s)) if self.t_s.size else t_s
        self.values = np.concatenate((self.values, values)) if self.values.size else values

    def drop(self, k: int) -> None:
        self.t_s = self.t_s[k:]
        self.values = self.values[k:]


class PolarDecoder(Decoder):
    def __init__(self, profile, settings):
        super().__init__(profile, settings)
        self.has_gyro = profile.has_gyro
        self.period_s = 1.0 / settings.rate_hz
        self.factors: dict[int, float] = {}
        self.start_status: dict[int, int] = {}
        self._default_factor0 = {TYPE_ACC: settings.acc_range_g / 32768.0,
                                 TYPE_GYRO: settings.gyr_range_dps / 32768.0}
        self._streams = {TYPE_ACC: _Stream(), TYPE_GYRO: _Stream()}
        self._register(DATA_UUID, self._on_data)
        self._register(CONTROL_UUID, self._on_control)

    # -- control point ------------------------------------------------------------------
    def _on_control(self, payload: bytes, arrival_s: float) -> list:
        if len(payload) < 4 or payload[0] != RESPONSE:
            return []  # feature read (0F …) or something we do not use
        op, mtype, status = payload[1], payload[2], payload[3]
        if op != OP_START:
            return []
        if status == 0 and len(payload) > 5:
            factor = parse_settings(payload[5:]).get(SETTING_FACTOR)
            if factor:
                if not (math.isfinite(factor[0]) and 0 < factor[0] < MAX_FACTOR):
                    raise DecodeError(f"polar: factor {factor[0]!r} in start reply is not usable")
                self.factors[mtype] = float(factor[0])
        self.start_status[mtype] = status
        if mtype == TYPE_GYRO and status != 0 and self.has_gyro:
            # the gyro did not start (a device without one): go on with acc alone
            self.has_gyro = False
            acc = self._streams[TYPE_ACC]
            if acc.t_s.size:
                block = SampleBlock(arrival_s, acc.t_s, acc.values, None)
                acc.drop(acc.t_s.size)
                return [block]
        return []

    # -- data -----------------------------------------------------------------------------
    def _on_data(self, payload: bytes, arrival_s: float) -> list:
        n = len(payload)
        if n < HEADER_BYTES:
            raise DecodeError(f"polar: {n}-byte data frame is shorter than its 10-byte header")
        mtype = payload[0]
        if mtype != TYPE_ACC and mtype != TYPE_GYRO:
            return []
        if mtype == TYPE_GYRO and not self.has_gyro:
            return []
        ts_ns = int.from_bytes(payload[1:9], "little")
        frame_type = payload[9]
        content = payload[HEADER_BYTES:]
        values = self._values(mtype, frame_type, content)
        count = values.shape[0]
        if count == 0:
            raise DecodeError("polar: data frame holds no sample")
        stream = self._streams[mtype]
        period = self.period_s
        if stream.last_ns is not None and ts_ns > stream.last_ns:
            measured = (ts_ns - stream.last_ns) * 1e-9 / count
            if 0.8 * period < measured < 1.25 * period:
                period = measured
        stream.last_ns = ts_ns
        t_s = ts_ns * 1e-9 - np.arange(count - 1, -1, -1) * period
        if not self.has_gyro:
            return [SampleBlock(arrival_s, t_s, values, None)]
        stream.add(t_s, values)
        return self._pairs(arrival_s)

    def _values(self, mtype: int, frame_type: int, content: bytes) -> np.ndarray:
        kind = frame_type & 0x7F
        if frame_type & COMPRESSED:
            if kind not in (0, 1) or (mtype == TYPE_GYRO and kind != 0):
                raise DecodeError(f"polar: compressed frame type {kind} of measurement {mtype} is not supported")
            counts = parse_delta_frame(content)
            factor = self.factors.get(mtype)
            if mtype == TYPE_ACC:
                if kind == 0:
                    mg = counts * ((factor or self._default_factor0[TYPE_ACC]) * 1000.0)
                else:
                    mg = counts * (factor or 1.0)
                return mg * MG_TO_MPS2
            return counts * (factor or self._default_factor0[TYPE_GYRO])
        if mtype != TYPE_ACC or kind > 2:
            raise DecodeError(f"polar: raw frame type {kind} of measurement {mtype} is not supported")
        width = kind + 1
        if len(content) % (3 * width):
            raise DecodeError(f"polar: raw ACC frame content of {len(content)} bytes is not whole samples")
        if width == 1:
            counts = np.frombuffer(content, dtype=np.int8)
        elif width == 2:
            counts = np.frombuffer(content, dtype="<i2")
        else:
            b = np.frombuffer(content, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
            counts = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
            counts = counts - ((counts >> 23) << 24)
        return counts.reshape(-1, 3) * MG_TO_MPS2

    def _pairs(self, arrival_s: float) -> list:
        acc, gyr = self._streams[TYPE_ACC], self._streams[TYPE_GYRO]
        half = 0.5 * self.period_s
        if acc.t_s.size and gyr.t_s.size:
            # drop heads that have no partner (one stream started earlier or lost a frame)
            if acc.t_s[0] < gyr.t_s[0] - half:
                k = int(np.searchsorted(acc.t_s, gyr.t_s[0] - half))
                acc.drop(k)
                self.dropped_samples += k
            elif gyr.t_s[0] < acc.t_s[0] - half:
                k = int(np.searchsorted(gyr.t_s, acc.t_s[0] - half))
                gyr.drop(k)
                self.dropped_samples += k
        n = min(acc.t_s.size, gyr.t_s.size)
        out = []
        if n:
            out.append(SampleBlock(arrival_s, acc.t_s[:n], acc.values[:n], gyr.values[:n]))
            acc.drop(n)
            gyr.drop(n)
        for stream in (acc, gyr):
            if stream.t_s.size > MAX_UNPAIRED:
                k = stream.t_s.size - MAX_UNPAIRED
                stream.drop(k)
                self.dropped_samples += k
        return out

    def flush(self) -> list:
        return []


class PolarEncoder(Encoder):
    """Virtual Verity Sense/H10: compressed type 0 frames (or raw type 1 ACC, H10 style)."""

    def __init__(self, profile, settings, mtu=23):
        super().__init__(profile, settings, mtu)
        self.has_gyro = profile.has_gyro
        self.raw_acc = profile.config.get("frame", "compressed") == "raw"
        self.factors = {TYPE_ACC: settings.acc_range_g / 32768.0,
                        TYPE_GYRO: settings.gyr_range_dps / 32768.0}
        self.max_samples = max(1, int(profile.config.get("samples_per_frame", 36)))

    def reply(self, command: Command) -> list[Notification]:
        data = bytes(command.data)
        if command.char_uuid != CONTROL_UUID or len(data) < 2:
            return []
        op, mtype = data[0], data[1]
        if mtype not in (TYPE_ACC, TYPE_GYRO) or (mtype == TYPE_GYRO and not self.has_gyro):
            return [Notification(CONTROL_UUID, bytes((RESPONSE, op, mtype, 2, 0)))]
        head = bytes((RESPONSE, op, mtype, 0, 0))
        if op == OP_START:
            return [Notification(CONTROL_UUID, head + settings_bytes({SETTING_FACTOR: self.factors[mtype]}))]
        if op == OP_GET_SETTINGS:
            model = self.profile.model
            ranges = model["acc_ranges_g"] if mtype == TYPE_ACC else model["gyr_ranges_dps"]
            body = bytearray((SETTING_RATE, len(model["rates_hz"])))
            for r in model["rates_hz"]:
                body += int(r).to_bytes(2, "little")
            body += bytes((SETTING_RESOLUTION, 1)) + (16).to_bytes(2, "little")
            body += bytes((SETTING_RANGE, len(ranges)))
            for r in ranges:
                body += int(r).to_bytes(2, "little")
            return [Notification(CONTROL_UUID, head + bytes(body))]
        return [Notification(CONTROL_UUID, head)]

    def encode(self, acc_mps2, gyr_dps=None, device_t_s=None) -> list[Notification]:
        acc, gyr, t = as_sample_arrays(acc_mps2, gyr_dps, device_t_s)
        n = acc.shape[0]
        t = self._device_times(n, t)
        ts_ns = np.rint(t * 1e9).astype(np.int64)
        if self.raw_acc:
            acc_counts = quantise(acc / MG_TO_MPS2, 1.0)
        else:
            acc_counts = quantise(acc / GRAVITY_MPS2, self.factors[TYPE_ACC])
        gyr_counts = quantise(gyr, self.factors[TYPE_GYRO]) if self.has_gyro else acc_counts
        out = []
        i = 0
        while i < n:
            j = self._frame_end(acc_counts, gyr_counts, i, n)
            out.append(self._frame(TYPE_ACC, acc_counts[i:j], ts_ns[j - 1], raw=self.raw_acc))
            if self.has_gyro:
                out.append(self._frame(TYPE_GYRO, gyr_counts[i:j], ts_ns[j - 1], raw=False))
            i = j
        return out

    def _frame_end(self, acc_counts, gyr_counts, i: int, n: int) -> int:
        """Largest j (> i) whose frames fit the MTU; frame size grows with j, so bisect."""
        def fits(j: int) -> bool:
            size = self._frame_bytes(acc_counts[i:j], self.raw_acc)
            if self.has_gyro:
                size = max(size, self._frame_bytes(gyr_counts[i:j], False))
            return size <= self.max_payload

        lo, hi = i + 1, min(n, i + self.max_samples)
        if fits(hi):
            return hi
        while hi - lo > 1:  # fits(lo) (or lo == i + 1, always sent), not fits(hi)
            mid = (lo + hi) // 2
            if fits(mid):
                lo = mid
            else:
                hi = mid
        return lo

    @staticmethod
    def _frame_bytes(counts: np.ndarray, raw: bool) -> int:
        if raw:
            return HEADER_BYTES + 6 * counts.shape[0]
        if counts.shape[0] == 1:
            return HEADER_BYTES + 6
        width = delta_width(np.diff(counts.astype(np.int64), axis=0))
        return HEADER_BYTES + 6 + 2 + (3 * (counts.shape[0] - 1) * width + 7) // 8

    @staticmethod
    def _frame(mtype: int, counts: np.ndarray, last_ns: int, raw: bool) -> Notification:
        head = bytes((mtype,)) + int(last_ns).to_bytes(8, "little", signed=False)
        if raw:
            return Notification(DATA_UUID, head + bytes((1,)) + counts.astype("<i2").tobytes())
        return Notification(DATA_UUID, head + bytes((COMPRESSED,)) + delta_frame_content(counts))


class PolarProfile(Profile):
    name = "polar"
    service_uuid = SERVICE_UUID
    battery_uuid = BATTERY_LEVEL_UUID
    notify_uuids = (CONTROL_UUID, DATA_UUID)
    write_uuid = CONTROL_UUID
    has_device_clock = True
    decoder_class = PolarDecoder
    encoder_class = PolarEncoder

    def __init__(self, config: dict | None = None):
        super().__init__(config)
        key = str(self.config.get("model", "verity_sense")).lower()
        if key not in MODELS:
            raise ValueError(f"polar: model must be one of {sorted(MODELS)}, got {key!r}")
        self.model = MODELS[key]
        self.device_name = self.model["name"]
        self.rates_hz = self.model["rates_hz"]
        self.acc_ranges_g = self.model["acc_ranges_g"]
        self.gyr_ranges_dps = self.model["gyr_ranges_dps"]
        self.has_gyro = self.model["gyro"]

    @classmethod
    def merged_config(cls, overrides: dict | None = None) -> dict:
        """File settings, then the chosen model's defaults ("model_defaults"), then overrides."""
        base = load_firmware_config(cls.name)
        overrides = dict(overrides or {})
        model = str(overrides.get("model", base.get("model", "verity_sense"))).lower()
        return {**base, **base.get("model_defaults", {}).get(model, {}), **overrides}

    def settings(self, rate_hz=None, acc_range_g=None, gyr_range_dps=None):
        if not self.has_gyro:  # H10: no gyro range to check; keep the config's placeholder
            return super().settings(rate_hz, acc_range_g, 0.0 if gyr_range_dps is None else gyr_range_dps)
        return super().settings(rate_hz, acc_range_g, gyr_range_dps)

    def resolution(self, settings):
        if self.config.get("frame", "compressed") == "raw":
            acc = MG_TO_MPS2
        else:
            acc = settings.acc_range_g / 32768.0 * GRAVITY_MPS2
        return acc, settings.gyr_range_dps / 32768.0

    def start_commands(self, rate_hz=None, acc_range_g=None, gyr_range_dps=None):
        s = self.settings(rate_hz, acc_range_g, gyr_range_dps)
        resolution = int(self.config.get("resolution_bits", 16))
        commands = [Command(CONTROL_UUID, bytes((OP_START, TYPE_ACC)) + settings_bytes(
            {SETTING_RATE: s.rate_hz, SETTING_RESOLUTION: resolution, SETTING_RANGE: s.acc_range_g}))]
        if self.has_gyro:
            commands.append(Command(CONTROL_UUID, bytes((OP_START, TYPE_GYRO)) + settings_bytes(
                {SETTING_RATE: s.rate_hz, SETTING_RESOLUTION: resolution, SETTING_RANGE: s.gyr_range_dps})))
        return commands

    def stop_commands(self):
        types = (TYPE_ACC, TYPE_GYRO) if self.has_gyro else (TYPE_ACC,)
        return [Command(CONTROL_UUID, bytes((OP_STOP, t))) for t in types]
