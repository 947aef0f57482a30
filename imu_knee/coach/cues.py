"""Live cues: per-step feedback ("Softer landing", "Knee over the second toe", "Shorter steps").

Push each step (a row of the per-step table) as it is detected; :meth:`LiveCoach.push_step`
returns the cue(s) to say or print now (usually none). Rules:

- Each step is scored per pattern against the person's reference, as in the session rules:
  earlier sessions first, else this session's own steps seen so far (level walking, the
  other leg), else a limit relative to the standing pose or leg length. Score 0 = at the
  reference, 1 = at the finding threshold of coach_thresholds.toml.
- Hysteresis: a cue for (pattern, leg) switches ON when ``on_steps`` of the last
  ``window_steps`` steps of that leg score >= 1, and OFF only when ``off_steps`` of them score
  <= ``calm_fraction`` (a calm band well inside the threshold). Steps in between change
  nothing, so a value hovering at the threshold cannot make the cue flicker.
- Rate limits: the same cue text is not said again within ``min_repeat_s`` (it is repeated
  while the pattern stays on, no more often), and no two cues within ``min_gap_s``. Times are
  the steps' ``ic_s``, so replaying a recording gives the same cues as live.

:meth:`LiveCoach.active_cues` gives the cues currently on, for a steady dashboard display.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from .baselines import Baselines
from .exercises import PATTERNS, Library, load_library
from .step_columns import SHANK_TILT_COLUMN, SIDES
from .thresholds import Thresholds, load_thresholds


@dataclass(frozen=True)
class LiveCue:
    t_s: float
    text: str
    pattern: str
    side: str

    def line(self) -> str:
        """One line for the terminal, e.g. ``[  42.1 s] right leg: Softer landing``."""
        return f"[{self.t_s:7.1f} s] {self.side} leg: {self.text}"


@dataclass(frozen=True)
class ActiveCue:
    text: str
    pattern: str
    side: str
    since_s: float


def _score(value: float, ref: float, ratio: float | None, min_diff: float, high: bool) -> float:
    """0 at the reference, 1 at the threshold (same threshold as the session rules)."""
    if high:
        thr = ref + min_diff
        if ratio is not None:
            thr = max(thr, ref * ratio)
        span = thr - ref
        return (value - ref) / span if span > 0 else (math.inf if value >= thr else 0.0)
    thr = ref - min_diff
    if ratio is not None:
        thr = min(thr, ref * ratio)
    span = ref - thr
    return (ref - value) / span if span > 0 else (math.inf if value <= thr else 0.0)


def _num(step: Mapping, key: str) -> float:
    try:
        v = float(step.get(key, math.nan))
    except (TypeError, ValueError):
        return math.nan
    return v


class LiveCoach:
    """Per-step live cues with hysteresis and rate limits (see module docstring)."""

    def __init__(self, thresholds: Thresholds | None = None, baselines: Baselines | None = None,
                 leg_length_m: float | None = None, library: Library | None = None):
        self.th = thresholds if thresholds is not None else load_thresholds()
        self.baselines = baselines or Baselines()
        self.leg_length_m = leg_length_m if leg_length_m and leg_length_m > 0 else None
        self.library = library or load_library()
        live = self.th["live"]
        self._window = int(live["window_steps"])
        self._seen: dict[tuple[str, str, str], list[float]] = {}  # (metric, side, activity)
        self._states: dict[tuple[str, str], deque] = {}
        self._active: dict[tuple[str, str], float] = {}
        self._last_said: dict[str, float] = {}
        self._last_any = -math.inf
        self.last_scores: dict[str, float] = {}  # pattern -> score of the latest step

    # -------------------------------------------------------------- references
    def _running(self, metric: str, side: str, activity: str) -> float | None:
        vals = self._seen.get((metric, side, activity), [])
        if len(vals) < self.th["live"]["warmup_steps"]:
            return None
        return float(np.median(vals))

    def _scores(self, step: Mapping) -> dict[str, float]:
        side, act = str(step.get("side")), str(step.get("activity"))
        other = "left" if side == "right" else "right"
        hist = self.baselines.get
        out: dict[str, float] = {}

        impact = _num(step, "impact_g")
        th = self.th["hard_landing"]
        if act == "stairs_down" and math.isfinite(impact):
            ref = hist("impact_g", side, act)
            if ref is not None:
                lvl, hist_lvl = self._running("impact_g", side, "level"), hist("impact_g", side, "level")
                if lvl is not None and hist_lvl is not None and lvl > hist_lvl > 0:
                    ref *= lvl / hist_lvl  # landing harder everywhere today is no stair problem
                out["hard_landing"] = _score(impact, ref, th["ratio_vs_history"], th["min_difference_g"], True)
            elif (ref := self._running("impact_g", side, "level")) is not None:
                out["hard_landing"] = _score(impact, ref, th["ratio_vs_level"], th["min_difference_g"], True)
            elif (ref := self._running("impact_g", other, act)) is not None:
                out["hard_landing"] = _score(impact, ref, th["ratio_vs_other_side"], th["min_difference_g"], True)

        th = self.th["knee_wobble"]
        wob = []
        for metric, short, diff in (("frontal_range_deg", "range", "min_range_difference_deg"),
                                    ("frontal_wobble_dps", "wobble", "min_wobble_difference_dps")):
            v = _num(step, metric)
            if not math.isfinite(v):
                continue
            if (ref := hist(metric, side, act)) is not None:
                wob.append(_score(v, ref, th[f"{short}_ratio_vs_history"], th[diff], True))
                continue
            if (ref := self._running(metric, other, act)) is not None:
                wob.append(_score(v, ref, th[f"{short}_ratio_vs_other_side"], th[diff], True))
            if metric == "frontal_range_deg" and act == "level" and th["level_range_limit_deg"] > 0:
                wob.append(_score(v, 0.0, None, th["level_range_limit_deg"], True))
        if wob:
            out["knee_wobble"] = max(wob)

        th = self.th["heel_lift"]
        tilt = _num(step, SHANK_TILT_COLUMN)
        if act == "stairs_down" and math.isfinite(tilt):
            if (ref := hist(SHANK_TILT_COLUMN, side, act)) is not None:
                out["heel_lift"] = _score(tilt, ref, th["ratio_vs_history"],
                                          th["min_difference_vs_history_deg"], False)
            elif ((ref := self._running(SHANK_TILT_COLUMN, other, act)) is not None
                  and not self._other_knee_more_bent(side, other)):
                lvl = self._running(SHANK_TILT_COLUMN, side, "level")
                other_lvl = self._running(SHANK_TILT_COLUMN, other, "level")
                if lvl is not None and other_lvl is not None and other_lvl > lvl > 0:
                    ref *= lvl / other_lvl  # as in the session rule: scale down, never up
                out["heel_lift"] = _score(tilt, ref, th["ratio_vs_other_side"], th["min_difference_deg"], False)

        th = self.th["incomplete_extension"]
        ext = _num(step, "knee_min_flexion_stance_deg")
        if act == "level" and math.isfinite(ext):
            out["incomplete_extension"] = _score(ext, 0.0, None, th["limit_vs_standing_deg"], True)

        th = self.th["long_strides"]
        stride = _num(step, "stride_length_m")
        if act == "level" and math.isfinite(stride):
            s = None
            if (ref := hist("stride_length_m", side, act)) is not None:
                s = _score(stride, ref, th["stride_ratio_vs_history"], 0.0, True)
            elif self.leg_length_m:
                s = _score(stride, self.leg_length_m, th["stride_to_leg_length"], 0.0, True)
            ref_imp = hist("impact_g", side, act)
            if s is not None and ref_imp is not None and math.isfinite(impact):
                s = min(s, _score(impact, ref_imp, th["impact_ratio_vs_history"],
                                  th["min_impact_difference_g"], True))
            if s is not None:
                out["long_strides"] = s
        return out

    def _other_knee_more_bent(self, side: str, other: str) -> bool:
        limit = self.th["heel_lift"]["other_knee_more_bent_deg"]
        for act in ("stairs_down", "level"):
            mine = self._running("knee_min_flexion_stance_deg", side, act)
            theirs = self._running("knee_min_flexion_stance_deg", other, act)
            if mine is not None and theirs is not None and theirs - mine >= limit:
                return True
        return False

    # -------------------------------------------------------------- the step
    def push_step(self, step: Mapping) -> list[LiveCue]:
        """Take one step (dict or pandas row with the per-step columns); return cues to give now."""
        side, act, t = str(step.get("side")), str(step.get("activity")), _num(step, "ic_s")
        if side not in SIDES or not math.isfinite(t):
            return []
        live = self.th["live"]
        scores = self._scores(step)
        self.last_scores = scores
        for pattern, score in scores.items():
            key = (pattern, side)
            states = self._states.setdefault(key, deque(maxlen=self._window))
            states.append("over" if score >= 1.0 else "calm" if score <= live["calm_fraction"] else "mid")
            if key not in self._active and states.count("over") >= live["on_steps"]:
                self._active[key] = t
            elif key in self._active and states.count("calm") >= live["off_steps"]:
                del self._active[key]
        for metric in ("impact_g", "frontal_range_deg", "frontal_wobble_dps", SHANK_TILT_COLUMN,
                       "stride_length_m", "knee_min_flexion_stance_deg"):
            v = _num(step, metric)
            if math.isfinite(v):
                self._seen.setdefault((metric, side, act), []).append(v)
        return self._due(t)

    def _due(self, t: float) -> list[LiveCue]:
        live = self.th["live"]
        if t - self._last_any < live["min_gap_s"]:
            return []
        # Longest-waiting active pattern first, in library order on ties.
        order = sorted(self._active.items(), key=lambda kv: (kv[1], PATTERNS.index(kv[0][0])))
        for (pattern, side), _since in order:
            text = self.library.advice(pattern).cue
            if t - self._last_said.get(text, -math.inf) >= live["min_repeat_s"]:
                self._last_said[text] = t
                self._last_any = t
                return [LiveCue(t, text, pattern, side)]
        return []

    def active_cues(self) -> list[ActiveCue]:
        return [ActiveCue(self.library.advice(p).cue, p, s, since)
                for (p, s), since in sorted(self._active.items(), key=lambda kv: kv[1])]
