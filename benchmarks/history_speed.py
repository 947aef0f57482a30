"""Speed of the history (and of the batch) with realistic sessions.

    python benchmarks/history_speed.py [--sessions 100] [--steps 600] [--batch 6] [--jobs 2]

History: stores ``--sessions`` sessions (one every 2-3 days, about 8 months) whose per-step
rows come from analysing a simulated walk (level + stairs, both shanks and thighs), tiled to
``--steps`` rows each with varied values, every second session with a finding. Then times
the queries a user waits for - listing, weekly trends, the report's earlier sessions, the
4-6 week rule, the whole ``imu-knee history`` command - and the CSV export.
Requirement: history query over 100 sessions < 0.5 s.

Batch (``--batch N``, 0 = skip): analyses N small simulated recordings serially and with
``--jobs`` processes, checks both give the same table, and prints the speed-up.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imu_knee.analysis.engine import analyze_recording  # noqa: E402
from imu_knee.cli import main as cli_main  # noqa: E402
from imu_knee.history import (export_steps_csv, list_sessions, open_history,  # noqa: E402
                              persistent_findings, store_session, trend_for_report,
                              weekly_trends)
from imu_knee.simulate import simulate, write_simulated_recording  # noqa: E402

START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone.utc)


def timed(fn, repeat: int = 5) -> tuple[float, float]:
    """(first call, median of the next calls) in seconds."""
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    rest = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        rest.append(time.perf_counter() - t0)
    return first, statistics.median(rest)


def base_steps() -> pd.DataFrame:
    sim = simulate("level:30,stairs_down:12,stairs_up:12", rate_hz=100, seed=3,
                   sensors=("left_shank", "right_shank", "left_thigh", "right_thigh"))
    steps, _ = analyze_recording(sim.recording)
    return steps


def session_steps(base: pd.DataFrame, n: int, k: int, rng) -> pd.DataFrame:
    reps = int(np.ceil(n / len(base)))
    df = pd.concat([base] * reps, ignore_index=True).iloc[:n].copy()
    df["ic_s"] = np.arange(n) * 0.55 + 3.0
    df["to_s"] = df["ic_s"] + 0.6
    for col in ("impact_g", "loading_rate_gps", "frontal_wobble_dps", "stride_length_m"):
        if col in df:
            df[col] = df[col] * (1.0 + 0.05 * rng.standard_normal(n)) * (1.0 - 0.001 * k)
    return df


def history_benchmark(n_sessions: int, n_steps: int) -> None:
    folder = Path(tempfile.mkdtemp())
    db_path = folder / "history.sqlite"
    base = base_steps()
    rng = np.random.default_rng(0)
    finding = {"pattern": "hard_landing", "side": "left", "evidence": "benchmark",
               "evidence_detail": [{"metric": "impact_g", "activity": "stairs_down"}]}
    store_times = []
    with open_history(db_path) as db:
        for k in range(n_sessions):
            steps = session_steps(base, n_steps, k, rng)
            t0 = time.perf_counter()
            store_session(steps, {"duration_s": float(steps["ic_s"].max())}, db=db,
                          findings=[finding] if k % 2 else [],
                          recorded_at=START + dt.timedelta(days=2.4 * k))
            store_times.append(time.perf_counter() - t0)
    size_mb = db_path.stat().st_size / 1e6
    print(f"history: {n_sessions} sessions x {n_steps} steps, file {size_mb:.1f} MB")
    print(f"  store one session: median {1000 * statistics.median(store_times):.1f} ms,"
          f" max {1000 * max(store_times):.1f} ms (one transaction each, fsync on commit)")
    rows = [
        ("list sessions", lambda: list_sessions(db_path)),
        ("weekly trends, all metrics", lambda: weekly_trends(db_path)),
        ("weekly trends, impact_g", lambda: weekly_trends(db_path, metric="impact_g")),
        ("trend_for_report (all earlier)", lambda: trend_for_report(db_path)),
        ("4-6 week rule", lambda: persistent_findings(db_path)),
    ]
    total_first = 0.0
    for name, fn in rows:
        first, med = timed(fn)
        total_first += first
        print(f"  {name:32} first {1000 * first:7.1f} ms   then {1000 * med:7.1f} ms")

    def command():
        with contextlib.redirect_stdout(io.StringIO()):
            assert cli_main(["history", "--db", str(db_path)]) == 0

    first, med = timed(command, repeat=3)
    print(f"  {'imu-knee history (in-process)':32} first {1000 * first:7.1f} ms   then"
          f" {1000 * med:7.1f} ms")
    t0 = time.perf_counter()
    n = export_steps_csv(folder / "all.csv", db_path)
    print(f"  export {n} steps to CSV: {time.perf_counter() - t0:.2f} s")
    verdict = "PASS" if total_first < 0.5 and first < 0.5 else "FAIL"
    print(f"  requirement: queries < 0.5 s -> {verdict} (all queries cold {total_first:.3f} s,"
          f" whole command {first:.3f} s)")


def batch_benchmark(n: int, jobs: int) -> None:
    from imu_knee.batch import run_batch

    folder = Path(tempfile.mkdtemp())
    paths = []
    for i in range(n):
        sim = simulate("level:40,stairs_down:10", rate_hz=100, seed=100 + i,
                       sensors=("left_shank", "right_shank", "left_thigh", "right_thigh"))
        path = folder / f"rec{i}.csv"
        write_simulated_recording(path, sim)
        paths.append(path)
    t0 = time.perf_counter()
    serial = run_batch(paths, jobs=1, out_table=folder / "serial.csv", history=False, progress=False)
    t_serial = time.perf_counter() - t0
    t0 = time.perf_counter()
    par = run_batch(paths, jobs=jobs, out_table=folder / "par.csv", history=False, progress=False)
    t_par = time.perf_counter() - t0
    same = (folder / "serial.csv").read_bytes() == (folder / "par.csv").read_bytes()
    print(f"batch: {n} recordings ({len(serial.table)} steps): serial {t_serial:.2f} s,"
          f" --jobs {jobs} {t_par:.2f} s (x{t_serial / t_par:.2f}), same table: {same}")
    try:
        from distributed import LocalCluster
    except ImportError:
        print("  dask: not installed, skipped")
        return
    with LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        t0 = time.perf_counter()
        run_batch(paths, scheduler=cluster.scheduler_address, out_table=folder / "dask.csv",
                  history=False, progress=False)
        t_dask = time.perf_counter() - t0
    same = (folder / "serial.csv").read_bytes() == (folder / "dask.csv").read_bytes()
    print(f"  dask LocalCluster ({jobs} worker processes): {t_dask:.2f} s, same table: {same}")
    del par


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--steps", type=int, default=600, help="steps per session")
    ap.add_argument("--batch", type=int, default=6, help="recordings for the batch part (0: skip)")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    history_benchmark(args.sessions, args.steps)
    if args.batch:
        batch_benchmark(args.batch, args.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
