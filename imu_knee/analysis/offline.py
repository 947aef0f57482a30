"""Whole-recording analysis: what ``imu-knee analyze`` and the session report run.

    result = analyze_whole(rec, knee=True)
    result.steps            # final step rows (DataFrame, DESIGN.md section 2 column order)
    result.summary          # SUMMARY.json content (findings still empty: the coach adds them)
    result.knee["left"]     # KneeSeries: t_s, flexion_deg, or .missing = why there is none

Each leg is analysed by its own :class:`~.engine.Engine` (the same engine the live analysis
feeds block by block): an engine's legs never read each other's samples, so the rows are
the same as from one engine for all sensors. With sensors on both legs and a long enough
recording the two legs run at the same time, one of them in a forked child process
(:mod:`.forked`; the analysis holds the GIL, so threads would not help); the result is the
same either way (tested).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import pandas as pd

from ..heap import release_free_memory
from ..recording import Recording
from .engine import DEFAULT_LEG_LENGTH_M, Engine, EngineConfig, join_step_frames
from .forked import FAILED, ForkedCall, can_fork
from .knee_series import KneeSeries
from .summary import SessionFacts, build_summary

# below this many samples (all sensors; 4 x 100 Hz for about 2 minutes) a second process
# costs about as much as it saves on a busy 2-core machine
PARALLEL_MIN_SAMPLES = 50_000


@dataclass
class RecordingAnalysis:
    """The result of :func:`analyze_whole`."""

    steps: pd.DataFrame
    summary: dict
    leg_length_m: float
    # per instrumented leg (only when asked for with knee=True)
    knee: dict[str, KneeSeries] = field(default_factory=dict)


@dataclass
class _LegResult:
    """One leg's part (picklable: it may come from a child process)."""

    steps: pd.DataFrame  # the final rows as a table (a table pickles far faster than rows)
    sensors: dict[str, dict]
    knee_report: dict[str, dict]
    sides: list[str]
    knee: dict[str, KneeSeries]


def _session_facts(parts: list[_LegResult], order: list[str],
                   leg_length_m: float | None) -> SessionFacts:
    """The legs' reports together, sensors in the recording's order."""
    sensors = {n: r for p in parts for n, r in p.sensors.items()}
    knee = {s: r for p in parts for s, r in p.knee_report.items()}
    return SessionFacts(
        leg_length_m=leg_length_m or DEFAULT_LEG_LENGTH_M,
        leg_length_given=leg_length_m is not None,
        sensors={n: sensors[n] for n in order},
        knee={s: knee[s] for s in ("left", "right") if s in knee},
        sides=[s for s in ("left", "right") if any(s in p.sides for p in parts)])


def _analyse_leg(rec: Recording, names: list[str], leg_length_m: float | None,
                 config: EngineConfig | None, knee: bool) -> _LegResult:
    """One engine over the sensors ``names`` (one leg's), pushed whole."""
    engine = Engine({n: rec.streams[n].rate_hz for n in names}, leg_length_m=leg_length_m,
                    config=config, notices=False, table=True)
    for name in names:
        s = rec.streams[name]
        engine.push(name, s.t_s, s.acc_mps2, s.gyr_dps)
    engine.finish()
    return _LegResult(engine.final_table(), engine.sensor_report(), engine.knee_report(),
                      list(engine.sides), engine.knee_series() if knee else {})


def _use_two_processes(rec: Recording, legs: list[list[str]], parallel: bool | None) -> bool:
    if len(legs) < 2 or parallel is False:
        return False
    if parallel is None and sum(len(s) for s in rec.streams.values()) < PARALLEL_MIN_SAMPLES:
        return False
    return can_fork()


def analyze_whole(rec: Recording, leg_length_m: float | None = None,
                  config: EngineConfig | None = None, progress: bool = False,
                  knee: bool = False, parallel: bool | None = None) -> RecordingAnalysis:
    """Analyse a whole recording. ``knee``: also return each leg's knee flexion series.

    ``parallel``: None (default) analyses the two legs in two processes when that pays (both
    legs instrumented, at least :data:`PARALLEL_MIN_SAMPLES` samples, fork available, two
    CPUs, not inside a pool worker); True: whenever possible; False: never. Same result."""
    if not rec.streams:
        raise ValueError("the recording has no sensors")
    leg = leg_length_m or rec.leg_length_m
    legs = [[n for n in rec.streams if n.startswith(side)] for side in ("left", "right")]
    legs = [names for names in legs if names]
    if progress:
        for name, s in rec.streams.items():
            print(f"imu-knee: analysing {name} ({len(s)} samples)", file=sys.stderr)
    parts: list[_LegResult] = []
    if _use_two_processes(rec, legs, parallel):
        release_free_memory()  # no free heap pages left shared with the child (copy on write)
        with ForkedCall(_analyse_leg, rec, legs[1], leg, config, knee) as child:
            parts.append(_analyse_leg(rec, legs[0], leg, config, knee))
            other = child.result()
        # a child that failed: its leg again here (an error then shows as it would serially)
        parts.append(other if other is not FAILED else _analyse_leg(rec, legs[1], leg, config, knee))
    else:
        parts = [_analyse_leg(rec, names, leg, config, knee) for names in legs]
    steps = join_step_frames([p.steps for p in parts])
    facts = _session_facts(parts, list(rec.streams), leg)
    summary = build_summary(steps, facts, rec)
    series = {s: k for p in parts for s, k in p.knee.items()}
    return RecordingAnalysis(steps, summary, facts.leg_length_m,
                             {s: series[s] for s in ("left", "right") if s in series})
