"""`imu-knee simulate`: make a synthetic recording with per-step ground truth.

Example::

    imu-knee simulate -o walk.csv --activities level:10,stairs_up:8,stairs_down:8 \
        --sensors left_shank,right_shank --rate 200 --hard-landing 4:right --seed 1
"""

from __future__ import annotations

import sys

from ..errors import InputError
from ..recording import SENSOR_NAMES

_PROBLEM_OPTIONS = {
    "hard_landing": ("hard_landing_g", "G", "extra impact on stairs-down landings, in g"),
    "knee_caving": ("knee_caving_deg", "DEG", "knee moves medially in loading (shank tilt, deg)"),
    "knee_wobble": ("knee_wobble_deg", "DEG", "4 Hz frontal wobble of the shank in stance (deg)"),
    "extension_deficit": ("extension_deficit_deg", "DEG", "knee never straightens by this much in stance"),
    "heel_lift": ("heel_lift_deg", "DEG",
                  "stairs down: heel held up (foot angle, deg); the shank tilts forward less"),
}


def add_arguments(parser) -> None:
    parser.add_argument("-o", "--output", required=True, metavar="REC.csv", help="recording to write")
    parser.add_argument("--truth", metavar="TRUTH.csv", help="truth file (default REC.truth.csv)")
    parser.add_argument("--activities", default="level:10", metavar="LIST",
                        help="strides per activity in order, e.g. level:10,stairs_up:8,stairs_down:8")
    parser.add_argument("--sensors", default="left_shank,right_shank", metavar="LIST",
                        help=f"comma-separated subset of {','.join(SENSOR_NAMES)}")
    parser.add_argument("--rate", type=float, default=100.0, metavar="HZ", help="sample rate, 50..400 Hz")
    parser.add_argument("--leg-length", type=float, metavar="M", help="ASIS to ankle (default 0.53 × height)")
    parser.add_argument("--height", type=float, default=1.72, metavar="M", help="subject height")
    parser.add_argument("--speed", type=float, metavar="M/S", help="level walking speed")
    parser.add_argument("--cadence", type=float, metavar="STEPS/MIN", help="level cadence")
    parser.add_argument("--stride-length", type=float, metavar="M",
                        help="level stride length (long strides: e.g. 1.9 × leg length)")
    parser.add_argument("--mounting", default="random", choices=("aligned", "random", "any"),
                        help="strap rotation: none, ±35° about the segment + ≤10° tilt, or any")
    parser.add_argument("--noise", type=float, default=1.0,
                        help="white noise factor (1 = 0.04 m/s², 0.25 °/s)")
    parser.add_argument("--bias", type=float, default=1.0, help="bias factor (1 = up to 0.08 m/s², 1.5 °/s)")
    parser.add_argument("--scale-error", type=float, default=0.015, help="max relative scale error")
    parser.add_argument("--drop-rate", type=float, default=0.0, help="fraction of rows lost in short gaps")
    parser.add_argument("--jitter", type=float, default=0.0, metavar="S", help="timestamp jitter (s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same file)")
    for opt, (_, metavar, text) in _PROBLEM_OPTIONS.items():
        parser.add_argument(f"--{opt.replace('_', '-')}", action="append", default=[],
                            metavar=f"{metavar}[:SIDE]", help=f"{text}; SIDE left, right or both (default)")


def _problem_values(args) -> dict[str, dict[str, float]]:
    problems: dict[str, dict[str, float]] = {}
    for opt, (field, _, _) in _PROBLEM_OPTIONS.items():
        for item in getattr(args, opt):
            value, _, side = item.partition(":")
            side = side or "both"
            if side not in ("left", "right", "both"):
                raise InputError(f"--{opt.replace('_', '-')} {item}: side must be left, right or both")
            try:
                number = float(value)
            except ValueError:
                raise InputError(f"--{opt.replace('_', '-')} {item}: '{value}' is not a number") from None
            for s in (("left", "right") if side == "both" else (side,)):
                problems.setdefault(s, {})[field] = number
    return problems


def run(args) -> int:
    from ..simulate import simulate, write_outputs

    sensors = [s.strip() for s in args.sensors.split(",") if s.strip()]
    result = simulate(args.activities, leg_length_m=args.leg_length, height_m=args.height,
                      speed_mps=args.speed, cadence_spm=args.cadence,
                      stride_length_m=args.stride_length, sensors=sensors, rate_hz=args.rate,
                      mounting=args.mounting, noise=args.noise, bias=args.bias,
                      scale_error=args.scale_error, drop_rate=args.drop_rate,
                      timestamp_jitter_s=args.jitter, problems=_problem_values(args), seed=args.seed)
    try:
        truth_path = write_outputs(result, args.output, args.truth)
    except OSError as exc:
        raise InputError(f"cannot write {exc.filename}: {exc.strerror}") from None
    rec = result.recording
    print(f"wrote {args.output} ({len(rec.streams)} sensors, {rec.duration_s:.1f} s,"
          f" {len(result.truth)} contacts) and {truth_path}", file=sys.stderr)
    return 0
