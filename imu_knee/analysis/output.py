"""Writers for STEPS.csv and SUMMARY.json."""

from __future__ import annotations

import json
import os

import pandas as pd


def write_steps_csv(path: str | os.PathLike, steps: pd.DataFrame) -> None:
    """STEPS.csv in DESIGN.md column order; empty cells for not-measurable values."""
    steps.to_csv(path, index=False, na_rep="", float_format="%.4f")


def write_summary_json(path: str | os.PathLike, summary: dict) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(summary, fh, indent=1, allow_nan=False)
        fh.write("\n")
