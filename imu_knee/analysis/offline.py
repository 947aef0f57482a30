"""Whole-recording analysis: what ``imu-knee analyze`` and the session report run.

    result = analyze_whole(rec, knee=True)
    result.steps            # final step rows (DataFrame, DESIGN.md section 2 column order)
    result.summary          # SUMMARY.json content (findings still empty: the coach adds them)
    result.knee["left"]     # KneeSeries: t_s, flexion_deg, or .missing = why there is none

It pushes every sensor's whole stream into one :class:`~.engine.Engine` (the same engine the
live analysis feeds block by block).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import pandas as pd

from ..recording import Recording
from .engine import Engine, EngineConfig, rows_to_frame
from .knee_series import KneeSeries
from .summary import build_summary


@dataclass
class RecordingAnalysis:
    """The result of :func:`analyze_whole`."""

    steps: pd.DataFrame
    summary: dict
    leg_length_m: float
    # per instrumented leg (only when asked for with knee=True)
    knee: dict[str, KneeSeries] = field(default_factory=dict)


def analyze_whole(rec: Recording, leg_length_m: float | None = None,
                  config: EngineConfig | None = None, progress: bool = False,
                  knee: bool = False) -> RecordingAnalysis:
    """Analyse a whole recording. ``knee``: also return each leg's knee flexion series."""
    if not rec.streams:
        raise ValueError("the recording has no sensors")
    engine = Engine({n: s.rate_hz for n, s in rec.streams.items()},
                    leg_length_m=leg_length_m or rec.leg_length_m, config=config)
    rows = []
    for name, s in rec.streams.items():
        if progress:
            print(f"imu-knee: analysing {name} ({len(s)} samples)", file=sys.stderr)
        rows.extend(engine.push(name, s.t_s, s.acc_mps2, s.gyr_dps))
    rows.extend(engine.finish())
    steps = rows_to_frame(rows)
    summary = build_summary(steps, engine, rec)
    return RecordingAnalysis(steps, summary, engine.leg_length_m,
                             engine.knee_series() if knee else {})
