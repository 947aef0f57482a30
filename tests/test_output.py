"""STEPS.csv and SUMMARY.json writers: the same text as pandas' and json's writers."""

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from imu_knee.analysis.output import _decimal_cells, write_steps_csv, write_summary_json

# floats "%.4f" is hard on: decimal ties (k / 20000), values just beside them, huge and tiny
# magnitudes, negative zero, and the values that are not finite
HARD_FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-2_000_000, 2_000_000).map(lambda k: k / 20000.0),
    st.integers(-2_000_000, 2_000_000).map(lambda k: np.nextafter(k / 20000.0, np.inf)),
    st.integers(-2_000_000, 2_000_000).map(lambda k: np.nextafter(k / 20000.0, -np.inf)),
    st.floats(-1e-3, 1e-3),
    st.floats(-1e6, 1e6).map(lambda v: round(v, 4)),
    st.sampled_from([0.0, -0.0, 0.00005, -0.00005, 2.0**52 / 1e4, 2.0**53, 1e300, -1e-300]),
)


def _cell_texts(values: np.ndarray) -> list[str]:
    cells = _decimal_cells(values)
    return [bytes(row[row != 0]).decode("ascii") for row in cells]


@settings(max_examples=300, deadline=None)
@given(st.lists(HARD_FLOATS, max_size=40))
@example([0.00005, -0.00015, 1.00005, -0.0, -0.00004, np.nan, np.inf, -np.inf, 1e20, 123456.78915])
def test_decimal_cells_are_percent_4f(values):
    values = np.array(values, dtype=float)
    expected = ["" if v != v else "%.4f" % v for v in values.tolist()]
    assert _cell_texts(values) == expected


_TEXT = st.text(alphabet=st.sampled_from(list("abc_;é ,\"\n")), max_size=6)


@st.composite
def step_tables(draw):
    n_rows = draw(st.integers(0, 12))
    n_cols = draw(st.integers(1, 5))
    columns = {}
    for k in range(n_cols):
        kind = draw(st.sampled_from(["float64", "float32", "Float64", "text", "string", "int"]))
        if kind.lower().startswith("float"):
            cells = st.floats(width=32) if kind == "float32" else HARD_FLOATS
            col = pd.Series(draw(st.lists(cells, min_size=n_rows, max_size=n_rows)), dtype=kind)
        elif kind == "int":
            col = pd.Series(draw(st.lists(st.integers(-10**6, 10**6), min_size=n_rows,
                                          max_size=n_rows)), dtype="int64")
        else:
            cells = draw(st.lists(st.one_of(_TEXT, st.none()), min_size=n_rows, max_size=n_rows))
            col = pd.Series(cells, dtype="string" if kind == "string" else object)
        columns[f"c{k}"] = col
    return pd.DataFrame(columns)


@settings(max_examples=200, deadline=None)
@given(step_tables())
def test_steps_csv_is_pandas_text(tmp_path_factory, df):
    path = tmp_path_factory.mktemp("csv") / "steps.csv"
    write_steps_csv(path, df)
    expected = df.to_csv(index=False, na_rep="", float_format="%.4f", lineterminator="\n")
    assert path.read_bytes().decode("utf-8") == expected


def test_steps_csv_of_engine_like_table(tmp_path):
    """Typical STEPS.csv columns (texts, numbers with gaps, flags with ';') as pandas writes them."""
    rng = np.random.default_rng(7)
    n = 500
    df = pd.DataFrame({
        "side": pd.Series(rng.choice(["left", "right"], n), dtype="string"),
        "ic_s": np.cumsum(rng.uniform(0.4, 0.7, n)),
        "activity": pd.Series(rng.choice(["level", "stairs_up", "stairs_down"], n), dtype="string"),
        "impact_g": np.where(rng.random(n) < 0.1, np.nan, rng.normal(3.0, 1.0, n)),
        "loading_rate_gps": rng.normal(150.0, 80.0, n),
        "flags": pd.Series(rng.choice(["", "gap;after_gap", None], n), dtype="string"),
    })
    write_steps_csv(tmp_path / "steps.csv", df)
    expected = df.to_csv(index=False, na_rep="", float_format="%.4f", lineterminator="\n")
    assert (tmp_path / "steps.csv").read_text() == expected


def test_summary_json_is_json_text(tmp_path):
    summary = {"format": "imu-knee summary 1", "sides": {"left": {"count": 3, "median": {
        "impact_g": 2.5, "stride_length_m": None}}}, "flags": [], "findings": [
        {"steps": [1.25, 2.5, 3.75], "evidence": "Going down stairs, 2.5 g … ≥"}]}
    write_summary_json(tmp_path / "s.json", summary)
    text = (tmp_path / "s.json").read_text()
    assert text == json.dumps(summary, indent=1, allow_nan=False) + "\n"
    assert json.loads(text) == summary


def test_summary_json_refuses_nan(tmp_path):
    with pytest.raises(ValueError):
        write_summary_json(tmp_path / "s.json", {"x": float("nan")})
