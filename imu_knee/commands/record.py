"""`imu-knee record --sensor PLACE=PROFILE@ADDRESS [...] --out OUT.csv [--duration S]`.

Connects the sensors one at a time, streams them in parallel and writes what arrives to
OUT.csv (DESIGN.md section 1), reconnecting after a lost connection (the time without data
stays a gap). Find addresses with `imu-knee scan`. Without --duration it records until
Ctrl-C (the file is complete up to the stop); the file is flushed every half second either
way. `imu-knee live --sensor ...` does the same with live analysis.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from ..errors import InputError

_SENSOR_ARG = re.compile(r"^(?P<place>[a-z_]+)=(?P<profile>[a-z0-9\-]+)@(?P<address>\S+)$")


def add_arguments(parser) -> None:
    parser.add_argument("--sensor", action="append", required=True, metavar="PLACE=PROFILE@ADDRESS",
                        help="e.g. left_shank=movesense@AA:BB:CC:DD:EE:FF (repeat for more sensors)")
    parser.add_argument("--out", type=Path, required=True, metavar="OUT.csv", help="recording to write")
    parser.add_argument("--duration", type=float, default=None, metavar="S", help="stop after S seconds")
    parser.add_argument("--rate", type=float, default=None, metavar="HZ",
                        help="sample rate to ask for (default: each profile's settings file)")
    parser.add_argument("--leg-length", type=float, default=None, metavar="M", help="leg length in m, stored in the file")
    parser.add_argument("--quiet", action="store_true", help="no progress messages")


def parse_sensor_args(values: list[str], rate_hz: float | None):
    """`PLACE=PROFILE@ADDRESS` arguments → SensorSpecs (InputError names a bad one)."""
    from ..ble.profiles import PROFILE_NAMES, SettingError, get_profile
    from ..ble.session import SensorSpec
    from ..recording import SENSOR_NAMES

    specs = []
    for value in values:
        m = _SENSOR_ARG.match(value.strip())
        if not m:
            raise InputError(f"--sensor {value}: expected PLACE=PROFILE@ADDRESS, e.g. left_shank=movesense@AA:BB:CC:DD:EE:FF")
        place, profile_name, address = m["place"], m["profile"], m["address"]
        if place not in SENSOR_NAMES:
            raise InputError(f"--sensor {value}: place must be one of {', '.join(SENSOR_NAMES)}")
        if profile_name not in PROFILE_NAMES:
            raise InputError(f"--sensor {value}: unknown profile (choose {', '.join(PROFILE_NAMES)})")
        if any(s.placement == place for s in specs):
            raise InputError(f"--sensor {value}: {place} is given twice")
        profile = get_profile(profile_name)
        try:
            profile.settings(rate_hz)
        except SettingError as exc:
            raise InputError(str(exc)) from None
        specs.append(SensorSpec(place, profile, address, rate_hz))
    return specs


def run(args) -> int:
    if args.duration is not None and not args.duration > 0:
        raise InputError(f"--duration {args.duration}: must be more than 0 seconds")
    if args.leg_length is not None and not 0.4 <= args.leg_length <= 1.4:
        raise InputError(f"--leg-length {args.leg_length}: expected metres between 0.4 and 1.4")
    if args.out.parent and not args.out.parent.exists():
        raise InputError(f"{args.out}: folder {args.out.parent} does not exist")
    try:
        import bleak  # noqa: F401
    except ImportError as exc:
        raise InputError(f"record needs the BLE extra (pip install 'imu-knee[ble]'): {exc}") from None
    from .live import Console, _print_summary, _real

    specs = parse_sensor_args(args.sensor, args.rate)
    args.no_analysis = True
    args.status_every = 2.0
    console = Console(quiet=args.quiet)
    summary = asyncio.run(_real(specs, args, console))
    _print_summary(summary, console)
    return 0
