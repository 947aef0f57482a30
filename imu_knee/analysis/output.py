"""Writers for STEPS.csv and SUMMARY.json."""

from __future__ import annotations

import csv
import json
import os

import numpy as np
import pandas as pd

_NOT_PLAIN = (",", '"', "\n", "\r", "\0")  # a cell holding one of these goes to the csv module


def write_steps_csv(path: str | os.PathLike, steps: pd.DataFrame) -> None:
    """STEPS.csv in DESIGN.md column order; empty cells for not-measurable values; numbers
    with 4 decimals. The same text as ``steps.to_csv(index=False, na_rep="",
    float_format="%.4f")``, many times faster: when every cell is a number or a string that
    needs no quoting, the text is assembled as bytes, column by column (:func:`_plain_csv_body`);
    else the cells are written by the csv module with pandas' dialect (minimal quoting, "\\n"
    line ends)."""
    header = [str(name) for name in steps.columns]
    body = _plain_csv_body(steps) if len(header) > 1 and _plain_text(header) else None
    if body is not None:
        with open(path, "wb") as fh:
            fh.write((",".join(header) + "\n").encode("utf-8") + body)
        return
    columns = [_column_text(steps[name]) for name in steps.columns]
    with open(path, "w", encoding="utf-8", newline="") as fh:
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
    joined = "".join(cells)
    return not any(c in joined for c in _NOT_PLAIN)


def _plain_csv_body(steps: pd.DataFrame) -> bytes | None:
    """The data lines as UTF-8, or None when a cell is neither a float nor a plain string.

    Each column becomes a byte matrix, one row per step, with NUL bytes where a cell is
    shorter than the matrix (no cell holds a NUL); the matrices side by side with a comma (a
    line end after the last) are the lines once the NULs are dropped."""
    n_rows = len(steps)
    if n_rows == 0:
        return b""
    parts = []
    for k, name in enumerate(steps.columns):
        col = steps[name]
        if col.dtype.kind == "f":
            parts.append(_decimal_cells(col.to_numpy(dtype=float, na_value=np.nan)))
        else:
            codes, values = pd.factorize(col)  # a missing cell: code -1, the last text: ""
            values = list(values)
            if not _plain_text(values):
                return None
            text = np.array([value.encode("utf-8") for value in values] + [b""], dtype=bytes)
            parts.append(text[codes].view(np.uint8).reshape(n_rows, -1))
        end = "\n" if k == len(steps.columns) - 1 else ","
        parts.append(np.full((n_rows, 1), ord(end), dtype=np.uint8))
    table = np.hstack(parts)
    return table[table != 0].tobytes()


def _decimal_cells(values: np.ndarray) -> np.ndarray:
    """Each value's "%.4f" text as ASCII, right-aligned in a row of NUL bytes (NaN: no text).

    The text comes from q = rint(|value| * 10^4) (digits, a point before the last four, a
    minus sign when the value's sign bit is set, as "%.4f" writes "-0.0000"). The product is
    rounded once, and never across a half m + 0.5 (a float itself), so q is the correctly
    rounded decimal unless the product is a half exactly (a tie, or a value rounded onto
    it), too large for int64 or not finite: those few values are formatted by Python."""
    with np.errstate(over="ignore", invalid="ignore"):
        magnitude = np.abs(values) * 1e4
        sure = (magnitude - np.floor(magnitude) != 0.5) & (magnitude < 2.0**52)
    q = np.rint(np.where(sure, magnitude, 0.0)).astype(np.int64)
    n_digits = max(5, len(str(q.max())) if len(q) else 0)  # at least "0.0000"
    others = np.flatnonzero(~sure & ~np.isnan(values))
    other_text = ["%.4f" % v for v in values[others].tolist()]
    width = max([n_digits + 2] + [len(text) for text in other_text])  # sign, digits, point
    cells = np.zeros((len(values), width), dtype=np.uint8)
    whole_digits = np.ones(len(values), dtype=np.int64)
    for k in range(n_digits):
        digit = (q // 10**k % 10 + ord("0")).astype(np.uint8)
        shown = sure if k <= 4 else sure & (q >= 10**k)  # the decimals and units always
        cells[:, width - 1 - k - (k >= 4)] = np.where(shown, digit, 0)  # k >= 4: left of "."
        if k > 4:
            whole_digits += shown
    cells[sure, width - 5] = ord(".")
    negative = np.flatnonzero(sure & np.signbit(values))
    cells[negative, width - 6 - whole_digits[negative]] = ord("-")
    for row, text in zip(others, other_text):
        cells[row, width - len(text):] = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    return cells


def write_summary_json(path: str | os.PathLike, summary: dict) -> None:
    text = json.dumps(summary, indent=1, allow_nan=False)  # one write, not one per piece
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
