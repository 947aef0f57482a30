"""Joint angle curves of one stride per activity, as smooth periodic functions of gait phase.

Phase 0 is initial contact, 0.6 toe-off, 1 the next contact (the real stance fraction is set
by the timing; the curves always put toe-off at 0.6). Values follow the textbook shapes of
sagittal knee and hip angles (Winter 2009; Perry 1992; stairs: McFadyen & Winter 1988,
Protopapadaki 2007), in degrees:

- knee flexion ``kappa`` (0 = straight as in standing, + = bent),
- hip flexion ``hip`` (thigh forward of vertical),
- shank inclination ``sigma = kappa - hip`` (+ = knee ahead of the ankle); in stance the
  kinematics replaces it by the inclination that puts the hip where the pelvis is,
- frontal-plane shank tilt ``frontal`` (+ = knee towards the midline).

A problem knob changes the curve of its own side only (extension deficit). Periodic cubic splines make every curve C2 across contacts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline

from .config import SideProblems

TOE_OFF_PHASE = 0.6

# (phase, degrees) keypoints for one stride starting at initial contact.
_KNEE_DEG = {
    "level": [(0, 5), (0.05, 10), (0.13, 16), (0.25, 9), (0.38, 3), (0.48, 8), (0.55, 21),
              (0.6, 35), (0.65, 52), (0.70, 60), (0.78, 50), (0.85, 33), (0.92, 12), (0.97, 5)],
    "stairs_up": [(0, 60), (0.1, 50), (0.2, 33), (0.3, 18), (0.4, 10), (0.5, 13), (0.6, 40),
                  (0.65, 68), (0.73, 93), (0.8, 91), (0.88, 77), (0.95, 64)],
    "stairs_down": [(0, 17), (0.08, 24), (0.2, 32), (0.32, 38), (0.42, 48), (0.52, 66),
                    (0.6, 78), (0.67, 82), (0.75, 72), (0.85, 42), (0.93, 21), (0.98, 17)],
}
_HIP_DEG = {
    "level": [(0, 25), (0.1, 22), (0.2, 14), (0.3, 5), (0.4, -4), (0.5, -10), (0.55, -8),
              (0.6, -3), (0.65, 2), (0.7, 12), (0.8, 24), (0.87, 28), (0.95, 26)],
    "stairs_up": [(0, 58), (0.1, 52), (0.2, 40), (0.3, 26), (0.4, 14), (0.5, 8), (0.6, 12),
                  (0.7, 25), (0.8, 45), (0.88, 58), (0.95, 60)],
    "stairs_down": [(0, 22), (0.1, 22), (0.25, 20), (0.4, 22), (0.5, 27), (0.6, 33),
                    (0.68, 38), (0.78, 36), (0.88, 28), (0.95, 23)],
}
_FRONTAL_DEG = [(0, 0.5), (0.15, 2.5), (0.3, 3.0), (0.45, 2.0), (0.6, 0.5), (0.75, -2.0),
                (0.9, -1.0)]
_FRONTAL_SCALE = {"level": 1.0, "stairs_up": 1.2, "stairs_down": 1.6}
_LEVEL_HIP_MEAN_DEG = 10.0


@dataclass(frozen=True)
class FootRoll:
    """Foot angle to the ground in stance (+ = toes up): landing, flat and push-off parts."""

    contact_deg: float     # at initial contact (+ heel strike, - toe first)
    flat_phase: float      # phase where the landing roll ends
    heel_off_phase: float  # phase where the push-off roll starts
    toe_off_deg: float     # at toe-off (heel up, negative)
    hold_deg: float = 0.0  # foot angle held between the two rolls (heel lift: negative)


FOOT_ROLL = {
    "standing": FootRoll(0.0, 0.1, 0.45, 0.0),
    "level": FootRoll(18.0, 0.1, 0.30, -55.0),
    "stairs_up": FootRoll(0.0, 0.05, 0.45, -25.0),
    "stairs_down": FootRoll(-25.0, 0.15, 0.40, -35.0),
}


def _periodic_spline(points: list[tuple[float, float]]) -> CubicSpline:
    phase = np.array([p for p, _ in points] + [1.0 + points[0][0]])
    value = np.array([v for _, v in points] + [points[0][1]])
    return CubicSpline(phase, value, bc_type="periodic")


def smoothstep5(u: np.ndarray) -> np.ndarray:
    """0 → 1 with zero first and second derivative at both ends (C2)."""
    u = np.clip(u, 0.0, 1.0)
    return u * u * u * (10.0 - 15.0 * u + 6.0 * u * u)


class ActivityCurves:
    """Sagittal and frontal curves of one activity for one leg, with its problems applied."""

    def __init__(self, activity: str, problems: SideProblems | None = None,
                 stride_scale: float = 1.0):
        self.activity = activity
        self.problems = problems or SideProblems()
        if activity == "standing":
            self._knee = self._hip = self._frontal = None
            return
        self._knee = _periodic_spline(_KNEE_DEG[activity])
        hip_points = _HIP_DEG[activity]
        if activity == "level":
            hip_points = [(p, _LEVEL_HIP_MEAN_DEG + (v - _LEVEL_HIP_MEAN_DEG) * stride_scale)
                          for p, v in hip_points]
        self._hip = _periodic_spline(hip_points)
        scale = _FRONTAL_SCALE[activity]
        self._frontal = _periodic_spline([(p, v * scale) for p, v in _FRONTAL_DEG])

    def angles_deg(self, phase: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(knee flexion, shank inclination, frontal shank tilt) at phases in [0, 1)."""
        phase = np.mod(phase, 1.0)
        if self._knee is None:
            zero = np.zeros_like(phase, dtype=float)
            return zero, zero.copy(), zero.copy()
        knee = self._knee(phase)
        hip = self._hip(phase)
        p = self.problems
        # 1 from late swing through stance, 0 in mid-swing (smooth in between)
        stance_window = (1.0 - smoothstep5((phase - 0.6) / 0.12)) + smoothstep5((phase - 0.85) / 0.12)
        if p.extension_deficit_deg:
            # the knee stays bent: flexion added through stance, the shank keeps its tilt
            knee = knee + p.extension_deficit_deg * stance_window
            hip = hip + p.extension_deficit_deg * stance_window
        return knee, knee - hip, self._frontal(phase)
