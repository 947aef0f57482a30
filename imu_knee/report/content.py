"""What a session report says: one data model that both renderers (html.py, pdf.py) draw.

:func:`build_content` turns a :class:`~imu_knee.report.session.SessionData` into a
:class:`ReportContent`: plain-language text for the person, tables, figures (PNG bytes from
plots.py), findings with their evidence, the exercise plan, the trend against earlier
sessions and a "for the therapist" section. Every sentence and every number shown comes from
here; the renderers only lay it out (and escape text). User text (name, notes) is kept raw
here and escaped by each renderer.
"""

from __future__ import annotations

import math
import os
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from .. import __version__
from ..coach.step_columns import ACTIVITY_WORDS
from .session import SessionData

DISCLAIMER = (
    "This report is not a diagnosis. It shows what the sensors measured, which movement "
    "pattern that resembles and the usual advice for it. If you try the advice for 4-6 weeks "
    "without improvement, or if pain increases, see a physical therapist. If you are "
    "recovering from a knee injury, follow your clinician's advice. Stop any exercise that "
    "causes sharp pain.")

SIDE_WORDS = {"left": "left leg", "right": "right leg", "both": "both legs"}
SENSOR_WORDS = {"left_shank": "left shin", "right_shank": "right shin",
                "left_thigh": "left thigh", "right_thigh": "right thigh"}
ACTIVITY_SHORT = {"level": "Level ground", "stairs_up": "Stairs up", "stairs_down": "Stairs down"}
IMPACT_RELIABLE_RATE_HZ = 150.0
PLAN_EXERCISES_PER_FINDING = 3
PDF_STEP_ROWS = 40

# Flags of the analysis summary, said to a person.
FLAG_WORDS = {
    "not_calibrated": "no walking was found for this sensor, so it gave no steps",
    "no_standing": "no quiet standing was found at the start, so knee angles have no zero and are left out",
    "rate_below_50hz": "the sample rate is below 50 per second, so landing impact is not measured",
    "acc_reaches_full_scale": "the sensor's range was exceeded at some landings; those impacts are left out",
    "gaps": "the connection dropped for a moment; steps across a gap are skipped",
    "weak_flexion_axis": "walking did not show a clear knee bending axis; check that the strap is tight",
}

# (column, plain heading, unit, digits) of the per-activity table.
ACTIVITY_METRICS = [
    ("stride_length_m", "Stride length", "m", 2),
    ("impact_g", "Landing impact", "g", 2),
    ("frontal_range_deg", "Side-to-side shin movement", "°", 1),
    ("knee_min_flexion_stance_deg", "Knee bend at its straightest", "°", 1),
]

# Per-step table for the therapist: (column, heading, digits).
STEP_TABLE = [
    ("side", "side", None), ("ic_s", "contact s", 2), ("to_s", "toe-off s", 2),
    ("activity", "activity", None), ("stride_length_m", "stride m", 2),
    ("step_height_m", "height m", 2), ("impact_g", "impact g", 2),
    ("loading_rate_gps", "loading g/s", 0), ("knee_flexion_ic_deg", "knee IC °", 1),
    ("knee_min_flexion_stance_deg", "knee min °", 1), ("frontal_range_deg", "frontal range °", 1),
    ("frontal_wobble_dps", "wobble °/s", 0),
]

# Metrics followed over sessions in the trend: (metric, activity, plain name, unit, digits).
TREND_METRICS = [
    ("impact_g", "stairs_down", "Landing impact going down stairs", "g", 2),
    ("impact_g", "level", "Landing impact on level ground", "g", 2),
    ("stride_length_m", "level", "Stride length on level ground", "m", 2),
    ("frontal_wobble_dps", "level", "Side-to-side wobble on level ground", "°/s", 0),
    ("knee_min_flexion_stance_deg", "level", "Knee bend at its straightest (level)", "°", 1),
]


def clean_user_text(text: str) -> str:
    """User text without control characters (kept: line breaks and tabs), trimmed."""
    text = str(text).replace("\r\n", "\n")
    return "".join(ch if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs") else " "
                   for ch in text).strip()


def fmt_num(value, digits: int = 2, unit: str = "") -> str:
    """A number for people; a dash when missing."""
    if value is None:
        return "–"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(x):
        return "–"
    text = f"{x:.{digits}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    if not unit:
        return text
    return f"{text}{unit}" if unit in ("°", "%") else f"{text} {unit}"


