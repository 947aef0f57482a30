"""The coaching rules: per-step metrics in, findings out (COACHING.md patterns 1-4 + long strides).

Each rule compares one leg's steps with the person's own references - earlier sessions
(:class:`Baselines`), level walking in the same session, the other leg, the quiet-standing
pose, the leg length - never with a population norm. A rule whose metric is missing (NaN or
no column) or that has nothing to compare with stays silent and says so in ``not_assessed``.
Thresholds come from :mod:`imu_knee.coach.thresholds`, advice from the exercise library.

Entry point: :func:`coach_steps`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from ..errors import InputError
from .baselines import Baselines
from .compare import Comparison
from .exercises import PATTERNS, Library, load_library
from .findings import CoachResult, Finding, NotAssessed
from .step_columns import (ACTIVITIES, METRIC_COLUMNS, REQUIRED_COLUMNS, SHANK_TILT_COLUMN,
                           SIDES)
from .thresholds import Thresholds, load_thresholds


@dataclass
class Context:
    """One session's steps and the person's references, as the rules read them.

    The steps are held as one float array per column (``ic_s`` and METRIC_COLUMNS; NaN = not
    measured) with rows in contact order; a group of steps (one side, one activity) is an
    array of row indices into them, found once per group and reused by every rule.
    """

    side: np.ndarray  # (N,) object: "left"/"right" (or anything else, never selected)
    activity: np.ndarray  # (N,) object
    columns: dict[str, np.ndarray]
    th: Thresholds
    baselines: Baselines
    leg_length_m: float | None
    shank_rate_hz: float | None
    _groups: dict = field(default_factory=dict, repr=False)
    _medians: dict = field(default_factory=dict, repr=False)

    @property
    def general(self):
        return self.th["general"]

    def column(self, metric: str) -> np.ndarray:
        """The metric of every step."""
        return self.columns[metric]

    def has_activity(self, activity: str) -> bool:
        return bool((self.activity == activity).any())

    def sides(self) -> list[str]:
        return [s for s in SIDES if len(self.rows(s, None))]

    def rows(self, side: str, activity: str | None) -> np.ndarray:
        """Row indices (ascending, so in contact order) of one side's steps of ``activity``
        (None: all of the side's steps)."""
        key = (side, activity)
        if key not in self._groups:
            sel = self.side == side
            if activity is not None:
                sel &= self.activity == activity
            self._groups[key] = np.flatnonzero(sel)
        return self._groups[key]

    def values(self, rows: np.ndarray, metric: str) -> np.ndarray:
        return self.columns[metric][rows]

    def median(self, side: str, activity: str, metric: str, min_n: int) -> float | None:
        key = (side, activity, metric, min_n)
        if key not in self._medians:
            v = self.values(self.rows(side, activity), metric)
            v = v[np.isfinite(v)]
            self._medians[key] = float(np.median(v)) if v.size >= min_n else None
        return self._medians[key]


RuleOutput = tuple[dict[str, list[Comparison]], list[NotAssessed]]


def _other(side: str) -> str:
    return "left" if side == "right" else "right"


def _test(ctx: Context, rows: np.ndarray, comp: Comparison) -> Comparison:
    return comp.evaluate(ctx.values(rows, comp.metric), ctx.values(rows, "ic_s"), ctx.general)


def _level_adjusted(ref: float, level: float | None, ref_level: float | None,
                    direction: str) -> tuple[float, bool]:
    """A stair reference scaled by this leg's level walking against the reference's level
    walking (another leg, or earlier sessions), only where that makes a finding harder
    (up when more is the problem, down when less is): what shows on level ground too is not
    about the stairs. Returns (reference, whether it was scaled)."""
    if level is None or ref_level is None or level <= 0 or ref_level <= 0:
        return ref, False
    ratio = level / ref_level
    if (ratio > 1.0) if direction == "high" else (ratio < 1.0):
        return ref * ratio, True
    return ref, False


def _stairs_vs_history(ctx: Context, pattern: str, side: str, metric: str, level: float | None,
                       direction: str, ratio: float, min_difference: float,
                       adjusted: str) -> Comparison | None:
    """Stair descent against this leg's earlier sessions, the old value level-adjusted
    (:func:`_level_adjusted`; ``adjusted`` says so in the evidence); None without history."""
    hist = ctx.baselines.get(metric, side, "stairs_down")
    if hist is None:
        return None
    hist, scaled = _level_adjusted(hist, level, ctx.baselines.get(metric, side, "level"), direction)
    text = "in your earlier sessions" + (f" (adjusted for {adjusted} on level ground too today)"
                                         if scaled else "")
    return Comparison(pattern, side, "stairs_down", metric, "history", hist, text, direction,
                      ratio, min_difference)


# ---------------------------------------------------------------- 1. hard landings

def rule_hard_landing(ctx: Context) -> RuleOutput:
    th, pattern, act = ctx.th["hard_landing"], "hard_landing", "stairs_down"
    out: dict[str, list[Comparison]] = {}
    skipped: list[NotAssessed] = []
    if not ctx.has_activity(act):
        return out, [NotAssessed(pattern, "both", "no steps going down stairs in this recording")]
    metric = "impact_g"
    if not np.isfinite(ctx.column(metric)).any():
        return out, [NotAssessed(pattern, "both", "landing impact is not measurable with these sensors")]
    n_min = ctx.general["min_steps"]
    for side in ctx.sides():
        rows = ctx.rows(side, act)
        if not np.isfinite(ctx.values(rows, metric)).any():
            skipped.append(NotAssessed(pattern, side, "no stair-descent steps with a measurable landing impact"))
            continue
        comps = []
        level = ctx.median(side, "level", metric, int(th["min_level_steps"]))
        # landing harder on level ground too than before (a firmer strap, faster walking,
        # another problem): the finding is about the stairs
        hist = _stairs_vs_history(ctx, pattern, side, metric, level, "high", th["ratio_vs_history"],
                                  th["min_difference_g"], "landing harder")
        if hist is not None:
            comps.append(hist)
        if level is not None:
            comps.append(Comparison(pattern, side, act, metric, "level", level,
                                    "in your level walking on the same leg", "high",
                                    th["ratio_vs_level"], th["min_difference_g"]))
        other = ctx.median(_other(side), act, metric, n_min)
        if other is not None:
            other_level = ctx.median(_other(side), "level", metric, int(th["min_level_steps"]))
            # this leg reads harder on level ground too (a firmer strap, a heavier step); never
            # the other way, so a problem on the OTHER leg's level walking cannot make this
            # leg look worse
            text = f"on your {_other(side)} leg on the same stairs"
            ref, scaled = _level_adjusted(other, level, other_level, "high")
            if scaled:
                text += " (adjusted for this leg landing harder on level ground too)"
            comps.append(Comparison(pattern, side, act, metric, "other_side", ref, text,
                                    "high", th["ratio_vs_other_side"], th["min_difference_g"]))
        if not comps:
            skipped.append(NotAssessed(pattern, side, "nothing to compare the stair landings with "
                                       "(no level walking, no other leg, no earlier sessions)"))
            continue
        out[side] = [_test(ctx, rows, c) for c in comps]
    return out, skipped


# ---------------------------------------------------------------- 2. knee wobble

def rule_knee_wobble(ctx: Context) -> RuleOutput:
    th, pattern = ctx.th["knee_wobble"], "knee_wobble"
    metrics = {"frontal_range_deg": ("range", "min_range_difference_deg"),
               "frontal_wobble_dps": ("wobble", "min_wobble_difference_dps")}
    present = [m for m in metrics if np.isfinite(ctx.column(m)).any()]
    if not present:
        return {}, [NotAssessed(pattern, "both", "side-to-side shin movement is not measurable "
                                "with these sensors")]
    n_min = ctx.general["min_steps"]
    out: dict[str, list[Comparison]] = {}
    skipped: list[NotAssessed] = []
    for side in ctx.sides():
        comps: list[Comparison] = []
        for act in ACTIVITIES:
            rows = ctx.rows(side, act)
            for metric in present:
                short, diff_key = metrics[metric]
                if np.isfinite(ctx.values(rows, metric)).sum() < n_min:
                    continue
                hist = ctx.baselines.get(metric, side, act)
                if hist is not None:
                    comps.append(_test(ctx, rows, Comparison(
                        pattern, side, act, metric, "history", hist, "in your earlier sessions",
                        "high", th[f"{short}_ratio_vs_history"], th[diff_key])))
                other = ctx.median(_other(side), act, metric, n_min)
                if other is not None:
                    comps.append(_test(ctx, rows, Comparison(
                        pattern, side, act, metric, "other_side", other,
                        f"on your {_other(side)} leg", "high",
                        th[f"{short}_ratio_vs_other_side"], th[diff_key])))
        # Without earlier sessions, both legs could be affected alike: then only a generous
        # limit on level ground can tell (low confidence).
        limit = th["level_range_limit_deg"]
        rows = ctx.rows(side, "level")
        metric = "frontal_range_deg"
        if (limit > 0 and metric in present and ctx.baselines.get(metric, side, "level") is None
                and np.isfinite(ctx.values(rows, metric)).sum() >= n_min):
            comps.append(_test(ctx, rows, Comparison(
                pattern, side, "level", metric, "fallback", limit,
                "(a generous limit, about twice what healthy level walking shows; no earlier "
                "sessions to compare with)", "high", 1.0, 0.0)))
        if not comps:
            skipped.append(NotAssessed(pattern, side, "too few steps with side-to-side shin "
                                       "movement, or nothing to compare them with"))
            continue
        out[side] = comps
    return out, skipped


# ---------------------------------------------------------------- 3. heel lift / stiff ankle

def rule_heel_lift(ctx: Context) -> RuleOutput:
    th, pattern, act, metric = ctx.th["heel_lift"], "heel_lift", "stairs_down", SHANK_TILT_COLUMN
    if not ctx.has_activity(act):
        return {}, [NotAssessed(pattern, "both", "no steps going down stairs in this recording")]
    if not np.isfinite(ctx.column(metric)).any():
        return {}, [NotAssessed(pattern, "both", "the forward lean of the shin is not measurable "
                                "in this recording")]
    n_min = ctx.general["min_steps"]
    out: dict[str, list[Comparison]] = {}
    skipped: list[NotAssessed] = []
    for side in ctx.sides():
        rows = ctx.rows(side, act)
        if np.isfinite(ctx.values(rows, metric)).sum() < n_min:
            skipped.append(NotAssessed(pattern, side, "too few stair-descent steps with a "
                                       "measurable shin lean"))
            continue
        comps = []
        level = ctx.median(side, "level", metric, n_min)
        # leaning less on level ground too than before (another strap position, slower walking)
        hist = _stairs_vs_history(ctx, pattern, side, metric, level, "low", th["ratio_vs_history"],
                                  th["min_difference_vs_history_deg"], "leaning less")
        if hist is not None:
            comps.append(hist)
        other = ctx.median(_other(side), act, metric, n_min)
        unfair = _other_knee_more_bent(ctx, side)
        if other is not None and not unfair:
            # the other leg leans further forward on level ground too (a person's natural
            # left/right difference, a bent knee, a longer step): the pattern shows on stairs
            text = f"on your {_other(side)} leg"
            ref, scaled = _level_adjusted(other, level, ctx.median(_other(side), "level", metric, n_min),
                                          "low")
            if scaled:
                text += " (adjusted for how far each shin leans on level ground)"
            comps.append(Comparison(pattern, side, act, metric, "other_side", ref, text, "low",
                                    th["ratio_vs_other_side"], th["min_difference_deg"]))
        if not comps:
            why = ("the other knee stays clearly more bent, so it is no fair comparison, and "
                   "there are no earlier sessions" if unfair and other is not None else
                   "nothing to compare the shin lean with (no other leg, no earlier sessions)")
            skipped.append(NotAssessed(pattern, side, why))
            continue
        out[side] = [_test(ctx, rows, c) for c in comps]
    return out, skipped


def _other_knee_more_bent(ctx: Context, side: str) -> bool:
    """True when the other knee stays clearly more bent in stance (stairs down or level):
    its shin then leans further forward, which would make this leg look stiff."""
    limit = ctx.th["heel_lift"]["other_knee_more_bent_deg"]
    metric, n_min = "knee_min_flexion_stance_deg", ctx.general["min_steps"]
    for act in ("stairs_down", "level"):
        mine = ctx.median(side, act, metric, n_min)
        other = ctx.median(_other(side), act, metric, n_min)
        if mine is not None and other is not None and other - mine >= limit:
            return True
    return False


# ---------------------------------------------------------------- 4. incomplete extension

def rule_incomplete_extension(ctx: Context) -> RuleOutput:
    th, pattern, act = ctx.th["incomplete_extension"], "incomplete_extension", "level"
    metric = "knee_min_flexion_stance_deg"
    if not np.isfinite(ctx.column(metric)).any():
        return {}, [NotAssessed(pattern, "both", "the knee angle needs a thigh and a shin "
                                "sensor on the same leg")]
    n_min = ctx.general["min_steps"]
    out: dict[str, list[Comparison]] = {}
    skipped: list[NotAssessed] = []
    for side in ctx.sides():
        rows = ctx.rows(side, act)
        vals = ctx.values(rows, metric)
        if np.isfinite(vals).sum() < n_min:
            skipped.append(NotAssessed(pattern, side, "too few level-walking steps with a "
                                       "measurable knee angle"))
            continue
        if float(np.nanmedian(vals)) < th["implausible_below_deg"]:
            skipped.append(NotAssessed(pattern, side, "the knee angle looks implausible (far "
                                       "straighter than when standing); check the thigh sensor"))
            continue
        comps = [Comparison(pattern, side, act, metric, "standing", 0.0, "when you stand still",
                            "high", None, th["limit_vs_standing_deg"])]
        hist = ctx.baselines.get(metric, side, act)
        if hist is not None:
            comps.append(Comparison(pattern, side, act, metric, "history", hist,
                                    "in your earlier sessions", "high", None,
                                    th["difference_vs_history_deg"]))
        other = ctx.median(_other(side), act, metric, n_min)
        if other is not None and other >= th["implausible_below_deg"]:
            comps.append(Comparison(pattern, side, act, metric, "other_side", other,
                                    f"on your {_other(side)} knee", "high", None,
                                    th["difference_vs_other_side_deg"]))
        comps = [_test(ctx, rows, c) for c in comps]
        drift = _drift_comparison(ctx, rows, side)
        if drift is not None:
            comps.append(drift)
        out[side] = comps
    return out, skipped


def _drift_comparison(ctx: Context, rows: np.ndarray, side: str) -> Comparison | None:
    th = ctx.th["incomplete_extension"]
    metric = "knee_min_flexion_stance_deg"
    rows = rows[np.isfinite(ctx.values(rows, metric))]  # in contact order
    n_third = len(rows) // 3
    if n_third < ctx.general["min_steps"]:
        return None
    ic_s = ctx.values(rows, "ic_s")
    duration = float(ic_s[-1] - ic_s[0])
    if duration < th["drift_min_duration_s"]:
        return None
    early = float(np.median(ctx.values(rows[:n_third], metric)))
    late_rows = rows[-n_third:]
    comp = Comparison("incomplete_extension", side, "level", metric, "drift", early,
                      f"in the first third of this {duration / 60:.0f}-minute walk (the last "
                      "third is shown, a sign of tiring thigh muscles)", "high", None,
                      th["drift_deg"])
    return _test(ctx, late_rows, comp)


# ---------------------------------------------------------------- 5. long strides, hard landings

def rule_long_strides(ctx: Context) -> RuleOutput:
    th, pattern, act = ctx.th["long_strides"], "long_strides", "level"
    if not np.isfinite(ctx.column("stride_length_m")).any():
        return {}, [NotAssessed(pattern, "both", "stride length is not measurable in this recording")]
    if not np.isfinite(ctx.column("impact_g")).any():
        return {}, [NotAssessed(pattern, "both", "landing impact is not measurable with these sensors")]
    n_min = ctx.general["min_steps"]
    out: dict[str, list[Comparison]] = {}
    skipped: list[NotAssessed] = []
    for side in ctx.sides():
        rows = ctx.rows(side, act)
        stride = ctx.values(rows, "stride_length_m")
        if np.isfinite(stride).sum() < n_min:
            skipped.append(NotAssessed(pattern, side, "too few level-walking steps with a "
                                       "measurable stride"))
            continue
        stride_comps, impact_comps = [], []
        m = "stride_length_m"
        if ctx.leg_length_m:
            stride_comps.append(Comparison(pattern, side, act, m, "leg_length", ctx.leg_length_m,
                                           "(your leg length)", "high",
                                           th["stride_to_leg_length"], 0.0))
        hist = ctx.baselines.get(m, side, act)
        if hist is not None:
            stride_comps.append(Comparison(pattern, side, act, m, "history", hist,
                                           "in your earlier sessions", "high",
                                           th["stride_ratio_vs_history"], 0.0))
        other = ctx.median(_other(side), act, m, n_min)
        if other is not None:
            stride_comps.append(Comparison(pattern, side, act, m, "other_side", other,
                                           f"on your {_other(side)} leg", "high",
                                           th["stride_ratio_vs_other_side"], 0.0))
        mi, dg = "impact_g", th["min_impact_difference_g"]
        hist = ctx.baselines.get(mi, side, act)
        if hist is not None:
            impact_comps.append(_test(ctx, rows, Comparison(
                pattern, side, act, mi, "history", hist, "in your earlier sessions", "high",
                th["impact_ratio_vs_history"], dg)))
        other = ctx.median(_other(side), act, mi, n_min)
        if other is not None:
            impact_comps.append(_test(ctx, rows, Comparison(
                pattern, side, act, mi, "other_side", other, f"on your {_other(side)} leg",
                "high", th["impact_ratio_vs_other_side"], dg)))
        median_stride = float(np.nanmedian(stride)) if np.isfinite(stride).any() else math.nan
        long_sel = stride >= median_stride * th["within_session_long_ratio"]
        short_imp = ctx.values(rows[~long_sel], mi)
        if long_sel.sum() >= n_min and np.isfinite(short_imp).sum() >= n_min:
            impact_comps.append(_test(ctx, rows[long_sel], Comparison(
                pattern, side, act, mi, "within_session", float(np.nanmedian(short_imp)),
                "on your shorter level steps in this session", "high",
                th["within_session_impact_ratio"], dg)))
        if not stride_comps or not impact_comps:
            if not stride_comps:
                why = ("nothing to compare the stride length with (no leg length, no other "
                       "leg, no earlier sessions)")
            else:
                why = ("nothing to compare the level-walking impact with (no other leg, no "
                       "earlier sessions, and too little variation in stride length)")
            skipped.append(NotAssessed(pattern, side, why))
            continue
        stride_comps = [_test(ctx, rows, c) for c in stride_comps]
        long_ic = set().union(*[c.flagged_ic for c in stride_comps if c.passed])
        hard_ic = set().union(*[c.flagged_ic for c in impact_comps if c.passed])
        both_ic = long_ic & hard_ic
        if len(both_ic) < n_min:
            # Not a finding unless long AND hard landings coincide on enough steps.
            for c in stride_comps + impact_comps:
                c.passed = False
        else:
            for c in stride_comps + impact_comps:
                if c.passed:
                    c.flagged_ic = sorted(both_ic & set(c.flagged_ic))
        out[side] = stride_comps + impact_comps
    return out, skipped


RULES: dict[str, Callable[[Context], RuleOutput]] = {
    "hard_landing": rule_hard_landing,
    "knee_wobble": rule_knee_wobble,
    "heel_lift": rule_heel_lift,
    "incomplete_extension": rule_incomplete_extension,
    "long_strides": rule_long_strides,
}
assert tuple(RULES) == PATTERNS


# ---------------------------------------------------------------- assembling findings

def _confidence(passed: list[Comparison], ctx: Context) -> float:
    best = max(c.confidence for c in passed)
    kinds = {c.kind for c in passed}
    conf = min(0.99, best + 0.1 * (len(kinds) - 1))
    if any(c.metric in ("impact_g", "loading_rate_gps") for c in passed):
        rate = ctx.shank_rate_hz
        if rate is None or rate < ctx.general["impact_reliable_rate_hz"]:
            conf *= 0.75
    return conf


def _impact_note(passed: list[Comparison], ctx: Context) -> str:
    if not any(c.metric == "impact_g" for c in passed):
        return ""
    rate = ctx.shank_rate_hz
    if rate is None:
        return " Impact figures: shin sensor sample rate unknown, so they may be under-read."
    note = f" Impact figures measured at {rate:.0f} samples per second"
    if rate < ctx.general["impact_reliable_rate_hz"]:
        note += " (short landing peaks are under-read at this rate)"
    return note + "."


def _side_finding(pattern: str, side: str, passed: list[Comparison], ctx: Context,
                  library: Library) -> Finding:
    advice = library.advice(pattern)
    passed = sorted(passed, key=lambda c: -c.confidence)
    shown, said = [], set()
    for c in passed[:3]:
        shown.append(c.sentence(first=(c.metric, c.activity) not in said))
        said.add((c.metric, c.activity))
    evidence = " ".join(shown)
    if len(passed) > 3:
        evidence += f" ({len(passed) - 3} more comparison(s) agree.)"
    evidence += _impact_note(passed, ctx)
    steps = sorted(set().union(*[c.flagged_ic for c in passed]))
    return Finding(pattern=pattern, side=side, evidence=evidence, steps=steps,
                   confidence=_confidence(passed, ctx), cue=advice.cue_detail,
                   live_cue=advice.cue, title=advice.title, resembles=advice.resembles,
                   exercises=[e.to_dict() for e in advice.exercises],
                   comparisons=[c.to_dict() for c in passed])


def _merge_sides(left: Finding, right: Finding) -> Finding:
    return Finding(pattern=left.pattern, side="both",
                   evidence=f"Left leg: {left.evidence} Right leg: {right.evidence}",
                   steps=sorted(set(left.steps) | set(right.steps)),
                   confidence=min(left.confidence, right.confidence), cue=left.cue,
                   live_cue=left.live_cue, title=left.title, resembles=left.resembles,
                   exercises=left.exercises, comparisons=left.comparisons + right.comparisons)


def _prepare(steps: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The checked per-step table as (side, activity, {column: floats}): ic_s and every
    METRIC_COLUMNS entry as float (not a number, or no such column: NaN), rows without a
    contact time dropped, the rest in contact order."""
    if not isinstance(steps, pd.DataFrame):
        raise InputError("the coach needs a per-step table (a pandas DataFrame)")
    missing = [c for c in REQUIRED_COLUMNS if c not in steps.columns]
    if missing:
        raise InputError(f"per-step table lacks column(s) {', '.join(missing)}")
    bad = sorted({str(v) for v in pd.unique(steps["side"].dropna())} - set(SIDES))
    if bad:
        raise InputError(f"per-step table: unknown side value(s) {bad} (expected left/right)")
    ic_s = _floats(steps["ic_s"])
    measured = np.flatnonzero(np.isfinite(ic_s))
    order = measured[np.argsort(ic_s[measured])]
    columns = {c: (_floats(steps[c])[order] if c in steps else np.full(len(order), np.nan))
               for c in METRIC_COLUMNS}
    columns["ic_s"] = ic_s[order]
    return (steps["side"].to_numpy(dtype=object)[order],
            steps["activity"].to_numpy(dtype=object)[order], columns)


def _floats(col: pd.Series) -> np.ndarray:
    """A column as floats; cells that are not numbers become NaN."""
    if col.dtype.kind not in "fiub":
        col = pd.to_numeric(col, errors="coerce")
    return col.to_numpy(dtype=float, na_value=np.nan)


def coach_steps(steps: pd.DataFrame, *, shank_rate_hz: float | None = None,
                leg_length_m: float | None = None, baselines: Baselines | None = None,
                thresholds: Thresholds | None = None, library: Library | None = None
                ) -> CoachResult:
    """Recognise the COACHING.md patterns in one session's per-step table.

    ``shank_rate_hz``: sample rate of the shin sensor (shown with every impact figure);
    if not given, the median of an ``impact_rate_hz`` column is used when there is one. ``leg_length_m``: for the stride rule, if known. ``baselines``:
    medians from earlier sessions. ``thresholds``: default :func:`load_thresholds()`.
    """
    table = _prepare(steps)
    if shank_rate_hz is None and "impact_rate_hz" in steps:
        rates = pd.to_numeric(steps["impact_rate_hz"], errors="coerce").dropna()
        shank_rate_hz = float(rates.median()) if len(rates) else None
    th = thresholds if thresholds is not None else load_thresholds()
    library = library or load_library()
    leg = float(leg_length_m) if leg_length_m and math.isfinite(leg_length_m) and leg_length_m > 0 else None
    ctx = Context(*table, th, baselines or Baselines(), leg, shank_rate_hz)
    findings: list[Finding] = []
    not_assessed: list[NotAssessed] = []
    if len(ctx.side) == 0:
        return CoachResult([], [NotAssessed(p, "both", "no steps") for p in PATTERNS], th.source)
    for pattern, rule in RULES.items():
        per_side, skipped = rule(ctx)
        not_assessed.extend(skipped)
        side_findings = {}
        for side, comps in per_side.items():
            passed = [c for c in comps if c.passed]
            if passed:
                side_findings[side] = _side_finding(pattern, side, passed, ctx, library)
        if len(side_findings) == 2:
            findings.append(_merge_sides(side_findings["left"], side_findings["right"]))
        else:
            findings.extend(side_findings.values())
    findings.sort(key=lambda f: -f.confidence)
    return CoachResult(findings, not_assessed, th.source)


def find_patterns(steps: pd.DataFrame, **kwargs) -> list[Finding]:
    """Shortcut: only the findings of :func:`coach_steps`."""
    return coach_steps(steps, **kwargs).findings
