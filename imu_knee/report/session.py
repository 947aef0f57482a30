"""One session, analysed for a report: steps, summary, coaching and the knee-angle series.

The analysis itself is :func:`imu_knee.analysis.offline.analyze_whole`, the same whole-recording
analysis ``imu-knee analyze`` runs; it also hands back each leg's knee flexion series
(:class:`~imu_knee.analysis.knee_series.KneeSeries`, re-exported here) or why there is none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..analysis.knee_series import KneeSeries
from ..analysis.offline import analyze_whole
from ..coach import Baselines, CoachResult, coach_steps
from ..errors import InputError
from ..recording import Recording


@dataclass(frozen=True)
class EarlierSession:
    """What the report needs from one earlier session (for the trend and the baselines).

    ``date``: when it was recorded (ISO text, shown as is). ``medians`` maps
    ``(metric, side, activity)`` (the per-step column names of DESIGN.md section 2, ``left``/
    ``right``, ``level``/``stairs_up``/``stairs_down``) to that session's median.
    """

    date: str
    medians: dict[tuple[str, str, str], float]
    label: str = ""

    @classmethod
    def from_dict(cls, data: dict) -> "EarlierSession":
        """From ``{"date": ..., "medians": [{"metric", "side", "activity", "median"}, ...]}``,
        ``{"date": ..., "medians": {side: {activity: {metric: value}}}}`` (what
        ``imu_knee.history.trend_for_report`` gives) or
        ``{"date": ..., "sides": {side: {activity: {"median": {metric: value}}}}}`` (the
        ``sides`` part of SUMMARY.json)."""
        med: dict[tuple[str, str, str], float] = {}
        given = data.get("medians") or []
        if isinstance(given, dict):  # {side: {activity: {metric: value}}} (imu_knee.history)
            for side, groups in given.items():
                for act, values in groups.items():
                    for metric, value in values.items():
                        if value is not None:
                            med[(metric, side, act)] = float(value)
        else:
            for r in given:
                med[(r["metric"], r["side"], r["activity"])] = float(r["median"])
        for side, groups in (data.get("sides") or {}).items():
            for act, stats in groups.items():
                for metric, value in (stats.get("median") or {}).items():
                    if value is not None:
                        med[(metric, side, act)] = float(value)
        med = {k: v for k, v in med.items() if math.isfinite(v)}
        return cls(str(data.get("date", "")), med, str(data.get("label", "")))


@dataclass
class SessionData:
    recording: Recording
    steps: pd.DataFrame
    summary: dict
    coach: CoachResult
    knee: dict[str, KneeSeries] = field(default_factory=dict)
    knee_missing: dict[str, str] = field(default_factory=dict)  # side -> why not available
    earlier: list[EarlierSession] = field(default_factory=list)
    leg_length_m: float | None = None
    persisting: list[str] = field(default_factory=list)   # 4-6 week rule messages (history)
    see_therapist: list[str] = field(default_factory=list)  # those that call for a therapist
    history_note: str = ""  # why the history could not be used, if so


def baselines_from(earlier: list[EarlierSession]) -> Baselines:
    """The coach's baselines: per key, the median of the earlier sessions' medians."""
    per_key: dict[tuple[str, str, str], list[float]] = {}
    for s in earlier:
        for k, v in s.medians.items():
            per_key.setdefault(k, []).append(v)
    return Baselines({k: float(np.median(v)) for k, v in per_key.items()}, len(earlier))


def _shank_rate_hz(rec: Recording) -> float | None:
    rates = [s.rate_hz for n, s in rec.streams.items() if n.endswith("_shank")]
    return float(min(rates)) if rates else None


def analyse_session(rec: Recording, leg_length_m: float | None = None,
                    earlier: list[EarlierSession] | None = None) -> SessionData:
    """Analyse a whole recording and coach it; keep the knee flexion series."""
    if not rec.streams:
        raise InputError("the recording has no sensors")
    res = analyze_whole(rec, leg_length_m=leg_length_m, knee=True)
    steps, summary = res.steps, res.summary
    if all(r["calibration"] is None for r in summary["sensors"].values()):
        raise InputError(
            f"{rec.path or 'recording'}: no walking found, so there is nothing to report; record"
            " a few seconds of standing still and then at least ten steps of walking")
    earlier = list(earlier or [])
    coach = coach_steps(steps, shank_rate_hz=_shank_rate_hz(rec), leg_length_m=res.leg_length_m,
                        baselines=baselines_from(earlier) if earlier else None)
    knee = {side: k for side, k in res.knee.items() if k.available}
    missing = {side: k.missing for side, k in res.knee.items() if not k.available}
    return SessionData(rec, steps, summary, coach, knee, missing, earlier, res.leg_length_m)
