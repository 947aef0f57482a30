"""Turning command-line inputs (files, folders, glob patterns) into a list of recordings."""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Iterable

from ..errors import InputError

RECORDING_SUFFIXES = (".csv",)
# Files the analysis itself writes next to recordings; never inputs.
SKIP_SUFFIXES = (".steps.csv", ".truth.csv", ".summary.csv")


def _is_recording_name(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(RECORDING_SUFFIXES) and not name.endswith(SKIP_SUFFIXES)


def looks_like_recording(path: Path) -> bool:
    """True when the file starts like a recording (metadata lines or the column header);
    other CSVs found in a folder or by a glob (STEPS.csv, tables) are not recordings."""
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as fh:
            first = fh.readline(4096).lstrip("\ufeff").strip()
    except OSError:
        return True  # let the reader report it
    return first.startswith("#") or first.startswith("timestamp_s")


def expand_inputs(items: Iterable[str | os.PathLike], skipped: list[Path] | None = None
                  ) -> list[Path]:
    """Files as given; folders -> their ``*.csv`` files (recursively, sorted); anything with
    ``*``, ``?`` or ``[`` -> a glob (``**`` crosses folders). Files found in folders or by
    globs that are plainly not recordings (see :func:`looks_like_recording`) are left out and
    appended to ``skipped``; files named one by one are always kept (the analysis reports what
    is wrong with them). Duplicates are dropped, order is kept. A name that matches nothing
    is an :class:`InputError`."""
    out: list[Path] = []
    seen: set[Path] = set()

    def add(p: Path, found: bool = False) -> None:
        key = p.resolve()
        if key in seen:
            return
        seen.add(key)
        if found and not looks_like_recording(p):
            if skipped is not None:
                skipped.append(p)
            return
        out.append(p)

    for item in items:
        text = str(item)
        p = Path(text).expanduser()
        if p.is_dir():
            found = sorted(q for q in p.rglob("*") if q.is_file() and _is_recording_name(q))
            if not found:
                raise InputError(f"{p}: folder holds no recording (*.csv)")
            for q in found:
                add(q, found=True)
        elif p.is_file():
            add(p)
        elif any(ch in text for ch in "*?["):
            found = sorted(Path(q) for q in glob.glob(os.path.expanduser(text), recursive=True))
            found = [q for q in found if q.is_file()]
            if not found:
                raise InputError(f"{text}: matches no file")
            for q in found:
                add(q, found=True)
        else:
            raise InputError(f"{text}: no such file or folder")
    return out
