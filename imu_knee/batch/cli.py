"""What ``imu-knee analyze`` needs for many inputs and for the history (owned by the batch).

``analyze.py`` calls :func:`add_arguments` from its own ``add_arguments``; then in ``run``:
more than one input (or a folder, a glob, ``--table``) goes to :func:`run_batch_from_args`;
a single recording analysed the usual way ends with :func:`store_after_analyze`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..commands.history import add_history_options
from ..errors import InputError


def add_arguments(parser) -> None:
    """The batch and history options of ``imu-knee analyze``."""
    parser.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                        help="analyse N recordings at once in local processes (batch)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="run the batch on a Dask cluster (e.g. tcp://host:8786); workers"
                             " need imu-knee and the same paths to the recordings")
    parser.add_argument("--table", type=Path, default=None, metavar="TABLE.csv",
                        help="batch output: every step of every recording in one CSV")
    parser.add_argument("--sessions-table", type=Path, default=None, metavar="SESSIONS.csv",
                        help="batch output: one row per recording (status, medians, findings)")
    parser.add_argument("--no-history", action="store_true",
                        help="do not store the session(s) in the history database")
    add_history_options(parser, "whose sessions these are (default: from the recording, else 'me')")


def wants_batch(args) -> bool:
    """True when the inputs or options call for the batch path: several inputs, a folder, a
    glob, ``--table``/``--sessions-table`` or ``--scheduler`` (``--jobs`` alone with one file
    keeps the single-recording path)."""
    inputs = args.recording if isinstance(args.recording, list) else [args.recording]
    return (len(inputs) > 1 or args.table is not None or args.sessions_table is not None
            or args.scheduler is not None
            or any(Path(str(p)).is_dir() or any(c in str(p) for c in "*?[") for p in inputs))


def run_batch_from_args(args) -> int:
    """The batch: expand inputs, analyse, write --table/--sessions-table, store; exit code."""
    from .inputs import expand_inputs
    from .run import run_batch

    if args.table is None and args.sessions_table is None and args.no_history:
        raise InputError("several recordings need --table TABLE.csv (or --sessions-table),"
                         " or the history (drop --no-history)")
    if getattr(args, "steps", None) is not None or getattr(args, "summary", None) is not None:
        raise InputError("--steps/--summary are for one recording; for several use --table")
    skipped: list[Path] = []
    paths = expand_inputs(args.recording if isinstance(args.recording, list) else [args.recording],
                          skipped)
    quiet = getattr(args, "quiet", False)
    if skipped and not quiet:
        print(f"imu-knee: skipped {len(skipped)} CSV file(s) that are not recordings"
              f" (e.g. {skipped[0]})", file=sys.stderr)
    if not paths:
        raise InputError("no recordings found among the inputs")
    result = run_batch(paths, jobs=args.jobs, scheduler=args.scheduler, out_table=args.table,
                       sessions_out=args.sessions_table, leg_length_m=args.leg_length,
                       history=not args.no_history, db=args.db, subject=args.subject,
                       progress=not quiet)
    for r in result.failed:
        text = r.error if r.error.startswith(r.path) else f"{r.path}: {r.error}"
        print(f"imu-knee: {text}", file=sys.stderr)
    if result.history_error:
        print(f"imu-knee: history not updated: {result.history_error}", file=sys.stderr)
    if not quiet:
        ok = len(result.results) - len(result.failed)
        outs = [str(p) for p in (args.table, args.sessions_table) if p is not None]
        stored = f", {len(result.stored)} stored in the history" if result.stored else ""
        print(f"imu-knee: {ok}/{len(result.results)} recordings, {len(result.table)} steps"
              f"{' -> ' + ', '.join(outs) if outs else ''}{stored}", file=sys.stderr)
    return result.exit_code


def store_after_analyze(args, rec, steps, summary) -> None:
    """After a single-recording analyze: store the session unless --no-history.

    A history problem (locked, damaged) is a warning: STEPS.csv and SUMMARY.json are
    already written, so the analysis is not lost.
    """
    if getattr(args, "no_history", False):
        return
    from .hooks import store_session
    try:
        stored = store_session(args.recording if not isinstance(args.recording, list)
                               else args.recording[0], rec, steps, summary, db=args.db,
                               subject=args.subject)
    except InputError as exc:
        print(f"imu-knee: warning: history not updated: {exc}", file=sys.stderr)
        return
    if not getattr(args, "quiet", False):
        what = "replaced" if stored.replaced else "stored"
        print(f"imu-knee: session {stored.session_id} {what} in the history", file=sys.stderr)
