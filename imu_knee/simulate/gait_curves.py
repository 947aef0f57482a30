"""Knee and frontal-plane curves of one stride per activity, as smooth periodic functions
of gait phase.

Phase 0 is initial contact, 0.6 toe-off, 1 the next contact (the real stance fraction is set
by the timing; the curves always put toe-off at 0.6). Values follow the textbook shapes of
the sagittal knee angle (Winter 2009; Perry 1992; stairs: McFadyen & Winter 1988,
Protopapadaki 2007), in degrees:

- knee flexion (0 = straight as in standing, + = bent),
- frontal-plane shank tilt (+ = knee towards the midline).

The shank and thigh inclinations are not prescribed: the kinematics solves them so that the
chain spans the distance from the ankle to the hip. A problem knob changes the curve of its
own side only (extension deficit). Periodic cubic splines make every curve C2 across
contacts.
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
_FRONTAL_DEG = [(0, 0.5), (0.15, 2.5), (0.3, 3.0), (0.45, 2.0), (0.6, 0.5), (0.75, -2.0),
                (0.9, -1.0)]
_FRONTAL_SCALE = {"level": 1.0, "stairs_up": 1.2, "stairs_down": 1.6}


@dataclass(frozen=True)
class FootRoll:
    """Foot angle to the ground in stance (+ = toes up): landing, flat and push-off parts."""

    contact_deg: float     # at initial contact (+ heel strike, - toe first)
    flat_phase: float      # phase where the landing roll ends
    heel_off_phase: float  # phase where the push-off roll starts
    toe_off_deg: float     # at toe-off (heel up, negative)
    hold_deg: float = 0.0  # foot angle held between the two rolls (heel lift: negative)
    slap: bool = False     # True: the foot still rotates at contact and slaps down (heel
                           # strike); False: it is set down (no rate at contact)


FOOT_ROLL = {
    "standing": FootRoll(0.0, 0.1, 0.45, 0.0),
    "level": FootRoll(30.0, 0.1, 0.30, -55.0, slap=True),
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

    def __init__(self, activity: str, problems: SideProblems | None = None):
        self.activity = activity
        self.problems = problems or SideProblems()
        if activity == "standing":
            self._knee = self._frontal = None
            return
        self._knee = _periodic_spline(_KNEE_DEG[activity])
        scale = _FRONTAL_SCALE[activity]
        self._frontal = _periodic_spline([(p, v * scale) for p, v in _FRONTAL_DEG])

    def angles_deg(self, phase: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(knee flexion, frontal shank tilt) at phases in [0, 1)."""
        phase = np.mod(phase, 1.0)
        if self._knee is None:
            return np.zeros_like(phase, dtype=float), np.zeros_like(phase, dtype=float)
        knee = self._knee(phase)
        deficit = self.problems.extension_deficit_deg
        if deficit:
            # the knee stays bent from late swing through stance (0 in mid-swing)
            stance_window = (1.0 - smoothstep5((phase - 0.6) / 0.12)) + smoothstep5((phase - 0.85) / 0.12)
            knee = knee + deficit * stance_window
        return knee, self._frontal(phase)
