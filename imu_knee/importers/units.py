"""Unit handling: what the export declares, what the user asked for, and what gravity says.

At rest an accelerometer reads gravity: about 9.81 in m/s², about 1 in g, about 0 for
"linear acceleration" (gravity removed). That reading decides doubtful cases.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError
from ..recording import GRAVITY_MPS2, gravity_reading

ACC_FACTORS = {"mps2": 1.0, "g": GRAVITY_MPS2}
GYR_FACTORS = {"dps": 1.0, "rads": 180.0 / math.pi}
ACC_UNIT_TEXT = {"mps2": "m/s²", "g": "g"}
GYR_UNIT_TEXT = {"dps": "deg/s", "rads": "rad/s"}


def mean_to_median(acc: np.ndarray) -> float:
    """|mean vector| / median magnitude: near 1 with gravity in the signal, near 0 without.

    Gravity keeps one direction in the sensor while the leg swings about ±40°, so its mean
    vector stays large; linear acceleration averages out to about zero.
    """
    median = float(np.median(np.linalg.norm(acc, axis=1)))
    return float(np.linalg.norm(acc.mean(axis=0)) / median) if median > 0 else 0.0


def resolve_acc_unit(acc_raw: np.ndarray, declared: str, requested: str, what: str,
                     notes: list[str]) -> str:
    """Pick the accelerometer unit; refuse data without gravity or with an impossible scale."""
    g = gravity_reading(acc_raw)
    if not math.isfinite(g):
        raise InputError(f"{what}: no accelerometer samples")
    if requested != "auto":
        unit = requested
    else:
        unit = declared
        if declared == "mps2" and 0.5 < g < 2.0:
            unit = "g"
            notes.append(f"{what}: gravity reads {g:.2f} where m/s² is expected; the values look"
                         " like g and are converted (pass --acc-unit mps2 to keep them as they are)")
        elif declared == "g" and 4.0 < g < 30.0:
            unit = "mps2"
            notes.append(f"{what}: gravity reads {g:.2f} where g is expected; the values look like"
                         " m/s² and are kept (pass --acc-unit g to convert anyway)")
    g_mps2 = g * ACC_FACTORS[unit]
    if unit == "mps2" and 0.5 < g_mps2 < 2.0:
        raise InputError(f"{what}: gravity reads {g_mps2:.2f} m/s², so the acceleration looks like it"
                         " is in g, not m/s²; re-run with --acc-unit g")
    if g_mps2 < 3.0 or mean_to_median(acc_raw) < 0.3:
        raise InputError(f"{what}: gravity is missing (median {g_mps2:.2f} m/s², mean vector"
                         f" {mean_to_median(acc_raw):.2f} of it), so this is acceleration without"
                         " gravity (linear acceleration); imu-knee needs the raw accelerometer"
                         " (specific force, about 9.81 m/s² at rest)")
    if not 4.0 < g_mps2 < 30.0:
        hint = " (try --acc-unit mps2)" if unit == "g" else ""
        raise InputError(f"{what}: gravity reads {g_mps2:.2f} m/s² with the accelerometer in"
                         f" {ACC_UNIT_TEXT[unit]}, not about 9.81; check the unit{hint}")
    return unit


def resolve_gyr_unit(gyr_raw: np.ndarray, declared: str, requested: str, what: str,
                     notes: list[str]) -> str:
    unit = declared if requested == "auto" else requested
    if len(gyr_raw):
        p99 = float(np.percentile(np.abs(gyr_raw), 99))
        if unit == "rads" and p99 > 40.0:
            notes.append(f"{what}: angular rates up to {p99:.0f} in rad/s would be above 2000 deg/s;"
                         " if the gyroscope is in deg/s pass --gyr-unit dps")
    return unit
