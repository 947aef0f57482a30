"""`imu-knee live`: record sensors and analyse the steps as they happen.

    imu-knee live --virtual REC.csv --profile PROFILE [--duration S] --out OUT.csv
    imu-knee live --sensor left_shank=movesense@AA:BB:CC:DD:EE:FF [--sensor ...] --out OUT.csv

`--virtual` streams REC.csv through virtual BLE sensors that speak PROFILE's real protocol
(one per sensor in the file, on Bumble's in-memory radio), found by a scan and recorded
through the real bleak client code; `--sensor` records real sensors, as `record` does.
Either way what arrives is written to OUT.csv (DESIGN.md sections 1 and 3) and analysed
live: one line per step on stdout (time, side, activity, impact with its sample rate,
stride length, the coach's cue), a status line on stderr (per-sensor rate and losses:
rewritten in place on a terminal, a plain line every few seconds otherwise). Ctrl-C stops
cleanly: the file is complete up to the stop, then the session summary is printed.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from pathlib import Path

from ..errors import InputError

DECLARE_WAIT_S = 3.0  # analysis starts without sensors that have not sent data by then


def add_arguments(parser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--virtual", type=Path, metavar="REC.csv",
                        help="recording to stream through virtual BLE sensors (no hardware needed)")
    source.add_argument("--sensor", action="append", metavar="PLACE=PROFILE@ADDRESS",
                        help="a real sensor, e.g. left_shank=movesense@AA:BB:CC:DD:EE:FF (repeat for more)")
    parser.add_argument("--profile", metavar="PROFILE",
                        help="with --virtual: device protocol the virtual sensors speak: witmotion, "
                             "metamotion, movesense, polar, thingy52 or imu-knee")
    parser.add_argument("--out", type=Path, required=True, metavar="OUT.csv", help="recording to write")
    parser.add_argument("--duration", type=float, default=None, metavar="S",
                        help="stop after S seconds (default: the length of REC.csv; real sensors: Ctrl-C)")
    parser.add_argument("--rate", type=float, default=None, metavar="HZ",
                        help="sample rate to ask the sensors for (default: the profile's settings file)")
    parser.add_argument("--sensors", default=None, metavar="NAMES",
                        help="with --virtual: comma-separated subset of the recording's sensors (default: all)")
    parser.add_argument("--leg-length", type=float, default=None, metavar="M",
                        help="leg length in m (default: the recording's; stored in the file)")
    parser.add_argument("--no-analysis", action="store_true", help="record only")
    parser.add_argument("--status-every", type=float, default=None, metavar="S",
                        help="status line interval (default 1 s on a terminal, 5 s otherwise)")
    parser.add_argument("--quiet", action="store_true", help="no status line or progress messages")


class Console:
    """Step lines on stdout, notes and the status line on stderr, from any thread.

    On a terminal the status line is rewritten in place and step lines are printed above
    it; otherwise the status is a plain line each time."""

    def __init__(self, out=None, err=None, quiet: bool = False) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.quiet = quiet
        self.tty = bool(getattr(self.err, "isatty", lambda: False)())
        self._status = ""
        self._lock = threading.Lock()

    def _clear(self) -> None:
        if self.tty and self._status:
            self.err.write("\r\x1b[K")
            self.err.flush()

    def _redraw(self) -> None:
        if self.tty and self._status:
            self.err.write(self._status)
            self.err.flush()

    def line(self, text: str) -> None:
        with self._lock:
            self._clear()
            self.out.write(text + "\n")
            self.out.flush()
            self._redraw()

    def note(self, text: str) -> None:
        if self.quiet:
            return
        with self._lock:
            self._clear()
            self.err.write(f"imu-knee: {text}\n")
            self.err.flush()
            self._redraw()

    def status(self, text: str) -> None:
        if self.quiet:
            return
        with self._lock:
            if self.tty:
                self._status = text
                self.err.write("\r\x1b[K" + text)
            else:
                self.err.write(f"imu-knee: {text}\n")
            self.err.flush()

    def end_status(self) -> None:
        with self._lock:
            if self.tty and self._status:
                self.err.write("\n")
                self.err.flush()
            self._status = ""


def run(args) -> int:
    from ..recording import read_recording

    if args.duration is not None and not args.duration > 0:
        raise InputError(f"--duration {args.duration}: must be more than 0 seconds")
    if args.leg_length is not None and not 0.4 <= args.leg_length <= 1.4:
        raise InputError(f"--leg-length {args.leg_length}: expected metres between 0.4 and 1.4")
    if args.status_every is not None and not args.status_every > 0:
        raise InputError(f"--status-every {args.status_every}: must be more than 0 seconds")
    if args.out.parent and not args.out.parent.exists():
        raise InputError(f"{args.out}: folder {args.out.parent} does not exist")
    console = Console(quiet=args.quiet)
    if args.sensor:
        if args.profile or args.sensors:
            raise InputError("--profile and --sensors go with --virtual; give each --sensor as PLACE=PROFILE@ADDRESS")
        _need_ble(virtual=False)
        from .record import parse_sensor_args

        specs = parse_sensor_args(args.sensor, args.rate)
        summary = asyncio.run(_real(specs, args, console))
    else:
        virtual = _check_virtual_args(args)
        _need_ble(virtual=True)
        rec = read_recording(args.virtual)
        names = _virtual_names(rec, args)
        profile, _ = virtual
        from ..ble.virtual.fleet import TAIL_S
        duration_s = args.duration if args.duration is not None else rec.duration_s + TAIL_S + 0.5
        summary = asyncio.run(_virtual(rec, names, profile, args, duration_s, console))
    _print_summary(summary, console)
    return 0


def _need_ble(virtual: bool) -> None:
    try:
        import bleak  # noqa: F401
        if virtual:
            import bumble  # noqa: F401
    except ImportError as exc:
        what = "live --virtual" if virtual else "live"
        raise InputError(f"{what} needs the BLE extra (pip install 'imu-knee[ble]'): {exc}") from None


def _check_virtual_args(args):
    try:
        from ..ble.profiles import PROFILE_NAMES, SettingError, get_profile
    except ImportError as exc:  # pragma: no cover - the profiles are pure Python
        raise InputError(f"BLE profiles unavailable: {exc}") from None
    if not args.profile:
        raise InputError(f"--virtual needs --profile (choose {', '.join(PROFILE_NAMES)})")
    if args.profile not in PROFILE_NAMES:
        raise InputError(f"--profile {args.profile}: unknown (choose {', '.join(PROFILE_NAMES)})")
    profile = get_profile(args.profile)
    try:
        profile.settings(args.rate)
    except SettingError as exc:
        raise InputError(str(exc)) from None
    return profile, None


def _virtual_names(rec, args) -> list[str]:
    names = list(rec.streams)
    if args.sensors:
        wanted = [n.strip() for n in args.sensors.split(",") if n.strip()]
        missing = [n for n in wanted if n not in rec.streams]
        if missing:
            raise InputError(f"--sensors: {', '.join(missing)} not in {args.virtual} (has {', '.join(names)})")
        names = wanted
    if not names:
        raise InputError(f"{args.virtual}: no sensor data")
    return names


async def _virtual(rec, names, profile, args, duration_s, console: Console) -> dict:
    from ..ble.bumble_backend import BumbleClient
    from ..ble.session import SensorSpec
    from ..ble.virtual import VirtualRadio
    from ..ble.virtual.fleet import all_finished, make_virtual_sensors, start_and_find

    radio = VirtualRadio("live")
    sensors = make_virtual_sensors(profile, {name: rec.streams[name] for name in names}, radio)
    try:
        console.note(f"scanning for {len(sensors)} virtual {profile.name} sensor(s)")
        found = await start_and_find(sensors, profile, radio)
        specs = []
        for name, (device, adv) in found.items():
            console.note(f"{name}: {adv.local_name} at {device.address}, RSSI {adv.rssi} dBm")
            specs.append(SensorSpec(name, profile, device, args.rate))
        leg_length_m = args.leg_length or rec.leg_length_m
        meta = {"source": {"virtual": args.virtual.name, "profile": profile.name}}
        if leg_length_m:
            meta["subject"] = {"leg_length_m": leg_length_m}
        return await run_live_session(specs, args.out, console, client_kwargs={"backend": BumbleClient},
                                      meta=meta, leg_length_m=leg_length_m, duration_s=duration_s,
                                      until=all_finished(sensors), analyse=not args.no_analysis,
                                      status_every_s=args.status_every)
    finally:
        for sensor in sensors.values():
            await sensor.close()


async def _real(specs, args, console: Console) -> dict:
    from .scan import bluetooth_unavailable

    meta = {"subject": {"leg_length_m": args.leg_length}} if args.leg_length else None
    try:
        return await run_live_session(specs, args.out, console, meta=meta, leg_length_m=args.leg_length,
                                      duration_s=args.duration, analyse=not args.no_analysis,
                                      status_every_s=args.status_every)
    except InputError:
        raise
    except (OSError, asyncio.TimeoutError) as exc:
        raise bluetooth_unavailable(exc) from None
    except Exception as exc:
        from bleak.exc import BleakError
        if isinstance(exc, BleakError):
            raise InputError(f"cannot record: {exc}") from None
        raise


async def run_live_session(specs, out, console: Console, *, client_kwargs: dict | None = None,
                           meta: dict | None = None, leg_length_m: float | None = None,
                           duration_s: float | None = None, until=None, analyse: bool = True,
                           status_every_s: float | None = None) -> dict:
    """Record `specs` into `out` with live analysis and terminal output until `duration_s`,
    `until(session)` or Ctrl-C; returns the session summary with `steps` and `latency`."""
    from ..ble.live_analysis import LiveAnalysis, console_line
    from ..ble.session import RecordingSession, stop_on_interrupt

    holder: dict = {}

    def declare():
        session = holder["session"]
        links = [link for link in session.links if link.failed is None]
        ready = [link for link in links if link.rate_checked]
        if not ready:
            return None
        waited = session.now_s() - min(link.connected_at_s or 1e9 for link in links)
        if len(ready) < len(links) and waited < DECLARE_WAIT_S:
            return None
        return {link.spec.placement: link.rate_hz for link in ready}

    def show(event) -> None:
        line = console_line(event)  # the step at its contact row; a follow-up for a cue
        if line:
            console.line(line)

    live = LiveAnalysis(declare, leg_length_m=leg_length_m, on_row=show,
                        clock_origin=lambda: holder["session"].t0_monotonic) if analyse else None
    session = RecordingSession(specs, out, client_kwargs=client_kwargs, meta=meta,
                               on_block=live.push if live else None, on_note=console.note)
    holder["session"] = session
    stop = asyncio.Event()
    every_s = status_every_s or (1.0 if console.tty else 5.0)
    ticker = asyncio.ensure_future(_status(session, live, console, every_s, duration_s))
    if live is not None:
        live.start()
    interrupted = {"yes": False}

    def on_interrupt() -> None:
        interrupted["yes"] = True
        console.note("stopping (Ctrl-C again to abort)")

    try:
        with stop_on_interrupt(stop, on_interrupt):
            summary = await session.run(duration_s=duration_s, stop=stop,
                                        until=(lambda: until(session)) if until else None)
    finally:
        ticker.cancel()
        console.end_status()
        if live is not None:
            await asyncio.get_running_loop().run_in_executor(None, live.finish)
    summary["interrupted"] = interrupted["yes"]
    if live is not None:
        summary["steps"] = live.step_counts()
        summary["latency"] = live.latency_report()
        summary["latency_all_rows"] = live.latency_report(after_calibration=False)
        summary["calibrated_at_s"] = live.calibrated_at_s()
        summary["analysis_error"] = None if live.error is None else f"{type(live.error).__name__}: {live.error}"
    return summary


async def _status(session, live, console: Console, every_s: float, duration_s: float | None) -> None:
    last = {}
    last_t = time.monotonic()
    while True:
        await asyncio.sleep(every_s)
        now = time.monotonic()
        parts = []
        for link in session.links:
            name = link.spec.placement
            if link.failed is not None:
                parts.append(f"{name} not recorded")
                continue
            samples = link.stats.samples
            rate = (samples - last.get(name, 0)) / max(now - last_t, 1e-6)
            last[name] = samples
            lost = link.stats.lost_packets
            bad = link.stats.decode_errors
            state = "" if link.streaming else " (reconnecting)"
            extra = f", bad {bad}" if bad else ""
            extra += battery_text(link.stats.battery_percent, ", battery ")
            parts.append(f"{name} {rate:5.1f} Hz, lost {lost}{extra}{state}")
        last_t = now
        steps = 0 if live is None else sum(1 for e in live.events if e.final)
        total = f"/{duration_s:.0f}" if duration_s else ""
        console.status(f"{session.now_s():5.0f}{total} s | " + " | ".join(parts) + f" | steps {steps}")


def battery_text(percent: int | None, prefix: str = "") -> str:
    """``prefix`` + "87 %" for a device that reports its battery, "" for one that does not."""
    return "" if percent is None else f"{prefix}{percent} %"


def _print_summary(summary: dict, console: Console) -> None:
    how = " (stopped by Ctrl-C)" if summary.get("interrupted") else ""
    lines = [f"session: {summary['duration_s']:.1f} s{how}"]
    for s in summary["sensors"]:
        if s.get("failed"):
            lines.append(f"{s['placement']}: not recorded ({s['failed']})")
            continue
        gaps = ", ".join(f"{a:.2f}-{b:.2f} s" for a, b in s["gaps_s"]) or "none"
        lines.append(f"{s['placement']}: {s['samples']} samples at {s['rate_hz']} Hz, "
                     f"{s['notifications']} notifications ({s['notifications_per_s']}/s), "
                     f"lost packets {s['lost_packets']}, decode errors {s['decode_errors']}, "
                     f"reconnects {s['reconnects']}, gaps {gaps}"
                     + battery_text(s.get("battery_percent"), ", battery "))
    if "steps" in summary:
        from ..ble.live_analysis import step_summary_lines

        lines += step_summary_lines(summary["steps"], summary.get("analysis_error"))
    if summary.get("out_path"):
        lines.append(f"wrote {summary['out_path']}")
    else:
        lines.append("nothing was recorded; no file written")
    for line in lines:
        console.line(line)
