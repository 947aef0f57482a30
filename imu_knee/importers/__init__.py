"""Importers: other apps' exports → the imu-knee recording format (DESIGN.md section 1).

One small module per app (``phyphox``, ``sensor_logger``, ``metabase``, ``movesense``,
``gaitmap_csv``), ``detect`` to recognise them, ``sources`` to open files/folders/zips,
``table`` to parse delimited text, ``timeline`` and ``units`` for the shared conversions.

>>> result = import_source(["export.zip"], "left_shank")            # doctest: +SKIP
>>> write_import(result, "REC.csv")                                  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputError
from ..paths import check_output_path, output_folder
from ..recording import SENSOR_NAMES, read_recording, write_recording
from .convert import ImportResult, to_recording
from .detect import FORMATS, detect_format
from .model import ImportOptions
from .sources import open_source

__all__ = ["FORMATS", "ImportOptions", "ImportResult", "import_source", "write_import"]


def import_source(sources: list[str | os.PathLike], placement: str,
                  options: ImportOptions | None = None) -> ImportResult:
    """Read an export (files, a folder or a zip) and convert it; ``InputError`` on bad input."""
    options = options or ImportOptions()
    if placement not in SENSOR_NAMES:
        raise InputError(f"unknown placement '{placement}' (expected one of {', '.join(SENSOR_NAMES)})")
    if options.rate_hz is not None and not (0 < options.rate_hz < 100000):
        raise InputError(f"--rate must be a positive sample rate in Hz, not {options.rate_hz}")
    bundle = open_source(list(sources))
    try:
        fmt = detect_format(bundle) if options.fmt in (None, "auto") else options.fmt
        if fmt not in FORMATS:
            raise InputError(f"unknown format '{fmt}' (expected one of {', '.join(FORMATS)})")
        module = FORMATS[fmt]
        if options.fmt not in (None, "auto") and module.detect(bundle) == 0:
            raise InputError(f"{bundle.label}: not a {fmt} export (its files and header lines do"
                             f" not match); let imu-knee detect the format or check the file")
        raw = module.load(bundle, options)
        if options.rate_hz and fmt != "gaitmap":
            raw.notes.append("--rate ignored: this export has its own timestamps")
        result = to_recording(raw, placement, options.acc_unit, options.gyr_unit)
        result.meta["source_format"] = fmt
        return result
    finally:
        bundle.close()


def write_import(result: ImportResult, output: str | os.PathLike, force: bool = False) -> Path:
    """Write atomically (temporary file, then rename) and read it back as a check."""
    out = Path(output)
    check_output_path(out, force)
    folder = output_folder(out)
    # a plain open() (not mkstemp) so the file gets the user's usual permissions
    tmp = folder / f".{out.name}.{os.getpid()}.tmp"
    try:
        write_recording(tmp, result.recording, meta=result.meta)
        read_recording(tmp)  # the file must be readable by the rest of imu-knee
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out
