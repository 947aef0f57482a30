"""Engine(table=True): the final rows kept as table columns give the table of the rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from imu_knee.analysis.engine import Engine, rows_to_frame
from imu_knee.recording import read_recording

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"


def _engine(rec, table: bool) -> tuple[Engine, list]:
    engine = Engine({n: s.rate_hz for n, s in rec.streams.items()}, leg_length_m=rec.leg_length_m,
                    notices=False, table=table)
    rows = []
    for name, s in rec.streams.items():
        rows.extend(engine.push(name, s.t_s, s.acc_mps2, s.gyr_dps))
    rows.extend(engine.finish())
    return engine, rows


@pytest.mark.parametrize("name", ["stairs_hard_landing.csv", "knee_wobble_both.csv",
                                  "level_walk_shank.csv"])
def test_table_of_the_final_rows_equals_the_rows_table(name):
    rec = read_recording(RECORDINGS / name)
    _, rows = _engine(rec, table=False)
    engine, none = _engine(rec, table=True)
    assert none == []  # no row objects
    expected = rows_to_frame(rows)
    assert len(expected) > 10
    pd.testing.assert_frame_equal(engine.final_table(), expected, check_exact=True)


def test_table_of_no_rows_is_the_empty_steps_table():
    rec = read_recording(RECORDINGS / "level_walk_shank.csv")
    engine = Engine({n: s.rate_hz for n, s in rec.streams.items()}, table=True)
    pd.testing.assert_frame_equal(engine.final_table(), rows_to_frame([]))
