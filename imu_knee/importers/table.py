"""Delimited text tables as apps export them: separator and decimal sniffing, header lines,
and numeric columns with one-line errors that name the file line.

Policy for bad cells (see tests/fixtures/importers/README.md):
- text in a number column, or an infinite value: refused, naming the line and the column;
- rows at the end whose wanted cells are all empty/NaN: ignored silently (blank lines, or the
  padding phyphox writes when one sensor of a set has fewer samples than another);
- any other row with empty/NaN cells: dropped and counted, one warning line per file. The recording format
  represents gaps as missing rows, so dropping such a row is exactly a gap. If more than half
  of the rows are incomplete the file is refused instead: then the columns are probably wrong.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError
from .sources import HEAD_BYTES, READ_ERRORS, Member

MAX_HEAD_LINES = 400
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+(?:[eE][+-]?\d+)?$")
_NA_TEXT = {"", "nan", "na", "n/a", "null", "none", "-nan"}


@dataclass
class TextHead:
    """The first lines of a text member, decoded."""

    member: Member
    lines: list[str]
    encoding: str


@dataclass
class Layout:
    """Where the header and the data are, and how cells are separated."""

    columns: list[str]
    sep: str
    decimal: str
    header_line: int  # 0-based index of the (last) header line
    data_start: int  # 0-based index of the first data line
    quoted_header: bool = False


@dataclass
class Columns:
    """Numeric columns read from a table; ``line_no`` is the 1-based file line of each row."""

    values: dict[str, np.ndarray]
    line_no: np.ndarray
    dropped_rows: int = 0
    first_dropped_line: int | None = None
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.line_no)


def read_head(member: Member) -> TextHead:
    """Decode the start of a member; refuse empty and binary files with one line."""
    raw = member.head()
    if not raw:
        raise InputError(f"{member.name}: the file is empty")
    encoding = "utf-8"
    if raw.startswith(codecs.BOM_UTF16_LE) or raw.startswith(codecs.BOM_UTF16_BE):
        encoding = "utf-16"
    elif raw.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif b"\x00" in raw:
        raise InputError(f"{member.name}: binary data, not a CSV export")
    try:
        text = raw.decode(encoding, errors="replace") if encoding != "utf-16" else \
            raw[: len(raw) - len(raw) % 2].decode("utf-16", errors="replace")
    except (UnicodeError, LookupError):
        raise InputError(f"{member.name}: not readable as text") from None
    truncated = len(raw) >= HEAD_BYTES
    lines = text.splitlines()
    if truncated:
        if len(lines) <= 1:
            raise InputError(f"{member.name}: the first line is longer than {HEAD_BYTES // 1024} KiB;"
                             " not a CSV export")
        lines = lines[:-1]  # the last line may be cut
    lines = [ln.lstrip("\ufeff") for ln in lines[:MAX_HEAD_LINES]]
    if not any(ln.strip() for ln in lines):
        raise InputError(f"{member.name}: the file holds only blank lines")
    return TextHead(member=member, lines=lines, encoding=encoding)


def split_cells(line: str, sep: str) -> list[str]:
    return [c.strip().strip('"').strip("'").strip() for c in line.split(sep)]


def first_content_line(head: TextHead) -> int | None:
    for i, line in enumerate(head.lines):
        text = line.strip()
        if text and not text.startswith("#"):
            return i
    return None


def sniff_layout(head: TextHead, header_line: int | None = None, header_rows: int = 1) -> Layout:
    """Find the header line, the separator (tab, semicolon or comma) and the decimal mark."""
    if header_line is None:
        header_line = first_content_line(head)
        if header_line is None:
            raise InputError(f"{head.member.name}: no header line found")
    line = head.lines[header_line]
    if "\t" in line:
        sep = "\t"
    elif ";" in line:
        sep = ";"
    else:
        sep = ","
    last_header = header_line + header_rows - 1
    data_lines = [ln for ln in head.lines[last_header + 1: last_header + 40] if ln.strip()]
    decimal = "."
    if sep != ",":
        for ln in data_lines:
            if any(_DECIMAL_COMMA.match(c) for c in split_cells(ln, sep)):
                decimal = ","
                break
    return Layout(columns=split_cells(line, sep), sep=sep, decimal=decimal,
                  header_line=header_line, data_start=last_header + 1,
                  quoted_header=line.strip().startswith('"'))


def read_columns(head: TextHead, layout: Layout, wanted: dict[str, int],
                 allow_missing: tuple[str, ...] = ()) -> Columns:
    """Read the wanted columns (label -> 0-based column index) as float arrays.

    Columns named in ``allow_missing`` may have empty cells (e.g. Movesense continuation rows)
    without the row counting as incomplete.
    """
    member = head.member
    indices = sorted(set(wanted.values()))
    try:
        with member.open_binary() as fh:
            df = pd.read_csv(fh, sep=layout.sep, decimal=layout.decimal, header=None,
                             skiprows=layout.data_start, usecols=indices, skip_blank_lines=False,
                             engine="c", encoding=head.encoding, encoding_errors="replace",
                             low_memory=False, quotechar='"', on_bad_lines="error",
                             na_values=["NaN", "nan", "-nan", "NA", "N/A", "null", "None"],
                             keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise InputError(f"{member.name}: no data rows below the header") from None
    except (pd.errors.ParserError, ValueError, UnicodeError) as exc:
        msg = " ".join(str(exc).split())[:160]
        raise InputError(f"{member.name}: cannot be parsed as a table ({msg})") from None
    except READ_ERRORS as exc:  # a damaged zip member surfaces while pandas reads it
        raise InputError(f"{member.name}: cannot be read ({' '.join(str(exc).split())[:160]})") from None
    missing_cols = [i for i in indices if i not in df.columns]
    if missing_cols:
        raise InputError(f"{member.name}: the data rows have fewer columns than the header")
    n = len(df)
    line_no = np.arange(n, dtype=np.int64) + layout.data_start + 1
    values: dict[str, np.ndarray] = {}
    for label, idx in wanted.items():
        values[label] = _as_float(df[idx], label, layout, member.name, line_no)
    for label, arr in values.items():
        inf = np.isinf(arr)
        if inf.any():
            row = int(np.flatnonzero(inf)[0])
            raise InputError(f"{member.name}: line {line_no[row]}: {label} is not a finite number")
    strict = [values[k] for k in wanted if k not in allow_missing]
    if not strict:
        strict = list(values.values())
    nan = np.column_stack([np.isnan(a) for a in strict]) if n else np.zeros((0, 1), bool)
    all_nan = nan.all(axis=1)
    content_rows = np.flatnonzero(~all_nan)
    trailing = np.zeros(n, dtype=bool)  # padding of a shorter column (phyphox) or blank tail
    trailing[(content_rows[-1] + 1 if len(content_rows) else 0):] = True
    some_nan = nan.any(axis=1) & ~trailing
    keep = ~nan.any(axis=1)
    cols = Columns(values={k: v[keep] for k, v in values.items()}, line_no=line_no[keep])
    n_content = int((~all_nan).sum())
    if n_content == 0:
        raise InputError(f"{member.name}: no data rows below the header")
    n_bad = int(some_nan.sum())
    if n_bad:
        first = int(line_no[np.flatnonzero(some_nan)[0]])
        if n_bad * 2 > n_content:
            raise InputError(f"{member.name}: line {first}: {n_bad} of {n_content} rows have"
                             " missing values (empty or NaN); is this the right file?")
        cols.dropped_rows = n_bad
        cols.first_dropped_line = first
        cols.notes.append(f"{member.name}: dropped {n_bad} row(s) with missing values"
                          f" (empty or NaN; first at line {first}); they become gaps")
    return cols


def _as_float(series: pd.Series, label: str, layout: Layout, name: str,
              line_no: np.ndarray) -> np.ndarray:
    if series.dtype.kind in "fiu":
        return series.to_numpy(dtype=np.float64)
    if series.dtype.kind == "b":
        raise InputError(f"{name}: line {line_no[0]}: {label} is not a number")
    text = series.astype("string").str.strip()
    if layout.decimal == ",":
        text = text.str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(text, errors="coerce")
    is_na_text = text.isna() | text.str.lower().isin(_NA_TEXT)
    bad = (numbers.isna() & ~is_na_text).to_numpy(dtype=bool)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        cell = str(series.iloc[row])[:40]
        raise InputError(f"{name}: line {line_no[row]}: {label} is not a number: '{cell}'")
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)
