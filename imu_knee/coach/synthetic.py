"""Synthetic per-step tables with known injected patterns (for tests, demos and benchmarks).

This works at the level of the per-step metrics (no signals): a plausible healthy person
(with natural stride-to-stride and left/right variation) walking on the level and up and
down stairs, and optional problems injected on one leg with a size. The signal-level truth
comes from the simulator (imu_knee/simulate); this table generator exists so the coach can be
tested on its own, fast, with every pattern, side and size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .step_columns import SHANK_TILT_COLUMN

# Typical per-activity means and relative/absolute spreads of each metric (healthy).
_TYPICAL = {
    "level": dict(stride_length_m=(1.40, 0.04), step_height_m=(0.0, 0.01), impact_g=(2.4, 0.25),
                  loading_rate_gps=(60.0, 8.0), knee_flexion_ic_deg=(3.0, 2.0),
                  knee_min_flexion_stance_deg=(2.0, 1.5), frontal_range_deg=(5.0, 0.8),
                  frontal_wobble_dps=(22.0, 3.0), **{SHANK_TILT_COLUMN: (24.0, 2.0)}),
    "stairs_up": dict(stride_length_m=(0.58, 0.03), step_height_m=(0.34, 0.01), impact_g=(1.6, 0.2),
                      loading_rate_gps=(30.0, 5.0), knee_flexion_ic_deg=(55.0, 4.0),
                      knee_min_flexion_stance_deg=(9.0, 2.5), frontal_range_deg=(5.0, 0.8),
                      frontal_wobble_dps=(20.0, 3.0), **{SHANK_TILT_COLUMN: (18.0, 2.0)}),
    "stairs_down": dict(stride_length_m=(0.58, 0.03), step_height_m=(-0.34, 0.01), impact_g=(2.9, 0.3),
                        loading_rate_gps=(80.0, 10.0), knee_flexion_ic_deg=(12.0, 3.0),
                        knee_min_flexion_stance_deg=(15.0, 3.0), frontal_range_deg=(7.0, 1.0),
                        frontal_wobble_dps=(30.0, 4.0), **{SHANK_TILT_COLUMN: (28.0, 2.0)}),
}

_STRIDE_S = {"level": 1.1, "stairs_up": 1.25, "stairs_down": 0.95}


@dataclass
class Injection:
    """One problem on one leg. ``size`` 1 = just past the default thresholds, 2, 3 larger."""

    pattern: str
    side: str
    size: float = 2.0


@dataclass
class SessionSpec:
    level_strides: int = 20
    stairs_up_strides: int = 8
    stairs_down_strides: int = 8
    repeats: int = 1  # walk the level + stairs sequence this many times
    injections: list[Injection] = field(default_factory=list)
    leg_length_m: float = 0.90
    seed: int = 0
    fatigue_drift: bool = False  # incomplete_extension grows over the walk instead of constant


def _apply(df: pd.DataFrame, inj: Injection, rng: np.random.Generator, leg: float) -> None:
    side = df["side"] == inj.side
    k = inj.size
    if inj.pattern == "hard_landing":
        sel = side & (df["activity"] == "stairs_down")
        f = 1.45 + 0.3 * (k - 1)
        df.loc[sel, "impact_g"] *= f
        df.loc[sel, "loading_rate_gps"] *= f
    elif inj.pattern == "knee_wobble":
        df.loc[side, "frontal_range_deg"] += 4.0 + 2.5 * (k - 1)
        df.loc[side, "frontal_wobble_dps"] *= 1.6 + 0.3 * (k - 1)
    elif inj.pattern == "heel_lift":
        sel = side & (df["activity"] == "stairs_down")
        df.loc[sel, SHANK_TILT_COLUMN] -= 7.0 + 3.0 * (k - 1)
    elif inj.pattern == "incomplete_extension":
        sel = side & (df["activity"] == "level")
        df.loc[sel, "knee_min_flexion_stance_deg"] += 11.0 + 4.0 * (k - 1)
        df.loc[sel, "knee_flexion_ic_deg"] += 9.0 + 4.0 * (k - 1)
    elif inj.pattern == "long_strides":
        sel = side & (df["activity"] == "level")
        df.loc[sel, "stride_length_m"] *= 1.2 + 0.08 * (k - 1)
        df.loc[sel, "impact_g"] *= 1.4 + 0.2 * (k - 1)
    else:
        raise ValueError(f"unknown pattern {inj.pattern}")


def synthetic_steps(spec: SessionSpec) -> pd.DataFrame:
    """A per-step table (DESIGN.md section 2 columns + shank tilt) following ``spec``."""
    rng = np.random.default_rng(spec.seed)
    # Natural left/right differences of this person (a few per cent).
    person = {side: {m: rng.normal(1.0, 0.03) for m in _TYPICAL["level"]} for side in ("left", "right")}
    rows = []
    t = 3.0
    plan = [("level", spec.level_strides), ("stairs_up", spec.stairs_up_strides),
            ("level", max(2, spec.level_strides // 4)), ("stairs_down", spec.stairs_down_strides)]
    for _ in range(spec.repeats):
        for activity, n in plan:
            stride_s = _STRIDE_S[activity]
            for _i in range(n):
                for side, offset in (("left", 0.0), ("right", 0.5)):
                    ic = t + offset * stride_s + rng.normal(0, 0.01)
                    row = {"side": side, "ic_s": ic, "to_s": ic + 0.62 * stride_s,
                           "activity": activity}
                    for m, (mean, sd) in _TYPICAL[activity].items():
                        row[m] = mean * person[side][m] + rng.normal(0, sd)
                    rows.append(row)
                t += stride_s
    df = pd.DataFrame(rows).sort_values("ic_s").reset_index(drop=True)
    for inj in spec.injections:
        _apply(df, inj, rng, spec.leg_length_m)
    if spec.fatigue_drift:
        sel = df["activity"] == "level"
        frac = (df["ic_s"] - df["ic_s"].min()) / (df["ic_s"].max() - df["ic_s"].min())
        for inj in spec.injections:
            if inj.pattern == "incomplete_extension":
                # Undo the constant offset and grow it over the walk instead.
                s = sel & (df["side"] == inj.side)
                const = 11.0 + 4.0 * (inj.size - 1)
                df.loc[s, "knee_min_flexion_stance_deg"] += -const + (6.0 + 2.0 * inj.size) * frac[s]
    return df
