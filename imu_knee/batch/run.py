"""Many recordings in parallel, one table for all, each session stored in the history.

:func:`run_batch` runs :func:`~imu_knee.batch.worker.analyze_file` over the inputs on

- this process (``jobs=1``),
- a pool of ``jobs`` local processes (``concurrent.futures.ProcessPoolExecutor``), or
- a Dask cluster (``scheduler="tcp://host:8786"`` or a ``distributed.Client``): the same
  function on the cluster's workers, which must have imu-knee installed and see the
  recordings under the same paths (shared storage).

Results are put back in input order, so the table does not depend on how many workers ran
or in which order they finished. Sessions are stored in the history in the main process, one
transaction each, as results arrive.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import pandas as pd

from ..errors import InputError
from .progress import ProgressBar
from .worker import FileResult, analyze_file

TABLE_HEAD = ["recording", "subject", "recorded_at"]
DASK_CONNECT_TIMEOUT_S = 10.0
SESSION_METRICS = ("impact_g", "loading_rate_gps", "stride_length_m", "knee_flexion_ic_deg",
                   "knee_min_flexion_stance_deg", "frontal_range_deg", "frontal_wobble_dps")


@dataclass
class BatchResult:
    results: list[FileResult]
    table: pd.DataFrame                 # every step of every recording
    sessions: pd.DataFrame              # one row per recording (status, counts, medians)
    stored: list[int] = field(default_factory=list)   # history session ids
    history_error: str | None = None    # why storing stopped (the table is still complete)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if not r.ok]

    @property
    def exit_code(self) -> int:
        """0 all analysed; 2 some input was bad; 1 an internal error happened."""
        if any(r.internal for r in self.results):
            return 1
        return 2 if self.failed or self.history_error else 0


def _result_or_failure(fut, path: str) -> FileResult:
    """The worker's result; a worker that died (killed, out of memory, lost) fails only its
    own file."""
    try:
        return fut.result()
    except Exception as exc:  # noqa: BLE001 - BrokenProcessPool, KilledWorker, ...
        return FileResult(path=path, error=f"worker failed: {type(exc).__name__}: {exc}",
                          internal=True)


def _serial(paths: list[str], kwargs: dict) -> Iterator[tuple[int, FileResult]]:
    for i, p in enumerate(paths):
        yield i, analyze_file(p, **kwargs)


def _processes(paths: list[str], jobs: int, kwargs: dict) -> Iterator[tuple[int, FileResult]]:
    with ProcessPoolExecutor(max_workers=min(jobs, len(paths))) as pool:
        futures = {pool.submit(analyze_file, p, **kwargs): i for i, p in enumerate(paths)}
        try:
            for fut in as_completed(futures):
                i = futures[fut]
                yield i, _result_or_failure(fut, paths[i])
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise


def _dask(paths: list[str], scheduler, kwargs: dict) -> Iterator[tuple[int, FileResult]]:
    try:
        from distributed import Client, as_completed as dask_completed
    except ImportError:
        raise InputError("--scheduler needs Dask: pip install 'dask[distributed]'"
                         " (or the imu-knee 'dask' extra)") from None
    own = not isinstance(scheduler, Client)
    try:
        client = Client(str(scheduler), timeout=f"{DASK_CONNECT_TIMEOUT_S:g}s") if own else scheduler
    except (OSError, TimeoutError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    try:
        futures = client.map(analyze_file, paths, pure=False, **kwargs)
        index = {f.key: i for i, f in enumerate(futures)}
        for fut in dask_completed(futures):
            i = index[fut.key]
            yield i, _result_or_failure(fut, paths[i])
    finally:
        if own:
            client.close()


def steps_table(results: list[FileResult]) -> pd.DataFrame:
    """All steps of the analysed recordings, in input order, with recording/subject/date."""
    parts = []
    for r in results:
        if r.ok and r.steps is not None:
            d = r.steps.copy()
            d.insert(0, "recorded_at", r.recorded_at)
            d.insert(0, "subject", r.subject)
            d.insert(0, "recording", r.path)
            parts.append(d)
    if not parts:
        return pd.DataFrame(columns=TABLE_HEAD)
    return pd.concat(parts, ignore_index=True)


def sessions_table(results: list[FileResult]) -> pd.DataFrame:
    """One row per input: status, error, steps per side, cadence and medians, findings."""
    rows = []
    for r in results:
        row: dict = {"recording": r.path, "subject": r.subject, "recorded_at": r.recorded_at,
                     "status": "ok" if r.ok else "failed", "error": r.error or ""}
        if r.summary is not None:
            row["duration_s"] = r.summary.get("duration_s")
            row["n_steps"] = 0 if r.steps is None else len(r.steps)
            for side, entry in (r.summary.get("sides") or {}).items():
                stats = entry.get("all", {})
                row[f"{side}_steps"] = stats.get("count")
                row[f"{side}_cadence_spm"] = stats.get("cadence_spm")
                for m in SESSION_METRICS:
                    row[f"{side}_{m}"] = (stats.get("median") or {}).get(m)
            row["findings"] = ", ".join(f"{f['pattern']}:{f['side']}" for f in r.findings)
        rows.append(row)
    return pd.DataFrame(rows)


def run_batch(paths: Iterable[str | os.PathLike], jobs: int = 1, scheduler=None,
              out_table: str | os.PathLike | None = None, *,
              sessions_out: str | os.PathLike | None = None, leg_length_m: float | None = None,
              history: bool = True, db=None, subject: str | None = None, coach: bool = True,
              progress: bool = True, on_result: Callable[[FileResult], None] | None = None
              ) -> BatchResult:
    """Analyse many recordings; write one steps table (and a per-recording table).

    ``paths``: recording files (use :func:`~imu_knee.batch.inputs.expand_inputs` for folders
    and globs). ``jobs``: local worker processes (1 = this process). ``scheduler``: a Dask
    scheduler address or ``distributed.Client`` (then ``jobs`` is ignored: the cluster has
    its own workers). ``out_table``: CSV of every step, with ``recording``, ``subject`` and
    ``recorded_at`` in front of the DESIGN.md section 2 columns. ``sessions_out``: CSV with
    one row per recording (status, error, counts, per-side medians, findings). ``history``:
    store each analysed session (``db``: path, open HistoryDB or None = default location;
    ``subject`` overrides the recordings' own). A bad recording is reported in its row and
    the batch goes on. Outputs are written whole or not at all (temp file + rename).
    """
    paths = [str(p) for p in paths]
    if not paths:
        raise InputError("no recordings to analyse")
    if jobs < 1:
        raise InputError(f"--jobs {jobs}: expected 1 or more")
    for out in (out_table, sessions_out):
        if out is not None and not Path(out).parent.exists():
            raise InputError(f"{out}: folder {Path(out).parent} does not exist")
    hdb, own_db, history_error, stored = None, False, None, []
    if history:
        from ..history import HistoryDB, open_history
        if isinstance(db, HistoryDB):
            hdb = db
        else:
            hdb, own_db = open_history(db), True   # a damaged/locked file fails before work
    kwargs = {"leg_length_m": leg_length_m, "coach": coach}
    if scheduler is not None:
        source = _dask(paths, scheduler, kwargs)
    elif jobs > 1 and len(paths) > 1:
        source = _processes(paths, jobs, kwargs)
    else:
        source = _serial(paths, kwargs)
    results: list[FileResult | None] = [None] * len(paths)
    bar = ProgressBar(len(paths), enabled=progress)
    try:
        for i, res in source:
            if subject:
                res.subject = subject
            results[i] = res
            if hdb is not None and res.ok and history_error is None:
                try:
                    stored.append(_store(hdb, res).session_id)
                except InputError as exc:
                    history_error = str(exc)
            bar.update(Path(res.path).name, failed=not res.ok)
            if on_result is not None:
                on_result(res)
    finally:
        if own_db:
            hdb.close()
    done = [r for r in results if r is not None]
    table, per_file = steps_table(done), sessions_table(done)
    if out_table is not None:
        _write_csv(table, out_table, "%.4f")
    if sessions_out is not None:
        _write_csv(per_file, sessions_out, "%.4f")
    return BatchResult(done, table, per_file, stored, history_error)


def _store(hdb, res: FileResult):
    from ..history import store_session
    return store_session(res.steps, res.summary, db=hdb, findings=res.findings,
                         subject=res.subject, recorded_at=res.recorded_at, source=res.path,
                         source_sha256=res.sha256)


def _write_csv(df: pd.DataFrame, path, float_format: str) -> None:
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    try:
        df.to_csv(tmp, index=False, na_rep="", float_format=float_format)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"{path}: cannot write ({exc.strerror or exc})") from None
