"""The one interface every BLE device profile implements.

A *profile* knows a device family's GATT layout and commands. Per connection it hands out a
*decoder* (bytes → samples, with whatever state the protocol needs) and, for virtual sensors,
an *encoder* (samples → the exact notification bytes the device would send).

Units everywhere: acc in m/s² (specific force: +9.81 on the axis pointing up at rest),
gyro in deg/s, times in seconds. Device times are on the device's own clock (None when the
device has none); `arrival_s` is the host clock at which the notification arrived.
"""

from __future__ import annotations

import json
import importlib.util
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, NamedTuple, Sequence

import numpy as np

from imu_knee.recording import GRAVITY_MPS2  # noqa: F401  (re-exported for the profiles)

SIG_BASE_SUFFIX = "-0000-1000-8000-00805f9b34fb"
# firmware_config/ sits at the top of the repository and installs as imu_knee.firmware_config.
FIRMWARE_CONFIG_DIR = Path(importlib.util.find_spec("imu_knee.firmware_config").origin).parent


class DecodeError(ValueError):
    """A notification that does not follow the device's protocol (the only error decoders raise)."""


class SettingError(ValueError):
    """A rate or range the device cannot do."""


def sig_uuid(short: int) -> str:
    """Full 128-bit form of a 16-bit Bluetooth SIG UUID."""
    return f"{short:08x}{SIG_BASE_SUFFIX}"


#: the Bluetooth SIG Battery Service and its Battery Level characteristic (one byte, 0-100 %)
BATTERY_SERVICE_UUID = sig_uuid(0x180F)
BATTERY_LEVEL_UUID = sig_uuid(0x2A19)


def battery_percent(payload: bytes) -> int | None:
    """A Battery Level value (0-100 %), or None when the payload is not one."""
    if len(payload) < 1 or payload[0] > 100:
        return None
    return int(payload[0])


def normalize_uuid(uuid: object) -> str:
    """Lower-case 128-bit UUID string; 16/32-bit short forms get the SIG base."""
    text = str(uuid).strip().lower()
    if len(text) in (4, 8) and all(c in "0123456789abcdef" for c in text):
        return sig_uuid(int(text, 16))
    return text


class Command(NamedTuple):
    """One GATT write: characteristic UUID and the bytes to write."""

    char_uuid: str
    data: bytes


class Notification(NamedTuple):
    """One GATT notification (or indication) a device sends."""

    char_uuid: str
    payload: bytes


@dataclass(slots=True)
class Sample:
    """One decoded sample. acc/gyr are (x, y, z) tuples or None when the device lacks them."""

    arrival_s: float
    device_t_s: float | None
    acc_mps2: tuple[float, float, float] | None
    gyr_dps: tuple[float, float, float] | None
    seq: int | None = None

    def __len__(self) -> int:
        return 1


@dataclass(slots=True)
class SampleBlock:
    """Several samples from one notification (or one paired batch), as arrays.

    acc_mps2/gyr_dps are (N, 3) float64 or None; device_t_s is (N,) or None; seq is the
    device's packet counter for the notification when it has one.
    """

    arrival_s: float
    device_t_s: np.ndarray | None
    acc_mps2: np.ndarray | None
    gyr_dps: np.ndarray | None
    seq: int | None = None

    def __len__(self) -> int:
        for arr in (self.acc_mps2, self.gyr_dps, self.device_t_s):
            if arr is not None:
                return int(arr.shape[0])
        return 0


@dataclass(slots=True)
class SampleArrays:
    """Decoded samples stacked into arrays; missing values are NaN."""

    arrival_s: np.ndarray
    device_t_s: np.ndarray
    acc_mps2: np.ndarray
    gyr_dps: np.ndarray

    def __len__(self) -> int:
        return int(self.arrival_s.shape[0])


def stack_samples(items: Iterable[Sample | SampleBlock]) -> SampleArrays:
    """Stack decoder output (Samples and SampleBlocks in any mix) into arrays."""
    arrival, dev_t, acc, gyr = [], [], [], []
    nan3 = (math.nan, math.nan, math.nan)
    for item in items:
        if isinstance(item, Sample):
            arrival.append(np.array([item.arrival_s]))
            dev_t.append(np.array([math.nan if item.device_t_s is None else item.device_t_s]))
            acc.append(np.array([item.acc_mps2 if item.acc_mps2 is not None else nan3]))
            gyr.append(np.array([item.gyr_dps if item.gyr_dps is not None else nan3]))
            continue
        n = len(item)
        arrival.append(np.full(n, item.arrival_s))
        dev_t.append(np.full(n, math.nan) if item.device_t_s is None else item.device_t_s)
        acc.append(np.full((n, 3), math.nan) if item.acc_mps2 is None else item.acc_mps2)
        gyr.append(np.full((n, 3), math.nan) if item.gyr_dps is None else item.gyr_dps)
    if not arrival:
        return SampleArrays(np.empty(0), np.empty(0), np.empty((0, 3)), np.empty((0, 3)))
    return SampleArrays(
        np.concatenate(arrival).astype(float),
        np.concatenate(dev_t).astype(float),
        np.concatenate(acc).astype(float).reshape(-1, 3),
        np.concatenate(gyr).astype(float).reshape(-1, 3),
    )


