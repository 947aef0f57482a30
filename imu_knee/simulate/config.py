"""Knobs of the gait simulator: subject, gait, problems to inject, sensors and their errors.

All knobs are plain dataclasses with units in their names; ``validate()`` turns a bad value
into a one-line ``InputError`` so the CLI and the Python API report the same message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..recording import SENSOR_NAMES

ACTIVITIES = ("level", "stairs_up", "stairs_down")
SIDES = ("left", "right")


@dataclass
class SideProblems:
    """Problems the coach must recognise, for one leg (0 = healthy)."""

    hard_landing_g: float = 0.0          # extra impact pulse on stairs-down landings (g)
    knee_caving_deg: float = 0.0         # medial shank tilt during loading (deg)
    knee_wobble_deg: float = 0.0         # amplitude of a 4 Hz frontal wobble in stance (deg)
    extension_deficit_deg: float = 0.0   # knee never straightens by this much in stance (deg)
    heel_lift_deg: float = 0.0           # stairs down: heel held up by this foot angle (deg);
                                         # the shank then tilts forward less


@dataclass
class GaitSpec:
    """Subject size and walking pattern."""

    activities: list[tuple[str, int]] = field(default_factory=lambda: [("level", 10)])
    leg_length_m: float | None = None     # ASIS to lateral malleolus; default 0.53 × height
    height_m: float = 1.72
    speed_mps: float | None = None        # level walking speed; default from stride and cadence
    cadence_spm: float | None = None      # steps per minute on the level; default 107
    stride_length_m: float | None = None  # level stride; default 1.55 × leg length
    stair_riser_m: float = 0.17
    stair_tread_m: float = 0.28
    stairs_up_stride_s: float = 1.25
    stairs_down_stride_s: float = 0.95
    step_width_m: float = 0.16
    variability: float = 0.02             # stride-to-stride relative variation
    impact_level_g: float = 1.8           # impact pulse added at every level contact (g)
    impact_stairs_up_g: float = 0.8
    impact_stairs_down_g: float = 2.2
    standing_start_s: float = 3.0
    standing_end_s: float = 1.5

    def resolved_leg_length_m(self) -> float:
        return float(self.leg_length_m) if self.leg_length_m else round(0.53 * self.height_m, 3)

    def level_stride_s_and_length_m(self) -> tuple[float, float]:
        """Stride time and stride length on the level from speed / cadence / stride length."""
        leg = self.resolved_leg_length_m()
        stride = self.stride_length_m
        stride_s = 120.0 / self.cadence_spm if self.cadence_spm else None
        if self.speed_mps and stride and not stride_s:
            stride_s = stride / self.speed_mps
        elif self.speed_mps and stride_s and not stride:
            stride = self.speed_mps * stride_s
        elif self.speed_mps and not stride and not stride_s:
            # Grieve's relation: stride length grows with speed; 1.3 m/s ↔ 1.55 leg lengths.
            stride = leg * 1.55 * (self.speed_mps / 1.3) ** 0.6
            stride_s = stride / self.speed_mps
        stride = stride or 1.55 * leg
        stride_s = stride_s or 120.0 / 107.0
        return float(stride_s), float(stride)


@dataclass
class SensorSpec:
    """Which sensors, how they are strapped, and their errors."""

    sensors: tuple[str, ...] = ("left_shank", "right_shank")
    rate_hz: float = 100.0
    mounting: str = "random"              # aligned | random (±35° axial, ≤10° tilt) | any
    mounting_matrices: dict[str, np.ndarray] = field(default_factory=dict)
    noise: float = 1.0                    # × (0.04 m/s², 0.25 deg/s) white noise
    bias: float = 1.0                     # × (≤0.08 m/s², ≤1.5 deg/s) constant bias
    scale_error: float = 0.015            # max relative scale error per axis
    drop_rate: float = 0.0                # fraction of rows lost in short gaps
    timestamp_jitter_s: float = 0.0
    shank_position: float = 0.4           # fraction of shank length below the knee
    device: str = "imu-knee simulator"


@dataclass
class SimulationSpec:
    gait: GaitSpec = field(default_factory=GaitSpec)
    sensors: SensorSpec = field(default_factory=SensorSpec)
    problems: dict[str, SideProblems] = field(
        default_factory=lambda: {"left": SideProblems(), "right": SideProblems()})
    seed: int = 0
    fine_rate_hz: float = 2000.0

    def validate(self) -> None:
        g, s = self.gait, self.sensors
        if not g.activities:
            raise InputError("no activities to simulate")
        for name, n in g.activities:
            if name not in ACTIVITIES:
                raise InputError(f"unknown activity '{name}' (expected one of {', '.join(ACTIVITIES)})")
            if not 1 <= int(n) <= 500:
                raise InputError(f"activity '{name}': number of strides must be 1..500, got {n}")
        leg = g.resolved_leg_length_m()
        if not 0.5 <= leg <= 1.3:
            raise InputError(f"leg length {leg:.2f} m is outside 0.5..1.3 m")
        stride_s, stride_m = g.level_stride_s_and_length_m()
        if not 0.6 <= stride_s <= 2.5:
            raise InputError(f"level stride time {stride_s:.2f} s is outside 0.6..2.5 s;"
                             " check speed / cadence / stride length")
        if not 0.4 <= stride_m / leg <= 2.6:
            raise InputError(f"stride length {stride_m:.2f} m does not fit a leg of {leg:.2f} m")
        if not 50 <= s.rate_hz <= 400:
            raise InputError(f"sample rate must be 50..400 Hz, got {s.rate_hz:g}")
        if not s.sensors:
            raise InputError("no sensors chosen")
        for name in s.sensors:
            if name not in SENSOR_NAMES:
                raise InputError(f"unknown sensor '{name}' (expected some of {', '.join(SENSOR_NAMES)})")
        if s.mounting not in ("aligned", "random", "any"):
            raise InputError(f"mounting must be aligned, random or any, got '{s.mounting}'")
        if not 0 <= s.drop_rate < 0.5:
            raise InputError(f"drop rate must be 0..0.5, got {s.drop_rate:g}")
        if min(s.noise, s.bias, s.scale_error, s.timestamp_jitter_s) < 0:
            raise InputError("noise, bias, scale error and jitter must not be negative")
        if s.timestamp_jitter_s * s.rate_hz > 0.4:
            raise InputError("timestamp jitter must stay below 0.4 sample intervals")
        for side, p in self.problems.items():
            if side not in SIDES:
                raise InputError(f"unknown side '{side}'")
            if not (0 <= p.hard_landing_g <= 15 and 0 <= p.knee_caving_deg <= 20
                    and 0 <= p.knee_wobble_deg <= 10 and 0 <= p.extension_deficit_deg <= 40
                    and 0 <= p.heel_lift_deg <= 40):
                raise InputError(f"{side}: a problem knob is out of range (hard landing 0..15 g,"
                                 " caving 0..20°, wobble 0..10°, extension deficit 0..40°,"
                                 " heel lift 0..40°)")
