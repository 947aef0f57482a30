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


def expand_inputs(items: Iterable[str | os.PathLike]) -> list[Path]:
    """Files as given; folders -> their ``*.csv`` files (recursively, sorted); anything with
    ``*``, ``?`` or ``[`` -> a glob (``**`` crosses folders). Duplicates are dropped, order is
    kept. A name that matches nothing is an :class:`InputError`."""
    out: list[Path] = []
    seen: set[Path] = set()

    def add(p: Path) -> None:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            out.append(p)

    for item in items:
        text = str(item)
        p = Path(text).expanduser()
        if p.is_dir():
            found = sorted(q for q in p.rglob("*") if q.is_file() and _is_recording_name(q))
            if not found:
                raise InputError(f"{p}: folder holds no recording (*.csv)")
            for q in found:
                add(q)
        elif p.is_file():
            add(p)
        elif any(ch in text for ch in "*?["):
            found = sorted(Path(q) for q in glob.glob(os.path.expanduser(text), recursive=True))
            found = [q for q in found if q.is_file()]
            if not found:
                raise InputError(f"{text}: matches no file")
            for q in found:
                add(q)
        else:
            raise InputError(f"{text}: no such file or folder")
    return out
