"""Decoding speed of every BLE device profile, in samples per second on one core.

Each case encodes a synthetic walk-like signal with the profile's own encoder (the exact bytes
the device sends at that MTU and packing), then feeds every notification to a fresh decoder
one at a time, as the live link does, and counts the samples that come out. Requirement:
>= 100,000 samples/s for every profile and mode.

    python benchmarks/decode_speed.py [--samples 60000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imu_knee.ble.profiles import get_profile  # noqa: E402

REQUIRED_SAMPLES_PER_S = 100_000

#: (label, profile name, config overrides, MTU)
CASES = [
    ("witmotion  1 packet/notification (MTU 23)", "witmotion", {}, 23),
    ("witmotion  4 packets/notification", "witmotion", {}, 83),
    ("metamotion plain (acc + gyro notifications)", "metamotion", {"packed": False}, 23),
    ("metamotion packed", "metamotion", {"packed": True}, 23),
    ("movesense  IMU6 104 Hz, MTU 23 (3 parts)", "movesense", {}, 23),
    ("movesense  IMU6 208 Hz, MTU 247", "movesense", {"rate_hz": 208}, 247),
    ("polar      Verity compressed, MTU 232", "polar", {}, 232),
    ("polar      H10 raw frames, MTU 232", "polar", {"model": "h10", "frame": "raw", "rate_hz": 200}, 232),
    ("thingy52   raw", "thingy52", {}, 23),
    ("imu-knee   single packets (MTU 23)", "imu-knee", {}, 23),
    ("imu-knee   batches (MTU 247)", "imu-knee", {}, 247),
]


def walk_signal(n: int, rate_hz: float, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(n) / rate_hz
    rng = np.random.default_rng(seed)
    acc = np.stack([2 * np.sin(2 * np.pi * t), 1.5 * np.cos(2 * np.pi * t), 9.81 + 3 * np.sin(4 * np.pi * t)], 1)
    gyr = np.stack([30 * np.sin(2 * np.pi * t), 200 * np.sin(2 * np.pi * t + 1), 20 * np.cos(2 * np.pi * t)], 1)
    return acc + rng.normal(0, 0.2, acc.shape), gyr + rng.normal(0, 2, gyr.shape)


def measure(name: str, overrides: dict, mtu: int, n_samples: int, repeats: int) -> tuple[float, int, int]:
    """Best-of-`repeats` samples/s, samples decoded, notifications fed."""
    profile = get_profile(name, dict(get_profile(name).config, **overrides))
    settings = profile.settings()
    encoder = profile.new_encoder(mtu=mtu)
    acc, gyr = walk_signal(n_samples, settings.rate_hz)
    replies = []
    for command in profile.setup_commands() + profile.start_commands():
        replies += encoder.reply(command)
    notes = replies + encoder.encode(acc, gyr, np.arange(n_samples) / settings.rate_hz)
    best = 0.0
    decoded = 0
    for _ in range(repeats):
        decoder = profile.new_decoder()
        feed = decoder.feed
        decoded = 0
        start = time.perf_counter()
        for i, (uuid, payload) in enumerate(notes):
            for item in feed(uuid, payload, i * 0.001):
                decoded += len(item)
        elapsed = time.perf_counter() - start
        best = max(best, decoded / elapsed)
    return best, decoded, len(notes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    slow = []
    print(f"{'case':48s} {'samples/s':>12s} {'samples':>8s} {'notifications':>13s}")
    for label, name, overrides, mtu in CASES:
        rate, decoded, n_notes = measure(name, overrides, mtu, args.samples, args.repeats)
        flag = "" if rate >= REQUIRED_SAMPLES_PER_S else "  << below 100k"
        print(f"{label:48s} {rate:12,.0f} {decoded:8d} {n_notes:13d}{flag}")
        if decoded != args.samples or rate < REQUIRED_SAMPLES_PER_S:
            slow.append(label)
    if slow:
        print("FAILED:", "; ".join(slow))
        return 1
    print(f"all profiles decode >= {REQUIRED_SAMPLES_PER_S:,} samples/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
