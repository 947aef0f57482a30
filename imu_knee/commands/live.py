"""`imu-knee live --virtual REC.csv --profile PROFILE [--duration S] --out OUT.csv`.

Streams REC.csv through virtual BLE sensors that speak PROFILE's real protocol (one per
sensor in the file, on Bumble's in-memory radio), scans for them and records them through
the real bleak client code, exactly as `record` does with real sensors; what arrives is
written to OUT.csv (DESIGN.md sections 1 and 3).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from ..errors import InputError

SCAN_S = 0.3
TAIL_S = 0.3  # after the virtual sensors finish, wait this long for the last notifications


def add_arguments(parser) -> None:
    parser.add_argument("--virtual", type=Path, metavar="REC.csv", required=True,
                        help="recording to stream through virtual BLE sensors (no hardware needed)")
    parser.add_argument("--profile", required=True, metavar="PROFILE",
                        help="device protocol the virtual sensors speak: witmotion, metamotion, "
                             "movesense, polar, thingy52 or imu-knee")
    parser.add_argument("--out", type=Path, required=True, metavar="OUT.csv", help="recording to write")
    parser.add_argument("--duration", type=float, default=None, metavar="S",
                        help="stop after S seconds (default: the length of REC.csv)")
    parser.add_argument("--rate", type=float, default=None, metavar="HZ",
                        help="sample rate to ask the sensors for (default: the profile's settings file)")
    parser.add_argument("--sensors", default=None, metavar="NAMES",
                        help="comma-separated subset of the recording's sensors (default: all)")
    parser.add_argument("--quiet", action="store_true", help="no progress messages")


def run(args) -> int:
    from ..recording import read_recording

    try:
        from ..ble.profiles import PROFILE_NAMES, SettingError, get_profile
    except ImportError as exc:  # pragma: no cover - the profiles are pure Python
        raise InputError(f"BLE profiles unavailable: {exc}") from None
    if args.profile not in PROFILE_NAMES:
        raise InputError(f"--profile {args.profile}: unknown (choose {', '.join(PROFILE_NAMES)})")
    if args.duration is not None and not args.duration > 0:
        raise InputError(f"--duration {args.duration}: must be more than 0 seconds")
    if args.out.parent and not args.out.parent.exists():
        raise InputError(f"{args.out}: folder {args.out.parent} does not exist")
    try:
        import bleak  # noqa: F401
        import bumble  # noqa: F401
    except ImportError as exc:
        raise InputError(f"live --virtual needs the BLE extra (pip install 'imu-knee[ble]'): {exc}") from None

    rec = read_recording(args.virtual)
    names = list(rec.streams)
    if args.sensors:
        wanted = [n.strip() for n in args.sensors.split(",") if n.strip()]
        missing = [n for n in wanted if n not in rec.streams]
        if missing:
            raise InputError(f"--sensors: {', '.join(missing)} not in {args.virtual} (has {', '.join(names)})")
        names = wanted
    if not names:
        raise InputError(f"{args.virtual}: no sensor data")
    profile = get_profile(args.profile)
    try:
        profile.settings(args.rate)
    except SettingError as exc:
        raise InputError(str(exc)) from None
    duration_s = args.duration if args.duration is not None else rec.duration_s + TAIL_S + 0.5
    say = (lambda m: None) if args.quiet else (lambda m: print(f"imu-knee: {m}", file=sys.stderr))
    summary = asyncio.run(_live(rec, names, profile, args, duration_s, say))
    for s in summary["sensors"]:
        gaps = ", ".join(f"{a:.2f}-{b:.2f} s" for a, b in s["gaps_s"]) or "none"
        print(f"{s['placement']}: {s['samples']} samples, {s['notifications']} notifications "
              f"({s['notifications_per_s']}/s), lost packets {s['lost_packets']}, "
              f"decode errors {s['decode_errors']}, reconnects {s['reconnects']}, gaps {gaps}")
    print(f"wrote {args.out}")
    return 0


async def _live(rec, names, profile, args, duration_s, say) -> dict:
    from bleak import BleakScanner

    from ..ble.bumble_backend import BumbleClient, BumbleScanner
    from ..ble.session import RecordingSession, SensorSpec
    from ..ble.virtual import VirtualRadio
    from ..ble.virtual.sensor import VirtualSensor

    radio = VirtualRadio("live")
    base_name = getattr(profile, "advertised_name", None) or profile.device_name or profile.name
    sensors = {name: VirtualSensor(profile, rec.streams[name], realtime=True, radio=radio,
                                   name=f"{base_name} {i + 1}") for i, name in enumerate(names)}
    try:
        for sensor in sensors.values():
            await sensor.start()
        say(f"scanning for {len(sensors)} virtual {profile.name} sensor(s)")
        found = await BleakScanner.discover(SCAN_S, return_adv=True, service_uuids=[profile.service_uuid],
                                            backend=BumbleScanner, radio=radio)
        specs = []
        for name, sensor in sensors.items():
            if sensor.address not in found:
                raise InputError(f"virtual sensor for {name} was not seen while scanning")
            device, adv = found[sensor.address]
            say(f"{name}: {adv.local_name} at {device.address}, RSSI {adv.rssi} dBm")
            specs.append(SensorSpec(name, profile, device, args.rate))
        meta = {"source": {"virtual": args.virtual.name, "profile": profile.name}}
        if rec.leg_length_m:
            meta["subject"] = {"leg_length_m": rec.leg_length_m}
        session = RecordingSession(specs, args.out, client_kwargs={"backend": BumbleClient}, meta=meta)
        done_since: dict[str, float] = {}

        def finished() -> bool:
            now = session.now_s()
            for name, sensor in sensors.items():
                if sensor.finished.is_set():
                    done_since.setdefault(name, now)
            return len(done_since) == len(sensors) and now - max(done_since.values()) >= TAIL_S

        progress = asyncio.ensure_future(_progress(session, duration_s, say))
        try:
            return await session.run(duration_s=duration_s, until=finished)
        finally:
            progress.cancel()
    finally:
        for sensor in sensors.values():
            await sensor.close()


async def _progress(session, duration_s: float, say) -> None:
    while True:
        await asyncio.sleep(1.0)
        counts = ", ".join(f"{link.spec.placement} {link.stats.samples}" for link in session.links)
        say(f"{session.now_s():.0f}/{duration_s:.0f} s: samples {counts}")
