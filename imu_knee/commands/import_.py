"""`imu-knee import`: convert another app's export into an imu-knee recording.

    imu-knee import SRC [SRC ...] --placement left_shank -o REC.csv

SRC is a zip, a folder or one or more CSV files from phyphox, Sensor Logger, MetaBase,
Movesense Showcase or a gaitmap-style CSV. The format is recognised from the zip content,
file names and header lines; ``--format`` overrides.

An imu-knee recording written in the wrong units is fixed with
``imu-knee import REC.csv --acc-unit g [--gyr-unit rads] -o FIXED.csv`` (all its sensors kept).
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import InputError
from ..recording import SENSOR_NAMES


def add_arguments(parser) -> None:
    from ..importers import FORMATS

    parser.add_argument("src", nargs="+", metavar="SRC",
                        help="export to convert: a zip, a folder, or CSV file(s)")
    parser.add_argument("--placement", choices=SENSOR_NAMES,
                        help="where the sensor sat; becomes the sensor name in the recording"
                             " (required unless SRC is an imu-knee recording whose units are fixed)")
    parser.add_argument("-o", "--output", required=True, metavar="REC.csv",
                        help="recording file to write")
    parser.add_argument("--format", default="auto", choices=["auto", *FORMATS],
                        help="source app (default: detect from the files)")
    parser.add_argument("--acc-unit", default="auto", choices=["auto", "mps2", "g"],
                        help="accelerometer unit when the export is ambiguous (default: auto)")
    parser.add_argument("--gyr-unit", default="auto", choices=["auto", "dps", "rads"],
                        help="gyroscope unit when the export is ambiguous (default: auto)")
    parser.add_argument("--rate", type=float, metavar="HZ",
                        help="sample rate for files without timestamps (gaitmap CSV; its example"
                             " data is 204.8 Hz)")
    parser.add_argument("--sensor-column", metavar="NAME",
                        help="which sensor of a two-row-header gaitmap CSV (e.g. left_sensor)")
    parser.add_argument("--leg-length", type=float, metavar="M",
                        help="subject's leg length in metres, stored in the recording")
    parser.add_argument("--force", action="store_true", help="overwrite the output file")


def run(args) -> int:
    from ..importers import ImportOptions, import_source, write_import

    out = Path(args.output)
    if out.exists() and not args.force:
        raise InputError(f"{out}: exists already; pass --force to overwrite it")
    for src in args.src:
        if Path(src).exists() and out.exists() and Path(src).resolve() == out.resolve():
            raise InputError(f"{out}: is also the input; choose another output name")
    if args.leg_length is not None and not 0.3 < args.leg_length < 1.5:
        raise InputError(f"--leg-length {args.leg_length}: expected metres, between 0.3 and 1.5")
    if len(args.src) == 1 and _fix_units_of_recording(Path(args.src[0]), out, args):
        return 0
    if args.placement is None:
        raise InputError("--placement is required (where the sensor sat, e.g. left_shank)")
    options = ImportOptions(fmt=args.format, acc_unit=args.acc_unit, gyr_unit=args.gyr_unit,
                            rate_hz=args.rate, sensor_column=args.sensor_column)
    result = import_source(args.src, args.placement, options)
    if args.leg_length is not None:
        result.recording.leg_length_m = args.leg_length
    for note in result.notes:
        print(f"imu-knee: warning: {note}", file=sys.stderr)
    write_import(result, out, force=args.force)
    stream = result.recording.streams[args.placement]
    print(f"imported {len(stream)} samples ({stream.t_s[-1]:.1f} s at {stream.rate_hz:.1f} Hz)"
          f" from {result.app} as {args.placement} -> {out}")
    return 0


def _fix_units_of_recording(src: Path, out: Path, args) -> bool:
    """If SRC is an imu-knee recording and a unit was named, write it converted; else False."""
    from ..importers.recording_units import convert_recording_units, looks_like_recording
    from ..recording import write_recording

    if not (src.is_file() and looks_like_recording(src)):
        return False
    if args.acc_unit != "g" and args.gyr_unit != "rads":
        raise InputError(f"{src}: is already an imu-knee recording; no import needed (use it"
                         " directly, or pass --acc-unit g / --gyr-unit rads to fix its units)")
    rec = convert_recording_units(src, args.acc_unit, args.gyr_unit)
    if args.leg_length is not None:
        rec.leg_length_m = args.leg_length
    write_recording(out, rec, meta={"converted_from": f"{src.name} (acc {args.acc_unit},"
                                                      f" gyro {args.gyr_unit})"})
    print(f"converted {src} -> {out} ({', '.join(rec.streams)})")
    return True

