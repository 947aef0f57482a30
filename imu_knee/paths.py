"""Output paths a command writes: the checks made before writing (one place for all commands).

:func:`check_output_path` refuses, with a one-line :class:`~imu_knee.errors.InputError`, a
path that is a folder, a file that exists when ``--force`` was not given, and a folder that
does not exist. Commands call it before any long work, so a typo costs nothing.
"""

from __future__ import annotations

from pathlib import Path

from .errors import InputError


def output_folder(path: Path) -> Path:
    """The folder a file path will be written into (``.`` for a bare file name)."""
    return path.parent if str(path.parent) else Path(".")


def check_output_path(path: Path, force: bool) -> None:
    """Refuse a folder, an existing file without ``force``, and a missing parent folder."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give a file name")
    if path.exists() and not force:
        raise InputError(f"{path}: exists already; use --force to overwrite it")
    folder = output_folder(path)
    if not folder.is_dir():
        raise InputError(f"{path}: folder {folder} does not exist")
