"""SUMMARY.json: per side and per activity counts, cadence, medians; left/right asymmetry."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .steps import METRIC_COLUMNS

ACTIVITIES = ("level", "stairs_up", "stairs_down")
MAX_STRIDE_TIME_S = 2.5


@dataclass
class SessionFacts:
    """What the summary reports beside the steps: the leg length used, each sensor's and each
    knee's calibration report (``Engine.sensor_report()`` / ``knee_report()``), and the sides
    that have sensors."""

    leg_length_m: float
    leg_length_given: bool
    sensors: dict[str, dict]
    knee: dict[str, dict]
    sides: list[str]


def _clean(x):
    if x is None:
        return None
    if isinstance(x, (float, np.floating)):
        return None if not math.isfinite(float(x)) else round(float(x), 4)
    if isinstance(x, (np.integer,)):
        return int(x)
    return x


def _group_stats(metrics: dict[str, np.ndarray], stride_times_s: np.ndarray,
                 rows: np.ndarray) -> dict:
    """Count, stride time, cadence and per-metric medians of the steps ``rows`` (a mask)."""
    out: dict = {"count": int(rows.sum())}
    st = stride_times_s[rows]
    with np.errstate(invalid="ignore"):
        st = st[st < MAX_STRIDE_TIME_S]  # NaN (a side's first step) is not < anything
    median_st = np.median(st) if len(st) else None
    out["stride_time_s"] = _clean(median_st)
    # cadence in steps per minute (two steps per stride)
    with np.errstate(divide="ignore"):
        out["cadence_spm"] = _clean(120.0 / median_st) if median_st is not None else None
    out["median"] = {c: _median(v[rows]) for c, v in metrics.items()}
    return out


def _median(values: np.ndarray) -> float | None:
    """Median of the measured (not NaN) values, rounded as :func:`_clean`; None if none."""
    measured = values[~np.isnan(values)]
    return _clean(float(np.median(measured))) if len(measured) else None


def asymmetry_percent(left: float | None, right: float | None) -> float | None:
    """(left - right) / mean(|left|, |right|) in percent; None when either side is missing."""
    if left is None or right is None:
        return None
    mean = 0.5 * (abs(left) + abs(right))
    if mean < 1e-9:
        return 0.0
    return round(100.0 * (left - right) / mean, 1)


def build_summary(steps: pd.DataFrame, facts: SessionFacts, rec=None) -> dict:
    """The summary dictionary written as SUMMARY.json."""
    summary: dict = {"format": "imu-knee summary 1"}
    if rec is not None:
        summary["recording"] = str(rec.path) if rec.path else None
        summary["duration_s"] = round(rec.duration_s, 3)
    summary["leg_length_m"] = facts.leg_length_m
    summary["leg_length_given"] = facts.leg_length_given
    summary["sensors"] = facts.sensors
    summary["knee"] = facts.knee
    side = steps["side"].to_numpy(dtype=object)
    activity = steps["activity"].to_numpy(dtype=object)
    metrics = {c: steps[c].to_numpy(dtype=float, na_value=np.nan) for c in METRIC_COLUMNS}
    ic_s = steps["ic_s"].to_numpy(dtype=float)
    # per side, the time since the side's previous contact (rows are in contact order)
    stride_times = np.full(len(steps), np.nan)
    for name in ("left", "right"):
        idx = np.flatnonzero(side == name)
        stride_times[idx[1:]] = np.diff(ic_s[idx])
    sides: dict = {}
    for name in ("left", "right"):
        if name not in facts.sides:
            continue
        mine = side == name
        entry = {"all": _group_stats(metrics, stride_times, mine)}
        for act in ACTIVITIES:
            entry[act] = _group_stats(metrics, stride_times, mine & (activity == act))
        sides[name] = entry
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
