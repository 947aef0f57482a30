"""The analysis side of the dashboard (no Qt): engine + coach + ring buffers, fed by a source.

A source thread calls :meth:`Pipeline.push` with each sensor's sample blocks; the engine
(imu_knee.analysis.engine) finds the steps, the coach (imu_knee.coach) turns them into cues
and findings. The GUI thread never touches the engine: it calls :meth:`Pipeline.snapshot`
(copies of the ring buffers) and :meth:`Pipeline.take_updates` (new steps, cues, findings)
from a timer. Everything the GUI reads is guarded by one lock and kept in fixed-size rings
or bounded lists, so the GUI side's memory stays flat.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from imu_knee.analysis.engine import LIVE_HISTORY_S, Engine
from imu_knee.analysis.steps import STEP_COLUMNS
from imu_knee.coach import LiveCoach, coach_steps
from imu_knee.recording import GRAVITY_MPS2

from .ring import TimedRing

PLOT_WINDOW_S = 12.0          # what the ring buffers hold (the plots show up to this)
MAX_MARKERS = 400
FINDINGS_EVERY_S = 5.0        # re-run the session rules at most this often (signal time; ~60 ms each)


def steps_frame_of(steps: list[dict]) -> pd.DataFrame:
    """Final step rows as a DataFrame in DESIGN.md column order, sorted by contact time."""
    cols = STEP_COLUMNS + ["impact_rate_hz", "event_sensor", "flags"]
    df = pd.DataFrame.from_records([{c: s.get(c) for c in cols} for s in steps], columns=cols)
    for c in STEP_COLUMNS[4:] + ["impact_rate_hz"]:
        df[c] = pd.to_numeric(df[c], errors="coerce")
    return df.sort_values(["ic_s", "side"], kind="stable").reset_index(drop=True)


@dataclass
class Notice:
    """An early contact notice: the step is on screen before its metrics are known."""

    side: str
    ic_s: float
    pushed_wall_s: float       # time.monotonic() when the engine reported it


@dataclass
class Updates:
    """What changed since the GUI last asked."""

    generation: int
    reset: bool = False
    notices: list[Notice] = field(default_factory=list)
    steps: list[dict] = field(default_factory=list)
    contacts: list[dict] = field(default_factory=list)  # contact rows (provisional, ~0.1 s after)
    cues: list = field(default_factory=list)          # LiveCue
    coach_result: object | None = None                # CoachResult, when re-run
    finished: bool = False


@dataclass
class SensorStatus:
    name: str
    rate_hz: float                 # nominal
    samples: int = 0
    measured_rate_hz: float = 0.0  # over the last few seconds of signal
    gaps: int = 0
    lost_s: float = 0.0
    last_t_s: float = -math.inf
    calibration: str = "stand still"
    calibration_quality: dict = field(default_factory=dict)
    calibration_flags: list = field(default_factory=list)


class Pipeline:
    """Engine + live coach + what the plots need, for one session (see module docstring)."""

    def __init__(self, rates_hz: dict[str, float], leg_length_m: float | None = None,
                 thresholds=None, window_s: float = PLOT_WINDOW_S):
        self.rates_hz = dict(rates_hz)
        self.leg_length_m = leg_length_m
        self.thresholds = thresholds
        self.window_s = window_s
        self.lock = threading.Lock()
        self.generation = 0
        self._build()

    # ------------------------------------------------------------------ state

    def _build(self) -> None:
        self.engine = Engine(self.rates_hz, leg_length_m=self.leg_length_m, contact_rows=True,
                             history_s=LIVE_HISTORY_S)
        self.coach = LiveCoach(self.thresholds, leg_length_m=self.engine.leg_length_m)
        self.acc = {}
        self.sag = {}
        for name, rate in self.rates_hz.items():
            cap = int(self.window_s * rate * 1.25) + 16
            self.acc[name] = TimedRing(cap)
            self.sag[name] = TimedRing(cap)
        self._sag_done = {n: 0 for n in self.rates_hz}
        self._recent_t = {n: deque(maxlen=int(2 * r) + 2) for n, r in self.rates_hz.items()}
        self.status = {n: SensorStatus(n, r) for n, r in self.rates_hz.items()}
        self.notices: deque[Notice] = deque(maxlen=MAX_MARKERS)
        self.steps: list[dict] = []          # all final rows of the session (for review/export)
        self.cues: deque = deque(maxlen=50)
        self.last_scores: dict[str, float] = {}
        self.coach_result = None
        self.latest_t_s = -math.inf
        self.finished = False
        self._pending = Updates(self.generation)
        self._findings_at_s = -math.inf

    def reset(self) -> None:
        """Start the session again (a replay seeking backwards)."""
        with self.lock:
            self.generation += 1
            self._build()
            self._pending.reset = True

    # ------------------------------------------------------------------ feeding

    def push(self, sensor: str, t_s, acc_mps2, gyr_dps) -> None:
        t_s = np.asarray(t_s, dtype=float)
        if len(t_s) == 0:
            return
        acc = np.asarray(acc_mps2, dtype=float).reshape(-1, 3)
        rows = self.engine.push(sensor, t_s, acc, gyr_dps)
        now = time.monotonic()
        chain = self.engine.chains[sensor]
        with self.lock:
            self.acc[sensor].append(t_s, np.linalg.norm(acc, axis=1) / GRAVITY_MPS2)
            n_sag = chain.sag.n
            done = self._sag_done[sensor]
            if n_sag > done:
                lo = max(done, n_sag - self.sag[sensor].t.capacity)
                self.sag[sensor].append(chain.t.view()[lo:n_sag], chain.sag.view()[lo:n_sag])
                self._sag_done[sensor] = n_sag
            self._update_status(sensor, chain, t_s)
            self.latest_t_s = max(self.latest_t_s, float(t_s[-1]))
            self._take_rows(rows, now)
        self._maybe_findings()

    def finish(self) -> None:
        rows = self.engine.finish()
        with self.lock:
            self._take_rows(rows, time.monotonic())
            for name, chain in self.engine.chains.items():
                self._update_status(name, chain, np.empty(0))
        self._maybe_findings(force=True)
        with self.lock:
            self.finished = True
            self._pending.finished = True

    def _take_rows(self, rows, now: float) -> None:
        for row in rows:
            if not row.final:
                if row.stage == "notice":       # one contact marker per contact
                    n = Notice(row.side, float(row.ic_s), now)
                    self.notices.append(n)
                    self._pending.notices.append(n)
                elif row.stage == "contact":    # the last-step cards, until the final row
                    self._pending.contacts.append(row.as_record())
                continue
            rec = row.as_record()
            self.steps.append(rec)
            self._pending.steps.append(rec)
            cues = self.coach.push_step(rec)
            self.last_scores = dict(self.coach.last_scores)
            rec["_scores"] = dict(self.last_scores)
            self.cues.extend(cues)
            self._pending.cues.extend(cues)
            if cues:
                self._findings_at_s = -math.inf   # a new cue: show the finding behind it soon

    def _update_status(self, name: str, chain, t_s: np.ndarray) -> None:
        st = self.status[name]
        st.samples = int(chain.t.n)
        recent = self._recent_t[name]
        recent.extend(t_s[-recent.maxlen:].tolist())
        if len(recent) > 2 and recent[-1] > recent[0]:
            st.measured_rate_hz = (len(recent) - 1) / (recent[-1] - recent[0])
        st.gaps = len(chain.gaps)
        st.lost_s = float(sum(b - a for a, b in chain.gaps))
        st.last_t_s = chain.last_t
        cal = chain.calibration
        if cal is None:
            st.calibration = "stand still, then walk a few steps"
        elif getattr(cal, "provisional", False):
            st.calibration = "steps counted; keep walking to finish calibrating"
        else:
            st.calibration = "calibrated" if not cal.flags else "calibrated (" + ", ".join(cal.flags) + ")"
            st.calibration_quality = dict(cal.quality)
            st.calibration_flags = list(cal.flags)

    def _maybe_findings(self, force: bool = False) -> None:
        """Re-run the session rules of the coach on the steps so far (throttled)."""
        with self.lock:
            if not self.steps or (not force and self.latest_t_s - self._findings_at_s < FINDINGS_EVERY_S):
                return
            self._findings_at_s = self.latest_t_s
            steps = self.steps_frame_locked()
            gen = self.generation
        result = coach_steps(steps, shank_rate_hz=self.shank_rate_hz(),
                             leg_length_m=self.engine.leg_length_m, thresholds=self.thresholds)
        with self.lock:
            if gen == self.generation:
                self.coach_result = result
                self._pending.coach_result = result

    # ------------------------------------------------------------------ reading (GUI)

    def shank_rate_hz(self) -> float | None:
        rates = [r for n, r in self.rates_hz.items() if n.endswith("shank")]
        return min(rates) if rates else None

    def steps_frame_locked(self) -> pd.DataFrame:
        return steps_frame_of(self.steps)

    def steps_frame(self) -> pd.DataFrame:
        with self.lock:
            return self.steps_frame_locked()

    def take_updates(self) -> Updates:
        with self.lock:
            out = self._pending
            self._pending = Updates(self.generation)
            return out

    def delta(self, counts: dict) -> dict:
        """New ring rows since ``counts`` (updated in place), for a process mirroring this one."""
        with self.lock:
            if counts.get("generation") != self.generation:   # a restarted session: rings start again
                counts.clear()
                counts["generation"] = self.generation
            out = {"generation": self.generation, "latest_t_s": self.latest_t_s, "acc": {}, "sag": {},
                   "status": {n: SensorStatus(**vars(s)) for n, s in self.status.items()},
                   "active_cues": list(self.coach.active_cues()), "finished": self.finished}
            for kind in ("acc", "sag"):
                for n, ring in getattr(self, kind).items():
                    key = (kind, n)
                    out[kind][n] = ring.read_since(counts.get(key, 0))
                    counts[key] = ring.t.count
            return out

    def snapshot(self) -> dict:
        """Copies of the ring buffers: {"acc": {name: (t, g)}, "sag": {name: (t, dps)}, ...}."""
        with self.lock:
            return {
                "generation": self.generation,
                "latest_t_s": self.latest_t_s,
                "acc": {n: r.read() for n, r in self.acc.items()},
                "sag": {n: r.read() for n, r in self.sag.items()},
                "status": {n: SensorStatus(**vars(s)) for n, s in self.status.items()},
                "active_cues": list(self.coach.active_cues()),
            }
