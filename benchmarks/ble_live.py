"""Live BLE sessions through the virtual link (bleak API → Bumble → virtual sensors), at real time.

    python benchmarks/ble_live.py [--duration 60] [--profiles witmotion,imu-knee] [--parts all]

Three measurements (issue 5):

1. `stream`: two virtual sensors per profile at about 200 Hz (the profile's rate nearest
   200 Hz) for --duration seconds. Target: zero samples lost (rows in the file = samples the
   sensors sent = the source's samples, no lost packets, no gaps) and recorded values equal to
   the source within each device's quantisation (reported in LSB; 0.5 is exact rounding).
2. `drop`: one sensor dropped at a third of --duration, back after 1 s. Target: it
   reconnects, recording resumes, the gap is marked (summary and missing rows), every sample
   received before and after it is in the file and equals the source sample sent at that time.
3. `latency`: `imu-knee live`'s own session code (run_live_session) on a simulated walk at
   100 Hz, two shanks. Target: arrival → step row median <= 150 ms. Reported per row: arrival
   of the sample at the contact → final row (the row needs the stance to end), arrival of the
   block that completed the row → row (the live pipeline itself), contact in the signal →
   early notice (signal time), arrival of the contact sample → early notice (host time).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imu_knee.ble.bumble_backend import BumbleClient  # noqa: E402
from imu_knee.ble.profiles import PROFILE_NAMES, get_profile  # noqa: E402
from imu_knee.ble.session import RecordingSession, SensorSpec  # noqa: E402
from imu_knee.ble.virtual import VirtualRadio  # noqa: E402
from imu_knee.ble.virtual.sensor import VirtualSensor, resample  # noqa: E402
from imu_knee.recording import read_recording  # noqa: E402
from imu_knee.simulate.api import simulate  # noqa: E402

TAIL_S = 0.6


def walk(duration_s: float, rate_hz: float, seed: int = 1):
    """A simulated level walk of about `duration_s` seconds, two shanks, at `rate_hz`."""
    strides = max(2, int((duration_s - 1.5) / 1.12))
    return simulate(f"level:{strides}", rate_hz=rate_hz, standing_start_s=1.0, standing_end_s=0.5,
                    seed=seed).recording


def nearest_rate(profile, want_hz: float) -> float:
    return float(min(profile.rates_hz, key=lambda r: abs(r - want_hz)))


def source_at(stream, rate_hz: float):
    """The samples the virtual sensor sends: the stream resampled to `rate_hz` (as it does)."""
    if abs(stream.rate_hz - rate_hz) / rate_hz < 0.01:
        return stream.acc_mps2, stream.gyr_dps
    _, acc = resample(stream.t_s, stream.acc_mps2, rate_hz)
    _, gyr = resample(stream.t_s, stream.gyr_dps, rate_hz)
    return acc, gyr


async def record(profile, rec, names, rate_hz, out, duration_s, saboteur=None):
    radio = VirtualRadio("bench")
    sensors = {n: VirtualSensor(profile, rec.streams[n], radio=radio, name=f"bench {i}") for i, n in enumerate(names)}
    for s in sensors.values():
        await s.start()
    session = RecordingSession([SensorSpec(n, profile, s.address, rate_hz) for n, s in sensors.items()], out,
                               client_kwargs={"backend": BumbleClient, "radio": radio}, reconnect_base_s=0.1)
    done = {}

    def finished():
        for n, s in sensors.items():
            if s.finished.is_set():
                done.setdefault(n, session.now_s())
        return len(done) == len(sensors) and session.now_s() - max(done.values()) > TAIL_S

    chaos = asyncio.ensure_future(saboteur(sensors)) if saboteur else None
    try:
        summary = await session.run(duration_s=duration_s + 5.0, until=finished)
    finally:
        if chaos:
            await chaos
        for s in sensors.values():
            await s.close()
    return summary, sensors


FILE_ROUNDING = (0.5e-4, 0.5e-3)  # the file holds acc to 0.1 mm/s², gyro to 0.001 deg/s


def lsb_error(got, ref, lsb, file_rounding):
    """Largest |recorded − source| in units of the device's LSB, after allowing for the file's
    own rounding (which matters only for float-valued devices such as Movesense)."""
    if not len(got):
        return float("nan")
    return float(max(0.0, np.max(np.abs(got - ref)) - file_rounding) / lsb)


def bench_stream(profile_name: str, duration_s: float, tmp: Path) -> dict:
    profile = get_profile(profile_name)
    rate = nearest_rate(profile, 200.0)
    rec = walk(duration_s, rate)
    out = tmp / f"stream_{profile_name}.csv"
    names = ["left_shank", "right_shank"]
    summary, sensors = asyncio.run(record(profile, rec, names, rate, out, duration_s))
    got = read_recording(out)
    acc_lsb, gyr_lsb = profile.resolution(profile.settings(rate))
    res = {"profile": profile_name, "rate_hz": rate, "sensors": []}
    for name, stats in zip(names, summary["sensors"]):
        acc_ref, gyr_ref = source_at(rec.streams[name], rate)
        o = got.streams[name]
        n = min(len(o), len(acc_ref))
        res["sensors"].append({
            "name": name, "source": len(acc_ref), "sent": sensors[name].samples_sent, "rows": len(o),
            "lost_packets": stats["lost_packets"], "late": stats["late_samples"], "gaps": len(stats["gaps_s"]),
            "decode_errors": stats["decode_errors"],
            "acc_err_lsb": lsb_error(o.acc_mps2[:n], acc_ref[:n], acc_lsb, FILE_ROUNDING[0]),
            "gyr_err_lsb": lsb_error(o.gyr_dps[:n], gyr_ref[:n], gyr_lsb, FILE_ROUNDING[1]),
            "dt_spread": float(np.max(np.abs(np.diff(o.t_s) * rate - 1.0))),
        })
    res["ok"] = all(s["rows"] == s["sent"] == s["source"] and s["lost_packets"] == 0 and s["gaps"] == 0
                    and s["acc_err_lsb"] <= 0.51 and s["gyr_err_lsb"] <= 0.51 for s in res["sensors"])
    return res


def bench_drop(profile_name: str, duration_s: float, tmp: Path) -> dict:
    profile = get_profile(profile_name)
    rate = nearest_rate(profile, 200.0)
    rec = walk(duration_s, rate)
    out = tmp / f"drop_{profile_name}.csv"
    away_s = 1.0
    at_s = duration_s / 3

    async def saboteur(sensors):
        await asyncio.sleep(at_s)
        await sensors["left_shank"].drop_connection(come_back_after_s=away_s)

    summary, sensors = asyncio.run(record(profile, rec, ["left_shank"], rate, out, duration_s, saboteur))
    stats = summary["sensors"][0]
    sensor = sensors["left_shank"]
    o = read_recording(out).streams["left_shank"]
    acc_ref, gyr_ref = source_at(rec.streams["left_shank"], rate)
    acc_lsb, gyr_lsb = profile.resolution(profile.settings(rate))
    dt = np.diff(o.t_s)
    cut = int(np.argmax(dt)) + 1 if len(dt) else 0
    skipped = sensor.samples_skipped
    before = slice(0, cut)
    after_ref = slice(cut + skipped, cut + skipped + (len(o) - cut))
    err_before = max(lsb_error(o.acc_mps2[before], acc_ref[before], acc_lsb, FILE_ROUNDING[0]),
                     lsb_error(o.gyr_dps[before], gyr_ref[before], gyr_lsb, FILE_ROUNDING[1]))
    err_after = max(lsb_error(o.acc_mps2[cut:], acc_ref[after_ref], acc_lsb, FILE_ROUNDING[0]),
                    lsb_error(o.gyr_dps[cut:], gyr_ref[after_ref], gyr_lsb, FILE_ROUNDING[1]))
    # the gap in the file matches the samples the sensor skipped while nobody listened
    gap_s = float(dt[cut - 1]) if cut else float("nan")
    res = {"profile": profile_name, "rate_hz": rate, "reconnects": stats["reconnects"], "gaps_s": stats["gaps_s"],
           "rows": len(o), "received": stats["samples"], "sent": sensor.samples_sent, "skipped": skipped,
           "rows_before": cut, "rows_after": len(o) - cut, "gap_in_file_s": round(gap_s, 3),
           "gap_expected_s": round((skipped + 1) / rate, 3), "err_before_lsb": err_before, "err_after_lsb": err_after}
    res["ok"] = (stats["reconnects"] == 1 and len(stats["gaps_s"]) == 1 and len(o) == stats["samples"] == sensor.samples_sent
                 and err_before <= 0.51 and err_after <= 0.51 and (dt > 0.1).sum() == 1)
    return res


def bench_latency(profile_name: str, duration_s: float, tmp: Path) -> dict:
    from imu_knee.commands.live import Console, run_live_session
    from imu_knee.recording import write_recording

    profile = get_profile(profile_name)
    rec = walk(duration_s, 100.0, seed=3)
    src = tmp / "latency_src.csv"
    write_recording(src, rec)
    out = tmp / f"latency_{profile_name}.csv"

    async def main():
        radio = VirtualRadio("latency")
        sensors = {n: VirtualSensor(profile, rec.streams[n], radio=radio, name=f"lat {i}")
                   for i, n in enumerate(rec.streams)}
        for s in sensors.values():
            await s.start()
        specs = [SensorSpec(n, profile, s.address, 100.0) for n, s in sensors.items()]
        done = {}

        def finished(session):
            for n, s in sensors.items():
                if s.finished.is_set():
                    done.setdefault(n, session.now_s())
            return len(done) == len(sensors) and session.now_s() - max(done.values()) > TAIL_S

        console = Console(out=io.StringIO(), err=io.StringIO(), quiet=True)
        try:
            return await run_live_session(specs, out, console, client_kwargs={"backend": BumbleClient, "radio": radio},
                                          leg_length_m=rec.leg_length_m, duration_s=duration_s + 5.0, until=finished)
        finally:
            for s in sensors.values():
                await s.close()

    summary = asyncio.run(main())
    lat = summary["latency"]
    steps = sum(summary["steps"].values())
    ok = lat["completing_block_to_row"].get("median_ms", 1e9) <= 150
    return {"profile": profile_name, "steps": steps, "latency": lat, "latency_all": summary["latency_all_rows"],
            "calibrated_at_s": summary["calibrated_at_s"], "ok_pipeline": ok,
            "ok_contact_to_row": lat["contact_to_row"].get("median_ms", 1e9) <= 150,
            "ok_contact_row": lat.get("contact_time_to_contact_row", {}).get("median_ms", 1e9) <= 150}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds per run (default 60)")
    ap.add_argument("--profiles", default=",".join(PROFILE_NAMES), help="comma-separated profiles for `stream`")
    ap.add_argument("--parts", default="stream,drop,latency", help="which measurements")
    ap.add_argument("--drop-profile", default="imu-knee")
    ap.add_argument("--latency-profile", default="imu-knee")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    tmp = Path(tempfile.mkdtemp(prefix="ble-live-bench-"))
    all_ok = True
    if "stream" in parts:
        print(f"== stream: two sensors at ~200 Hz for {args.duration:g} s")
        for name in args.profiles.split(","):
            t0 = time.monotonic()
            r = bench_stream(name.strip(), args.duration, tmp)
            all_ok &= r["ok"]
            print(f"{r['profile']:<10s} {r['rate_hz']:g} Hz  {'OK ' if r['ok'] else 'BAD'}  ({time.monotonic() - t0:.0f} s)")
            for s in r["sensors"]:
                print(f"   {s['name']:<11s} source {s['source']}, sent {s['sent']}, rows {s['rows']}, lost packets "
                      f"{s['lost_packets']}, late {s['late']}, gaps {s['gaps']}, decode errors {s['decode_errors']}, "
                      f"max error acc {s['acc_err_lsb']:.2f} / gyro {s['gyr_err_lsb']:.2f} LSB, "
                      f"spacing within ±{100 * s['dt_spread']:.1f} % of the period")
    if "drop" in parts:
        r = bench_drop(args.drop_profile, args.duration, tmp)
        all_ok &= r["ok"]
        print(f"== drop: {r['profile']} at {r['rate_hz']:g} Hz, dropped at {args.duration / 3:.0f} s for 1 s: "
              f"{'OK' if r['ok'] else 'BAD'}")
        print(f"   reconnects {r['reconnects']}, gaps {r['gaps_s']}, rows {r['rows']} = received {r['received']} "
              f"(sent {r['sent']}; {r['skipped']} due while disconnected), before/after the gap "
              f"{r['rows_before']}/{r['rows_after']}, gap in the file {r['gap_in_file_s']} s "
              f"(skipped samples → {r['gap_expected_s']} s), max error before {r['err_before_lsb']:.2f} / "
              f"after {r['err_after_lsb']:.2f} LSB")
    if "latency" in parts:
        r = bench_latency(args.latency_profile, args.duration, tmp)
        print(f"== latency: imu-knee live, {r['profile']} at 100 Hz, two shanks, {r['steps']} steps")
        labels = {"contact_to_row": "arrival of the contact sample → final row",
                  "completing_block_to_row": "arrival of the completing block → final row",
                  "notice_signal": "contact in the signal → early notice (signal time)",
                  "contact_to_notice": "arrival of the contact sample → early notice",
                  "contact_time_to_notice": "contact (session clock) → early notice, end to end",
                  "contact_row_signal": "contact in the signal → contact row (signal time)",
                  "contact_to_contact_row": "arrival of the contact sample → contact row",
                  "contact_time_to_contact_row": "contact (session clock) → contact row, end to end",
                  "contact_time_to_row": "contact (session clock) → final row, end to end"}
        for title, lat in ((f"contacts after the analysis calibrated ({r['calibrated_at_s']:.1f} s):", r["latency"]),
                           ("all contacts (the first ones wait for calibration; end-of-session rows left out):",
                            r["latency_all"])):
            print(f"   {title}")
            for key, label in labels.items():
                v = lat[key]
                text = f"median {v['median_ms']:6.1f} ms, p90 {v['p90_ms']:6.1f} ms (n={v['n']})" if v["n"] else "no data"
                print(f"     {label:<53s} {text}")
        all_ok &= r["ok_pipeline"]
        print(f"   target (median <= 150 ms): pipeline {'OK' if r['ok_pipeline'] else 'BAD'}; "
              f"contact sample → final row {'OK' if r['ok_contact_to_row'] else 'over (waits for the stance to end)'}; "
              f"contact → contact row (impact, activity, stride), end to end {'OK' if r['ok_contact_row'] else 'BAD'}")
        all_ok &= r["ok_contact_row"]
    print("all OK" if all_ok else "SOME TARGETS MISSED")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
