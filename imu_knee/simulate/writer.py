"""Write a simulated recording (DESIGN.md section 1) compactly, and its truth file."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from ..recording import format_header
from .api import SimulationResult
from .truth import write_truth


def write_simulated_recording(path: str | os.PathLike, result: SimulationResult) -> None:
    """Rows of all sensors merged in time order. Precision matches the simulated sensor
    noise (1 mm/s² acc, 0.01 deg/s gyro), which keeps bundled files small."""
    rec = result.recording
    sensors = {n: {"device": s.device, "rate_hz": f"{s.rate_hz:g}"} for n, s in rec.streams.items()}
    names = list(rec.streams)
    t = np.concatenate([rec.streams[n].t_s for n in names])
    which = np.concatenate([np.full(len(rec.streams[n]), i) for i, n in enumerate(names)])
    acc = np.concatenate([rec.streams[n].acc_mps2 for n in names])
    gyr = np.concatenate([rec.streams[n].gyr_dps for n in names])
    order = np.lexsort((which, t))
    df = pd.DataFrame({
        "timestamp_s": np.round(t[order], 5),
        "sensor": np.array(names, dtype=object)[which[order]],
        **{f"acc_{a}": np.round(acc[order, k], 3) for k, a in enumerate("xyz")},
        **{f"gyr_{a}": np.round(gyr[order, k], 2) for k, a in enumerate("xyz")},
    })
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(format_header(sensors, result.meta, with_columns=False))
        df.to_csv(fh, index=False, lineterminator="\n")


def write_outputs(result: SimulationResult, recording_path, truth_path=None) -> str:
    """Write the recording and its truth (default ``REC.truth.csv``); returns the truth path."""
    recording_path = str(recording_path)
    if truth_path is None:
        stem = recording_path[:-4] if recording_path.lower().endswith(".csv") else recording_path
        truth_path = stem + ".truth.csv"
    write_simulated_recording(recording_path, result)
    write_truth(truth_path, result.truth)
    return str(truth_path)
