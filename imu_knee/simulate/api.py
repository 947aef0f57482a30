"""``simulate(...)``: the Python entry point of the gait simulator."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

from ..errors import InputError
from ..recording import GRAVITY_MPS2, SENSOR_NAMES, Recording, SensorStream
from .config import ACTIVITIES, GaitSpec, SensorSpec, SideProblems, SimulationSpec
from .imu_synthesis import segment_signals
from .leg_kinematics import BodySize, LegMotion, LegTrajectory, leg_trajectory
from .sensor_errors import (apply_sensor_errors, band_limit_and_sample, keep_mask,
                            mounting_rotation, sample_times)
from .step_plan import StepPlan, make_step_plan
from .truth import leg_truth, truth_table

IMPACT_VARIATION = 0.15      # relative stride-to-stride variation of the impact pulse
KNEE_VARIATION_DEG = 1.5     # stride-to-stride variation of the knee curve at 2 % variability


@dataclass
class SimulationResult:
    recording: Recording
    truth: pd.DataFrame
    spec: SimulationSpec
    plan: StepPlan
    legs: dict[str, LegTrajectory] = field(repr=False)
    segments: dict[str, object] = field(repr=False)   # sensor name -> SegmentSignals (fine grid)
    sensor_info: dict[str, dict] = field(default_factory=dict)

    @property
    def meta(self) -> dict[str, object]:
        g = self.spec.gait
        problems = {f"{side}_{f.name}": getattr(p, f.name) for side, p in self.spec.problems.items()
                    for f in fields(p) if getattr(p, f.name) != getattr(SideProblems(), f.name)}
        return {
            "subject": {"leg_length_m": round(g.resolved_leg_length_m(), 3), "height_m": g.height_m},
            "source": f"imu-knee simulate seed={self.spec.seed}",
            "activities": ",".join(f"{a}:{n}" for a, n in g.activities),
            "problems": " ".join(f"{k}={v:g}" for k, v in problems.items()) or "none",
            "protocol": f"recording starts with {g.standing_start_s:g} s of quiet standing",
        }


def parse_activities(text: str) -> list[tuple[str, int]]:
    """``level:10,stairs_up:8`` → [("level", 10), ("stairs_up", 8)]."""
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        name, _, count = part.partition(":")
        name = name.strip()
        if name not in ACTIVITIES:
            raise InputError(f"unknown activity '{name}' (expected one of {', '.join(ACTIVITIES)})")
        try:
            n = int(count) if count else 5
        except ValueError:
            raise InputError(f"activity '{part}': the number of strides must be an integer") from None
        out.append((name, n))
    if not out:
        raise InputError("no activities given (e.g. level:10,stairs_up:8,stairs_down:8)")
    return out


def _problems(problems) -> dict[str, SideProblems]:
    out = {"left": SideProblems(), "right": SideProblems()}
    for side, p in (problems or {}).items():
        sides = ("left", "right") if side == "both" else (side,)
        for s in sides:
            if s not in out:
                raise InputError(f"unknown side '{side}' (expected left, right or both)")
            if isinstance(p, SideProblems):
                out[s] = p
            else:
                for key, value in p.items():
                    if not hasattr(out[s], key):
                        raise InputError(f"unknown problem knob '{key}'")
                    setattr(out[s], key, float(value))
    return out


def simulate(activities="level:10", *, leg_length_m: float | None = None, height_m: float = 1.72,
             speed_mps: float | None = None, cadence_spm: float | None = None,
             stride_length_m: float | None = None, sensors=("left_shank", "right_shank"),
             rate_hz: float = 100.0, mounting: str = "random",
             mounting_matrices: dict | None = None, noise: float = 1.0, bias: float = 1.0,
             scale_error: float = 0.015, drop_rate: float = 0.0, timestamp_jitter_s: float = 0.0,
             problems: dict | None = None, seed: int = 0, spec: SimulationSpec | None = None,
             **gait_options) -> SimulationResult:
    """Simulate a walk and return the recording (as ``read_recording`` would give it) and the
    per-contact truth. ``problems`` maps ``left``/``right``/``both`` to ``SideProblems`` or a
    dict of its fields; ``gait_options`` are further ``GaitSpec`` fields (stairs, impacts…)."""
    if spec is None:
        acts = parse_activities(activities) if isinstance(activities, str) else list(activities)
        try:
            gait = GaitSpec(activities=acts, leg_length_m=leg_length_m, height_m=height_m,
                            speed_mps=speed_mps, cadence_spm=cadence_spm,
                            stride_length_m=stride_length_m, **gait_options)
        except TypeError as exc:
            raise InputError(f"unknown gait option: {exc}") from None
        sensor_spec = SensorSpec(sensors=tuple(sensors), rate_hz=float(rate_hz), mounting=mounting,
                                 mounting_matrices=dict(mounting_matrices or {}), noise=noise,
                                 bias=bias, scale_error=scale_error, drop_rate=drop_rate,
                                 timestamp_jitter_s=timestamp_jitter_s)
        spec = SimulationSpec(gait, sensor_spec, _problems(problems), int(seed))
    spec.validate()
    return run_simulation(spec)


def run_simulation(spec: SimulationSpec) -> SimulationResult:
    gait, sens = spec.gait, spec.sensors
    root = np.random.SeedSequence(spec.seed)
    plan_rng, impact_rng, *sensor_seeds = [np.random.default_rng(s) for s in root.spawn(2 + len(SENSOR_NAMES))]
    plan = make_step_plan(gait, plan_rng)
    leg_m = gait.resolved_leg_length_m()
    body = BodySize.from_leg_length(leg_m)
    t_fine = np.arange(0.0, plan.duration_s, 1.0 / spec.fine_rate_hz)
    impact_g_of = {"level": gait.impact_level_g, "stairs_up": gait.impact_stairs_up_g,
                   "stairs_down": gait.impact_stairs_down_g}

    legs, segments, rows = {}, {}, []
    knee_sd_deg = KNEE_VARIATION_DEG * gait.variability / 0.02
    motions = {}
    for side in ("left", "right"):
        n_strides = len(plan.feet[side].activity)
        knee_offsets = knee_sd_deg * np.clip(plan_rng.standard_normal(n_strides), -2.5, 2.5)
        motions[side] = LegMotion(plan.feet[side], body, spec.problems[side], plan.pelvis_x, knee_offsets)
    for side in ("left", "right"):
        foot = plan.feet[side]
        leg = leg_trajectory(motions[side], t_fine)
        legs[side] = leg
        contacts = foot.ic_s[1:]
        peaks_g = np.array([impact_g_of[a] + (spec.problems[side].hard_landing_g if a == "stairs_down" else 0.0)
                            for a in foot.activity])
        peaks_g = peaks_g * np.clip(1 + IMPACT_VARIATION * impact_rng.standard_normal(len(peaks_g)), 0.4, 1.6)
        for segment in ("shank", "thigh"):
            segments[f"{side}_{segment}"] = segment_signals(
                leg, segment, contacts, peaks_g * GRAVITY_MPS2, sens.shank_position)
        rows += leg_truth(leg, segments[f"{side}_shank"], sens.rate_hz)

    streams, info = {}, {}
    for name in sens.sensors:
        rng = sensor_seeds[SENSOR_NAMES.index(name)]
        seg = segments[name]
        t_out = sample_times(plan.duration_s, sens.rate_hz, sens.timestamp_jitter_s, rng)
        acc = band_limit_and_sample(t_fine, seg.acc_mps2, sens.rate_hz, t_out)
        gyr = band_limit_and_sample(t_fine, seg.gyr_dps, sens.rate_hz, t_out)
        mount = sens.mounting_matrices.get(name)
        mount = np.asarray(mount, dtype=float) if mount is not None else mounting_rotation(sens.mounting, rng)
        acc, gyr, info[name] = apply_sensor_errors(acc, gyr, mount, sens.noise, sens.bias,
                                                   sens.scale_error, rng)
        info[name]["mount_matrix"] = mount.round(6).tolist()
        keep = keep_mask(len(t_out), sens.drop_rate, rng,
                         protect_start=int(gait.standing_start_s * sens.rate_hz))
        info[name]["dropped_rows"] = int((~keep).sum())
        streams[name] = SensorStream(name, t_out[keep], acc[keep], gyr[keep], sens.rate_hz, sens.device)
    recording = Recording(streams, leg_length_m=round(leg_m, 3))
    result = SimulationResult(recording, truth_table(rows), spec, plan, legs, segments, info)
    recording.meta = {k: (" ".join(f"{a}={b}" for a, b in v.items()) if isinstance(v, dict) else str(v))
                      for k, v in result.meta.items()}
    return result
