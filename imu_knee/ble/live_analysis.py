"""Live analysis beside a recording session: sample blocks in, step rows and cues out.

    live = LiveAnalysis(declare=lambda: {"left_shank": 100.0}, leg_length_m=0.9, on_row=show)
    live.start()
    session = RecordingSession(..., on_block=live.push)   # push: a queue put, nothing more
    await session.run(...)
    live.finish()                                          # the last rows, then the thread ends

The BLE event loop only puts blocks on a queue; a worker thread feeds them to the analysis
`Engine` and the coach's `LiveCoach`, so a slow analysis step never delays a notification.
The engine is made once `declare()` names the sensors and the rates they really send (blocks
wait until then); blocks of sensors it was not told about are recorded but not analysed.

The engine gives each contact up to three rows (`StepRow.stage`): a notice at detection, a
contact row about 0.1 s after the contact (impact, provisional activity and stride) and the
final row after the stance. `console_line` turns the contact row into the step's terminal line
and the final row into a follow-up line only when it adds something (a coach cue, a changed
activity); the final row's event links to its contact row's event (`RowEvent.contact`).

For every row the worker keeps the host times that matter for latency (all `time.monotonic`):
when the sample at the contact arrived, when the block that completed the row arrived, and
when the row came out of the engine. `latency_report()` sums them up.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

KEEP_ARRIVALS_S = 8.0  # how far back arrival times are kept per sensor (a stance is shorter)


@dataclass
class RowEvent:
    """One row from the engine with its host timing (monotonic seconds)."""

    row: object  # imu_knee.analysis.steps.StepRow
    emitted_mono_s: float
    contact_arrival_mono_s: float | None
    trigger_arrival_mono_s: float | None
    cues: list = field(default_factory=list)  # LiveCue objects said with this step
    contact: "RowEvent | None" = None  # a final row's event: the contact row of the same contact

    @property
    def final(self) -> bool:
        return bool(self.row.final)

    @property
    def stage(self) -> str:
        return getattr(self.row, "stage", "final" if self.row.final else "notice")


def _fmt(value, spec: str, unit: str, width: int) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-".rjust(width)
    return f"{value:{spec}}{unit}".rjust(width)


def step_line(event: RowEvent) -> str:
    """One terminal line per step: time, side, activity, impact (with its sample rate),
    stride length and the coach's cue, e.g.
    ``  12.34 s  left   level        impact 2.31 g @100 Hz  stride 1.32 m  Softer landing``.
    For a contact row, activity and stride are provisional (the final row may revise them)."""
    r = event.row
    rate = f" @{r.impact_rate_hz:g} Hz" if r.impact_rate_hz else ""
    impact = "impact " + (_fmt(r.impact_g, ".2f", " g", 6) + rate if r.impact_g is not None else "     -")
    stride = "stride " + _fmt(r.stride_length_m, ".2f", " m", 6)
    cue = "  " + "; ".join(c.text if c.side == r.side else f"{c.text} ({c.side} leg)" for c in event.cues) \
        if event.cues else ""
    return f"{r.ic_s:8.2f} s  {r.side:<5s}  {(r.activity or '-'):<11s}  {impact:<22s}  {stride}{cue}"


def console_line(event: RowEvent) -> str | None:
    """The terminal line for a row event, or None: the contact row gives the step's line; the
    final row adds a follow-up line (``    > 12.34 s  left  ...``) only for a coach cue, a changed
    activity or a step that had no contact row; notices print nothing."""
    if event.stage == "contact":
        return step_line(event)
    if event.stage != "final":
        return None
    if event.contact is None:
        return step_line(event)
    r, c = event.row, event.contact.row
    parts = []
    if r.activity != c.activity:
        parts.append(f"activity {r.activity or '-'}")
    if r.impact_g is not None and c.impact_g is not None and abs(r.impact_g - c.impact_g) >= 0.05:
        parts.append(f"impact {r.impact_g:.2f} g")
    parts += [cue.text if cue.side == r.side else f"{cue.text} ({cue.side} leg)" for cue in event.cues]
    if not parts:
        return None
    return f"    > {r.ic_s:.2f} s  {r.side:<5s}  " + "; ".join(parts)


def step_summary_lines(counts: dict[tuple[str, str], int], analysis_error: str | None = None) -> list[str]:
    """The end-of-session step lines from `LiveAnalysis.step_counts()`, e.g.
    ``steps left: 12 (level 8, stairs_up 4)``, and a line if the analysis stopped early."""
    lines = [] if counts else ["steps: none detected"]
    for side in ("left", "right"):
        mine = {act: n for (sd, act), n in counts.items() if sd == side}
        if mine:
            lines.append(f"steps {side}: {sum(mine.values())} (" +
                         ", ".join(f"{act} {n}" for act, n in sorted(mine.items())) + ")")
    if analysis_error:
        lines.append(f"live analysis stopped: {analysis_error}")
    return lines


class _Arrivals:
    """Per sensor: sample times and their arrival times, for the last few seconds."""

    def __init__(self) -> None:
        self.blocks: deque = deque()

    def add(self, t_s: np.ndarray, arrival_s: np.ndarray) -> None:
        self.blocks.append((t_s, arrival_s))
        while self.blocks and self.blocks[-1][0][-1] - self.blocks[0][0][-1] > KEEP_ARRIVALS_S:
            self.blocks.popleft()

    def at(self, t_s: float) -> float | None:
        """Arrival of the first sample at or after `t_s`."""
        for t, arrival in self.blocks:
            if t[-1] >= t_s:
                i = int(np.searchsorted(t, t_s - 1e-9))
                return float(arrival[min(i, len(t) - 1)])
        return None


class LiveAnalysis:
    """Engine + live coach in a worker thread (see module docstring)."""

    def __init__(self, declare: Callable[[], dict[str, float] | None], leg_length_m: float | None = None,
                 on_row: Callable[[RowEvent], None] | None = None, coach: object | None = None,
                 use_coach: bool = True, clock_origin: Callable[[], float] | None = None) -> None:
        self.declare = declare
        self.clock_origin = clock_origin  # monotonic time of session time 0 (for end-to-end latency)
        self.leg_length_m = leg_length_m
        self.on_row = on_row
        self.coach = coach
        self.use_coach = use_coach
        self.engine = None
        self.rates_hz: dict[str, float] = {}
        self.events: list[RowEvent] = []
        self.error: BaseException | None = None
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._waiting: list[tuple] = []
        self._arrivals: dict[str, _Arrivals] = {}
        self._contacts: dict[str, deque] = {}  # per side: contact-row events awaiting their final row
        self._thread = threading.Thread(target=self._work, name="live-analysis", daemon=True)
        self._finished = threading.Event()

    # -- producer side (BLE event loop) ----------------------------------------------------
    def push(self, sensor: str, t_s, acc_mps2, gyr_dps, arrival_s=None) -> None:
        """Hand a block over (cheap; safe from any thread)."""
        self._queue.put((sensor, t_s, acc_mps2, gyr_dps, arrival_s))

    def backlog(self) -> int:
        """Blocks handed over and not analysed yet (0 once the worker has stopped); a producer
        faster than real time (a replay) can wait on it so the queue stays short."""
        return 0 if self._finished.is_set() else self._queue.qsize()

    def start(self) -> "LiveAnalysis":
        self._thread.start()
        return self

    def finish(self, timeout_s: float = 30.0) -> list[RowEvent]:
        """Analyse what is queued, close the last stances, stop the worker; all final rows."""
        self._queue.put(None)
        self._thread.join(timeout_s)
        return self.final_events()

    # -- worker ----------------------------------------------------------------------------
    def _work(self) -> None:
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    break
                self._take(item)
            if self.engine is None and self._waiting:
                self._make_engine(force=True)
            if self.engine is not None:
                self._handle(self.engine.finish(), None)
        except BaseException as exc:  # the recording goes on without analysis
            self.error = exc
        finally:
            self._finished.set()

    def _take(self, item: tuple) -> None:
        if self.engine is None:
            self._waiting.append(item)
            if not self._make_engine():
                return
            waiting, self._waiting = self._waiting, []
            for w in waiting:
                self._feed(*w)
            return
        self._feed(*item)

    def _make_engine(self, force: bool = False) -> bool:
        from imu_knee.analysis.engine import LIVE_HISTORY_S, Engine

        rates = self.declare()
        if not rates and force:
            rates = {}
            for sensor, t, *_ in self._waiting:
                if len(t) > 1 and sensor not in rates:
                    rates[sensor] = 1.0 / float(np.median(np.diff(t)))
        if not rates:
            return False
        self.rates_hz = dict(rates)
        # live sessions run for hours: keep only the last LIVE_HISTORY_S of sample history
        self.engine = Engine(self.rates_hz, leg_length_m=self.leg_length_m, contact_rows=True,
                             history_s=LIVE_HISTORY_S)
        if self.use_coach and self.coach is None:
            from imu_knee.coach.cues import LiveCoach

            self.coach = LiveCoach(leg_length_m=self.leg_length_m)
        return True

    def _feed(self, sensor: str, t_s, acc, gyr, arrival_s) -> None:
        if sensor not in self.rates_hz or len(t_s) == 0:
            return
        t_s = np.asarray(t_s, dtype=float)
        if arrival_s is not None:
            self._arrivals.setdefault(sensor, _Arrivals()).add(t_s, np.asarray(arrival_s, dtype=float))
        rows = self.engine.push(sensor, t_s, acc, gyr)
        trigger = None if arrival_s is None else float(np.max(arrival_s))
        self._handle(rows, trigger)

    def _handle(self, rows: list, trigger_arrival_s: float | None) -> None:
        now = time.monotonic()
        for row in rows:
            sensor = row.event_sensor or f"{row.side}_shank"
            arrivals = self._arrivals.get(sensor)
            contact = arrivals.at(row.ic_s) if arrivals is not None else None
            event = RowEvent(row, now, contact, trigger_arrival_s)
            waiting = self._contacts.setdefault(row.side, deque())
            if event.stage == "contact":
                waiting.append(event)
            elif row.final and waiting:
                event.contact = waiting.popleft()  # rows of one side come in contact order
            if row.final and self.coach is not None:
                try:
                    event.cues = list(self.coach.push_step(row.as_record()))
                except Exception:  # a coaching hiccup must not stop the analysis
                    event.cues = []
            self.events.append(event)
            if self.on_row is not None:
                self.on_row(event)

    # -- results ---------------------------------------------------------------------------
    def final_events(self) -> list[RowEvent]:
        return [e for e in self.events if e.final]

    def step_counts(self) -> dict[tuple[str, str], int]:
        """Final steps per (side, activity)."""
        return dict(Counter((e.row.side, e.row.activity or "unknown") for e in self.final_events()))

    def calibrated_at_s(self) -> float:
        """Signal time from which every sensor's analysis was calibrated (inf: never)."""
        if self.engine is None:
            return math.inf
        times = [c.calibration.calibrated_at_s if c.calibration is not None else math.inf
                 for c in self.engine.chains.values()]
        return max(times, default=math.inf)

    def latency_report(self, after_calibration: bool = True) -> dict:
        """Medians / 90th percentiles in ms, over rows whose contact comes after the analysis
        has calibrated (the first steps wait for that and come out together), or all rows:
        - `contact_to_row`: arrival of the sample at the contact → final row out;
        - `completing_block_to_row`: arrival of the block that completed the row → row out;
        - `notice_signal`: contact → newest signal time when the early notice came (the
          signal the detector needs after the contact);
        - `contact_to_notice`: arrival of the sample at the contact → early notice out;
        - `contact_row_signal` / `contact_to_contact_row`: the same for the contact row (impact,
          provisional activity and stride: the row a display shows);
        - `contact_time_to_notice` / `contact_time_to_row`: the contact's own time on the session
          clock (mapped from the device clock, so including the least link delay) → notice /
          final row out: end to end, batching in the sensor included (needs `clock_origin`);
          `contact_time_to_contact_row` the same for the contact row."""
        out: dict[str, dict] = {}

        def put(name: str, values: list[float]) -> None:
            v = np.array([x for x in values if x is not None and math.isfinite(x)]) * 1000.0
            out[name] = ({"n": int(len(v)), "median_ms": round(float(np.median(v)), 1),
                          "p90_ms": round(float(np.percentile(v, 90)), 1)} if len(v) else {"n": 0})

        start_s = self.calibrated_at_s() if after_calibration else -math.inf
        events = [e for e in self.events if e.row.ic_s > start_s]
        finals = [e for e in events if e.final and e.trigger_arrival_mono_s is not None]
        notices = [e for e in events if e.stage == "notice"]
        contacts = [e for e in events if e.stage == "contact"]
        put("contact_to_row", [e.emitted_mono_s - e.contact_arrival_mono_s for e in finals
                               if e.contact_arrival_mono_s is not None])
        put("completing_block_to_row", [e.emitted_mono_s - e.trigger_arrival_mono_s for e in finals])
        put("notice_signal", [e.row.emitted_t_s - e.row.ic_s for e in notices if e.row.emitted_t_s is not None])
        put("contact_to_notice", [e.emitted_mono_s - e.contact_arrival_mono_s for e in notices
                                  if e.contact_arrival_mono_s is not None and e.trigger_arrival_mono_s is not None])
        put("contact_row_signal", [e.row.emitted_t_s - e.row.ic_s for e in contacts
                                   if e.row.emitted_t_s is not None])
        put("contact_to_contact_row", [e.emitted_mono_s - e.contact_arrival_mono_s for e in contacts
                                       if e.contact_arrival_mono_s is not None
                                       and e.trigger_arrival_mono_s is not None])
        if self.clock_origin is not None:
            t0 = self.clock_origin()
            put("contact_time_to_notice", [e.emitted_mono_s - t0 - e.row.ic_s for e in notices
                                           if e.trigger_arrival_mono_s is not None])
            put("contact_time_to_contact_row", [e.emitted_mono_s - t0 - e.row.ic_s for e in contacts
                                                if e.trigger_arrival_mono_s is not None])
            put("contact_time_to_row", [e.emitted_mono_s - t0 - e.row.ic_s for e in finals])
        return out
