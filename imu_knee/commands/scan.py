"""`imu-knee scan [--timeout S] [--all]`: list nearby Bluetooth LE sensors imu-knee supports.

A device is recognised by a service UUID it advertises (the profile's service) or, since
several sensors advertise only their name, by its name. `--virtual witmotion,polar` scans
virtual sensors of those profiles instead of the radio (no hardware needed).
"""

from __future__ import annotations

import asyncio

from ..errors import InputError

#: advertised-name prefixes of the supported devices (lower case)
NAME_PREFIXES = {
    "witmotion": ("wt901", "bwt901", "wt9011", "witmotion"),
    "metamotion": ("metawear", "metamotion"),
    "movesense": ("movesense",),
    "polar": ("polar sense", "polar h10", "polar verity", "polar oh1"),
    "thingy52": ("thingy",),
    "imu-knee": ("imu-knee",),
}


def add_arguments(parser) -> None:
    parser.add_argument("--timeout", type=float, default=5.0, metavar="S", help="scan this long (default 5 s)")
    parser.add_argument("--all", action="store_true", help="list every device, supported or not")
    parser.add_argument("--virtual", default=None, metavar="PROFILES",
                        help="scan virtual sensors of these comma-separated profiles instead of the radio")


def match_profile(local_name: str | None, service_uuids: list[str]) -> str | None:
    """The profile a device belongs to, from its advertised services or name (None: unknown)."""
    from ..ble.profiles import PROFILE_NAMES, get_profile

    uuids = {u.lower() for u in service_uuids or []}
    for name in PROFILE_NAMES:
        try:
            if get_profile(name).service_uuid.lower() in uuids:
                return name
        except Exception:  # a profile whose settings file is missing cannot match by service
            continue
    lowered = (local_name or "").lower()
    for name, prefixes in NAME_PREFIXES.items():
        if lowered.startswith(prefixes):
            return name
    return None


def bluetooth_unavailable(exc: BaseException) -> InputError:
    return InputError(f"Bluetooth is not available on this machine ({type(exc).__name__}: {exc})")


def run(args) -> int:
    if not args.timeout > 0:
        raise InputError(f"--timeout {args.timeout}: must be more than 0 seconds")
    try:
        import bleak  # noqa: F401
    except ImportError as exc:
        raise InputError(f"scan needs the BLE extra (pip install 'imu-knee[ble]'): {exc}") from None
    rows = asyncio.run(_scan(args))
    if not rows:
        print("no supported sensors found" if not args.all else "no devices found")
        return 0
    print(f"{'address':<18} {'rssi':>5}  {'profile':<11} name")
    for address, rssi, profile, name in rows:
        print(f"{address:<18} {rssi:>5}  {profile or '-':<11} {name or ''}")
    return 0


async def _scan(args) -> list[tuple[str, int, str | None, str | None]]:
    from bleak import BleakScanner

    kwargs: dict = {}
    sensors = []
    if args.virtual:
        from ..ble.bumble_backend import BumbleScanner
        from ..ble.profiles import PROFILE_NAMES, get_profile
        from ..ble.virtual import VirtualRadio
        from ..ble.virtual.sensor import VirtualSensor
        import numpy as np
        from ..recording import SensorStream

        names = [n.strip() for n in args.virtual.split(",") if n.strip()]
        unknown = [n for n in names if n not in PROFILE_NAMES]
        if unknown or not names:
            raise InputError(f"--virtual {args.virtual}: unknown profile (choose {', '.join(PROFILE_NAMES)})")
        radio = VirtualRadio("scan")
        still = SensorStream("left_shank", np.zeros(1), np.array([[0.0, 0.0, 9.81]]), np.zeros((1, 3)), 100.0)
        for name in names:
            profile = get_profile(name)
            label = getattr(profile, "advertised_name", None) or profile.device_name or name
            sensors.append(VirtualSensor(profile, still, radio=radio, name=label))
        for sensor in sensors:
            await sensor.start()
        kwargs = {"backend": BumbleScanner, "radio": radio}
    try:
        found = await BleakScanner.discover(args.timeout, return_adv=True, **kwargs)
    except InputError:
        raise
    except Exception as exc:  # no adapter, no D-Bus, Bluetooth switched off
        raise bluetooth_unavailable(exc) from None
    finally:
        for sensor in sensors:
            await sensor.close()
    rows = []
    for device, adv in found.values():
        profile = match_profile(adv.local_name or device.name, adv.service_uuids)
        if profile is None and not args.all:
            continue
        rows.append((device.address, int(adv.rssi), profile, adv.local_name or device.name))
    rows.sort(key=lambda r: -r[1])
    return rows
