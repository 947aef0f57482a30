"""`imu-knee analyze REC.csv --steps STEPS.csv --summary SUMMARY.json [--leg-length M]`.

Measures every step of a recording (DESIGN.md sections 2 and 3): one row per initial contact in
STEPS.csv, per side / per activity statistics and the coach's findings in SUMMARY.json, and
stores the session in the history. Several recordings (files, folders, globs) or ``--table``
make it a batch (imu_knee.batch).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..errors import InputError

MIN_USEFUL_S = 3.0


def add_arguments(parser) -> None:
    from ..batch import cli as batch_cli

    parser.add_argument("recording", nargs="+",
                        help="recording CSV (DESIGN.md section 1); several files, folders or"
                             " globs for a batch")
    parser.add_argument("--steps", type=Path, default=None, help="output: one row per step (CSV)")
    parser.add_argument("--summary", type=Path, default=None,
                        help="output: summary with the coach's findings (JSON)")
    parser.add_argument("--leg-length", type=float, default=None, metavar="M",
                        help="leg length in m (hip bone to ankle); improves stride length")
    parser.add_argument("--quiet", action="store_true", help="no progress messages")
    batch_cli.add_arguments(parser)


def run(args) -> int:
    from ..background import InBackground
    from ..batch import cli as batch_cli
    from ..heap import keep_freed_memory
    from ..recording import read_recording

    keep_freed_memory()  # the analysis' temporaries reuse freed heap (imu_knee/heap.py)
    if batch_cli.wants_batch(args):
        return batch_cli.run_batch_from_args(args)
    args.recording = Path(args.recording[0])
    if args.steps is None or args.summary is None:
        raise InputError("--steps STEPS.csv and --summary SUMMARY.json are required for one"
                         " recording (or --table TABLE.csv for a batch)")

    if args.leg_length is not None and not 0.4 <= args.leg_length <= 1.4:
        raise InputError(f"--leg-length {args.leg_length}: expected metres between 0.4 and 1.4")
    for out in (args.steps, args.summary):
        if out.parent and not out.parent.exists():
            raise InputError(f"{out}: folder {out.parent} does not exist")
    started = time.perf_counter()
    say = (lambda m: None) if args.quiet else (lambda m: print(f"imu-knee: {m}", file=sys.stderr))
    say(f"reading {args.recording}")
    reading = InBackground(read_recording, args.recording)
    # while the file is read, the analysis modules load (SciPy takes about a second)
    from ..analysis.engine import analyze_recording
    from ..analysis.output import write_steps_csv, write_summary_json
    from ..batch.worker import coach_findings

    rec = reading.result()
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
    summary["findings"] = coach_findings(steps, summary, rec)
    write_steps_csv(args.steps, steps)
    write_summary_json(args.summary, summary)
    batch_cli.store_after_analyze(args, rec, steps, summary)
    for flag in summary["flags"]:
        say(f"warning: {_explain(flag)}")
    say(f"{len(steps)} steps in {time.perf_counter() - started:.2f} s -> {args.steps}, {args.summary}")
    if not args.quiet:
        print(session_text(summary))
    return 0


ACTIVITY_WORDS = {"level": "level walking", "stairs_up": "stairs up", "stairs_down": "stairs down"}


def session_text(summary: dict) -> str:
    """A few plain lines for a person: steps per leg and activity, then what the coach found."""
    lines = []
    for side, per_activity in summary.get("sides", {}).items():
        parts = [f"{stats['count']} {ACTIVITY_WORDS.get(activity, activity)}"
                 for activity, stats in per_activity.items() if activity != "all" and stats["count"]]
        total = per_activity.get("all", {}).get("count", 0)
        lines.append(f"{side.capitalize()} leg: {total} steps ({', '.join(parts) or 'none'})")
    findings = summary.get("findings", [])
    if not findings:
        lines.append("Nothing worth flagging in this session.")
    for f in findings:
        lines.append(f"- {f.get('title', f['pattern'])} ({f['side']}): {f['evidence']}")
        if f.get("cue"):
            lines.append(f"  Try: {f['cue']}")
    if findings:
        lines.append(findings[0].get("safety", ""))
    return "\n".join(line for line in lines if line)


_EXPLANATIONS = {
    "not_calibrated": "no walking found for this sensor; it gives no steps",
    "no_standing": "no quiet standing found; knee angles cannot be zeroed (left empty)",
    "acc_reaches_full_scale": "the accelerometer saturates; impacts at full scale are left empty",
    "gaps": "samples are missing (gaps); steps across a gap are flagged",
    "weak_flexion_axis": "walking did not show a clear knee flexion axis; check the sensor strap",
    "rate_below_50hz": "sample rate below 50 Hz; impact is not measured (left empty)",
}


def _explain(flag: str) -> str:
    name, _, code = flag.partition(": ")
    return f"{name}: {_EXPLANATIONS.get(code, code)}" if code else flag
