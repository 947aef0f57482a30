"""Export every stored per-step row to one CSV (for spreadsheets, R, pandas)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputError
from .store import load_steps


def export_steps_csv(path: str | os.PathLike, db=None, subject: str | None = None) -> int:
    """Write all per-step rows (optionally of one subject) to ``path``; returns the row count.

    Columns: ``session_id``, ``subject``, ``recorded_at`` (ISO UTC), ``source``, then the
    per-step columns of DESIGN.md section 2 (plus any extra ones that were stored). Empty cell
    = not measured. ``pandas.read_csv(path)`` loads it back unchanged (numbers are written
    with all their digits).
    The file is written next to its final name and renamed into place, so an interrupted
    export never leaves half a file under that name.
    """
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise InputError(f"{path}: folder {path.parent} does not exist")
    steps = load_steps(db, subject=subject)
    tmp = path.with_name(path.name + ".part")
    try:
        steps.to_csv(tmp, index=False, na_rep="")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return len(steps)
