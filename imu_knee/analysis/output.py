"""Writers for STEPS.csv and SUMMARY.json."""

from __future__ import annotations

import csv
import json
import os

import pandas as pd


def write_steps_csv(path: str | os.PathLike, steps: pd.DataFrame) -> None:
    """STEPS.csv in DESIGN.md column order; empty cells for not-measurable values; numbers
    with 4 decimals. The same text as ``steps.to_csv(index=False, na_rep="",
    float_format="%.4f")``: the cells are formatted here per column and written by the csv
    module with pandas' dialect (minimal quoting, "\\n" line ends), which is several times
    faster than pandas' writer."""
    columns = [_column_text(steps[name]) for name in steps.columns]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([str(name) for name in steps.columns])
        writer.writerows(zip(*columns))


def _column_text(col: pd.Series) -> list:
    """A column's cells: floats as "%.4f", missing values as "", the rest as they are."""
    values = col.to_numpy()
    if col.dtype.kind == "f":
        return ["" if v != v else "%.4f" % v for v in values.tolist()]
    missing = pd.isna(values).tolist()
    return ["" if m else v for v, m in zip(values.tolist(), missing)]


def write_summary_json(path: str | os.PathLike, summary: dict) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(summary, fh, indent=1, allow_nan=False)
        fh.write("\n")
