"""What a format module hands back, and the options of an import."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ImportOptions:
    """User choices: ``fmt`` ("auto" or a format name), units, rate and sensor column."""

    fmt: str = "auto"
    acc_unit: str = "auto"  # auto, mps2, g
    gyr_unit: str = "auto"  # auto, dps, rads
    rate_hz: float | None = None
    sensor_column: str | None = None


@dataclass
class Stream3:
    """One three-axis stream on the source clock: times in seconds, values in ``unit``."""

    t_s: np.ndarray
    xyz: np.ndarray
    unit: str  # declared unit: mps2 / g for acc, dps / rads for gyro
    source: str  # the file it came from
    presorted: bool = False


@dataclass
class RawImport:
    """A format module's result, before unit conversion and merging."""

    app: str  # e.g. "phyphox"
    acc: Stream3
    gyr: Stream3
    device: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def paired_import(app: str, acc: Stream3, gyr: Stream3, source_file: str, device: str,
                  notes: list[str]) -> RawImport:
    """The result of a format that keeps the accelerometer and gyroscope in two files."""
    return RawImport(app=app, acc=acc, gyr=gyr, device=device,
                     meta={"source_app": app, "source_file": source_file}, notes=notes)
