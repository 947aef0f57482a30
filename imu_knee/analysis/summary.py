"""SUMMARY.json: per side and per activity counts, cadence, medians; left/right asymmetry."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .steps import METRIC_COLUMNS

ACTIVITIES = ("level", "stairs_up", "stairs_down")
MAX_STRIDE_TIME_S = 2.5


def _clean(x):
    if x is None:
        return None
    if isinstance(x, (float, np.floating)):
        return None if not math.isfinite(float(x)) else round(float(x), 4)
    if isinstance(x, (np.integer,)):
        return int(x)
    return x


def _group_stats(df: pd.DataFrame, stride_times: pd.Series) -> dict:
    out: dict = {"count": int(len(df))}
    st = stride_times.loc[df.index].dropna()
    st = st[st < MAX_STRIDE_TIME_S]
    out["stride_time_s"] = _clean(st.median()) if len(st) else None
    # cadence in steps per minute (two steps per stride)
    out["cadence_spm"] = _clean(120.0 / st.median()) if len(st) else None
    out["median"] = {c: _clean(df[c].median()) if df[c].notna().any() else None
                     for c in METRIC_COLUMNS}
    return out


def asymmetry_percent(left: float | None, right: float | None) -> float | None:
    """(left - right) / mean(|left|, |right|) in percent; None when either side is missing."""
    if left is None or right is None:
        return None
    mean = 0.5 * (abs(left) + abs(right))
    if mean < 1e-9:
        return 0.0
    return round(100.0 * (left - right) / mean, 1)


def build_summary(steps: pd.DataFrame, engine, rec=None) -> dict:
    """The summary dictionary written as SUMMARY.json."""
    summary: dict = {"format": "imu-knee summary 1"}
    if rec is not None:
        summary["recording"] = str(rec.path) if rec.path else None
        summary["duration_s"] = round(rec.duration_s, 3)
    summary["leg_length_m"] = engine.leg_length_m
    summary["leg_length_given"] = engine.leg_length_given
    summary["sensors"] = engine.sensor_report()
    summary["knee"] = engine.knee_report()
    stride_times = pd.Series(np.nan, index=steps.index, dtype=float)
    for side in ("left", "right"):
        idx = steps.index[steps["side"] == side]
        if len(idx):
            stride_times.loc[idx] = steps.loc[idx, "ic_s"].astype(float).diff().to_numpy()
    sides: dict = {}
    for side in ("left", "right"):
        d = steps[steps["side"] == side]
        if side not in engine.sides:
            continue
        entry = {"all": _group_stats(d, stride_times)}
        for act in ACTIVITIES:
            entry[act] = _group_stats(d[d["activity"] == act], stride_times)
        sides[side] = entry
    summary["sides"] = sides
    asym: dict = {}
    if "left" in sides and "right" in sides:
        for group in ("all",) + ACTIVITIES:
            lg, rg = sides["left"][group], sides["right"][group]
            asym[group] = {c: asymmetry_percent(lg["median"][c], rg["median"][c])
                           for c in METRIC_COLUMNS}
            asym[group]["count_difference"] = lg["count"] - rg["count"]
    summary["asymmetry_percent"] = asym
    flags = []
    for name, rep in summary["sensors"].items():
        flags.extend(f"{name}: {f}" for f in rep["flags"])
    for side, rep in summary["knee"].items():
        if rep["message"]:
            flags.append(f"{side} knee: {rep['message']}")
    if len(steps) == 0:
        flags.append("no steps found")
    summary["flags"] = flags
    summary["findings"] = []
    return summary
