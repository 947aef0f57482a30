"""Where and when each foot lands: footprints, contacts and toe-offs for both feet.

The walk is a sequence of steps that alternate between the feet (left first). A stride of
one activity is two steps: level steps are half a stride forward, stair steps one tread
forward and one riser up or down (step-over-step). The first step starts from quiet
standing with both feet side by side, and a last closing step brings the trailing foot
alongside the leading one, so every file starts and ends standing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scipy.interpolate import CubicSpline

from .config import GaitSpec
from .gait_curves import TOE_OFF_PHASE

SWING_FRACTION = 1.0 - TOE_OFF_PHASE


@dataclass
class FootPlan:
    """Stances of one foot. Stance 0 is the standing start; the last stance never ends.

    ``ic_s[i]``/``to_s[i]`` bound stance i (``ic_s[0]`` is the virtual contact of the
    standing start; ``to_s[-1]`` is NaN). ``activity[k]`` is the activity of the stride
    from stance k to stance k+1; ``footprint_m[i]`` is the ground point under the ankle.
    """

    side: str
    ic_s: np.ndarray
    to_s: np.ndarray
    footprint_m: np.ndarray               # (n_stances, 3) x forward, y left, z up
    activity: list[str]
    stride_s: np.ndarray                  # nominal stride time per stride (for timing)
    end_phase_s: float = 0.0              # time the final stance reaches phase 0.6
    impact_scale: np.ndarray = field(default_factory=lambda: np.zeros(0))


# How far behind the landing foot's footprint the pelvis is at contact: level walking as a
# fraction of the stride, stairs in metres for a 0.9 m leg.
HIP_BEHIND_CONTACT_LEVEL = 0.245
HIP_BEHIND_CONTACT_STAIRS_M = {"stairs_up": 0.30, "stairs_down": 0.27}


class PelvisPath:
    """Forward position of the pelvis (shared by both hips): smooth through one knot per contact."""

    def __init__(self, t_s: np.ndarray, x_m: np.ndarray):
        self._spline = CubicSpline(t_s, x_m, bc_type=((1, 0.0), (1, 0.0)))
        self._range = (float(t_s[0]), float(t_s[-1]))
        self._ends = (float(x_m[0]), float(x_m[-1]))

    def __call__(self, t_s: np.ndarray) -> np.ndarray:
        t = np.asarray(t_s, dtype=float)
        x = self._spline(np.clip(t, *self._range))
        return np.where(t <= self._range[0], self._ends[0], np.where(t >= self._range[1], self._ends[1], x))


@dataclass
class StepPlan:
    feet: dict[str, FootPlan]
    duration_s: float
    pelvis_x: PelvisPath


def make_step_plan(gait: GaitSpec, rng: np.random.Generator) -> StepPlan:
    level_stride_s, level_stride_m = gait.level_stride_s_and_length_m()
    stride_s_of = {"level": level_stride_s, "stairs_up": gait.stairs_up_stride_s,
                   "stairs_down": gait.stairs_down_stride_s}
    var = gait.variability

    # steps: (activity, forward m, rise m, duration s); 2 per stride, plus the closing step
    steps: list[tuple[str, float, float, float]] = []
    for activity, n_strides in gait.activities:
        for _ in range(2 * int(n_strides)):
            jitter = 1.0 + var * float(np.clip(rng.standard_normal(), -2.5, 2.5))
            time_jitter = 1.0 + var * float(np.clip(rng.standard_normal(), -2.5, 2.5))
            half_s = 0.5 * stride_s_of[activity] * time_jitter
            if activity == "level":
                steps.append((activity, 0.5 * level_stride_m * jitter, 0.0, half_s))
            elif activity == "stairs_up":
                steps.append((activity, gait.stair_tread_m, gait.stair_riser_m, half_s))
            else:
                steps.append((activity, gait.stair_tread_m, -gait.stair_riser_m, half_s))
    last = steps[-1]
    steps.append((last[0], 0.0, 0.0, last[3]))  # closing step: land alongside

    first_stride_s = 2.0 * steps[0][3]
    t_go = gait.standing_start_s + TOE_OFF_PHASE * first_stride_s   # leading toe-off
    ic_step = np.empty(len(steps))
    ic_step[0] = t_go + SWING_FRACTION * first_stride_s
    for j in range(1, len(steps)):
        ic_step[j] = ic_step[j - 1] + steps[j][3]
    pos = np.zeros((len(steps) + 1, 2))  # (x, z) of the step positions; 0 = standing
    for j, (_, dx, dz, _) in enumerate(steps):
        pos[j + 1] = pos[j] + (dx, dz) if j + 1 < len(steps) else pos[j]

    feet: dict[str, FootPlan] = {}
    half_width = 0.5 * gait.step_width_m
    for side, first in (("left", 0), ("right", 1)):
        idx = list(range(first, len(steps), 2))   # steps this foot lands on
        y = half_width if side == "left" else -half_width
        footprints = [(0.0, y, 0.0)] + [(pos[j + 1][0], y, pos[j + 1][1]) for j in idx]
        activity = [steps[j][0] for j in idx]
        stride_s = np.array([2.0 * steps[j][3] for j in idx])
        ic = np.concatenate([[np.nan], ic_step[idx]])
        n = len(ic)
        to = np.full(n, np.nan)
        to[0] = ic[1] - SWING_FRACTION * stride_s[0]
        for i in range(1, n - 1):
            to[i] = ic[i] + TOE_OFF_PHASE * (ic[i + 1] - ic[i])
        ic[0] = to[0] - TOE_OFF_PHASE * stride_s[0]
        end_phase_s = ic[-1] + TOE_OFF_PHASE * stride_s[-1]
        feet[side] = FootPlan(side, ic, to, np.array(footprints), activity, stride_s, end_phase_s)
    leg_scale = gait.resolved_leg_length_m() / 0.9
    knot_t = [min(f.ic_s[0] for f in feet.values())]
    knot_x = [0.0]
    for j, (activity, _, _, _) in enumerate(steps):
        behind = (HIP_BEHIND_CONTACT_LEVEL * level_stride_m if activity == "level"
                  else HIP_BEHIND_CONTACT_STAIRS_M[activity] * leg_scale)
        knot_t.append(ic_step[j]); knot_x.append(pos[j + 1][0] - behind)
    end_s = max(f.end_phase_s for f in feet.values())
    knot_t.append(end_s); knot_x.append(pos[-1][0])
    pelvis = PelvisPath(np.array(knot_t), np.array(knot_x))
    return StepPlan(feet, float(end_s + gait.standing_end_s), pelvis)
