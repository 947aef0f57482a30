"""History: storing sessions, trends over weeks, the 4-6 week rule, export, damaged/locked files."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imu_knee.cli import main as cli_main
from imu_knee.errors import InputError
from imu_knee.history import (SCHEMA_VERSION, default_db_path, export_steps_csv, list_sessions,
                              load_steps, open_history, persistent_findings, store_session,
                              trend_for_report, weekly_trends)
from imu_knee.history import store as store_mod
from imu_knee.history.db import DB_FILENAME, HOME_ENV

REPO = Path(__file__).resolve().parents[1]
MONDAY = dt.datetime(2026, 9, 7, 9, 0, tzinfo=dt.timezone.utc)  # a Monday


def make_steps(impact_stairs_left: float = 3.0, impact_level: float = 2.0, n: int = 6,
               wobble: float = 10.0, extra: bool = False) -> pd.DataFrame:
    """Per-step rows of one session: both legs, level walking and stair descent.

    Values spread symmetrically around the given medians, so the session median is exact.
    """
    offsets = np.linspace(-0.2, 0.2, n)
    rows = []
    t = 1.0
    for activity, base in (("level", impact_level), ("stairs_down", None)):
        for i in range(n):
            for side in ("left", "right"):
                imp = base if base is not None else (impact_stairs_left if side == "left" else 2.5)
                rows.append({
                    "side": side, "ic_s": round(t, 4), "to_s": round(t + 0.6, 4),
                    "activity": activity, "stride_length_m": 1.3 + offsets[i] / 10,
                    "step_height_m": 0.0 if activity == "level" else -0.17,
                    "impact_g": imp + offsets[i], "loading_rate_gps": 100.0 + 10 * offsets[i],
                    "knee_flexion_ic_deg": np.nan, "knee_min_flexion_stance_deg": np.nan,
                    "frontal_range_deg": 4.0 + offsets[i], "frontal_wobble_dps": wobble + offsets[i],
                    "impact_rate_hz": 200.0, "event_sensor": f"{side}_shank", "flags": "",
                })
                t += 0.55
    df = pd.DataFrame(rows)
    if extra:
        df["shank_incl_ic_deg"] = np.arange(len(df), dtype=float) * 0.5
    return df


def finding(pattern="hard_landing", side="left", metric="impact_g", activity="stairs_down"):
    return {"pattern": pattern, "side": side, "evidence": "landing impact higher than level",
            "steps": [1.0], "confidence": 0.8,
            "evidence_detail": [{"metric": metric, "activity": activity, "side": side}]}


def summary_for(steps: pd.DataFrame) -> dict:
    return {"format": "imu-knee summary 1", "duration_s": float(steps["ic_s"].max() + 1),
            "sides": {}, "findings": []}


def store(db, day: int, impact=3.0, findings=(), **kw):
    steps = make_steps(impact_stairs_left=impact, **kw)
    return store_session(steps, summary_for(steps), db=db, findings=list(findings),
                         recorded_at=MONDAY + dt.timedelta(days=day))


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "history.sqlite"


# ----------------------------------------------------------------------------- store / list

def test_store_and_list_sessions_in_date_order(db_path):
    b = store(db_path, 7, findings=[finding()])
    a = store(db_path, 0)
    sessions = list_sessions(db_path)
    assert list(sessions["session_id"]) == [a.session_id, b.session_id]  # by date, not insertion
    assert list(sessions["recorded_at"]) == ["2026-09-07T09:00:00Z", "2026-09-14T09:00:00Z"]
    assert list(sessions["n_steps"]) == [24, 24]
    assert list(sessions["findings"]) == ["", "hard_landing:left"]
    assert list(sessions["subject"]) == ["me", "me"]


def test_steps_come_back_unchanged_with_extra_columns(db_path):
    steps = make_steps(extra=True)
    s = store_session(steps, summary_for(steps), db=db_path, subject="anna",
                      recorded_at="2026-10-01T10:00:00Z")
    back = load_steps(db_path, subject="anna")
    assert len(back) == len(steps) and (back["session_id"] == s.session_id).all()
    for col in steps.columns:
        if not pd.api.types.is_numeric_dtype(steps[col]):
            assert list(back[col].fillna("")) == list(steps[col].fillna("")), col
        else:
            np.testing.assert_allclose(back[col].to_numpy(float), steps[col].to_numpy(float),
                                       equal_nan=True, err_msg=col)
    assert back["knee_flexion_ic_deg"].isna().all()  # not measured stays empty, never 0
    assert load_steps(db_path, subject="nobody").empty


def test_same_recording_stored_twice_is_replaced_not_duplicated(db_path, tmp_path):
    rec = tmp_path / "walk.csv"
    rec.write_text("any content\n")
    steps = make_steps()
    first = store_session(steps, summary_for(steps), db=db_path, source=rec, recorded_at="2026-10-01")
    again = store_session(steps.iloc[:10], summary_for(steps), db=db_path, source=rec,
                          recorded_at="2026-10-01")
    assert again.replaced and again.session_id == first.session_id
    assert len(list_sessions(db_path)) == 1
    assert len(load_steps(db_path)) == 10
    # another subject's copy of the same file is a different session
    other = store_session(steps, summary_for(steps), db=db_path, source=rec, subject="bob")
    assert not other.replaced and len(list_sessions(db_path)) == 2


def test_location_option_env_and_user_dir(monkeypatch, tmp_path):
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    assert default_db_path() == tmp_path / "home" / DB_FILENAME
    assert default_db_path(tmp_path / "x.sqlite") == tmp_path / "x.sqlite"  # --db wins
    monkeypatch.delenv(HOME_ENV)
    if sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
        assert default_db_path() == tmp_path / "xdg" / "imu-knee" / DB_FILENAME
    # a session stored with IMU_KNEE_HOME set lands there (folder made on demand)
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "new" / "dir"))
    store(None, 0)
    assert (tmp_path / "new" / "dir" / DB_FILENAME).is_file()


# ----------------------------------------------------------------------------- trends

def test_weekly_trend_is_median_of_session_medians_per_week(db_path):
    # week 1: two sessions (3.0, 3.4); week 2: three (2.8, 2.9, 3.9); week 3: none; week 4: one
    for day, impact in ((0, 3.0), (3, 3.4), (7, 2.8), (8, 2.9), (11, 3.9), (21, 2.6)):
        store(db_path, day, impact=impact)
    w = weekly_trends(db_path, metric="impact_g")
    left = w[(w["side"] == "left") & (w["activity"] == "stairs_down")]
    assert [str(d) for d in left["week_start"]] == ["2026-09-07", "2026-09-14", "2026-09-28"]
    assert list(left["sessions"]) == [2, 3, 1]
    np.testing.assert_allclose(left["median"], [3.2, 2.9, 2.6], atol=1e-9)
    right = w[(w["side"] == "right") & (w["activity"] == "stairs_down")]
    np.testing.assert_allclose(right["median"], [2.5, 2.5, 2.5], atol=1e-9)
    assert set(w["metric"]) == {"impact_g"}


def test_trend_for_report_gives_earlier_sessions_only(db_path):
    store(db_path, 0, impact=3.1, findings=[finding()])
    store(db_path, 7, impact=2.7)
    store(db_path, 14, impact=2.2)
    earlier = trend_for_report(db_path, before=MONDAY + dt.timedelta(days=14))
    assert [e["date"] for e in earlier] == ["2026-09-07", "2026-09-14"]
    assert earlier[0]["medians"]["left"]["stairs_down"]["impact_g"] == pytest.approx(3.1)
    assert earlier[1]["medians"]["right"]["level"]["impact_g"] == pytest.approx(2.0)
    assert "knee_flexion_ic_deg" not in earlier[0]["medians"]["left"]["level"]  # not measured
    assert earlier[0]["steps"]["left"]["stairs_down"] == 6
    assert earlier[0]["findings"] == [{"pattern": "hard_landing", "side": "left"}]
    assert trend_for_report(db_path, subject="someone else") == []
    assert trend_for_report(db_path.parent / "none.sqlite") == []
    assert not (db_path.parent / "none.sqlite").exists()  # reading never makes a database


# ----------------------------------------------------------------------------- 4-6 week rule

def _advice(db, day):
    return [p for p in persistent_findings(db, now=MONDAY + dt.timedelta(days=day))
            if p.advise_therapist]


def test_therapist_advice_only_after_four_weeks_without_improvement(db_path):
    for week in range(6):
        store(db_path, 7 * week, impact=3.0 + 0.02 * week, findings=[finding()])
        advice = _advice(db_path, 7 * week)
        if week < 4:
            assert advice == [], f"advice after only {week} weeks"
        else:
            assert len(advice) == 1
            p = advice[0]
            assert (p.pattern, p.side, p.metric, p.activity) == \
                ("hard_landing", "left", "impact_g", "stairs_down")
            assert p.sessions == week + 1 and round(p.weeks) == week
            assert "physical therapist" in p.message()


def test_no_advice_when_the_metric_improves(db_path):
    for week, impact in enumerate((3.2, 3.0, 2.8, 2.7, 2.6, 2.5)):
        store(db_path, 7 * week, impact=impact, findings=[finding()])
    runs = persistent_findings(db_path)
    assert len(runs) == 1 and runs[0].improved and not runs[0].advise_therapist
    assert runs[0].first_value == pytest.approx(3.2) and runs[0].last_value == pytest.approx(2.5)


def test_a_session_without_the_finding_breaks_the_run(db_path):
    for week in range(6):
        present = week != 3  # measured in week 3 and not found
        store(db_path, 7 * week, findings=[finding()] if present else [])
    assert _advice(db_path, 35) == []
    runs = persistent_findings(db_path)
    assert len(runs) == 1 and runs[0].sessions == 2  # weeks 4 and 5 only


def test_a_session_that_could_not_show_it_does_not_break_the_run(db_path):
    for week in range(6):
        if week == 2:  # no stairs that day: level walking only
            steps = make_steps()
            steps = steps[steps["activity"] == "level"]
            store_session(steps, summary_for(steps), db=db_path, findings=[],
                          recorded_at=MONDAY + dt.timedelta(days=14))
        else:
            store(db_path, 7 * week, findings=[finding()])
    advice = _advice(db_path, 35)
    assert len(advice) == 1 and advice[0].sessions == 5


def test_both_sides_finding_counts_for_each_leg_and_subjects_are_separate(db_path):
    for week in range(5):
        steps = make_steps(wobble=14.0)
        store_session(steps, summary_for(steps), db=db_path, subject="ann",
                      findings=[finding("knee_wobble", "both", "frontal_wobble_dps", "level")],
                      recorded_at=MONDAY + dt.timedelta(days=7 * week))
        store_session(steps, summary_for(steps), db=db_path, subject="ben",
                      recorded_at=MONDAY + dt.timedelta(days=7 * week))
    advice = [p for p in persistent_findings(db_path) if p.advise_therapist]
    assert sorted((p.subject, p.side) for p in advice) == [("ann", "left"), ("ann", "right")]
    assert persistent_findings(db_path, subject="ben") == []


def test_history_command_lists_trends_and_advises(db_path, tmp_path, capsys):
    for week in range(5):
        store(db_path, 7 * week, findings=[finding()])
    out_csv, out_png = tmp_path / "all.csv", tmp_path / "trend.png"
    args = ["history", "--db", str(db_path), "--metric", "impact_g", "--export-steps", str(out_csv),
            "--as-of", "2026-10-06"]
    if importlib.util.find_spec("matplotlib") is not None:
        args += ["--plot", str(out_png)]
    else:
        out_png = None
    assert cli_main(args) == 0
    text = capsys.readouterr().out
    assert "5 session(s)" in text
    assert "Weekly trend of impact_g" in text and "week of 2026-10-05" in text
    assert "See a physical therapist" in text and "left leg, going down stairs" in text
    assert len(pd.read_csv(out_csv)) == 5 * 24
    if out_png is not None:
        assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # three weeks in: trends, no advice yet
    assert cli_main(["history", "--db", str(db_path), "--as-of", "2026-09-28"]) == 0
    text = capsys.readouterr().out
    assert "4 session(s)" in text and "physical therapist" not in text
    assert "keep following the advice" in text


def test_history_command_without_database_says_so(tmp_path, capsys):
    assert cli_main(["history", "--db", str(tmp_path / "none.sqlite")]) == 0
    assert "No history yet" in capsys.readouterr().out
    assert not (tmp_path / "none.sqlite").exists()
    assert cli_main(["history", "--db", str(tmp_path / "none.sqlite"), "--metric", "bogus"]) == 2


# ----------------------------------------------------------------------------- export

def _texts(series: pd.Series) -> list[str]:
    return ["" if pd.isna(v) else str(v) for v in series]


def test_export_csv_round_trip(db_path, tmp_path):
    store(db_path, 0, findings=[finding()])
    store(db_path, 9, impact=3.3, extra=True)
    out = tmp_path / "steps.csv"
    n = export_steps_csv(out, db_path)
    back = pd.read_csv(out)
    stored = load_steps(db_path)
    assert n == len(back) == len(stored) == 48
    assert list(back.columns) == list(stored.columns)
    assert back.columns[:4].tolist() == ["session_id", "subject", "recorded_at", "source"]
    for col in stored.columns:
        if not pd.api.types.is_numeric_dtype(stored[col]):
            assert _texts(back[col]) == _texts(stored[col]), col
        else:
            np.testing.assert_allclose(back[col].to_numpy(float), stored[col].to_numpy(float),
                                       rtol=0, atol=0, equal_nan=True, err_msg=col)
    assert not list(tmp_path.glob("*.part"))


# ----------------------------------------------------------------------------- bad files

def _snapshot(path: Path):
    st = path.stat()
    return path.read_bytes(), st.st_mtime_ns, st.st_size


@pytest.mark.parametrize("content", [b"this is not a database\n" * 200,
                                     b"SQLite format 3\x00" + b"\xff" * 4080])
def test_corrupt_database_one_line_exit_2_file_untouched(tmp_path, capsys, content):
    bad = tmp_path / "history.sqlite"
    bad.write_bytes(content)
    before = _snapshot(bad)
    assert cli_main(["history", "--db", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "damaged or not a database" in err and str(bad) in err
    with pytest.raises(InputError, match="damaged or not a database"):
        store(bad, 0)
    assert _snapshot(bad) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.sqlite"]  # no journal left


def test_other_programs_database_and_newer_schema_are_refused(tmp_path):
    other = tmp_path / "other.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE contacts (name TEXT)")
    con.commit()
    con.close()
    before = _snapshot(other)
    with pytest.raises(InputError, match="another program"):
        store(other, 0)
    assert _snapshot(other) == before
    newer = tmp_path / "newer.sqlite"
    store(newer, 0)
    con = sqlite3.connect(newer)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.commit()
    con.close()
    with pytest.raises(InputError, match="newer imu-knee"):
        list_sessions(newer)


def test_locked_database_gives_clear_message_and_keeps_sessions(db_path, monkeypatch, capsys):
    store(db_path, 0)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        t0 = time.perf_counter()
        with pytest.raises(InputError, match="locked by another program"):
            store_session(make_steps(), {}, db=open_history(db_path, timeout_s=0.2))
        assert time.perf_counter() - t0 < 3
        monkeypatch.setattr("imu_knee.history.db.DEFAULT_TIMEOUT_S", 0.2)
        assert cli_main(["history", "--db", str(db_path)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "locked" in err
    finally:
        holder.rollback()
        holder.close()
    assert len(list_sessions(db_path)) == 1


def test_error_inside_transaction_rolls_back(db_path, monkeypatch):
    store(db_path, 0)

    def boom():
        raise RuntimeError("disk pulled")

    monkeypatch.setattr(store_mod, "AFTER_ROWS_HOOK", boom)
    with pytest.raises(RuntimeError):
        store(db_path, 7, findings=[finding()])
    monkeypatch.setattr(store_mod, "AFTER_ROWS_HOOK", None)
    assert len(list_sessions(db_path)) == 1 and len(load_steps(db_path)) == 24


def test_killed_mid_write_keeps_earlier_sessions_and_no_partial_one(db_path):
    store(db_path, 0)
    store(db_path, 7, findings=[finding()])
    before = load_steps(db_path)
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_history import make_steps, summary_for, finding
        from imu_knee.history import store as store_mod
        def hang():
            print("INSIDE", flush=True)
            time.sleep(60)
        store_mod.AFTER_ROWS_HOOK = hang
        steps = make_steps(n=400)
        store_mod.store_session(steps, summary_for(steps), db={str(db_path)!r},
                                findings=[finding()], recorded_at="2026-10-01")
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        line = proc.stdout.readline()
        assert line.strip() == b"INSIDE", line
        # the rows are written (in the journal-protected file) but not committed: kill now
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    sessions = list_sessions(db_path)
    assert len(sessions) == 2
    after = load_steps(db_path)
    pd.testing.assert_frame_equal(after, before)
    with open_history(db_path) as db:
        assert db.query("PRAGMA integrity_check") == [("ok",)]
        assert db.query("SELECT count(*) FROM findings")[0][0] == 1
        assert db.query("SELECT count(*) FROM steps WHERE session_id NOT IN "
                        "(SELECT id FROM sessions)")[0][0] == 0
    store(db_path, 14)  # and the file takes new sessions
    assert len(list_sessions(db_path)) == 3


# ----------------------------------------------------------------------------- speed

def test_history_queries_over_100_sessions_are_fast(db_path):
    with open_history(db_path) as db:
        for k in range(100):
            steps = make_steps(impact_stairs_left=3.0 + 0.01 * k, n=40)
            store_session(steps, summary_for(steps), db=db,
                          findings=[finding()] if k % 2 else [],
                          recorded_at=MONDAY + dt.timedelta(days=2 * k))
    t0 = time.perf_counter()
    sessions = list_sessions(db_path)
    weekly = weekly_trends(db_path)
    earlier = trend_for_report(db_path)
    runs = persistent_findings(db_path)
    elapsed = time.perf_counter() - t0
    assert len(sessions) == 100 and len(earlier) == 100 and not weekly.empty
    assert runs == [] or all(r.sessions >= 2 for r in runs)
    assert elapsed < 0.5, f"history queries took {elapsed:.3f} s"


def test_coach_baselines_from_history_match_the_step_tables(db_path):
    from imu_knee.coach import Baselines
    from imu_knee.history import baselines_from_history

    tables = [make_steps(impact_stairs_left=v) for v in (3.0, 3.6, 2.9)]
    for day, steps in enumerate(tables):
        store_session(steps, summary_for(steps), db=db_path, recorded_at=MONDAY + dt.timedelta(days=day))
    ours = baselines_from_history(db_path)
    reference = Baselines.from_step_tables(tables)
    assert ours.sessions == 3
    for key, value in reference.medians.items():
        if key[0] in ("impact_g", "frontal_wobble_dps", "stride_length_m"):
            assert ours.medians[key] == pytest.approx(value), key
    assert ours.get("impact_g", "left", "stairs_down") == pytest.approx(3.0)
    earlier = baselines_from_history(db_path, before=MONDAY + dt.timedelta(days=1))
    assert earlier.sessions == 1 and earlier.get("impact_g", "left", "stairs_down") == pytest.approx(3.0)


def test_migrations_upgrade_in_a_transaction_and_keep_sessions(db_path, monkeypatch):
    from imu_knee.history import db as db_mod

    store(db_path, 0, findings=[finding()])

    def add_notes(con):
        con.execute("ALTER TABLE sessions ADD COLUMN notes TEXT")

    def broken(con):
        con.execute("ALTER TABLE sessions ADD COLUMN half_done TEXT")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(db_mod, "MIGRATIONS", db_mod.MIGRATIONS + [broken])
    monkeypatch.setattr(db_mod, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(InputError, match="disk I/O error"):
        open_history(db_path)
    con = sqlite3.connect(db_path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert "half_done" not in [r[1] for r in con.execute("PRAGMA table_info(sessions)")]
    con.close()
    monkeypatch.setattr(db_mod, "MIGRATIONS", db_mod.MIGRATIONS[:-1] + [add_notes])
    with open_history(db_path) as db:
        assert db.query("PRAGMA user_version")[0][0] == SCHEMA_VERSION + 1
        assert "notes" in [r[1] for r in db.query("PRAGMA table_info(sessions)")]
    assert len(list_sessions(db_path)) == 1 and len(load_steps(db_path)) == 24


def _step_tables():
    from hypothesis import strategies as st

    value = st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False))
    row = st.tuples(st.sampled_from(["left", "right"]), st.floats(0, 1e5),
                    st.sampled_from(["level", "stairs_up", "stairs_down"]), value, value,
                    st.text(alphabet="abc;_ é,\"\n", max_size=8), value)
    names = ["side", "ic_s", "activity", "impact_g", "frontal_wobble_dps", "flags",
             "shank_incl_ic_deg"]
    return st.lists(row, max_size=20).map(lambda rows: pd.DataFrame(rows, columns=names))


def test_any_step_table_round_trips_through_store_and_export(tmp_path):
    from hypothesis import HealthCheck, given, settings

    counter = iter(range(10**6))

    @settings(max_examples=25, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(_step_tables())
    def check(steps):
        db = tmp_path / f"h{next(counter)}.sqlite"
        s = store_session(steps, {"findings": []}, db=db, recorded_at="2026-01-05")
        assert s.n_steps == len(steps)
        back = load_steps(db)
        assert len(back) == len(steps)
        for col in ("impact_g", "frontal_wobble_dps", "ic_s", "shank_incl_ic_deg"):
            given_values = pd.to_numeric(steps[col]).to_numpy(float)
            if col not in back:  # an extra column left entirely empty is not kept
                assert col == "shank_incl_ic_deg" and np.isnan(given_values).all()
                continue
            np.testing.assert_array_equal(back[col].to_numpy(float), given_values)
        assert _texts(back["flags"]) == _texts(steps["flags"])
        assert list(back["side"]) == list(steps["side"])
        if len(steps):
            exported = tmp_path / "x.csv"
            export_steps_csv(exported, db)
            again = pd.read_csv(exported, keep_default_na=False, na_values=[""])
            np.testing.assert_array_equal(again["impact_g"].to_numpy(float),
                                          back["impact_g"].to_numpy(float))
            assert _texts(again["flags"]) == _texts(back["flags"])
            # the stored per-session medians (trends) agree with pandas on the same rows
            m = pd.to_numeric(steps["impact_g"]).groupby([steps["side"], steps["activity"]]).median()
            earlier = trend_for_report(db)
            for (side, act), v in m.dropna().items():
                assert earlier[0]["medians"][side][act]["impact_g"] == pytest.approx(v, abs=5e-5)

    check()
