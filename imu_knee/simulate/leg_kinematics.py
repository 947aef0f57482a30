"""Pose trajectories of one leg (thigh, shank, ankle) on a fine time grid.

World frame: x forward, y left, z up. Segment frame: x anterior, y left, z proximal along
the segment. A segment's orientation is ``Ry(inclination) @ Rx(frontal)``: inclination > 0
tilts its proximal end forward, frontal > 0 tilts it towards -y.

The pelvis moves forward smoothly (one path for both hips). In stance the foot stays on its
footprint and only rolls (heel rocker at contact, forefoot rocker before toe-off); with the
knee flexion given, the shank inclination is solved so that ankle + shank + thigh reaches the
hip. In swing the hip height and sideways position follow C2 joins that match position,
velocity and acceleration of the stances on both sides, the shank follows its activity curve
plus a C2 correction joining the stance values, and the ankle hangs below the hip: the
chain is C2, so accelerations are continuous and the foot lands exactly on its footprint.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline

from .config import SideProblems
from .gait_curves import FOOT_ROLL, TOE_OFF_PHASE, ActivityCurves, FootRoll, smoothstep5
from .step_plan import FootPlan

WOBBLE_HZ = 4.0
CAVING_SHAPE_PEAK = (3 / 7) ** 3 * (4 / 7) ** 4
THIGH_FRONTAL_RATIO = -0.6   # thigh frontal tilt per degree of shank tilt (knee moves, ends stay)


@dataclass(frozen=True)
class BodySize:
    thigh_m: float
    shank_m: float
    ankle_height_m: float
    heel_back_m: float
    forefoot_m: float

    @classmethod
    def from_leg_length(cls, leg_length_m: float) -> "BodySize":
        """Segments from ASIS–malleolus leg length (ASIS sits ~5 cm above the hip centre)."""
        joints_m = leg_length_m - 0.05
        scale = leg_length_m / 0.9
        return cls(0.5 * joints_m, 0.5 * joints_m, 0.08 * scale, 0.06 * scale, 0.14 * scale)


def rot_y(angle_rad: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    z, o = np.zeros_like(c), np.ones_like(c)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1),
                     np.stack([-s, z, c], -1)], -2)


def rot_x(angle_rad: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    z, o = np.zeros_like(c), np.ones_like(c)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1),
                     np.stack([z, s, c], -1)], -2)


def segment_rotation(inclination_rad: np.ndarray, frontal_rad: np.ndarray) -> np.ndarray:
    return rot_y(inclination_rad) @ rot_x(frontal_rad)


def body_rate_rad(inclination_rad, frontal_rad, d_inclination, d_frontal) -> np.ndarray:
    """Angular velocity in the segment frame of Ry(b) Rx(a): Rx(a)^T (0, b', 0) + (a', 0, 0)."""
    return np.stack([d_frontal, d_inclination * np.cos(frontal_rad),
                     -d_inclination * np.sin(frontal_rad)], -1)


# How late the foot moves forward in swing (0 = as a quintic; stairs up: lift, then reach)
SWING_FOOT_LAG = {"level": 0.15, "stairs_up": 0.25, "stairs_down": 0.2}


def swing_time_warp(t, t0, t1, lag: float):
    """Warp time inside (t0, t1): u - 64 lag u^3 (1-u)^3 keeps the value, rate and
    acceleration at both ends (so joins stay C2) and delays (lag > 0) or advances the
    middle; monotonic for |lag| < 0.3."""
    u = (t - t0) / (t1 - t0)
    return t0 + (t1 - t0) * (u - 64.0 * lag * u ** 3 * (1 - u) ** 3)


def quintic_hermite(t, t0, t1, p0, v0, a0, p1, v1, a1) -> np.ndarray:
    """The quintic through two boundary states (value, rate, acceleration)."""
    T = t1 - t0
    s = ((t - t0) / T)[:, None]
    s3, s4, s5 = s ** 3, s ** 4, s ** 5
    return ((1 - 10 * s3 + 15 * s4 - 6 * s5) * p0 + (s - 6 * s3 + 8 * s4 - 3 * s5) * T * v0
            + (0.5 * s * s - 1.5 * s3 + 1.5 * s4 - 0.5 * s5) * T * T * a0
            + (0.5 * s3 - s4 + 0.5 * s5) * T * T * a1 + (-4 * s3 + 7 * s4 - 3 * s5) * T * v1
            + (10 * s3 - 15 * s4 + 6 * s5) * p1)


class LegMotion:
    """Angles, foot roll and chain positions of one leg as functions of time."""

    def __init__(self, plan: FootPlan, body: BodySize, problems: SideProblems,
                 pelvis_x, knee_offsets_deg: np.ndarray | None = None):
        self.plan, self.body, self.problems = plan, body, problems
        self.pelvis_x = pelvis_x
        self.side_sign = 1.0 if plan.side == "left" else -1.0   # lateral = +y on the left
        n = len(plan.ic_s) - 1  # number of strides
        self.n_strides = n
        knots_t = [plan.ic_s[0], plan.to_s[0]]
        knots_p = [0.0, TOE_OFF_PHASE]
        for i in range(1, n + 1):
            knots_t.append(plan.ic_s[i]); knots_p.append(float(i))
            end = plan.to_s[i] if i < n else plan.end_phase_s
            knots_t.append(end); knots_p.append(i + TOE_OFF_PHASE)
        self._clock = CubicSpline(np.array(knots_t), np.array(knots_p), bc_type="natural")
        self._t_range = (knots_t[0], knots_t[-1])
        self._p_end = knots_p[-1]
        names = ["standing"] + sorted(set(plan.activity))
        self._curves = [ActivityCurves(a, problems) for a in names]
        code = {a: i for i, a in enumerate(names)}
        # activity code of stride k (k = -1 and k = n are standing)
        self._stride_code = np.array([0] + [code[a] for a in plan.activity] + [0])
        # stride-to-stride variation of the knee curve (0 for the standing start and end)
        self._knee_offset = np.zeros(n + 2)
        if knee_offsets_deg is not None:
            self._knee_offset[1:n + 1] = knee_offsets_deg[:n]
        self._rolls = [self._stance_roll(i) for i in range(n + 1)]

    # --------------------------------------------------------------- phase and angles
    def phase(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        p = self._clock(np.clip(t, *self._t_range))
        p = np.where(t <= self._t_range[0], 0.0, p)
        return np.where(t >= self._t_range[1], self._p_end, p)

    def angles_deg(self, t: np.ndarray) -> dict[str, np.ndarray]:
        """Knee flexion and shank/thigh frontal tilt (medial +), from the activity curves."""
        phase = self.phase(t)
        k = np.clip(np.floor(phase).astype(int), 0, self.n_strides)
        local = phase - k
        weight = smoothstep5(local / TOE_OFF_PHASE)
        prev_code = self._stride_code[k]        # stride k-1
        cur_code = self._stride_code[k + 1]     # stride k
        knee = np.zeros_like(phase); frontal = np.zeros_like(phase)
        for code, curves in enumerate(self._curves):
            w = np.where(prev_code == code, 1.0 - weight, 0.0) + np.where(cur_code == code, weight, 0.0)
            if not w.any() or curves.activity == "standing":
                continue
            kn, fr = curves.angles_deg(local)
            knee += w * kn; frontal += w * fr
        knee += (1.0 - weight) * self._knee_offset[k] + weight * self._knee_offset[k + 1]
        frontal = frontal + self._stance_frontal_extra(t)
        # shank and thigh inclinations are solved later (``solve_shank``)
        return {"knee": knee, "shank": np.zeros_like(knee), "thigh": -knee,
                "shank_frontal": frontal, "thigh_frontal": THIGH_FRONTAL_RATIO * frontal}

    def _stance_frontal_extra(self, t: np.ndarray) -> np.ndarray:
        """Knee caving and wobble during walking stances (not the standing start or end)."""
        p = self.problems
        extra = np.zeros_like(t, dtype=float)
        if not (p.knee_caving_deg or p.knee_wobble_deg):
            return extra
        for i in range(1, self.n_strides):
            ic, to = self.plan.ic_s[i], self.plan.to_s[i]
            m = (t > ic) & (t < to)
            if not m.any():
                continue
            u = (t[m] - ic) / (to - ic)
            window = np.sin(np.pi * u) ** 3
            early = (u ** 3 * (1 - u) ** 4) / CAVING_SHAPE_PEAK   # peaks at 43 % of stance, C2
            extra[m] = (p.knee_caving_deg * early
                        + p.knee_wobble_deg * window * np.sin(2 * np.pi * WOBBLE_HZ * (t[m] - ic)))
        return extra

    # --------------------------------------------------------------- foot roll
    def _stance_roll(self, i: int) -> FootRoll:
        landing = self._curves[self._stride_code[i]].activity      # stride i-1
        takeoff = self._curves[self._stride_code[i + 1]].activity  # stride i
        land, off = FOOT_ROLL[landing], FOOT_ROLL[takeoff]
        hold = -self.problems.heel_lift_deg if landing == "stairs_down" else 0.0
        contact = land.contact_deg if i > 0 else 0.0
        # the heel stays up through push-off too: the foot leaves more plantarflexed
        toe_off = off.toe_off_deg + hold if i < self.n_strides else hold
        return FootRoll(contact, land.flat_phase, off.heel_off_phase, toe_off, hold,
                        slap=land.slap and i > 0)

    def foot_angle_deg(self, i: int, t: np.ndarray) -> np.ndarray:
        r = self._rolls[i]
        local = self.phase(t) - i
        u = local / r.flat_phase
        # heel strike: the foot slaps down about the heel; stairs: it is set down
        shape = (1.0 - np.minimum(u, 1.0)) ** 3 if r.slap else 1.0 - smoothstep5(u)
        landing = (r.contact_deg - r.hold_deg) * shape
        v = (local - r.heel_off_phase) / (TOE_OFF_PHASE - r.heel_off_phase)
        push = np.where(v > 0.0, (r.toe_off_deg - r.hold_deg) * np.maximum(v, 0.0) ** 3, 0.0)
        return r.hold_deg + landing + push

    def stance_ankle(self, i: int, t: np.ndarray) -> np.ndarray:
        """Ankle position while the foot of stance i rolls on its footprint."""
        b = self.body
        rest = self.plan.footprint_m[i] + (0.0, 0.0, b.ankle_height_m)
        gamma = np.radians(self.foot_angle_deg(i, t))
        heel = np.array([-b.heel_back_m, 0.0, -b.ankle_height_m])
        fore = np.array([b.forefoot_m, 0.0, -b.ankle_height_m])
        pivot_rel = np.where((gamma > 0)[:, None], heel, fore)
        rel = -pivot_rel                                   # ankle relative to the pivot
        c, s = np.cos(gamma), np.sin(gamma)
        # toes up by gamma = rotation by -gamma about y
        x = c * rel[:, 0] - s * rel[:, 2]
        z = s * rel[:, 0] + c * rel[:, 2]
        return rest + pivot_rel + np.stack([x, rel[:, 1], z], -1)

    # --------------------------------------------------------------- chain
    def rotations(self, ang: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        sign = self.side_sign   # medial is -y on the left leg, +y on the right
        r_shank = segment_rotation(np.radians(ang["shank"]), np.radians(sign * ang["shank_frontal"]))
        r_thigh = segment_rotation(np.radians(ang["thigh"]), np.radians(sign * ang["thigh_frontal"]))
        return r_shank, r_thigh

    def solve_shank(self, ang: dict[str, np.ndarray], hip_x: np.ndarray, ankle_x: np.ndarray) -> None:
        """Set the shank (and thigh) inclination so that ankle + shank + thigh spans the
        given forward distance with the given knee flexion (closed form)."""
        b = self.body
        knee = np.radians(ang["knee"])
        ls = b.shank_m * np.cos(np.radians(ang["shank_frontal"]))
        lt = b.thigh_m * np.cos(np.radians(ang["thigh_frontal"]))
        # hip_x - ankle_x = ls sin(s) + lt sin(s - knee) = r sin(s - phi)
        r = np.hypot(ls + lt * np.cos(knee), lt * np.sin(knee))
        phi = np.arctan2(lt * np.sin(knee), ls + lt * np.cos(knee))
        sigma = phi + np.arcsin(np.clip((hip_x - ankle_x) / r, -1.0, 1.0))
        ang["shank"] = np.degrees(sigma)
        ang["thigh"] = ang["shank"] - ang["knee"]

    def stance_chain(self, i: int, t: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        """Angles (shank inclination solved so the hip is over the pelvis), ankle and hip."""
        b = self.body
        ang = self.angles_deg(t)
        ankle = self.stance_ankle(i, t)
        self.solve_shank(ang, self.pelvis_x(t), ankle[:, 0])
        r_s, r_t = self.rotations(ang)
        hip = ankle + b.shank_m * r_s[:, :, 2] + b.thigh_m * r_t[:, :, 2]
        return ang, ankle, hip

    def stance_state(self, i: int, t0: float, h: float = 2e-4):
        """(value, rate, acceleration) at t0 of the stance hip (y, z) and ankle x."""
        t = np.array([t0 - h, t0, t0 + h])
        _, ankle, hip = self.stance_chain(i, t)
        f = np.column_stack([hip[:, 1:], ankle[:, 0]])
        return f[1], (f[2] - f[0]) / (2 * h), (f[2] - 2 * f[1] + f[0]) / (h * h)


@dataclass
class LegTrajectory:
    """Fine-grid pose of one leg."""

    t_s: np.ndarray
    angles_deg: dict[str, np.ndarray]
    r_shank: np.ndarray
    r_thigh: np.ndarray
    hip_m: np.ndarray
    knee_m: np.ndarray
    ankle_m: np.ndarray
    rate_shank_rad: np.ndarray   # angular velocity in the segment frame
    rate_thigh_rad: np.ndarray
    motion: LegMotion


def _stance_masks(motion: LegMotion, t_s: np.ndarray) -> list[np.ndarray]:
    plan, n = motion.plan, motion.n_strides
    masks = []
    for i in range(n + 1):
        start = plan.ic_s[i] if i > 0 else -np.inf
        end = plan.to_s[i] if i < n else np.inf
        masks.append((t_s >= start) & (t_s <= end))
    return masks


def leg_trajectory(motion: LegMotion, t_s: np.ndarray) -> LegTrajectory:
    """Stances: roll the foot and solve the shank inclination so the hip is over the pelvis.
    Swings: the ankle moves forward on a (time-warped) quintic between the toe-off and
    contact states, the hip height and sideways position on quintics, and the shank
    inclination is solved the same way; the ankle hangs below the hip."""
    plan, body = motion.plan, motion.body
    n = motion.n_strides
    ang = motion.angles_deg(t_s)
    hip = np.empty((len(t_s), 3))
    ankle_x = np.empty(len(t_s))
    hip[:, 0] = motion.pelvis_x(t_s)
    for i, m in enumerate(_stance_masks(motion, t_s)):
        a_st, ankle_st, hip_st = motion.stance_chain(i, t_s[m])
        ang["shank"][m], ang["thigh"][m] = a_st["shank"], a_st["thigh"]
        hip[m, 1:] = hip_st[:, 1:]
        ankle_x[m] = ankle_st[:, 0]
        if i < n:
            t0, t1 = plan.to_s[i], plan.ic_s[i + 1]
            sw = (t_s > t0) & (t_s < t1)
            s0, s1 = motion.stance_state(i, t0), motion.stance_state(i + 1, t1)
            f = quintic_hermite(t_s[sw], t0, t1, *s0, *s1)
            hip[sw, 1:] = f[:, :2]
            lag = SWING_FOOT_LAG.get(plan.activity[i], 0.0)
            ankle_x[sw] = quintic_hermite(swing_time_warp(t_s[sw], t0, t1, lag), t0, t1,
                                          *(x[2:] for x in s0), *(x[2:] for x in s1))[:, 0]
            sub = {k: v[sw] for k, v in ang.items()}
            motion.solve_shank(sub, hip[sw, 0], ankle_x[sw])
            ang["shank"][sw], ang["thigh"][sw] = sub["shank"], sub["thigh"]
    r_s, r_t = motion.rotations(ang)
    shank_vec = body.shank_m * r_s[:, :, 2]
    thigh_vec = body.thigh_m * r_t[:, :, 2]
    ankle = hip - thigh_vec - shank_vec
    knee = ankle + shank_vec
    dt = t_s[1] - t_s[0]
    rates = []
    for seg in ("shank", "thigh"):
        inc = np.radians(ang[seg])
        fr = np.radians(motion.side_sign * ang[f"{seg}_frontal"])
        rates.append(body_rate_rad(inc, fr, np.gradient(inc, dt), np.gradient(fr, dt)))
    return LegTrajectory(t_s, ang, r_s, r_t, hip, knee, ankle, rates[0], rates[1], motion)
