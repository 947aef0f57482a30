"""Dashboard performance: redraw rate, CPU, memory and step latency (issue 6 figures).

    xvfb-run -a python benchmarks/dashboard_perf.py replay --seconds 60
    xvfb-run -a python benchmarks/dashboard_perf.py replay --seconds 1800      # 30-minute session
    xvfb-run -a python benchmarks/dashboard_perf.py replay --seconds 120 --speed 16   # 30 min of signal
    xvfb-run -a python benchmarks/dashboard_perf.py virtual --seconds 40 --rate 100

``replay``: four sensors at 200 Hz (the simulated demo walk, repeated end to end to last as
long as needed) replayed through the real window. ``virtual``: the live page with four virtual
BLE sensors (same path as ``imu-knee live --virtual``). Figures:
- frames/s: redraws of the plots done by the GUI timer, per wall second;
- CPU: GUI process CPU time / wall time, in % of one core; the analysis process (source,
  engine, coach) separately;
- RSS: resident memory, sampled every 5 s (start, end, max; growth per 10 minutes);
- step latency: wall time from the moment the signal reaches a contact (replay clock, or
  the session clock for live) to the redraw that puts its marker on screen.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

import numpy as np


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 1e6


def child_cpu_pct(win, wall_s: float):
    """CPU of the analysis process (from /proc), in % of one core over the run."""
    proc = getattr(win.pipeline, "proc", None)
    if proc is None or proc.pid is None:
        return None
    try:
        with open(f"/proc/{proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError) as exc:
        print(f"analysis CPU not readable: {exc}", file=sys.stderr)
        return None
    return round(100 * ticks / os.sysconf("SC_CLK_TCK") / wall_s, 1)


def child_rss_mb(win):
    proc = getattr(win.pipeline, "proc", None)
    try:
        with open(f"/proc/{proc.pid}/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 1e6
    except (OSError, AttributeError, TypeError):
        return None


def tiled(rec, seconds: float):
    """The recording repeated end to end until it lasts ``seconds`` (standing joins standing)."""
    from imu_knee.recording import Recording, SensorStream

    dur = rec.duration_s + 1.0 / max(s.rate_hz for s in rec.streams.values())
    n = max(1, int(np.ceil(seconds / dur)))
    streams = {}
    for name, s in rec.streams.items():
        t = np.concatenate([s.t_s + k * dur for k in range(n)])
        streams[name] = SensorStream(name, t, np.tile(s.acc_mps2, (n, 1)), np.tile(s.gyr_dps, (n, 1)),
                                     s.rate_hz, s.device)
    return Recording(streams=streams, meta=dict(rec.meta), leg_length_m=rec.leg_length_m, path=None)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["replay", "virtual"])
    ap.add_argument("--seconds", type=float, default=60.0, help="wall seconds to run")
    ap.add_argument("--speed", type=float, default=1.0)
    ap.add_argument("--rate", type=float, default=200.0, help="sensor rate (Hz)")
    ap.add_argument("--json", default=None, help="write the figures here")
    args = ap.parse_args()

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from imu_knee.commands.dashboard import load_gui
    load_gui()
    from imu_knee_gui.demo import demo_recording
    from imu_knee_gui.main_window import MainWindow

    os.environ.setdefault("IMU_KNEE_GUI_SETTINGS", "/tmp/imu-knee-bench-settings.ini")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    win = MainWindow(theme_name="light")
    win.resize(1600, 1000)
    win.show()
    demo = demo_recording(rate_hz=args.rate)
    if args.mode == "replay":
        rec = tiled(demo, args.seconds * args.speed + 5)
        win.start_replay(rec, speed=args.speed)
    else:
        win.set_mode("live")
        win.live_panel.set_virtual_recording(tiled(demo, args.seconds + 5))
        win.live_panel.start()
    samples = []
    load_start = os.getloadavg()
    t0_wall = time.monotonic()
    t0_cpu = time.process_time()
    state = {"frames0": win.frames, "last": (t0_wall, t0_cpu, win.frames)}

    def sample():
        now, cpu = time.monotonic(), time.process_time()
        w0, c0, f0 = state["last"]
        crss = child_rss_mb(win)
        samples.append({"t_s": round(now - t0_wall, 1), "rss_mb": round(rss_mb(), 1),
                        "analysis_rss_mb": None if crss is None else round(crss, 1),
                        "cpu_pct": round(100 * (cpu - c0) / (now - w0), 1),
                        "fps": round((win.frames - f0) / (now - w0), 1),
                        "steps": len(win.table.model_.rows)})
        state["last"] = (now, cpu, win.frames)
        state["analysis_cpu"] = child_cpu_pct(win, now - t0_wall)   # before quit() closes it
        if now - t0_wall >= args.seconds - 0.5:
            app.quit()

    timer = QTimer()
    timer.timeout.connect(sample)
    timer.start(5000)
    QTimer.singleShot(int(args.seconds * 1000) + 2000, app.quit)
    app.exec()
    wall = time.monotonic() - t0_wall
    cpu = time.process_time() - t0_cpu
    analysis_cpu = state.get("analysis_cpu")
    lat_all = [(ic, shown - at) for ic, at, shown in win.latencies_s]
    # the engine finds contacts once each sensor is calibrated (standing + a few strides);
    # contacts before that come out together at the calibration: counted apart
    settle = 10.0
    first_ic = min((ic for ic, _ in lat_all), default=0.0)
    lat = np.array([d for ic, d in lat_all if ic - first_ic > settle])
    lat_start = np.array([d for ic, d in lat_all if ic - first_ic <= settle])
    steady = samples[2:] if len(samples) > 4 else samples
    rss = [s["rss_mb"] for s in samples]
    out = {
        "mode": args.mode, "speed": args.speed, "rate_hz": args.rate,
        "sensors": 4, "wall_s": round(wall, 1), "gui_cpu_s": round(cpu, 1),
        # other processes on the machine slow everything down: the figures are only comparable
        # at a similar load (1-minute load average at the start and at the end)
        "load_average": [round(load_start[0], 2), round(os.getloadavg()[0], 2)],
        "frames_per_s": round(win.frames / wall, 1),
        "frames_per_s_min_5s": min((s["fps"] for s in steady), default=None),
        "cpu_pct_of_one_core": round(100 * cpu / wall, 1),
        "cpu_pct_max_5s": max((s["cpu_pct"] for s in steady), default=None),
        "cpu_pct_steady": round(float(np.mean([s["cpu_pct"] for s in steady])), 1) if steady else None,
        "steps_on_screen": len(win.table.model_.rows),
        "step_latency_ms": None if not len(lat) else {
            "n": int(len(lat)), "median": round(1000 * float(np.median(lat)), 1),
            "p95": round(1000 * float(np.percentile(lat, 95)), 1),
            "max": round(1000 * float(lat.max()), 1)},
        "step_latency_first_10s_ms": None if not len(lat_start) else {
            "n": int(len(lat_start)), "median": round(1000 * float(np.median(lat_start)), 1),
            "max": round(1000 * float(lat_start.max()), 1)},
        "analysis_process_cpu_pct": analysis_cpu,
        "rss_mb": {"start": rss[0] if rss else None, "end": rss[-1] if rss else None,
                   "max": max(rss) if rss else None},
        "samples": samples,
    }
    if len(samples) > 6:
        tt = np.array([s["t_s"] for s in samples[2:]])
        rr = np.array([s["rss_mb"] for s in samples[2:]])
        out["rss_mb"]["growth_per_10min"] = round(float(np.polyfit(tt, rr, 1)[0] * 600), 1)
        cr = [s["analysis_rss_mb"] for s in samples[2:]]
        if all(c is not None for c in cr):
            out["analysis_rss_mb"] = {"start": cr[0], "end": cr[-1], "growth_per_10min":
                                      round(float(np.polyfit(tt, np.array(cr), 1)[0] * 600), 1)}
    if getattr(win.source, "error", None):
        out["error"] = str(win.source.error)
    win.close()
    brief = {k: v for k, v in out.items() if k != "samples"}
    print(json.dumps(brief, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
