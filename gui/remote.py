"""The GUI side of the analysis process (:mod:`.worker`): to the window it looks like the
pipeline (``take_updates``, ``snapshot``, ``finished``, ``steps_frame``) and the source
(``pause``, ``seek``, ``position_s``, ``wall_at`` …) it drives. ``poll()`` (GUI timer) takes
the worker's messages into local ring buffers of fixed size."""

from __future__ import annotations

import math
import multiprocessing as mp
import queue

import pandas as pd

from .pipeline import PLOT_WINDOW_S, Updates, steps_frame_of
from .ring import TimedRing
from .worker import run_worker

MAX_MESSAGES_PER_POLL = 500


class RemoteSession:
    def __init__(self, spec: dict, window_s: float = PLOT_WINDOW_S):
        ctx = mp.get_context("spawn")   # a fresh interpreter: no Qt, no GUI threads in the child
        self.commands = ctx.Queue()
        self.out = ctx.Queue()
        self.kind = spec["kind"]
        self.rates_hz = dict(spec["rates_hz"])
        rec = spec.get("recording")
        streams = rec.streams.values() if rec is not None else []
        starts = [float(s.t_s[0]) for s in streams if len(s)]
        ends = [float(s.t_s[-1]) for s in streams if len(s)]
        self.t_start_s = min(starts) if starts else 0.0
        self.duration_s = (max(ends) - self.t_start_s) if ends else 0.0
        self.window_s = window_s
        self.generation = 0
        self._reset_mirror()
        self.position_s = self.t_start_s
        self.paused = not spec.get("autoplay", True)
        self.speed = float(spec.get("speed", 1.0))
        self.error: str | None = None
        self.source_finished = False
        self.closed = False
        self.recorded: list[str] = []
        self._anchor = None
        self._t0 = None
        self._stats: dict = {}
        self.proc = ctx.Process(target=run_worker, args=(spec, self.commands, self.out),
                                name="imu-knee analysis", daemon=True)
        self.proc.start()

    def _reset_mirror(self) -> None:
        self.acc = {}
        self.sag = {}
        for name, rate in self.rates_hz.items():
            cap = int(self.window_s * rate * 1.25) + 16
            self.acc[name] = TimedRing(cap)
            self.sag[name] = TimedRing(cap)
        self.latest_t_s = -math.inf
        self.status: dict = {}
        self.active_cues: list = []
        self.steps: list[dict] = []
        self.coach_result = None
        self.finished = False
        self._pending = Updates(self.generation)

    # ------------------------------------------------------------------ messages

    def poll(self) -> None:
        for _ in range(MAX_MESSAGES_PER_POLL):
            try:
                msg = self.out.get_nowait()
            except (queue.Empty, OSError, ValueError):
                return
            self._apply(msg)

    def _apply(self, msg: dict) -> None:
        if "recorded" in msg:
            self.recorded.append(msg["recorded"])
        if "error" in msg:
            self.error = msg["error"]
        if "generation" in msg:
            if msg["generation"] != self.generation:
                self.generation = msg["generation"]
                self._reset_mirror()
                self._pending.reset = True
            for kind in ("acc", "sag"):
                rings = getattr(self, kind)
                for name, (t, v) in msg[kind].items():
                    if name in rings:
                        rings[name].append(t, v)
            self.latest_t_s = msg["latest_t_s"]
            self.status = msg["status"]
            self.active_cues = msg["active_cues"]
            u: Updates = msg["updates"]
            if u.reset:
                self._reset_mirror()
                self._pending.reset = True
            p = self._pending
            p.notices.extend(u.notices)
            p.steps.extend(u.steps)
            p.contacts.extend(u.contacts)
            self.steps.extend(u.steps)
            p.cues.extend(u.cues)
            if u.coach_result is not None:
                p.coach_result = u.coach_result
                self.coach_result = u.coach_result
            if msg["finished"] and not self.finished:
                self.finished = True
                p.finished = True
            src = msg["source"]
            self.position_s = src["position_s"]
            self.source_finished = src["finished"]
            self._anchor = src["anchor"]
            self._t0 = src["t0_monotonic"]
            self.speed = src["speed"]
            self._stats = src["stats"]
            if src["error"] and not self.error:
                self.error = src["error"]
        if msg.get("closed"):
            self.closed = True

    # ------------------------------------------------------------------ pipeline-like

    def take_updates(self) -> Updates:
        out, self._pending = self._pending, Updates(self.generation)
        return out

    def snapshot(self) -> dict:
        return {"generation": self.generation, "latest_t_s": self.latest_t_s,
                "acc": {n: r.read() for n, r in self.acc.items()},
                "sag": {n: r.read() for n, r in self.sag.items()},
                "status": self.status, "active_cues": self.active_cues}

    def steps_frame(self) -> pd.DataFrame:
        return steps_frame_of(self.steps)

    # ------------------------------------------------------------------ source-like

    def _send(self, *cmd) -> None:
        if not self.closed:
            self.commands.put(cmd)

    def pause(self) -> None:
        self.paused = True
        self._send("pause")

    def resume(self) -> None:
        self.paused = False
        self._send("resume")

    def seek(self, t_s: float) -> None:
        self._send("seek", float(t_s))

    def set_speed(self, speed: float) -> None:
        self.speed = float(speed)
        self._send("speed", float(speed))

    def record(self, path: str) -> None:
        self._send("record", str(path))

    def record_stop(self) -> None:
        self._send("record_stop")

    def wall_at(self, t_s: float) -> float:
        if self._anchor is not None:
            wall0, sig0 = self._anchor
            return wall0 + (t_s - sig0) / self.speed
        if self._t0 is not None:
            return self._t0 + t_s
        return math.nan

    def sensor_stats(self) -> dict:
        return self._stats

    def stop(self, wait_s: float = 0.0) -> None:
        """Ask the worker to finish (it sends its last rows, then exits)."""
        self._send("stop")
        if wait_s > 0:
            self.join(wait_s)

    def join(self, wait_s: float) -> None:
        import time
        end = time.monotonic() + wait_s
        while self.proc.is_alive() and time.monotonic() < end:
            self.poll()
            self.proc.join(0.05)
        self.poll()
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(1.0)
