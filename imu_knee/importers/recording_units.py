"""Fix the units of an existing imu-knee recording (acc written in g, gyro in rad/s)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from ..recording import GRAVITY_MPS2, Recording, check_acc_units, read_recording


def looks_like_recording(path: Path) -> bool:
    """True when ``path`` is a file in the imu-knee recording format (units not checked)."""
    try:
        read_recording(path, check_units=False)
    except InputError:
        return False
    return True


def convert_recording_units(path: Path, acc_unit: str, gyr_unit: str) -> Recording:
    """The recording at ``path`` with acc converted from g and/or gyro from rad/s."""
    if acc_unit not in ("g", "mps2", "auto") or gyr_unit not in ("rads", "dps", "auto"):
        raise InputError(f"unknown unit {acc_unit!r}/{gyr_unit!r}")
    rec = read_recording(path, check_units=False)
    for stream in rec.streams.values():
        if acc_unit == "g":
            stream.acc_mps2 = np.asarray(stream.acc_mps2) * GRAVITY_MPS2
        if gyr_unit == "rads":
            stream.gyr_dps = np.degrees(stream.gyr_dps)
    check_acc_units(rec)
    return rec


__all__ = ["convert_recording_units", "looks_like_recording"]
