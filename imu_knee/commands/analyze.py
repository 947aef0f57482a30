"""`imu-knee analyze REC.csv --steps STEPS.csv --summary SUMMARY.json [--leg-length M]`.

Measures every step of a recording (DESIGN.md sections 2 and 3): one row per initial contact in
STEPS.csv and per side / per activity statistics in SUMMARY.json.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..errors import InputError

MIN_USEFUL_S = 3.0


def add_arguments(parser) -> None:
    parser.add_argument("recording", type=Path, help="recording CSV (DESIGN.md section 1)")
    parser.add_argument("--steps", type=Path, required=True, help="output: one row per step (CSV)")
    parser.add_argument("--summary", type=Path, required=True, help="output: summary (JSON)")
    parser.add_argument("--leg-length", type=float, default=None, metavar="M",
                        help="leg length in m (hip bone to ankle); improves stride length")
    parser.add_argument("--quiet", action="store_true", help="no progress messages")


def run(args) -> int:
    from ..analysis.engine import analyze_recording
    from ..analysis.output import write_steps_csv, write_summary_json
    from ..recording import read_recording

    if args.leg_length is not None and not 0.4 <= args.leg_length <= 1.4:
        raise InputError(f"--leg-length {args.leg_length}: expected metres between 0.4 and 1.4")
    for out in (args.steps, args.summary):
        if out.parent and not out.parent.exists():
            raise InputError(f"{out}: folder {out.parent} does not exist")
    started = time.perf_counter()
    say = (lambda m: None) if args.quiet else (lambda m: print(f"imu-knee: {m}", file=sys.stderr))
    say(f"reading {args.recording}")
    rec = read_recording(args.recording)
    steps, summary = analyze_recording(rec, leg_length_m=args.leg_length, progress=not args.quiet)
    not_calibrated = [n for n, r in summary["sensors"].items() if r["calibration"] is None]
    if len(not_calibrated) == len(summary["sensors"]):
        if rec.duration_s < MIN_USEFUL_S:
            raise InputError(
                f"{args.recording}: only {rec.duration_s:.1f} s long, too short to hold a step;"
                " record a few seconds of standing still and then at least ten steps of walking")
        raise InputError(
            f"{args.recording}: no walking found ({', '.join(not_calibrated)} never moved like"
            " walking), so no steps can be measured; record a few seconds of standing still and"
            " then at least ten steps of walking")
    write_steps_csv(args.steps, steps)
    write_summary_json(args.summary, summary)
    for flag in summary["flags"]:
        say(f"warning: {_explain(flag)}")
    say(f"{len(steps)} steps in {time.perf_counter() - started:.2f} s -> {args.steps}, {args.summary}")
    return 0


_EXPLANATIONS = {
    "not_calibrated": "no walking found for this sensor; it gives no steps",
    "no_standing": "no quiet standing found; knee angles cannot be zeroed (left empty)",
    "rate_below_50hz": "sample rate below 50 Hz; impact is not measured",
    "acc_reaches_full_scale": "the accelerometer saturates; impacts at full scale are left empty",
    "gaps": "samples are missing (gaps); steps across a gap are flagged",
    "weak_flexion_axis": "walking did not show a clear knee flexion axis; check the sensor strap",
    "rate_below_50hz": "sample rate below 50 Hz; impact is not measured (left empty)",
}


def _explain(flag: str) -> str:
    name, _, code = flag.partition(": ")
    return f"{name}: {_EXPLANATIONS.get(code, code)}" if code else flag