@dataclass(frozen=True)
class StreamSettings:
    """What a session asks of a sensor (validated against the device's supported values)."""

    rate_hz: float
    acc_range_g: float
    gyr_range_dps: float
    options: dict = field(default_factory=dict, compare=False, repr=False)


def load_firmware_config(name: str) -> dict:
    """Read firmware_config/<name>.json (the settings imu-knee writes to that device)."""
    path = FIRMWARE_CONFIG_DIR / f"{name}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"device settings file missing: {path}") from None


def quantise(values: np.ndarray, lsb: float, dtype: str = "<i2") -> np.ndarray:
    """Round values/lsb to the nearest integer of `dtype`, saturating at its limits."""
    info = np.iinfo(np.dtype(dtype))
    counts = np.rint(np.asarray(values, dtype=float) / lsb)
    counts = np.nan_to_num(counts, nan=0.0)
    return np.clip(counts, info.min, info.max).astype(dtype)


def as_sample_arrays(
    acc_mps2: np.ndarray, gyr_dps: np.ndarray | None, device_t_s: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate encoder input shapes: (N, 3), (N, 3) or None → zeros, (N,) or None."""
    acc = np.asarray(acc_mps2, dtype=float).reshape(-1, 3)
    gyr = np.zeros_like(acc) if gyr_dps is None else np.asarray(gyr_dps, dtype=float).reshape(-1, 3)
    if gyr.shape != acc.shape:
        raise ValueError("acc_mps2 and gyr_dps must have the same number of samples")
    t = None
    if device_t_s is not None:
        t = np.asarray(device_t_s, dtype=float).reshape(-1)
        if t.shape[0] != acc.shape[0]:
            raise ValueError("device_t_s must have one time per sample")
    return acc, gyr, t


class WrappingCounter:
    """Unwraps an n-bit device counter/clock into a non-decreasing integer.

    Each new raw value is placed within half a wrap of the previous one, so a counter that
    wraps, and a packet that arrives a little out of order, both come out right.
    """

    def __init__(self, bits: int):
        self.modulus = 1 << bits
        self.half = self.modulus >> 1
        self.last_raw: int | None = None
        self.last: int | None = None

    def unwrap(self, raw: int) -> int:
        if self.last is None:
            full = raw
        else:
            full = self.last + ((raw - self.last_raw + self.half) % self.modulus) - self.half
        self.last_raw = raw
        self.last = full
        return full


Handler = Callable[[bytes, float], list]


class Decoder:
    """Per-connection decoder. Subclasses register one handler per characteristic.

    `feed` returns a list of Sample/SampleBlock (possibly empty: a reply, a half of a pair,
    a notification of a characteristic that carries no samples). Malformed bytes raise
    DecodeError and nothing else; state is left as before the bad notification where possible.
    """

    #: Tests set this to True so that a bug shows as its own exception instead of DecodeError.
    strict = False

    def __init__(self, profile: "Profile", settings: StreamSettings):
        self.profile = profile
        self.settings = settings
        self._handlers: dict[str, Handler] = {}
        self.lost_packets = 0
        self.dropped_samples = 0

    def _register(self, char_uuid: str, handler: Handler) -> None:
        self._handlers[normalize_uuid(char_uuid)] = handler

    def feed(self, char_uuid: object, payload: bytes, arrival_s: float) -> list:
        handler = self._handlers.get(char_uuid)  # type: ignore[arg-type]
        if handler is None:
            key = normalize_uuid(char_uuid)
            handler = self._handlers.get(key)
            if handler is None:
                return []
            self._handlers[char_uuid] = handler  # type: ignore[index]
        try:
            return handler(payload, arrival_s)
        except DecodeError:
            raise
        except Exception as exc:  # a protocol violation the handler did not name
            if self.strict:
                raise
            size = len(payload) if hasattr(payload, "__len__") else "?"
            raise DecodeError(
                f"{self.profile.name}: cannot decode {size}-byte notification: {exc}"
            ) from exc

    def flush(self) -> list:
        """Samples held back waiting for a partner or a continuation (end of stream)."""
        return []


class Encoder:
    """Per-connection encoder for virtual sensors: samples → notification payloads."""

    def __init__(self, profile: "Profile", settings: StreamSettings, mtu: int = 23):
        if mtu < 23:
            raise ValueError("ATT MTU is at least 23")
        self.profile = profile
        self.settings = settings
        self.mtu = mtu
        self.max_payload = mtu - 3
        self._next_t_s = 0.0

    def _device_times(self, n: int, t: np.ndarray | None) -> np.ndarray:
        """The device times of ``n`` samples: as given, else continuing at the stream's rate."""
        if t is None:
            t = self._next_t_s + np.arange(n) / self.settings.rate_hz
        if n:
            self._next_t_s = float(t[-1]) + 1.0 / self.settings.rate_hz
        return t

    def encode(
        self, acc_mps2: np.ndarray, gyr_dps: np.ndarray | None = None,
        device_t_s: np.ndarray | None = None,
    ) -> list[Notification]:
        raise NotImplementedError

    def reply(self, command: Command) -> list[Notification]:
        """Notifications/indications the device sends in answer to a written command."""
        return []


class Profile:
    """A device family: GATT layout, commands, supported settings, decoder and encoder."""

    name: str = ""
    device_name: str = ""
    service_uuid: str = ""
    notify_uuids: tuple[str, ...] = ()
    write_uuid: str | None = None
    has_device_clock = False
    has_gyro = True
    #: the device reports its battery through the standard Battery Service (read at connect,
    #: notified when the device does); None for devices without it
    battery_uuid: str | None = None
    rates_hz: tuple[float, ...] = ()
    acc_ranges_g: tuple[float, ...] = ()
    gyr_ranges_dps: tuple[float, ...] = ()
    decoder_class: type[Decoder] = Decoder
    encoder_class: type[Encoder] = Encoder

    def __init__(self, config: dict | None = None):
        """`config`: the complete settings (default: `merged_config()`, i.e. the file)."""
        self.config = self.merged_config() if config is None else dict(config)

    @classmethod
    def merged_config(cls, overrides: dict | None = None) -> dict:
        """firmware_config/<name>.json with the keys in `overrides` replaced."""
        return {**load_firmware_config(cls.name), **(overrides or {})}

    def settings(
        self, rate_hz: float | None = None, acc_range_g: float | None = None,
        gyr_range_dps: float | None = None,
    ) -> StreamSettings:
        """Fill missing values from the firmware config and check the device can do them."""
        rate = float(self.config["rate_hz"] if rate_hz is None else rate_hz)
        acc = float(self.config["acc_range_g"] if acc_range_g is None else acc_range_g)
        gyr = float(self.config["gyr_range_dps"] if gyr_range_dps is None else gyr_range_dps)
        _check_choice(self.name, "rate_hz", rate, self.rates_hz)
        _check_choice(self.name, "acc_range_g", acc, self.acc_ranges_g)
        _check_choice(self.name, "gyr_range_dps", gyr, self.gyr_ranges_dps)
        return StreamSettings(rate, acc, gyr, options=self.config)

    def resolution(self, settings: StreamSettings) -> tuple[float, float]:
        """Size of one count on the wire: (acc m/s², gyro deg/s)."""
        raise NotImplementedError

    def setup_commands(
        self, rate_hz: float | None = None, acc_range_g: float | None = None,
        gyr_range_dps: float | None = None,
    ) -> list[Command]:
        """Writes that configure rate and range (sent once after connecting)."""
        return []

    def start_commands(
        self, rate_hz: float | None = None, acc_range_g: float | None = None,
        gyr_range_dps: float | None = None,
    ) -> list[Command]:
        """Writes that start streaming (after subscribing to `notify_uuids`)."""
        return []

    def stop_commands(self) -> list[Command]:
        """Writes that stop streaming."""
        return []

    def new_decoder(
        self, rate_hz: float | None = None, acc_range_g: float | None = None,
        gyr_range_dps: float | None = None,
    ) -> Decoder:
        return self.decoder_class(self, self.settings(rate_hz, acc_range_g, gyr_range_dps))

    def new_encoder(
        self, rate_hz: float | None = None, acc_range_g: float | None = None,
        gyr_range_dps: float | None = None, mtu: int = 23,
    ) -> Encoder:
        return self.encoder_class(self, self.settings(rate_hz, acc_range_g, gyr_range_dps), mtu)


def _check_choice(profile: str, what: str, value: float, allowed: Sequence[float]) -> None:
    if allowed and not any(math.isclose(value, a, rel_tol=1e-9) for a in allowed):
        shown = ", ".join(f"{a:g}" for a in allowed)
        raise SettingError(f"{profile}: {what}={value:g} is not supported (choose {shown})")

