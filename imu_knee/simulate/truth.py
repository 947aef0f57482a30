"""Ground truth per initial contact, from the same trajectories that made the signals.

Columns follow DESIGN.md section 2 (and the virtual IMU truth files); knee angles are
relative to quiet standing (0 = as straight as when standing). Extra columns:
``impact_g_at_rate`` (the same peak as the sensor can see it after its filter at the output
rate), ``knee_frontal_range_deg`` and ``shank_forward_tilt_max_deg`` (largest forward shank
inclination in stance). Stance columns of a contact whose stance never ends are empty.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..recording import GRAVITY_MPS2
from .imu_synthesis import SegmentSignals
from .leg_kinematics import LegTrajectory
from .sensor_errors import band_limit_and_sample

TRUTH_COLUMNS = [
    "side", "ic_s", "to_s", "activity", "stride_length_m", "step_height_m", "impact_g",
    "loading_rate_gps", "knee_flexion_ic_deg", "knee_min_flexion_stance_deg",
    "frontal_range_deg", "frontal_wobble_dps", "shank_frontal_range_deg",
    "knee_frontal_range_deg", "shank_forward_tilt_max_deg", "impact_g_at_rate",
]
IMPACT_WINDOW_S = 0.150


def impact_measures(t_s: np.ndarray, resultant_g: np.ndarray, ic_s: float) -> tuple[float, float]:
    """Peak resultant in the 150 ms after contact and the steepest rise before it."""
    m = (t_s >= ic_s) & (t_s <= ic_s + IMPACT_WINDOW_S)
    seg_t, seg = t_s[m], resultant_g[m]
    k = int(np.argmax(seg))
    if k < 1:
        return float(seg[k]), 0.0
    slope = np.diff(seg[:k + 1]) / np.diff(seg_t[:k + 1])
    return float(seg[k]), float(max(slope.max(), 0.0))


def leg_truth(leg: LegTrajectory, shank: SegmentSignals, rate_hz: float) -> list[dict]:
    plan = leg.motion.plan
    t = leg.t_s
    ang = leg.angles_deg
    resultant_g = np.linalg.norm(shank.acc_mps2, axis=1) / GRAVITY_MPS2
    sampled_t = np.arange(0.0, t[-1], 1.0 / rate_hz)
    sampled = band_limit_and_sample(t, shank.acc_mps2, rate_hz, sampled_t)
    sampled_g = np.linalg.norm(sampled, axis=1) / GRAVITY_MPS2
    frontal = ang["shank_frontal"]
    knee_frontal = ang["shank_frontal"] - ang["thigh_frontal"]
    frontal_rate = np.degrees(leg.rate_shank_rad[:, 0])
    rows = []
    for i in range(1, len(plan.ic_s)):
        ic, to = plan.ic_s[i], plan.to_s[i]
        step = plan.footprint_m[i] - plan.footprint_m[i - 1]
        impact, loading = impact_measures(t, resultant_g, ic)
        impact_at_rate, _ = impact_measures(sampled_t, sampled_g, ic)
        k_ic = int(np.searchsorted(t, ic))
        row = {"side": plan.side, "ic_s": ic, "to_s": to, "activity": plan.activity[i - 1],
               "stride_length_m": float(np.hypot(step[0], step[1])),
               "step_height_m": float(step[2]), "impact_g": impact, "loading_rate_gps": loading,
               "knee_flexion_ic_deg": float(ang["knee"][k_ic]), "impact_g_at_rate": impact_at_rate}
        if np.isfinite(to):
            m = (t >= ic) & (t <= to)
            row.update(
                knee_min_flexion_stance_deg=float(ang["knee"][m].min()),
                frontal_range_deg=float(np.ptp(frontal[m])),
                frontal_wobble_dps=float(np.sqrt(np.mean(frontal_rate[m] ** 2))),
                shank_frontal_range_deg=float(np.ptp(frontal[m])),
                knee_frontal_range_deg=float(np.ptp(knee_frontal[m])),
                shank_forward_tilt_max_deg=float(ang["shank"][m].max()))
        rows.append(row)
    return rows


def truth_table(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=TRUTH_COLUMNS)
    return df.sort_values("ic_s", kind="stable").reset_index(drop=True)


def write_truth(path, truth: pd.DataFrame) -> None:
    """Plain CSV like the virtual IMU truth files: 3 decimals, empty cell = not defined."""
    out = truth.copy()
    for col in TRUTH_COLUMNS:
        if col in ("side", "activity"):
            continue
        out[col] = out[col].map(lambda v: "" if v is None or not np.isfinite(v) else f"{v:.3f}")
    out.to_csv(path, index=False, lineterminator="\n")
