"""Writers for STEPS.csv and SUMMARY.json."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd


def write_steps_csv(path: str | os.PathLike, steps: pd.DataFrame) -> None:
    """STEPS.csv in DESIGN.md column order; empty cells for not-measurable values; numbers
    with 4 decimals (formatted here per column: pandas' ``float_format`` is slower, and gives
    the same text)."""
    formatted_steps(steps).to_csv(path, index=False, na_rep="")


def formatted_steps(steps: pd.DataFrame) -> pd.DataFrame:
    """``steps`` with each float column as text, "%.4f" ("" for NaN)."""
    out = {}
    for name in steps.columns:
        col = steps[name]
        if col.dtype.kind == "f":
            values = col.to_numpy()
            text = np.array(["%.4f" % v for v in values.tolist()], dtype=object)
            text[np.isnan(values)] = ""
            out[name] = text
        else:
            out[name] = col
    return pd.DataFrame(out, columns=steps.columns)


def write_summary_json(path: str | os.PathLike, summary: dict) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(summary, fh, indent=1, allow_nan=False)
        fh.write("\n")
