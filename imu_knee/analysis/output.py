"""Writers for STEPS.csv and SUMMARY.json."""

from __future__ import annotations

import csv
import json
import os

import pandas as pd

_QUOTED = (",", '"', "\n", "\r")  # a cell holding one of these is quoted (csv.QUOTE_MINIMAL)


def write_steps_csv(path: str | os.PathLike, steps: pd.DataFrame) -> None:
    """STEPS.csv in DESIGN.md column order; empty cells for not-measurable values; numbers
    with 4 decimals. The same text as ``steps.to_csv(index=False, na_rep="",
    float_format="%.4f")``: the cells are formatted here per column, and lines joined
    directly when no cell needs quoting (else written by the csv module with pandas' dialect:
    minimal quoting, "\\n" line ends); several times faster than pandas' writer."""
    header = [str(name) for name in steps.columns]
    columns = [_column_text(steps[name]) for name in steps.columns]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        if len(columns) > 1 and all(_plain_text(cells) for cells in [header] + columns):
            fh.write(",".join(header) + "\n")
            if len(steps):
                fh.write("\n".join(map(",".join, zip(*columns))) + "\n")
        else:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(zip(*columns))


def _column_text(col: pd.Series) -> list:
    """A column's cells: floats as "%.4f", missing values as "", the rest as they are."""
    values = col.to_numpy()
    if col.dtype.kind == "f":
        return ["" if v != v else "%.4f" % v for v in values.tolist()]
    missing = pd.isna(values).tolist()
    return ["" if m else v for v, m in zip(values.tolist(), missing)]


def _plain_text(cells: list) -> bool:
    """Every cell is a string the csv module would write as it is (no quoting)."""
    if not set(map(type, cells)) <= {str}:
        return False
    joined = "\0".join(cells)
    return not any(c in joined for c in _QUOTED)


def write_summary_json(path: str | os.PathLike, summary: dict) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(summary, fh, indent=1, allow_nan=False)
        fh.write("\n")
