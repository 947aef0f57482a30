"""Coach confusion table: simulator recordings with known injected problems and clean controls.

For every pattern, side and size (and clean controls), simulate a walk (level, stairs up,
level, stairs down), get the per-step table, run the coach, and count what it found:
the injected pattern on the right side, on the wrong side, missed, and any other finding.

Per-step source (``--source``):
- ``truth`` (default): the simulator's per-step truth (the same columns as the analysis;
  impact as the sensor sees it at its sample rate, ``impact_g_at_rate``; the simulator's
  ``shank_forward_tilt_max_deg`` becomes ``shank_tilt_max_stance_deg`` if the truth lacks it).
  This measures the coach alone.
- ``analysis``: run ``imu_knee.analysis.engine.analyze_recording`` on the simulated
  recording (all four sensors). This measures analysis + coach; patterns whose columns the
  engine does not fill yet show up as "not assessed" and missed.
- ``synthetic``: the coach's own per-step generator (no simulator needed).

``--write-dir DIR`` also writes each recording and its ``.truth.csv`` (the simulator's file
format; the injected problems are in the recording's ``# problems:`` header line);
``--from-dir DIR`` evaluates such files instead of simulating (truth CSV, or analysis of the
recording with ``--source analysis``).

``--history`` gives the coach baselines from two earlier clean sessions of the same
simulated person (needed for long strides: with the stride lengthened on both legs, only
earlier sessions tell whether level impact went up).

The last table gives each knob's detection limit: the smallest injected size from which every
case (both legs, every seed) was found.

Run: ``.venv/bin/python benchmarks/coach_confusion.py [--source truth|analysis|synthetic]
[--seeds 2] [--clean 12] [--history] [--rate 200] [--json OUT.json]``
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import json
import os
import sys
import time
from collections import Counter

import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from imu_knee.coach import (PATTERNS, SHANK_TILT_COLUMN, Baselines, LiveCoach,  # noqa: E402
                            coach_steps)

ACTIVITIES = "level:20,stairs_up:8,level:4,stairs_down:8"
SENSORS = ("left_shank", "right_shank", "left_thigh", "right_thigh")

# Simulator knob -> (pattern, sizes). The smallest size of each is about where a therapist
# would start to care, so the misses there show the detection limit honestly:
# - hard landing: extra stair-landing pulse; +1 g is about +25 % over the other leg (the
#   everyday left/right and strap differences are 10-20 %), +2 g about +50 % (a stomp);
# - knee caving: medial shank tilt in loading, 3 deg is a small but visible valgus;
# - knee wobble: a 4 Hz side-to-side wobble of 1 deg amplitude is barely visible, 2 deg is;
# - heel lift: heel held up going down stairs; 10 deg of lost ankle bend already matters;
# - extension deficit: 5 deg short of straight is the usual clinical threshold.
# Long strides have no per-side knob: the level stride (in leg lengths) and the level impact
# are raised on both legs.
KNOBS = {
    "hard_landing_g": ("hard_landing", [1.0, 2.0, 4.0]),
    "knee_caving_deg": ("knee_wobble", [3.0, 6.0, 10.0]),
    "knee_wobble_deg": ("knee_wobble", [1.0, 2.0, 4.0]),
    "heel_lift_deg": ("heel_lift", [10.0, 15.0, 20.0, 30.0]),
    "extension_deficit_deg": ("incomplete_extension", [5.0, 10.0, 15.0, 25.0]),
}
LONG_STRIDES = [(1.9, 2.4), (2.05, 2.8), (2.2, 3.4)]  # (stride / leg length, level impact g)


@dataclasses.dataclass
class Case:
    name: str
    pattern: str | None  # None = clean control
    side: str | None
    size: float
    seed: int
    problems: dict
    gait: dict


def make_cases(seeds: int, clean: int | None = None) -> list[Case]:
    """``seeds`` recordings per knob, side and size; ``clean`` clean controls (default
    3 x seeds)."""
    from imu_knee.simulate import SideProblems
    known = {f.name for f in dataclasses.fields(SideProblems)}
    cases = []
    for seed in range(seeds * 3 if clean is None else clean):
        cases.append(Case("clean", None, None, 0.0, 100 + seed, {}, {}))
    for knob, (pattern, sizes) in KNOBS.items():
        if knob not in known:
            print(f"note: simulator has no knob {knob}; {pattern} via it not tested", file=sys.stderr)
            continue
        for side in ("left", "right"):
            for size in sizes:
                for seed in range(seeds):
                    cases.append(Case(f"{knob}={size:g}", pattern, side, size, 200 + seed,
                                      {side: {knob: size}}, {}))
    for ratio, impact in LONG_STRIDES:
        for seed in range(seeds):
            cases.append(Case(f"stride={ratio:g}xleg,impact={impact:g}g", "long_strides", "both",
                              ratio, 300 + seed, {}, {"stride_factor": ratio, "impact_level_g": impact}))
    return cases


def truth_to_steps(truth: pd.DataFrame) -> pd.DataFrame:
    steps = truth.copy()
    if "impact_g_at_rate" in steps:
        steps["impact_g"] = steps["impact_g_at_rate"]
    if SHANK_TILT_COLUMN not in steps and "shank_forward_tilt_max_deg" in steps:
        steps[SHANK_TILT_COLUMN] = steps["shank_forward_tilt_max_deg"]
    return steps


def simulate_case(case: Case, rate_hz: float, seed_offset: int = 0):
    from imu_knee.simulate import simulate
    gait = dict(case.gait)
    leg_m = 0.91
    if "stride_factor" in gait:
        gait["stride_length_m"] = gait.pop("stride_factor") * leg_m
    return simulate(ACTIVITIES, leg_length_m=leg_m, rate_hz=rate_hz, sensors=SENSORS,
                    problems=case.problems, seed=case.seed + seed_offset, **gait)


def steps_of(result, source: str) -> pd.DataFrame:
    if source == "truth":
        return truth_to_steps(result.truth)
    from imu_knee.analysis.engine import analyze_recording
    steps, _summary = analyze_recording(result.recording)
    return steps


def synthetic_case_steps(case: Case, seed_offset: int = 0) -> pd.DataFrame:
    from imu_knee.coach.synthetic import Injection, SessionSpec, synthetic_steps
    inj = []
    if case.pattern == "long_strides":
        inj = [Injection("long_strides", s, 2.0) for s in ("left", "right")]
    elif case.pattern:
        inj = [Injection(case.pattern, case.side, 1.0 + list(KNOBS[case.name.split("=")[0]][1]).index(case.size))]
    return synthetic_steps(SessionSpec(seed=case.seed + seed_offset, injections=inj))


def classify(case: Case, findings) -> tuple[str, list[str]]:
    got = [(f.pattern, f.side) for f in findings]
    if case.pattern is None:
        return ("clean" if not got else "false alarm"), [f"{p}:{s}" for p, s in got]
    outcome = "missed"
    for p, s in got:
        if p == case.pattern:
            outcome = "found" if s == case.side else f"wrong side ({s})"
    extra = [f"{p}:{s}" for p, s in got if p != case.pattern]
    return outcome, extra


def evaluate(cases, source, rate_hz, history):
    rows = []
    for case in cases:
        t0 = time.time()
        if source == "synthetic":
            steps = synthetic_case_steps(case)
            leg_m = 0.90
            base = (Baselines.from_step_tables([synthetic_case_steps(
                dataclasses.replace(case, pattern=None), 1000 + k) for k in range(2)])
                if history else None)
        else:
            result = simulate_case(case, rate_hz)
            steps = steps_of(result, source)
            leg_m = result.recording.leg_length_m
            base = None
            if history:
                clean = dataclasses.replace(case, problems={}, gait={})
                base = Baselines.from_step_tables(
                    [steps_of(simulate_case(clean, rate_hz, 1000 + k), source) for k in range(2)])
        res = coach_steps(steps, shank_rate_hz=rate_hz, leg_length_m=leg_m, baselines=base)
        outcome, extra = classify(case, res.findings)
        conf = [f.confidence for f in res.findings if f.pattern == case.pattern]
        live = LiveCoach(baselines=base, leg_length_m=leg_m)
        cues = [c for step in steps.to_dict("records") for c in live.push_step(step)]
        rows.append({"case": case.name, "pattern": case.pattern or "clean", "side": case.side or "-",
                     "size": case.size, "seed": case.seed, "outcome": outcome,
                     "extra": extra, "confidence": round(conf[0], 2) if conf else None,
                     "found": [f"{f.pattern}:{f.side}" for f in res.findings],
                     "not_assessed": sorted({n.pattern for n in res.not_assessed}),
                     "live_cues": [f"{c.pattern}:{c.side}" for c in cues],
                     "seconds": round(time.time() - t0, 2)})
    return rows


def evaluate_dir(directory, source, rate_hz):
    """Evaluate REC.csv + REC.truth.csv files written by --write-dir (or by `imu-knee simulate`)."""
    from imu_knee.recording import read_recording
    knob_pattern = {k: p for k, (p, _s) in KNOBS.items()}
    rows = []
    for truth_path in sorted(glob.glob(os.path.join(directory, "*.truth.csv"))):
        rec_path = truth_path[:-len(".truth.csv")] + ".csv"
        rec = read_recording(rec_path)
        problems = rec.meta.get("problems", "none")
        injected = set()
        for item in problems.split():
            key, _, value = item.partition("=")
            side, _, knob = key.partition("_")
            if knob in knob_pattern and float(value) > 0:
                injected.add((knob_pattern[knob], side))
        if "long" in os.path.basename(rec_path):
            injected.add(("long_strides", "both"))
        if source == "truth":
            steps = truth_to_steps(pd.read_csv(truth_path))
            # Keep what the worn sensors could measure (truth covers both legs and knees).
            steps = steps[steps.side.map(lambda s: f"{s}_shank" in rec.streams)].copy()
            for s in ("left", "right"):
                if f"{s}_thigh" not in rec.streams:
                    steps.loc[steps.side == s, ["knee_flexion_ic_deg",
                                                "knee_min_flexion_stance_deg"]] = float("nan")
        else:
            from imu_knee.analysis.engine import analyze_recording
            steps, _ = analyze_recording(rec)
        rate = min(s.rate_hz for s in rec.streams.values())
        res = coach_steps(steps, shank_rate_hz=rate, leg_length_m=rec.leg_length_m)
        pattern, side = sorted(injected)[0] if injected else (None, None)
        if pattern and {(pattern, "left"), (pattern, "right")} <= injected:
            side = "both"
        case = Case(os.path.basename(rec_path), pattern, side, 0.0, 0, {}, {})
        outcome, extra = classify(case, res.findings)
        rows.append({"case": case.name, "pattern": pattern or "clean", "side": side or "-",
                     "size": 0.0, "seed": 0, "outcome": outcome, "extra": extra,
                     "confidence": None, "found": [f"{f.pattern}:{f.side}" for f in res.findings],
                     "not_assessed": sorted({n.pattern for n in res.not_assessed}), "seconds": 0})
    return rows


def write_cases(cases, directory, rate_hz):
    from imu_knee.simulate import write_outputs
    os.makedirs(directory, exist_ok=True)
    for case in cases:
        tag = "long" if case.pattern == "long_strides" else (case.side or "clean")
        name = f"{case.name.replace('=', '_').replace(',', '_')}_{tag}_s{case.seed}.csv"
        write_outputs(simulate_case(case, rate_hz), os.path.join(directory, name))


def report(rows) -> str:
    df = pd.DataFrame(rows)
    out = []
    out.append("| injected | side | cases | found on the right side | wrong side | missed | other findings |")
    out.append("|---|---|---|---|---|---|---|")
    for (case, side), g in df.groupby(["case", "side"], sort=False):
        n = len(g)
        found = (g.outcome == "found").sum()
        wrong = g.outcome.str.startswith("wrong").sum()
        missed = (g.outcome == "missed").sum()
        extra = sum(len(e) for e in g.extra)
        if (g.pattern == "clean").all():
            fa = (g.outcome == "false alarm").sum()
            label = "clean control" if case == "clean" else f"{case} (clean)"
            out.append(f"| {label} | - | {n} | - | - | - | {fa} with findings |")
            continue
        out.append(f"| {case} | {side} | {n} | {found} | {wrong} | {missed} | {extra} |")
    # Confusion matrix: injected pattern x found pattern (counts of cases).
    out.append("")
    header = ["injected \\ found"] + list(PATTERNS) + ["nothing"]
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "---|" * len(header))
    for pattern in ["clean"] + list(PATTERNS):
        g = df[df.pattern == pattern]
        if g.empty:
            continue
        counts = Counter()
        for found in g.found:
            pats = {f.split(":")[0] for f in found}
            counts.update(pats)
            if not pats:
                counts["nothing"] += 1
        out.append("| " + " | ".join([f"{pattern} ({len(g)})"] + [str(counts.get(p, 0)) for p in PATTERNS]
                                       + [str(counts.get("nothing", 0))]) + " |")
    inj = df[df.pattern != "clean"]
    clean = df[df.pattern == "clean"]
    out.append("")
    out.append(f"Injected cases found on the right side: {(inj.outcome == 'found').sum()}/{len(inj)}; "
               f"clean controls with any finding: {(clean.outcome != 'clean').sum()}/{len(clean)}.")
    if "live_cues" in df:
        def cue_ok(row):
            return any(c.split(":")[0] == row.pattern and
                       (row.side == "both" or c.split(":")[1] == row.side) for c in row.live_cues)
        hit = sum(cue_ok(r) for r in inj.itertuples())
        other = sum(any(c.split(":")[0] != r.pattern for c in r.live_cues) for r in inj.itertuples())
        quiet = sum(not r.live_cues for r in clean.itertuples())
        n_cues = [len(c) for c in df.live_cues]
        out.append(f"Live cues: injected cases with the pattern's cue on the right leg {hit}/{len(inj)}"
                   f" (cases with another pattern's cue: {other}); clean controls without any cue "
                   f"{quiet}/{len(clean)}; cues per recording at most {max(n_cues)}.")
    out.append("")
    out.append(detection_limits(df))
    na = Counter(p for lst in df.not_assessed for p in lst)
    if na:
        out.append("Not assessed (cases): " + ", ".join(f"{p} {n}" for p, n in sorted(na.items())))
    return "\n".join(out)


def detection_limits(df: pd.DataFrame) -> str:
    """Per injected knob: found / cases at each size, and the detection limit (the smallest
    size from which every case of that size and of all larger sizes was found)."""
    inj = df[df.pattern != "clean"].copy()
    if inj.empty or (inj["size"] == 0).all():
        return ""
    inj["knob"] = inj["case"].str.split("=").str[0]
    lines = ["| injected | found per size (both sides) | detection limit |", "|---|---|---|"]
    for knob, g in inj.groupby("knob", sort=False):
        per_size = g.groupby("size")["outcome"].agg(lambda o: ((o == "found").sum(), len(o)))
        limit = None
        for size in sorted(per_size.index, reverse=True):
            found, n = per_size[size]
            if found < n:
                break
            limit = size
        unit = knob.rsplit("_", 1)[-1] if knob != "stride" else "x leg"
        cells = ", ".join(f"{size:g}: {f}/{n}" for size, (f, n) in per_size.items())
        lines.append(f"| {knob} | {cells} | "
                     + (f"{limit:g} {unit}" if limit is not None else "not reached") + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", choices=["truth", "analysis", "synthetic"], default="truth")
    ap.add_argument("--seeds", type=int, default=2, help="recordings per pattern, side and size")
    ap.add_argument("--clean", type=int, default=12, help="clean control recordings")
    ap.add_argument("--rate", type=float, default=200.0, help="simulated sample rate, Hz")
    ap.add_argument("--history", action="store_true", help="give the coach two clean earlier sessions")
    ap.add_argument("--write-dir", help="also write the simulated recordings and truth here")
    ap.add_argument("--from-dir", help="evaluate recordings + truth CSVs from this directory")
    ap.add_argument("--json", help="write the per-case rows here")
    args = ap.parse_args(argv)
    t0 = time.time()
    if args.from_dir:
        rows = evaluate_dir(args.from_dir, args.source, args.rate)
    else:
        cases = make_cases(args.seeds, args.clean)
        if args.write_dir:
            write_cases(cases, args.write_dir, args.rate)
        rows = evaluate(cases, args.source, args.rate, args.history)
    print(f"# Coach confusion table (source: {args.source}, {args.rate:g} Hz, "
          f"history: {'yes' if args.history else 'no'})\n")
    print(report(rows))
    print(f"\n({len(rows)} cases in {time.time() - t0:.0f} s)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
