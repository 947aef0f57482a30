"""`imu-knee replay`: replay a recording through the live engine.

    imu-knee replay REC.csv [--speed X] [--leg-length M] [--block-s S]

The recording's samples go, interleaved across sensors in time order, in blocks of `--block-s`
signal seconds (default 0.05) through the same live analysis as `imu-knee live` (engine and
coach in their worker thread), paced at real time x `--speed` (0 = as fast as possible). The
terminal shows what `live` shows: one line per step on stdout (time, side, activity, impact,
stride, the coach's cue), a progress line on stderr (position, steps so far) and, at the end,
the steps per side and activity. The analysis sets the pace when it is slower than asked
(--speed 0 always). Ctrl-C stops
cleanly: the steps so far are finished and the summary is printed. Nothing is written.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from ..errors import InputError

SPEED_MAX = 1000.0  # beyond this the pace is meaningless; use 0 for "as fast as possible"
BLOCK_MIN_S = 0.001
BLOCK_MAX_S = 5.0
MAX_BACKLOG_BLOCKS = 100  # blocks queued ahead of the analysis before the replay waits for it
FINISH_TIMEOUT_S = 120.0


def add_arguments(parser) -> None:
    parser.add_argument("recording", type=Path, metavar="REC.csv", help="recording to replay")
    parser.add_argument("--speed", type=float, default=1.0, metavar="X",
                        help=f"times real time (default 1; 0 = as fast as possible; at most {SPEED_MAX:g})")
    parser.add_argument("--leg-length", type=float, default=None, metavar="M",
                        help="leg length in m (default: the recording's)")
    parser.add_argument("--block-s", type=float, default=0.05, metavar="S",
                        help="signal seconds per block pushed to the analysis (default 0.05)")
    parser.add_argument("--status-every", type=float, default=None, metavar="S",
                        help="progress line interval (default 1 s on a terminal, 5 s otherwise)")
    parser.add_argument("--quiet", action="store_true", help="no progress messages on stderr")


def check_args(args) -> None:
    """InputError (exit 2) for options out of range."""
    if not (math.isfinite(args.speed) and 0 <= args.speed <= SPEED_MAX):
        raise InputError(f"--speed {args.speed}: expected 0 (as fast as possible) up to {SPEED_MAX:g} x real time")
    if not (math.isfinite(args.block_s) and BLOCK_MIN_S <= args.block_s <= BLOCK_MAX_S):
        raise InputError(f"--block-s {args.block_s}: expected seconds between {BLOCK_MIN_S:g} and {BLOCK_MAX_S:g}")
    if args.status_every is not None and not (math.isfinite(args.status_every) and args.status_every > 0):
        raise InputError(f"--status-every {args.status_every}: must be more than 0 seconds")
    if args.leg_length is not None and not 0.4 <= args.leg_length <= 1.4:
        raise InputError(f"--leg-length {args.leg_length}: expected metres between 0.4 and 1.4")


def run(args) -> int:
    from ..ble.live_analysis import LiveAnalysis, console_line, step_summary_lines
    from ..recording import read_recording
    from ..replay_source import play, recording_span_s
    from .live import Console

    check_args(args)
    rec = read_recording(args.recording)  # its errors are one-line InputErrors
    import imu_knee.analysis.engine  # noqa: F401  (imported before the replay clock starts,
    import imu_knee.coach.cues  # noqa: F401       not by the worker at the first block)
    streams = {n: s for n, s in rec.streams.items() if len(s.t_s)}
    if not streams:
        raise InputError(f"{args.recording}: no sensor data")
    t_start_s, t_end_s = recording_span_s(rec)
    console = Console(quiet=args.quiet)
    leg_length_m = args.leg_length or rec.leg_length_m

    def show(event) -> None:
        line = console_line(event)  # the step at its contact row; a follow-up for a cue
        if line:
            console.line(line)

    live = LiveAnalysis(lambda: {n: s.rate_hz for n, s in streams.items()}, leg_length_m=leg_length_m,
                        on_row=show).start()
    pace = "as fast as possible" if args.speed == 0 else f"at {args.speed:g} x real time"
    console.note(f"replaying {args.recording.name} ({', '.join(streams)}, {t_end_s - t_start_s:.1f} s) {pace}")
    stop = threading.Event()
    wall0 = time.monotonic()

    def push(sensor, t_s, acc_mps2, gyr_dps) -> None:
        # faster than the analysis (--speed 0, a slow machine): wait, so the queue stays short,
        # the position is what has been analysed and Ctrl-C stops promptly
        while live.backlog() > MAX_BACKLOG_BLOCKS and not stop.is_set():
            time.sleep(0.005)
        live.push(sensor, t_s, acc_mps2, gyr_dps)

    every_s = args.status_every or (1.0 if console.tty else 5.0)
    next_status = [wall0 + every_s]

    def progress(end_s: float) -> None:
        now = time.monotonic()
        if now >= next_status[0]:
            next_status[0] = now + every_s
            steps = sum(1 for e in list(live.events) if e.final)
            console.status(f"{end_s - t_start_s:5.0f}/{t_end_s - t_start_s:.0f} s | steps {steps}")

    try:
        with _stop_on_interrupt(stop):
            reached_s = play(rec, push, speed=args.speed, block_s=args.block_s, stop=stop, on_block=progress)
    finally:
        console.end_status()
        if stop.is_set():
            console.note("stopping (Ctrl-C again to abort)")
        live.finish(timeout_s=FINISH_TIMEOUT_S)
    wall_s = time.monotonic() - wall0
    how = " (stopped by Ctrl-C)" if stop.is_set() else ""
    lines = [f"replayed: {reached_s - t_start_s:.1f} of {t_end_s - t_start_s:.1f} s in {wall_s:.1f} s{how}"]
    error = None if live.error is None else f"{type(live.error).__name__}: {live.error}"
    lines += step_summary_lines(live.step_counts(), error)
    for line in lines:
        console.line(line)
    return 0


@contextmanager
def _stop_on_interrupt(stop: threading.Event):
    """The first Ctrl-C sets `stop` (the replay ends cleanly); a second one interrupts as usual.
    Only in the main thread (elsewhere Ctrl-C is not delivered to us anyway). The handler only
    sets the event: printing from it could wait forever on the console lock it interrupted."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def first(signum, frame) -> None:
        stop.set()
        signal.signal(signal.SIGINT, previous)

    signal.signal(signal.SIGINT, first)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
