"""Batch analysis: many recordings, one table; local processes and a local Dask cluster."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import pytest

from imu_knee.batch import expand_inputs, run_batch, store_session
from imu_knee.batch import cli as batch_cli
from imu_knee.errors import InputError
from imu_knee.history import list_sessions, load_steps
from imu_knee.recording import read_recording
from imu_knee.simulate import simulate, write_simulated_recording


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> Path:
    """Three tiny simulated walks (one with stairs, one with a named subject) and a bad file."""
    folder = tmp_path_factory.mktemp("cohort")
    specs = [("level:6", ("left_shank", "right_shank")),
             ("level:4,stairs_down:4", ("left_shank", "right_shank")),
             ("level:6", ("left_shank",))]
    for i, (acts, sensors) in enumerate(specs):
        result = simulate(acts, rate_hz=100, seed=10 + i, sensors=sensors)
        write_simulated_recording(folder / f"walk{i}.csv", result)
    # one recording names its subject and date in its metadata
    text = (folder / "walk2.csv").read_text()
    (folder / "walk2.csv").write_text(
        "# imu-knee recording 1\n# subject_id: p07\n# start_utc: 2026-03-02T10:00:00Z\n"
        + text.split("\n", 1)[1])
    (folder / "broken.csv").write_text("timestamp_s,sensor\nnot a recording\n")
    return folder


def good(folder: Path) -> list[Path]:
    return sorted(folder.glob("walk*.csv"))


def test_expand_inputs_folders_globs_and_missing(recordings, tmp_path):
    assert expand_inputs([recordings]) == sorted(recordings.glob("*.csv"))
    assert expand_inputs([str(recordings / "walk*.csv")]) == good(recordings)
    # duplicates dropped, order kept
    one = recordings / "walk1.csv"
    assert expand_inputs([one, str(recordings / "walk?.csv")])[0] == one
    assert len(expand_inputs([one, str(recordings / "walk?.csv")])) == 3
    # a folder with analysis outputs beside a recording: only the recording is an input
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "walk.csv").write_bytes((recordings / "walk0.csv").read_bytes())
    (mixed / "walk.steps.csv").write_text("side,ic_s\nleft,1.0\n")
    (mixed / "table.csv").write_text("recording,side,ic_s\nx,left,1.0\n")
    skipped: list[Path] = []
    assert expand_inputs([mixed], skipped) == [mixed / "walk.csv"]
    assert skipped == [mixed / "table.csv"]
    assert expand_inputs([mixed / "table.csv"]) == [mixed / "table.csv"]  # named: kept
    with pytest.raises(InputError, match="no such file"):
        expand_inputs([recordings / "nope.csv"])
    with pytest.raises(InputError, match="matches no file"):
        expand_inputs([str(recordings / "*.xyz")])


def test_parallel_gives_the_same_table_as_serial(recordings, tmp_path):
    paths = expand_inputs([recordings])
    serial = run_batch(paths, jobs=1, out_table=tmp_path / "serial.csv",
                       sessions_out=tmp_path / "s_sessions.csv", history=False, progress=False)
    parallel = run_batch(paths, jobs=2, out_table=tmp_path / "parallel.csv",
                         sessions_out=tmp_path / "p_sessions.csv", history=False, progress=False)
    assert (tmp_path / "serial.csv").read_bytes() == (tmp_path / "parallel.csv").read_bytes()
    assert (tmp_path / "s_sessions.csv").read_bytes() == (tmp_path / "p_sessions.csv").read_bytes()
    table = pd.read_csv(tmp_path / "serial.csv")
    # every good recording is in the table, in input order, each with its own steps
    assert list(dict.fromkeys(table["recording"])) == [str(p) for p in good(recordings)]
    for p in good(recordings):
        steps = table[table["recording"] == str(p)]
        assert len(steps) >= 5 and steps["ic_s"].is_monotonic_increasing
    assert set(table.loc[table["recording"] == str(recordings / "walk2.csv"), "side"]) == {"left"}
    assert (table.loc[table["recording"] == str(recordings / "walk2.csv"), "subject"] == "p07").all()
    # the bad file is reported, not fatal
    assert parallel.exit_code == serial.exit_code == 2
    assert serial.exit_code == 2 and [r.path for r in serial.failed] == [str(recordings / "broken.csv")]
    per_file = pd.read_csv(tmp_path / "s_sessions.csv")
    assert list(per_file["status"]) == ["failed", "ok", "ok", "ok"]
    assert "header" in per_file.loc[0, "error"] or "line" in per_file.loc[0, "error"]


def test_batch_stores_each_session_once(recordings, tmp_path):
    db = tmp_path / "h.sqlite"
    paths = good(recordings)
    first = run_batch(paths, jobs=2, db=db, progress=False)
    assert first.exit_code == 0 and len(first.stored) == 3
    sessions = list_sessions(db)
    assert len(sessions) == 3
    assert set(sessions["subject"]) == {"me", "p07"}
    assert "2026-03-02T10:00:00Z" in set(sessions["recorded_at"])
    assert len(load_steps(db)) == len(first.table)
    again = run_batch(paths, jobs=1, db=db, progress=False)  # re-analysis replaces
    assert sorted(again.stored) == sorted(first.stored) and len(list_sessions(db)) == 3


def test_batch_refuses_a_damaged_history_before_working(recordings, tmp_path):
    bad = tmp_path / "h.sqlite"
    bad.write_bytes(b"garbage" * 500)
    before = bad.read_bytes()
    with pytest.raises(InputError, match="damaged or not a database"):
        run_batch(good(recordings), db=bad, out_table=tmp_path / "t.csv", progress=False)
    assert bad.read_bytes() == before and not (tmp_path / "t.csv").exists()


def test_store_hook_for_single_analyze(recordings, tmp_path):
    from imu_knee.analysis.engine import analyze_recording

    path = recordings / "walk2.csv"
    rec = read_recording(path)
    steps, summary = analyze_recording(rec)
    db = tmp_path / "h.sqlite"
    stored = store_session(path, rec, steps, summary, db=db)
    assert stored.subject == "p07" and stored.recorded_at == "2026-03-02T10:00:00Z"
    assert stored.n_steps == len(steps)
    again = store_session(path, rec, steps, summary, db=db)
    assert again.replaced and again.session_id == stored.session_id


def _analyze_parser() -> argparse.ArgumentParser:
    """The analyze options as the lead will wire them: positional inputs + batch options."""
    p = argparse.ArgumentParser()
    p.add_argument("recording", nargs="+")
    p.add_argument("--steps", type=Path, default=None)
    p.add_argument("--summary", type=Path, default=None)
    p.add_argument("--leg-length", type=float, default=None)
    p.add_argument("--quiet", action="store_true")
    batch_cli.add_arguments(p)
    return p


def test_analyze_glue_for_many_inputs(recordings, tmp_path, capsys):
    parser = _analyze_parser()
    args = parser.parse_args([str(recordings / "walk*.csv"), "--table", str(tmp_path / "t.csv"),
                              "--jobs", "2", "--db", str(tmp_path / "h.sqlite")])
    assert batch_cli.wants_batch(args)
    assert batch_cli.run_batch_from_args(args) == 0
    assert len(list_sessions(tmp_path / "h.sqlite")) == 3
    assert "3/3 recordings" in capsys.readouterr().err
    args = parser.parse_args([str(recordings), "--table", str(tmp_path / "t2.csv"), "--no-history",
                              "--quiet"])
    assert batch_cli.run_batch_from_args(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "broken.csv" in err[0]
    single = parser.parse_args([str(recordings / "walk0.csv"), "--steps", "s.csv", "--summary", "s.json"])
    assert not batch_cli.wants_batch(single)
    single_jobs = parser.parse_args([str(recordings / "walk0.csv"), "--steps", "s.csv",
                                     "--summary", "s.json", "--jobs", "2"])
    assert not batch_cli.wants_batch(single_jobs)
    with pytest.raises(InputError, match="--steps/--summary are for one recording"):
        batch_cli.run_batch_from_args(parser.parse_args(
            [str(recordings), "--table", str(tmp_path / "t3.csv"), "--steps", "s.csv"]))


def test_dask_local_cluster_gives_the_same_table(recordings, tmp_path):
    distributed = pytest.importorskip("distributed")
    paths = good(recordings)
    serial = run_batch(paths, out_table=tmp_path / "serial.csv", history=False, progress=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        on_dask = run_batch(paths, scheduler=cluster.scheduler_address,
                            out_table=tmp_path / "dask.csv", db=tmp_path / "h.sqlite",
                            progress=False)
    assert on_dask.exit_code == 0
    assert (tmp_path / "serial.csv").read_bytes() == (tmp_path / "dask.csv").read_bytes()
    pd.testing.assert_frame_equal(serial.table, on_dask.table)
    assert len(list_sessions(tmp_path / "h.sqlite")) == 3


def test_unreachable_scheduler_is_a_clear_error(recordings, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr("imu_knee.batch.run.DASK_CONNECT_TIMEOUT_S", 1.0)
    with pytest.raises(InputError, match="cannot reach the Dask scheduler"):
        run_batch(good(recordings)[:1], scheduler="tcp://127.0.0.1:9", history=False,
                  progress=False)


def _dies_on_walk1(path, **kwargs):
    import os as _os
    from imu_knee.batch.worker import analyze_file as real
    if path.endswith("walk1.csv"):
        _os._exit(3)  # a worker killed mid-analysis (out of memory, ...)
    return real(path, **kwargs)


@pytest.mark.skipif(__import__("sys").platform != "linux", reason="needs fork start method")
def test_a_dying_worker_fails_its_files_not_the_batch(recordings, tmp_path, monkeypatch):
    monkeypatch.setattr("imu_knee.batch.run.analyze_file", _dies_on_walk1)
    result = run_batch(good(recordings), jobs=2, out_table=tmp_path / "t.csv", history=False,
                       progress=False)
    assert len(result.results) == 3 and result.exit_code == 1
    failed = {Path(r.path).name for r in result.failed}
    assert "walk1.csv" in failed
    assert all("worker failed" in r.error for r in result.failed)
    assert (tmp_path / "t.csv").exists()
