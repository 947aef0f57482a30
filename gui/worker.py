"""The analysis process: source + engine + coach run here, away from the GUI's interpreter.

Why a process and not a thread: the engine holds Python's GIL in bursts (a knee calibration,
the session rules), and every Python call the GUI makes while painting has to wait for it;
frames then came at 10/s instead of 30. In its own process the analysis cannot stall the GUI.

Protocol (multiprocessing queues, pickled objects):
- GUI -> worker: ("pause",), ("resume",), ("seek", t_s), ("speed", x), ("record", path),
  ("record_stop",), ("stop",).
- worker -> GUI, every ~30 ms: a dict with the new ring-buffer rows since the last message
  (``Pipeline.delta``), the new steps/cues/findings (``Updates``), the replay clock and the
  source's state; a final message has ``"closed": True``.
"""

from __future__ import annotations

import math
import queue
import time
import traceback
from pathlib import Path

SEND_EVERY_S = 0.03


def run_worker(spec: dict, commands, out) -> None:
    """Entry point of the worker process. ``spec``: kind ("replay", "virtual", "paced"),
    recording, rates_hz, leg_length_m, thresholds_file, speed, autoplay, profile, assignment."""
    from imu_knee.coach import load_thresholds

    from .pipeline import Pipeline

    src = None
    recorder = None
    try:
        thresholds = load_thresholds(spec["thresholds_file"]) if spec.get("thresholds_file") else None
        pipe = Pipeline(spec["rates_hz"], leg_length_m=spec.get("leg_length_m"), thresholds=thresholds)
        rec = spec.get("recording")

        def push(name, t, acc, gyr):
            pipe.push(name, t, acc, gyr)
            r = recorder
            if r is not None:
                r.append(name, t, acc, gyr)

        kind = spec["kind"]
        if kind == "replay":
            from .replay_source import ReplaySource
            src = ReplaySource(rec, push, on_reset=pipe.reset, on_finish=pipe.finish,
                               speed=spec.get("speed", 1.0))
            if not spec.get("autoplay", True):
                src.pause()
        elif kind == "ble":
            from .live_source import BleSource
            src = BleSource(spec["devices"], push, on_finish=pipe.finish)
        elif kind == "virtual":
            from .live_source import VirtualBleSource
            src = VirtualBleSource(rec, push, on_finish=pipe.finish, profile=spec["profile"],
                                   assignment=spec["assignment"])
        else:
            from .live_source import PacedSource
            src = PacedSource(rec, push, on_finish=pipe.finish, assignment=spec["assignment"])
        src.start()
        counts: dict = {}
        stop = False
        while not stop:
            deadline = time.monotonic() + SEND_EVERY_S
            while True:
                wait = deadline - time.monotonic()
                if wait <= 0:
                    break
                try:
                    cmd = commands.get(timeout=wait)
                except queue.Empty:
                    break
                name = cmd[0]
                if name == "stop":
                    stop = True
                    break
                if name == "pause":
                    src.pause()
                elif name == "resume":
                    src.resume()
                elif name == "seek":
                    src.seek(cmd[1])
                elif name == "speed":
                    src.set_speed(cmd[1])
                elif name == "record" and recorder is None:
                    from .recorder import SessionRecorder
                    recorder = SessionRecorder(Path(cmd[1]), pipe.rates_hz, pipe.leg_length_m)
                elif name == "record_stop" and recorder is not None:
                    r, recorder = recorder, None
                    r.close()
                    out.put({"recorded": str(r.path)})
            out.put(_message(pipe, src, counts))
        src.stop()
        if recorder is not None:
            recorder.close()
            out.put({"recorded": str(recorder.path)})
        if not pipe.finished:
            pipe.finish()
        out.put(_message(pipe, src, counts) | {"closed": True})
    except BaseException as exc:  # reported on screen, never a silent dead process
        out.put({"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc(), "closed": True})
        if src is not None:
            try:
                src.stop()
            except Exception:
                pass


def _message(pipe, src, counts: dict) -> dict:
    msg = pipe.delta(counts)
    msg["updates"] = pipe.take_updates()
    anchor = getattr(src, "_anchor", None)
    session = getattr(src, "_session", None)
    msg["source"] = {
        "position_s": getattr(src, "position_s", math.nan),
        "paused": bool(getattr(src, "paused", False)),
        "finished": bool(src.finished),
        "speed": getattr(src, "speed", 1.0),
        "anchor": anchor,                                   # replay: (wall, signal)
        "t0_monotonic": getattr(session, "t0_monotonic", None),   # live: the session clock
        "error": None if src.error is None else f"{type(src.error).__name__}: {src.error}",
        "stats": src.sensor_stats() if hasattr(src, "sensor_stats") else {},
    }
    return msg