def fmt_duration(seconds: float) -> str:
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m} min {s:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    caption: str = ""
    note: str = ""


@dataclass
class Figure:
    key: str
    title: str
    caption: str
    png: bytes | None = None
    note: str = ""  # shown instead of the picture when png is None


@dataclass
class ExerciseItem:
    name: str
    instructions: str
    dosage: str
    progression: str
    helps_with: list[str] = field(default_factory=list)


@dataclass
class FindingItem:
    pattern: str
    title: str
    side: str
    side_words: str
    evidence: str
    cue: str
    resembles: str
    confidence_label: str
    steps_s: list[float]
    exercises: list[ExerciseItem]


@dataclass
class Trend:
    sessions: int
    message: str
    table: Table | None = None
    figure: Figure | None = None
    persisting: list[str] = field(default_factory=list)


@dataclass
class ReportContent:
    title: str
    name: str
    notes: str
    generated: str
    version: str
    facts: list[tuple[str, str]]
    headline: list[str]
    warnings: list[str]
    activity_table: Table
    side_table: Table | None
    figures: list[Figure]
    findings: list[FindingItem]
    not_assessed: list[str]
    quick_fix: list[str]
    plan: list[ExerciseItem]
    trend: Trend
    therapist_tables: list[Table]
    step_table: Table
    step_table_pdf: Table
    disclaimer: str
    source_name: str = ""


# ------------------------------------------------------------------ facts


def session_date(data: SessionData) -> str:
    meta = data.recording.meta
    for key in ("start_utc", "date", "started", "recorded"):
        if meta.get(key):
            return str(meta[key])
    path = data.recording.path
    if path is not None and os.path.exists(path):
        t = datetime.fromtimestamp(os.path.getmtime(path), tz=timezone.utc)
        return t.strftime("%Y-%m-%d %H:%M UTC") + " (date the file was saved)"
    return "not recorded in the file"


def _facts(data: SessionData) -> list[tuple[str, str]]:
    rec, steps = data.recording, data.steps
    groups: dict[str, list[str]] = {}
    for name, s in rec.streams.items():
        dev = f", {s.device}" if s.device else ""
        groups.setdefault(f"{fmt_num(s.rate_hz, 0)} samples per second{dev}", []).append(
            SENSOR_WORDS.get(name, name))
    sensors = [f"{_join(names)} ({how})" for how, names in groups.items()]
    leg = data.leg_length_m
    leg_text = fmt_num(leg, 2, "m") + ("" if data.summary.get("leg_length_given")
                                       else " (not given; a typical value was used)")
    counts = steps["activity"].value_counts() if len(steps) else pd.Series(dtype=int)
    per_act = ", ".join(f"{int(counts.get(a, 0))} {ACTIVITY_WORDS[a]}" for a in ACTIVITY_WORDS
                        if counts.get(a, 0))
    return [
        ("Date", session_date(data)),
        ("Recording", rec.path.name if rec.path else "(in memory)"),
        ("Sensors", "; ".join(sensors)),
        ("Duration", fmt_duration(rec.duration_s)),
        ("Steps measured", f"{len(steps)}" + (f" ({per_act})" if per_act else "")),
        ("Leg length", leg_text),
    ]


def _warnings(data: SessionData) -> list[str]:
    by_text: dict[str, list[str]] = {}
    for name, rep in data.summary.get("sensors", {}).items():
        where = SENSOR_WORDS.get(name, name)
        for f in rep.get("flags", []):
            by_text.setdefault(FLAG_WORDS.get(f, f), []).append(where)
        if name.endswith("_shank") and rep.get("rate_hz", 0) < IMPACT_RELIABLE_RATE_HZ \
                and "rate_below_50hz" not in rep.get("flags", []):
            by_text.setdefault(
                f"recorded at {fmt_num(rep['rate_hz'], 0)} samples per second; short landing peaks"
                " are under-read at this rate (200 per second or more is recommended for landing"
                " impact)", []).append(where)
    out = [f"Seen over several weeks: {m}" for m in data.see_therapist]
    out += [f"{_join(places).capitalize()}: {text}." for text, places in by_text.items()]
    for side, rep in data.summary.get("knee", {}).items():
        if rep.get("message"):
            out.append(f"{side.capitalize()} knee angle: {rep['message']}.")
    if len(data.steps) == 0:
        out.append("No steps were found in this recording.")
    return out


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def rate_text(data: SessionData) -> str:
    """The shin sensors' sample rates, e.g. "200" or "left 100, right 200" (per second)."""
    rates = {side: _rate_of_side(data, side) for side in ("left", "right")}
    known = {s: r for s, r in rates.items() if r}
    if not known:
        return "unknown"
    if len({round(r) for r in known.values()}) == 1:
        return fmt_num(next(iter(known.values())), 0)
    return ", ".join(f"{side} {fmt_num(r, 0)}" for side, r in known.items())


# ------------------------------------------------------------------ tables


def _median(df: pd.DataFrame, col: str) -> float | None:
    if col not in df:
        return None
    v = pd.to_numeric(df[col], errors="coerce").dropna()
    return float(v.median()) if len(v) else None


def _rate_of_side(data: SessionData, side: str) -> float | None:
    s = data.recording.streams.get(f"{side}_shank")
    return None if s is None else float(s.rate_hz)


def _activity_table(data: SessionData) -> Table:
    cols = ["Activity", "Leg", "Steps", "Steps per minute"] + [
        f"{h} ({u})" for _, h, u, _ in ACTIVITY_METRICS]
    rows = []
    sides = data.summary.get("sides", {})
    for act in ACTIVITY_WORDS:
        for side in ("left", "right"):
            grp = sides.get(side, {}).get(act)
            if not grp or not grp.get("count"):
                continue
            med = grp.get("median", {})
            row = [ACTIVITY_SHORT[act], side, str(grp["count"]), fmt_num(grp.get("cadence_spm"), 0)]
            for col, _, unit, digits in ACTIVITY_METRICS:
                text = fmt_num(med.get(col), digits)
                if col == "impact_g" and med.get(col) is not None:
                    text += f" @ {fmt_num(_rate_of_side(data, side), 0)}/s"
                row.append(text)
            rows.append(row)
    return Table(cols, rows, "Typical value (median) per activity and leg",
                 "“–” means not measurable with these sensors. Impact is shown with the sensor's "
                 "sample rate (samples per second).")


def _side_table(data: SessionData) -> Table | None:
    sides = data.summary.get("sides", {})
    if "left" not in sides or "right" not in sides:
        return None
    rows = []
    for act in ACTIVITY_WORDS:
        lg, rg = sides["left"].get(act, {}), sides["right"].get(act, {})
        if not lg.get("count") or not rg.get("count"):
            continue
        for col, head, unit, digits in ACTIVITY_METRICS:
            lv, rv = lg["median"].get(col), rg["median"].get(col)
            if lv is None or rv is None:
                continue
            diff = rv - lv
            rel = (data.summary.get("asymmetry_percent", {}).get(act, {}) or {}).get(col)
            if col == "impact_g":
                head = f"{head} (at {rate_text(data)} samples/s)"
            rows.append([ACTIVITY_SHORT[act], head, fmt_num(lv, digits, unit), fmt_num(rv, digits, unit),
                         fmt_num(diff, digits, unit) + ("" if rel is None else f" ({fmt_num(-rel, 0, '%')})")])
    if not rows:
        return None
    return Table(["Activity", "Measure", "Left", "Right", "Right minus left"], rows,
                 "Left and right compared", "The percentage is the difference relative to the"
                 " average of both legs.")


def _heading(head: str, data: SessionData) -> str:
    return f"{head} at {rate_text(data)}/s" if head == "impact g" else head


def _step_cell(value, digits) -> str:
    if digits is None:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        return str(value).replace("_", " ")
    return fmt_num(value, digits)


def _step_tables(data: SessionData, flagged: set[float]) -> tuple[Table, Table]:
    steps = data.steps
    cols = [_heading(h, data) for _, h, _ in STEP_TABLE] + ["flag"]
    rows = []
    for rec in steps.itertuples(index=False):
        d = rec._asdict()
        row = [_step_cell(d.get(c), dg) for c, _, dg in STEP_TABLE]
        row.append("●" if round(float(d["ic_s"]), 4) in flagged else "")
        rows.append(row)
    note = ("One row per foot contact (the columns of `imu-knee analyze --steps`). ● = a step behind a finding. "
            "Knee angles are relative to quiet standing (+ = more bent); “–” = not measurable.")
    full = Table(cols, rows, "Every step", note)
    if len(rows) <= PDF_STEP_ROWS:
        pdf_rows = rows
        pdf_note = note
    else:
        marked = [r for r in rows if r[-1]]
        pdf_rows = (marked or rows)[:PDF_STEP_ROWS]
        which = "steps behind the findings" if marked else "steps"
        pdf_note = (f"{note} The PDF lists the first {len(pdf_rows)} {which} of {len(rows)} steps; "
                    "the HTML report and `imu-knee analyze --steps` have all of them.")
    return full, Table(cols, pdf_rows, "Steps", pdf_note)


def _therapist_tables(data: SessionData) -> list[Table]:
    steps = data.steps
    metrics = STEP_TABLE[4:]
    rows = []
    for side in ("left", "right"):
        for act in ACTIVITY_WORDS:
            g = steps[(steps["side"] == side) & (steps["activity"] == act)] if len(steps) else steps
            if not len(g):
                continue
            row = [side, act.replace("_", " "), str(len(g))]
            for col, _, digits in metrics:
                v = pd.to_numeric(g[col], errors="coerce").dropna()
                if not len(v):
                    row.append("–")
                    continue
                q1, q2, q3 = np.percentile(v, [25, 50, 75])
                row.append(f"{fmt_num(q2, digits)} ({fmt_num(q1, digits)} to {fmt_num(q3, digits)})")
            rows.append(row)
    dist = Table(["leg", "activity", "steps"] + [_heading(h, data) for _, h, _ in metrics], rows,
                 "Median (25th to 75th percentile) per leg and activity",
                 "Impact measured at the shin sensor's sample rate (see Sensors). Knee angles "
                 "relative to quiet standing, + = more bent.")
    cal_rows = []
    for name, rep in data.summary.get("sensors", {}).items():
        cal = rep.get("calibration") or {}
        q = cal.get("quality", {}) if cal else {}
        cal_rows.append([name, fmt_num(rep.get("rate_hz"), 1), str(rep.get("samples", "")),
                         str(rep.get("swings", "")),
                         fmt_num(q.get("flexion_axis_share"), 3), fmt_num(q.get("standing_still_dps"), 2),
                         ", ".join(rep.get("flags", [])) or "none"])
    cal = Table(["sensor", "rate Hz", "samples", "swings", "axis share", "standing °/s", "flags"],
                cal_rows, "Sensors and calibration",
                "axis share: how much of the walking rotation lies on one axis (1 = a clean hinge);"
                " standing °/s: gyroscope noise while standing still.")
    knee_rows = [[f"{side} knee", ("calibrated, residual " + fmt_num(rep.get("residual_dps"), 1) + " °/s")
                  if rep.get("calibrated") else (rep.get("message") or "not calibrated")]
                 for side, rep in data.summary.get("knee", {}).items()]
    if knee_rows:
        return [dist, cal, Table(["knee angle", "status"], knee_rows, "Knee angle calibration")]
    return [dist, cal]


# ------------------------------------------------------------------ findings and plan


def _exercise(e: dict, helps: str) -> ExerciseItem:
    return ExerciseItem(e.get("name", ""), e.get("instructions", ""), e.get("dosage", ""),
                        e.get("progression", ""), [helps])


def _findings(data: SessionData) -> list[FindingItem]:
    out = []
    for f in data.coach.findings:
        out.append(FindingItem(
            pattern=f.pattern, title=f.title or f.pattern.replace("_", " "), side=f.side,
            side_words=SIDE_WORDS.get(f.side, f.side), evidence=f.evidence, cue=f.cue,
            resembles=f.resembles, confidence_label=f.confidence_label,
            steps_s=[float(t) for t in f.steps],
            exercises=[_exercise(e, f.title) for e in f.exercises]))
    return out


def _plan(findings: list[FindingItem]) -> tuple[list[str], list[ExerciseItem]]:
    quick, plan, by_name = [], [], {}
    for f in findings:
        line = f"{f.cue} ({f.title.lower()}, {f.side_words})"
        if f.cue and line not in quick:
            quick.append(line)
        for e in f.exercises[:PLAN_EXERCISES_PER_FINDING]:
            if e.name in by_name:
                if f.title not in by_name[e.name].helps_with:
                    by_name[e.name].helps_with.append(f.title)
                continue
            item = ExerciseItem(e.name, e.instructions, e.dosage, e.progression, [f.title])
            by_name[e.name] = item
            plan.append(item)
    return quick, plan


def _headline(data: SessionData, findings: list[FindingItem]) -> list[str]:
    steps = data.steps
    lines = []
    if len(steps):
        counts = steps["activity"].value_counts()
        parts = [f"{int(counts.get(a, 0))} {ACTIVITY_WORDS[a]}" for a in ACTIVITY_WORDS if counts.get(a, 0)]
        lines.append(f"The sensors measured {len(steps)} steps: {', '.join(parts)}.")
    if findings:
        names = "; ".join(f"{f.title} ({f.side_words})" for f in findings)
        n = len(findings)
        lines.append(f"{n} movement pattern{'s' if n > 1 else ''} stood out: {names}. "
                     "Below you find what was measured, a cue to try right away and exercises.")
    else:
        lines.append("No movement pattern stood out in this session. Keep walking as you do; "
                     "the measurements below are your reference for later sessions.")
    return lines


# ------------------------------------------------------------------ trend


def _current_medians(data: SessionData) -> dict[tuple[str, str, str], float]:
    out = {}
    for side, groups in data.summary.get("sides", {}).items():
        for act, stats in groups.items():
            for metric, value in (stats.get("median") or {}).items():
                if value is not None:
                    out[(metric, side, act)] = float(value)
    return out


def _trend(data: SessionData) -> Trend:
    earlier = sorted(data.earlier, key=lambda s: s.date)
    if not earlier:
        return Trend(0, data.history_note or (
            "No earlier sessions stored, so there is no trend yet. Sessions kept in the "
            "history (`imu-knee analyze`, `imu-knee history`) appear here."))
    now = _current_medians(data)
    series = [(s.label or s.date, s.medians) for s in earlier] + [("this session", now)]
    cols = ["Measure", "Leg"] + [label for label, _ in series]
    rows, plotted = [], []
    for metric, act, head, unit, digits in TREND_METRICS:
        shown = head + f" ({unit})"
        if metric == "impact_g":
            shown += f", this session at {rate_text(data)} samples/s"
        for side in ("left", "right"):
            vals = [m.get((metric, side, act)) for _, m in series]
            if sum(v is not None for v in vals) < 2:
                continue
            rows.append([shown, side] + [fmt_num(v, digits) for v in vals])
            plotted.append((head, unit, side, vals))
    n = len(earlier)
    if not rows:
        return Trend(n, f"{n} earlier session{'s' if n > 1 else ''} stored, but none measured the "
                        "same things as this one.", persisting=list(data.persisting))
    labels = [label for label, _ in series]
    from . import plots

    fig = Figure("trend", "Your measurements over sessions",
                 "Each point is the typical (median) value of one session; the last point is this session.",
                 plots.trend_png(labels, plotted))
    table = Table(cols, rows, "Typical values per session")
    return Trend(n, f"Compared with {n} earlier session{'s' if n > 1 else ''}.", table, fig,
                 list(data.persisting))


# ------------------------------------------------------------------ figures


# Which findings ring their steps in which plot.
RING_PATTERNS = {"impact": ("hard_landing", "long_strides"), "stride": ("long_strides",),
                 "wobble": ("knee_wobble",)}


def _figures(data: SessionData, findings: list[FindingItem]) -> list[Figure]:
    """The report's figures. Each is described first (title, caption, what to draw, or why
    there is nothing to draw); then all are drawn together (plots.draw_all may use a second
    process)."""
    from functools import partial

    from . import plots  # matplotlib loads only when figures are drawn

    steps = data.steps
    rates = {side: _rate_of_side(data, side) for side in ("left", "right")}
    rtext = rate_text(data)
    ring = {key: {round(t, 4) for f in findings if f.pattern in pats for t in f.steps_s}
            for key, pats in RING_PATTERNS.items()}
    low = [s for s, r in rates.items() if r and r < IMPACT_RELIABLE_RATE_HZ]
    specs: list[tuple[Figure, object]] = []  # (figure without its PNG, job drawing it or None)

    def has(column: str) -> bool:
        return bool(len(steps)) and bool(steps[column].notna().any())

    cap = ("Each dot is one landing, in g (1 g is what the shin feels when standing still). "
           "The grey band is your usual range on level ground in this session (the middle half "
           f"of those landings). Measured at {rtext} samples per second.")
    if low:
        cap += " At under 150 samples per second short landing peaks are under-read."
    specs.append((Figure("impact", f"Landing impact per step (measured at {rtext} samples per second)",
                         cap, None, "" if has("impact_g") else
                         "Landing impact needs a shin sensor (not available)."),
                  partial(plots.per_step_png, steps, "impact_g", "Landing impact (g)", ring["impact"],
                          band_from="level", rate_hz=rates) if has("impact_g") else None))
    specs.append((Figure("stride", "Stride length per step",
                         "Distance the foot travelled from one contact to the next, in metres. "
                         "Stairs strides are short by nature.", None,
                         "" if has("stride_length_m") else
                         "Stride length needs a shin sensor (not available)."),
                  partial(plots.per_step_png, steps, "stride_length_m", "Stride length (m)",
                          ring["stride"]) if has("stride_length_m") else None))
    knee = dict(data.knee)
    why_missing = dict(data.knee_missing)
    for n in data.coach.not_assessed:
        if n.pattern == "incomplete_extension" and "implausible" in n.reason:
            for side in (("left", "right") if n.side == "both" else (n.side,)):
                if knee.pop(side, None) is not None:
                    why_missing[side] = n.reason
    missing = "; ".join(f"{side} leg: {why}" for side, why in why_missing.items())
    specs.append((Figure("knee", "Average knee bend over a stride, per activity",
                         "From one foot contact (0 %) to the next contact of the same foot (100 %); "
                         "0° = as straight as when standing, higher = more bent. Line: average; "
                         "band: ± one standard deviation.",
                         None, f"Not available: {missing or 'no knee angle measured'} "
                         "(knee angles need a thigh and a shin sensor on the same leg)."),
                  partial(plots.knee_curves_png, steps, knee) if knee else None))
    specs.append((Figure("wobble", "Side-to-side wobble of the shin while the foot is down",
                         "How fast the shin tipped sideways (in or out) during each stance, in degrees "
                         "per second; lower is steadier. The grey band is your usual range on level ground.",
                         None, "" if has("frontal_wobble_dps") else
                         "Wobble needs a shin sensor (not available)."),
                  partial(plots.per_step_png, steps, "frontal_wobble_dps", "Wobble (°/s)", ring["wobble"],
                          band_from="level") if has("frontal_wobble_dps") else None))
    jobs = [job for _, job in specs if job is not None]
    drawn = iter(plots.draw_all(jobs, len(steps)))
    figs = []
    for fig, job in specs:
        fig.png = next(drawn) if job is not None else None
        if fig.png is not None:
            fig.note = ""
            if fig.key == "knee" and missing:
                fig.caption += f" Not shown for the {missing}."
        figs.append(fig)
    return figs


# ------------------------------------------------------------------ assembly


def build_content(data: SessionData, name: str = "", notes: str = "") -> ReportContent:
    """Everything the report says. ``name``/``notes``: user text, shown as typed (the renderers
    escape it); control characters are replaced by spaces."""
    name, notes = clean_user_text(name), clean_user_text(notes)
    findings = _findings(data)
    flagged = {round(t, 4) for f in findings for t in f.steps_s}
    quick, plan = _plan(findings)
    not_assessed = [f"{n.pattern.replace('_', ' ').capitalize()} ({SIDE_WORDS.get(n.side, n.side)}): {n.reason}."
                    for n in data.coach.not_assessed]
    full, pdf_steps = _step_tables(data, flagged)
    return ReportContent(
        title="Walking and stairs report" + (f" for {name}" if name else ""),
        name=name, notes=notes,
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
        facts=_facts(data), headline=_headline(data, findings), warnings=_warnings(data),
        activity_table=_activity_table(data), side_table=_side_table(data),
        figures=_figures(data, findings), findings=findings, not_assessed=not_assessed,
        quick_fix=quick, plan=plan, trend=_trend(data),
        therapist_tables=_therapist_tables(data), step_table=full, step_table_pdf=pdf_steps,
        disclaimer=DISCLAIMER,
        source_name=data.recording.path.name if data.recording.path else "")
