"""Ideal IMU signals of a sensor fixed to a segment, from the segment's pose trajectory.

Gyroscope: the segment's angular velocity in its own frame (a rigid strap adds no rotation).
Accelerometer: specific force f = R^T (a - g) with g = (0, 0, -9.81) in the world frame, so
an up-pointing axis reads +9.81 at rest. The sensor's acceleration ``a`` is the second time
derivative of its position on the fine grid. A heel-strike impact transient (soft tissue and
bone vibration that optical motion capture does not see) is added along the shank axis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..recording import GRAVITY_MPS2
from .leg_kinematics import LegTrajectory

SHANK_LATERAL_OFFSET_M = 0.05
THIGH_LATERAL_OFFSET_M = 0.08
IMPACT_TIME_CONSTANT_S = 0.010
THIGH_IMPACT_SHARE = 0.25
_G_WORLD = np.array([0.0, 0.0, -GRAVITY_MPS2])


@dataclass
class SegmentSignals:
    """Fine-grid ideal signals of one sensor in the segment frame."""

    t_s: np.ndarray
    acc_mps2: np.ndarray       # specific force, segment frame
    gyr_dps: np.ndarray        # angular rate, segment frame
    position_m: np.ndarray     # world position of the sensor
    rotation: np.ndarray       # segment-to-world rotations (N, 3, 3)
    impact_mps2: np.ndarray    # the impact pulse alone (along segment z)


def sensor_position(leg: LegTrajectory, segment: str, shank_fraction: float = 0.4) -> np.ndarray:
    """Lateral shank at ``shank_fraction`` of the shank below the knee; lateral mid-thigh."""
    lateral = leg.motion.side_sign
    if segment == "shank":
        r, top, length = leg.r_shank, leg.knee_m, leg.motion.body.shank_m
        return top - shank_fraction * length * r[:, :, 2] + lateral * SHANK_LATERAL_OFFSET_M * r[:, :, 1]
    r, top, length = leg.r_thigh, leg.hip_m, leg.motion.body.thigh_m
    return top - 0.5 * length * r[:, :, 2] + lateral * THIGH_LATERAL_OFFSET_M * r[:, :, 1]


def impact_pulse(t_s: np.ndarray, contact_s: np.ndarray, peak_mps2: np.ndarray,
                 tau_s: float = IMPACT_TIME_CONSTANT_S) -> np.ndarray:
    """Sum of damped pulses, one per contact, each the second derivative of
    D (u^3 e^-u), u = (t - contact) / tau: it rises from zero, peaks after ~0.6 tau, swings
    negative and dies out, with zero net velocity and displacement (the shank ends where it
    would be without the impact). Scaled so the first peak equals ``peak_mps2``."""
    out = np.zeros_like(t_s)
    u = np.linspace(0.0, 2.0, 2001)
    shape_peak = float(np.max((6 * u - 6 * u ** 2 + u ** 3) * np.exp(-u)))
    for t0, peak in zip(contact_s, peak_mps2):
        m = (t_s >= t0) & (t_s < t0 + 30 * tau_s)
        u = (t_s[m] - t0) / tau_s
        out[m] += peak / shape_peak * (6 * u - 6 * u ** 2 + u ** 3) * np.exp(-u)
    return out


def segment_signals(leg: LegTrajectory, segment: str, contact_s: np.ndarray,
                    impact_peak_mps2: np.ndarray, shank_fraction: float = 0.4) -> SegmentSignals:
    t = leg.t_s
    dt = t[1] - t[0]
    pos = sensor_position(leg, segment, shank_fraction)
    acc_world = np.gradient(np.gradient(pos, dt, axis=0), dt, axis=0)
    rot = leg.r_shank if segment == "shank" else leg.r_thigh
    rate = leg.rate_shank_rad if segment == "shank" else leg.rate_thigh_rad
    specific = np.einsum("nji,nj->ni", rot, acc_world - _G_WORLD)
    share = 1.0 if segment == "shank" else THIGH_IMPACT_SHARE
    pulse = impact_pulse(t, contact_s, share * np.asarray(impact_peak_mps2))
    specific[:, 2] += pulse
    return SegmentSignals(t, specific, np.degrees(rate), pos, rot, pulse)
