"""Analysing one recording in a worker (a local process or a Dask worker).

:func:`analyze_file` is a plain top-level function of picklable arguments and a picklable
result, so any executor can run it. It never raises for a bad recording: the error comes
back as text in :class:`FileResult` and the batch goes on with the other files.
"""

from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass, field

import pandas as pd


@dataclass
class FileResult:
    path: str
    steps: pd.DataFrame | None = None
    summary: dict | None = None
    findings: list[dict] = field(default_factory=list)
    subject: str | None = None
    recorded_at: str | None = None
    sha256: str | None = None
    error: str | None = None      # one line for the user; None = analysed
    internal: bool = False        # True: a bug, not bad input
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def coach_findings(steps: pd.DataFrame, summary: dict, rec) -> list[dict]:
    """The coach's findings: the summary's when the engine filled them in, else the coach run
    on the steps (no history baselines, so parallel and serial runs agree)."""
    found = summary.get("findings") or []
    if found:
        return [f.to_dict() if hasattr(f, "to_dict") else dict(f) for f in found]
    try:
        from ..coach import coach_steps
    except ImportError:
        return []
    shank_rates = [s.rate_hz for n, s in rec.streams.items() if n.endswith("_shank")]
    result = coach_steps(steps, shank_rate_hz=min(shank_rates) if shank_rates else None,
                         leg_length_m=summary.get("leg_length_m"))
    return [f.to_dict() for f in result.findings]


def analyze_file(path: str, leg_length_m: float | None = None, coach: bool = True) -> FileResult:
    """Read and analyse one recording; everything a batch table and the history need."""
    from ..analysis.engine import analyze_recording
    from ..errors import InputError
    from ..history.store import file_sha256, session_identity
    from ..recording import read_recording

    started = time.perf_counter()
    res = FileResult(path=str(path))
    try:
        rec = read_recording(path)
        steps, summary = analyze_recording(rec, leg_length_m=leg_length_m)
        res.steps, res.summary = steps, summary
        res.findings = coach_findings(steps, summary, rec) if coach else []
        res.subject, res.recorded_at = session_identity(rec.meta, path)
        res.sha256 = file_sha256(path)
        sensors = summary.get("sensors", {})
        if sensors and all(r.get("calibration") is None for r in sensors.values()):
            res.error = "no walking found, so no steps can be measured"
    except InputError as exc:
        res.error = str(exc)
    except MemoryError:
        res.error, res.internal = "out of memory while analysing", True
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop a cohort
        last = traceback.extract_tb(exc.__traceback__)[-1]
        res.error = (f"internal error {type(exc).__name__}: {exc} "
                     f"({os.path.basename(last.filename)}:{last.lineno})")
        res.internal = True
    res.seconds = time.perf_counter() - started
    return res
