"""The analysis engine: sensors' blocks in, step rows out. Same code live and offline.

    engine = Engine({"left_shank": 100.0, "left_thigh": 100.0}, leg_length_m=0.9)
    for block in source:                       # live: small blocks as they arrive
        rows = engine.push(block.sensor, block.t_s, block.acc_mps2, block.gyr_dps)
    rows += engine.finish()

``push`` returns new rows; live use sees each contact up to three times (``StepRow.stage``):
``"notice"`` (side and contact time) as soon as the contact is detected; ``"contact"`` (only
with ``Engine(..., contact_rows=True)``, as the live analysis uses it) about
0.1 s after it, with what is knowable at the contact: impact and loading rate (the window is
closed early once the acceleration has settled after a clear peak), knee flexion at contact
and a provisional stride length, step height and activity (integration ending at the contact);
and ``"final"`` (``final=True``) once its stance is over (about one stride later), with every
column. The final row may revise the contact row's values and refine its contact time (stairs:
by a few tens of ms; a swing found to be split in two: the notice and contact row of its first
part are superseded). Consumers keep final rows; notices and contact rows are for showing a
step at once. Rows come per side in contact order (notice, contact row, final row), from the
first step on: the first swing after quiet standing gives a provisional flexion axis
(:mod:`.calibration`) until the full calibration (a few seconds of walking). On a leg with a
thigh and a shank sensor the final rows wait for both sensors' full calibrations (the knee's
hinge calibration needs them); those of the first steps then come out together. Sensors'
blocks may arrive in any sizes and interleaving; the final rows are the same (tested), and so
are the contact rows' values.
:func:`analyze_recording` pushes a whole recording and returns the final rows and a summary.

Stages per sensor (:mod:`.sensor_chain`): low-pass (sosfilt, carried state) -> orientation
(vqf) -> segment calibration (:mod:`.calibration`, decided at 1 s checkpoints) -> swings
(:mod:`.events`). Per leg (:class:`SideBuilder`): knee and frontal series (:mod:`.knee_stage`),
then per contact: stride integration (:mod:`.stride`), activity, impact (:mod:`.impact`). The
final rows of all contacts that are ready are computed together, each metric for all of them
in one padded array (:mod:`.windows`): offline that is every contact at once, live one or two;
the values do not depend on the grouping (tested: random live blocks give the offline rows).
Memory: offline (default) the whole history is kept, about 170 bytes a sample per sensor plus
up to 2x growth slack (4 sensors at 200 Hz: about 120 MB per 10 min). Live, ``history_s=30``
releases the memory of every sample array (time stamps, raw, filtered, orientation, sagittal
rate, world acceleration, knee and frontal series) older than 30 s and than anything a pending
row still reads (:meth:`Engine.retained_samples`); indices stay absolute (released pages read
as 0, see :class:`.buffers.GrowingArray`), so memory stays flat however long the session.
"""

from __future__ import annotations

import mmap
from dataclasses import dataclass, field
from operator import attrgetter

import numpy as np
import pandas as pd

from ..recording import SENSOR_NAMES, Recording
from .activity import sagittal_inclination_deg, thigh_stride_activity
from .buffers import GrowingArray
from .events import Swing, first_minimum_after
from .knee_series import KneeSeries
from .impact import clip_level_mps2, impact_at, impact_columns, window_end
from .derived import ShankDerived
from .frontal import StrideHeading
from .knee_stage import FrontalStage, KneeStage
from .sensor_chain import ChainConfig, SensorChain
from .shank_tilt import axis_tilt_rad, walking_directions
from .steps import STEP_COLUMNS, StepRow, cells, round_like_python
from .quaternion import rotate
from .windows import chunks, window_index
from .stride import ankle_displacements, midstance_index, midstance_indices
from .stride_at_contact import displacement_to, drift_rate_mps2

LIVE_HISTORY_S = 30.0  # sample history a live engine keeps (Engine(history_s=...)); memory stays flat
MAX_STANCE_S = 2.0
AFTER_GAP_S = 5.0            # orientation settles within this after a restart
ANCHOR_AFTER_IC_S = 0.12     # mid-stance is searched after the impact transient has settled
# On stairs the shank stops swinging forward about 45 ms before the foot lands and the next
# minimum of its rate comes about 18 ms after (development recordings); level contacts sit at
# the zero crossing. Final contact times on stairs average the two estimates.
STAIRS_CROSS_TO_IC_S = 0.045
STAIRS_MIN_TO_IC_S = -0.018
STAIRS_HEIGHT_M = 0.08
STAIRS_UP_KNEE_DEG = 35.0
STAIRS_UP_SHANK_DEG = -8.0
CLEARLY_UP_M = 0.25
DEFAULT_LEG_LENGTH_M = 0.90
SHANK_PER_LEG = 0.47          # knee-to-ankle / (ASIS-to-ankle), anthropometric average
SENSOR_ABOVE_ANKLE = 0.60     # shank sensors sit at about 60 % of the shank above the ankle
PROVISIONAL_END_S = 0.05      # the contact row's stride integration ends this long after contact
CHUNK_STEPS = 256             # stances per padded window array (bounds its memory)
# why a stride cannot be integrated (flags), by :meth:`SideBuilder._integration_problems`
INTEGRATION_PROBLEMS = ((), ("stride_too_long",), ("gap",), ("after_gap", "activity_unknown"))


@dataclass
class EngineConfig:
    chain: ChainConfig = field(default_factory=ChainConfig)
    stairs_height_m: float = STAIRS_HEIGHT_M


def _r(x: float | None, digits: int) -> float | None:
    return None if x is None else round(float(x), digits)


def _forget_times(t: GrowingArray, i: int) -> None:
    """Release the time stamps before index ``i`` when the array stays sorted: released ones
    read as 0 and are released whole pages at a time, so the stamp a page before ``i`` must
    not be negative (a clock that starts before 0 keeps its first stamps until then)."""
    back = max(i - mmap.PAGESIZE // t.view().itemsize, 0)
    if 0 < i <= t.n and t.view()[back] >= 0:
        t.forget_before(i)


class SideBuilder:
    """Turns one leg's swings into step rows, using every sensor on that leg."""

    def __init__(self, side: str, chains: dict[str, SensorChain], leg_length_m: float,
                 config: EngineConfig, contact_rows: bool = False, notices: bool = True):
        self.side = side
        self.shank = chains.get(f"{side}_shank")
        self.thigh = chains.get(f"{side}_thigh")
        self.events = self.shank or self.thigh
        if self.shank is not None and self.thigh is not None:
            self.thigh.detect_events = False
        self.chains = [c for c in (self.shank, self.thigh) if c is not None]
        self.config = config
        shank_len = SHANK_PER_LEG * leg_length_m
        self.lever_m = SENSOR_ABOVE_ANKLE * shank_len
        self.knee = KneeStage(self.shank, self.thigh) if self.shank and self.thigh else None
        self.frontal = FrontalStage(self.shank, self.knee) if self.shank else None
        self.heading = StrideHeading()  # walking direction of the frontal ranges, from strides
        self.derived = ShankDerived(self.shank) if self.shank else None
        self.next_k = 0          # next swing whose row is not final yet
        self.noticed_k = 0       # next swing whose early notice is not sent yet
        self.contact_rows = contact_rows  # emit contact rows (live displays opt in)
        self.notices = notices            # emit notice rows (offline opts out)
        self.contact_k = 0       # next swing whose contact row is not sent yet
        self._pending: StepRow | None = None  # contact row of swing contact_k, awaiting impact
        # final rows as column chunks (:meth:`_row_columns`) instead of row objects, when a
        # list (Engine(table=True))
        self.table: list[dict] | None = None

    # -------------------------------------------------------------- rows

    def collect(self, now_s: float, final: bool = False) -> list[StepRow]:
        out: list[StepRow] = []
        if self.knee is not None:
            self.knee.advance(final)
        if self.frontal is not None:
            self.frontal.advance(final)
        swings = self.events.swings
        while self.notices and self.noticed_k < len(swings):
            sw = swings[self.noticed_k]
            out.append(StepRow(self.side, round(sw.ic_s, 4), event_sensor=self.events.name,
                               final=False, stage="notice", emitted_t_s=now_s))
            self.noticed_k += 1
        while self.contact_rows and self.contact_k < len(swings):
            row = self._contact_row(self.contact_k, final)
            if row is None:
                break
            row.emitted_t_s = now_s
            out.append(row)
            self.contact_k += 1
        ready = self.next_k
        # a row needs every unfinished sensor of the leg up to 0.2 s after its contact and 0.1 s
        # after the next toe-off
        covered_t = min([c.last_t for c in self.chains if not c.finished], default=np.inf)
        while ready < (self.contact_k if self.contact_rows else len(swings)):
            nxt = swings[ready + 1] if ready + 1 < len(swings) else None
            if nxt is None and not self.events.finished:
                break
            need_t = max(swings[ready].ic_s + 0.2, nxt.to_s + 0.1 if nxt else -np.inf)
            if covered_t < need_t:
                break
            if self.knee is not None and not self.knee.decided:
                break
            ready += 1
        # every row that is ready, together (offline: all of them at once; live: one or two)
        ks = list(range(self.next_k, ready))
        if self.table is not None:
            if ks:
                self.table.append(self._row_columns(ks))
        else:
            for row in self._rows(ks):
                row.emitted_t_s = now_s
                out.append(row)
        self.next_k = ready
        return out

    def oldest_needed_s(self) -> float:
        """No row still to come reads this leg's samples before this time (live trimming).

        Pending rows read back to the mid-stance before the swing before theirs (stride
        integration, drift rate: a stride is at most 3 s), the knee and frontal stages from
        the first sample they have not consumed yet (from the standing window while the knee
        calibration is undecided)."""
        need = float("inf")
        swings = self.events.swings
        if swings:
            need = swings[max(self.next_k - 2, 0)].to_s - 3.0
        for stage in (self.knee, self.frontal):
            if stage is not None:
                t = self.shank.t.view()
                if stage._next_i < len(t):
                    need = min(need, float(t[stage._next_i]) - 1.0)
        if any(c.calibration is None for c in self.chains):
            need = -float("inf")
        return need

    def forget_before_s(self, cut_s: float) -> None:
        """Release this leg's sample memory before ``cut_s`` (see :meth:`Engine.retained`)."""
        # Time stamps are released too: forgotten ones read as 0, so a time array stays sorted
        # (0 <= every session time) and searchsorted for any time after the cut is unchanged.
        for ch in self.chains:
            i = int(np.searchsorted(ch.t.view(), cut_s))
            for arr in (ch.acc, ch.gyr, ch.gyr_lp, ch.gyr_lp_sq, ch.quat, ch.bias, ch.acc_world,
                        ch.sag, ch.gap_after):
                arr.forget_before(i)
            _forget_times(ch.t, i)
        for stage, arrays in ((self.knee, ("flexion",)), (self.frontal, ("travel_x", "travel_y", "rate"))):
            if stage is not None:
                i = int(np.searchsorted(stage.t.view(), cut_s))
                for name in arrays:
                    getattr(stage, name).forget_before(i)
                _forget_times(stage.t, i)
        if self.derived is not None:
            self.derived.forget_before(int(np.searchsorted(self.shank.t.view(), cut_s)))

    def _stance_end(self, k: int) -> tuple[float, bool]:
        """(end time, is a real toe-off) of the stance that starts at swing k's contact."""
        end, real = self._stance_ends([k])
        return float(end[0]), bool(real[0])

    def _stance_ends(self, ks: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_stance_end` of many swings: the next swing's toe-off when it comes within
        ``MAX_STANCE_S`` (a real toe-off), else 1 s after the contact, cut at the next toe-off
        and the last sample."""
        swings = self.events.swings
        n = len(swings)
        ic = np.array([swings[k].ic_s for k in ks])
        nxt = np.array([swings[k + 1].to_s if k + 1 < n else np.nan for k in ks])
        with np.errstate(invalid="ignore"):
            real = nxt - ic <= MAX_STANCE_S
        cut = np.minimum(np.fmin(ic + 1.0, nxt), self.events.last_t)
        return np.where(real, nxt, cut), real

    def _midstance(self, t_from: float, t_to: float) -> int | None:
        chain = self.shank
        return midstance_index(chain.t.view(), chain.gyr_lp.view(), t_from, t_to,
                               chain.gyr_lp_sq_view())

    def _anchor_before(self, k: int) -> int | None:
        """Mid-stance sample of the stance before swing k (stillest sample)."""
        i = int(self._anchors_before([k])[0])
        return None if i < 0 else i

    def _anchors_before(self, ks: list[int]) -> np.ndarray:
        """:meth:`_anchor_before` of many swings (-1: none)."""
        swings = self.events.swings
        to = np.array([swings[k].to_s for k in ks])
        prev_ic = np.array([swings[k - 1].ic_s if k > 0 else np.nan for k in ks])
        with np.errstate(invalid="ignore"):
            start = np.where(to - prev_ic <= MAX_STANCE_S, prev_ic + ANCHOR_AFTER_IC_S, to - 1.0)
        return midstance_indices(self.shank.t.view(), self.shank.gyr_lp_sq_view(), start,
                                 to - 0.05)

    def _anchor_after(self, k: int) -> int | None:
        swings = self.events.swings
        if k + 1 < len(swings):
            return self._anchor_before(k + 1)
        end, _ = self._stance_end(k)
        return self._midstance(swings[k].ic_s + ANCHOR_AFTER_IC_S, end - 0.02)

    def _row_columns(self, ks: list[int]) -> dict:
        """The final rows of swings ``ks`` (not empty) as columns, computed together: each
        metric for all of them at once (NaN: not measurable) rounded once (the values do not
        depend on which rows are computed together). Per column (named as StepRow's fields):
        a float array, or a list (``activity``, ``flags``: sorted, no repeats), or one value
        for every row (``side``, ``impact_rate_hz``, ``event_sensor``)."""
        sws = [self.events.swings[k] for k in ks]
        n = len(ks)
        cal = self.events.calibration
        no_standing = bool(cal and "no_standing" in cal.flags)
        flags = [(["gap"] if sw.gap else []) + (["no_standing"] if no_standing else []) for sw in sws]
        end_s, real_to = self._stance_ends(ks)
        ic = round_like_python([sw.ic_s for sw in sws], 4)
        to = np.where(real_to, round_like_python(end_s, 4), np.nan)
        length, height, d_world = np.full(n, np.nan), np.full(n, np.nan), np.full((n, 3), np.nan)
        if self.shank is not None:
            length, height, d_world = self._stride_metrics(ks, flags)
        travel = self.heading.update(ic, d_world)
        knee_ic, knee_min, f_range, f_wobble = self._knee_and_frontal(ic, to, flags, travel)
        incl = self._shank_inclinations_deg([sw.ic_i for sw in sws])
        activity = self._activities(ic, height, knee_ic, incl)
        impact, loading, tilt = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
        rate_hz = None
        if self.shank is not None:
            stairs = np.flatnonzero(activity != "level")
            if len(stairs):
                ic[stairs] = round_like_python([self._stairs_contact(sws[j]) for j in stairs], 4)
                # at the refined contact times
                again = self._knee_and_frontal(ic[stairs], to[stairs], [flags[j] for j in stairs],
                                               travel[stairs])
                for column, values in zip((knee_ic, knee_min, f_range, f_wobble), again):
                    column[stairs] = values
            impact, loading = self._impact(ic, flags)
            rate_hz = round(self.shank.rate_hz, 1)
            # the lean is relative to the shank's standing pose: none without quiet standing
            # (the events' calibration is the shank's)
            if not no_standing:
                j = np.flatnonzero(real_to & ~np.array([sw.gap for sw in sws], dtype=bool))
                ms_i = np.array([sws[i].ms_i for i in j], dtype=np.int64)
                tilt[j] = round_like_python(self._shank_tilt_max(ic[j], to[j], ms_i, d_world[j]), 2)
        return {"side": self.side, "ic_s": ic, "to_s": to, "activity": activity.tolist(),
                "stride_length_m": length, "step_height_m": height, "impact_g": impact,
                "loading_rate_gps": loading, "knee_flexion_ic_deg": knee_ic,
                "knee_min_flexion_stance_deg": knee_min, "frontal_range_deg": f_range,
                "frontal_wobble_dps": f_wobble, "impact_rate_hz": rate_hz,
                "event_sensor": self.events.name,
                "flags": [sorted(set(f)) if f else [] for f in flags],
                "shank_incl_ic_deg": incl, "shank_tilt_max_stance_deg": tilt}

    def _rows(self, ks: list[int]) -> list[StepRow]:
        """The final rows of swings ``ks`` (:meth:`_row_columns` as row objects)."""
        if not ks:
            return []
        c = self._row_columns(ks)
        side, rate_hz, name = c["side"], c["impact_rate_hz"], c["event_sensor"]
        # positional arguments in StepRow's field order (the quickest way to make many rows)
        return [StepRow(side, ic_, to_, act, sl, sh, ig, lr, kic, kmin, fr, fw, rate_hz, name,
                        f, True, "final", inc, lean)
                for ic_, to_, act, sl, sh, ig, lr, kic, kmin, fr, fw, f, inc, lean in zip(
                    *(cells(c[k]) if k not in ("activity", "flags") else c[k] for k in (
                        "ic_s", "to_s", "activity", "stride_length_m", "step_height_m",
                        "impact_g", "loading_rate_gps", "knee_flexion_ic_deg",
                        "knee_min_flexion_stance_deg", "frontal_range_deg",
                        "frontal_wobble_dps", "flags", "shank_incl_ic_deg",
                        "shank_tilt_max_stance_deg")))]

    def _shank_tilt_max(self, ic_s: np.ndarray, to_s: np.ndarray, ms_i: np.ndarray,
                        d_world: np.ndarray) -> np.ndarray:
        """Largest forward lean of the shank over each stance [ic_s, to_s] (deg; NaN: not
        measurable), along the stride's walking direction (:mod:`.shank_tilt`; ``d_world``:
        the strides' displacements, NaN rows: none; ``ms_i``: the swings' mid-swing samples):
        the largest ``axis_tilt_rad`` of the long axis (the calibration's ``up_axis`` rotated to
        the world frame at each stance sample), in deg."""
        out = np.full(len(ic_s), np.nan)
        ch = self.shank
        t, quat = ch.t.view(), ch.quat.view()
        i0 = t.searchsorted(ic_s)
        i1 = t.searchsorted(to_s, side="right") - 1
        ok = np.flatnonzero((i1 > i0) & (i1 < len(quat)))
        if len(ok):
            has_gap, _ = ch.gaps_and_unknown(i0[ok], i1[ok])
            ok = ok[~has_gap]
        up_axis = ch.calibration.up_axis
        direction = walking_directions(d_world[ok], quat, up_axis, ms_i[ok])
        found = ~np.isnan(direction[:, 0])
        ok, direction = ok[found], direction[found]
        for sl in chunks(len(ok), CHUNK_STEPS):
            idx, valid = window_index(i0[ok[sl]], i1[ok[sl]] + 1)
            # the long axis in the world frame at the stances' samples only (row by row)
            axis = rotate(quat[idx.ravel()], up_axis).reshape(idx.shape + (3,))
            tilt = axis_tilt_rad(axis, direction[sl, None, :])
            # NaN: orientation unknown somewhere in the stance
            out[ok[sl]] = np.degrees(np.max(tilt, axis=1, where=valid, initial=-np.inf))
        return out

    # -------------------------------------------------------------- contact rows (live)

    def _contact_row(self, k: int, final: bool) -> StepRow | None:
        """The contact row of swing k once its impact window has closed (None: not yet).

        Columns knowable at the contact: impact (window possibly closed early, see
        :func:`.impact.window_end`), knee flexion at contact, and a provisional stride length,
        step height and activity (:mod:`.stride_at_contact`)."""
        sw: Swing = self.events.swings[k]
        ch = self.shank
        done = final or self.events.finished
        if ch is None:
            return StepRow(self.side, round(sw.ic_s, 4), event_sensor=self.events.name,
                           final=False, stage="contact", flags=["gap"] if sw.gap else [])
        done = done or ch.finished
        if self._pending is not None and self._pending.ic_s != round(sw.ic_s, 4):
            self._pending = None  # the swing was merged with its second part: a new contact
        if self._pending is None:
            if not done and ch.last_t < sw.ic_s + PROVISIONAL_END_S:
                return None
            row = StepRow(self.side, round(sw.ic_s, 4), event_sensor=self.events.name,
                          final=False, stage="contact")
            flags = ["gap"] if sw.gap else []
            self._provisional_stride(k, row, flags)
            if self.knee is not None:
                row.knee_flexion_ic_deg = _r(self.knee.at_contact(row.ic_s), 2)
            row.activity = self._activity(row, self._shank_inclination_deg(sw.ic_i))
            row.flags = flags
            self._pending = row
        row = self._pending
        t, acc = ch.t.view(), ch.acc.view()
        end, early = window_end(t, acc, sw.ic_s, allow_early=row.activity != "stairs_down")
        if end is None:
            if not done:
                return None
            end = len(t)
        impact, loading, f = impact_at(t[:end], acc[:end], sw.ic_s, ch.rate_hz,
                                       clip_level_mps2(ch.max_abs_acc))
        row.impact_g = None if impact is None else round(impact, 3)
        row.loading_rate_gps = None if loading is None else round(loading, 2)
        row.impact_rate_hz = round(ch.rate_hz, 1)
        row.flags = sorted(set(row.flags + f + (["impact_window_closed_early"] if early else [])))
        self._pending = None
        return row

    def _provisional_stride(self, k: int, row: StepRow, flags: list[str]) -> None:
        ch = self.shank
        t = ch.t.view()
        if len(t) == 0:
            return
        i0 = self._anchor_before(k)
        i_end = min(int(np.searchsorted(t, self.events.swings[k].ic_s + PROVISIONAL_END_S)), len(t) - 1)
        if i0 is None or i_end <= i0:
            flags.append("no_midstance")
            return
        problem = self._integration_problem(i0, i_end)
        if problem:
            flags.extend(problem)
            return
        lever = self.lever_m * ch.calibration.up_axis
        drift = np.zeros(3)
        j0 = self._anchor_before(k - 1) if k > 0 else None
        if j0 is not None and j0 < i0 and not self._integration_problem(j0, i0):
            drift = drift_rate_mps2(t, ch.acc_world.view(), ch.gyr.view(), ch.quat.view(), j0, i0, lever)
        d = displacement_to(t, ch.acc_world.view(), ch.gyr.view(), ch.quat.view(), i0, i_end, lever, drift)
        row.stride_length_m = round(float(np.hypot(d[0], d[1])), 4)
        row.step_height_m = round(float(d[2]), 4)
        flags.append("provisional_stride")

    def _integration_problem(self, i0: int, i1: int) -> list[str]:
        """Why the shank cannot be integrated from sample i0 to i1 (empty: it can)."""
        return list(INTEGRATION_PROBLEMS[self._integration_problems(np.array([i0]), np.array([i1]))[0]])

    def _integration_problems(self, i0: np.ndarray, i1: np.ndarray) -> np.ndarray:
        """:meth:`_integration_problem` of many strides at once, as indices into
        :data:`INTEGRATION_PROBLEMS` (0: none)."""
        ch = self.shank
        t = ch.t.view()
        has_gap, has_unknown = ch.gaps_and_unknown(i0, i1)
        since_restart = t[i0][:, None] - np.asarray(ch.restarts_s)[None, :]
        settling = ((-0.5 < since_restart) & (since_restart < AFTER_GAP_S)).any(axis=1)
        too_long = t[i1] - t[i0] > 3.0
        # orientation unknown until the first quiet sample after a gap, then settling
        return np.select([too_long, has_gap, has_unknown | settling], [1, 2, 3], 0)

    def _knee_and_frontal(self, ic_s: np.ndarray, to_s: np.ndarray, flags: list[list[str]],
                          travel_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(knee flexion at contact, least flexion in stance, frontal range, frontal wobble),
        rounded, of the stances [ic_s, to_s] (``to_s`` NaN: no real toe-off; ``travel_xy``:
        their walking directions, NaN rows: none, see :meth:`.FrontalStage.in_stances`);
        NaN: not measurable."""
        n = len(ic_s)
        knee_ic, knee_min, frontal = np.full(n, np.nan), np.full(n, np.nan), np.full((n, 2), np.nan)
        if n and self.knee is not None:
            knee_ic = np.array(self.knee.at_contacts(ic_s), dtype=float)
            knee_min = self.knee.min_in_stances(ic_s, to_s)
            if self.knee.calibration is None:
                for f in flags:
                    f.append("knee_not_calibrated")
        if n and self.frontal is not None:
            frontal = self.frontal.in_stances(ic_s, to_s, travel_xy)
        return (round_like_python(knee_ic, 2), round_like_python(knee_min, 2),
                round_like_python(frontal[:, 0], 2), round_like_python(frontal[:, 1], 2))

    def _stairs_contact(self, sw: Swing) -> float:
        ch = self.events
        t_min = first_minimum_after(ch.t.view(), ch.sag.view(), sw.cross_i, ch.rate_hz,
                                    ch.detector.delay_s)
        from_cross = sw.cross_s + STAIRS_CROSS_TO_IC_S
        if np.isnan(t_min):
            return from_cross
        return 0.5 * (from_cross + t_min + STAIRS_MIN_TO_IC_S)

    def _impact(self, ic_s: np.ndarray, flags: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
        """(impact g, loading rate g/s), rounded, at the contacts ``ic_s``; NaN: none."""
        ch = self.shank
        self.derived.update()
        impact, loading, flag = impact_columns(ch.t.view(), ch.acc.view(), ic_s, ch.rate_hz,
                                               clip_level_mps2(ch.max_abs_acc),
                                               self.derived.acc_norm.view())
        for j in np.flatnonzero(flag != "").tolist():
            flags[j].append(flag[j])
        return round_like_python(impact, 3), round_like_python(loading, 2)

    def _stride_metrics(self, ks: list[int], flags: list[list[str]]
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(stride length m, step height m, both rounded; world displacements (K, 3)) of the
        strides that end at swings ``ks``' contacts; NaN where not measurable (why: in flags)."""
        ch = self.shank
        n = len(ks)
        length, height, d_world = np.full(n, np.nan), np.full(n, np.nan), np.full((n, 3), np.nan)
        # mid-stance before each swing k and k + 1 (ks are consecutive; after the last swing:
        # in its own stance)
        more = ks[-1] + 1 < len(self.events.swings)
        anchors = self._anchors_before(ks + [ks[-1] + 1] if more else ks)
        i0 = anchors[:n]
        if more:
            i1 = anchors[1:]
        else:
            last = self._anchor_after(ks[-1])
            i1 = np.append(anchors[1:], -1 if last is None else last)
        todo = np.flatnonzero((i0 >= 0) & (i1 > i0))
        for j in np.flatnonzero(~((i0 >= 0) & (i1 > i0))).tolist():
            flags[j].append("no_midstance")
        if len(todo):
            problem = self._integration_problems(i0[todo], i1[todo])
            for j, p in zip(todo[problem > 0].tolist(), problem[problem > 0].tolist()):
                flags[j].extend(INTEGRATION_PROBLEMS[p])
            todo = todo[problem == 0]
        if not len(todo):
            return length, height, d_world
        lever = self.lever_m * ch.calibration.up_axis
        d = ankle_displacements(ch.t.view(), ch.acc_world.view(), ch.gyr.view(), ch.quat.view(),
                                i0[todo], i1[todo], lever)
        length[todo] = round_like_python(np.hypot(d[:, 0], d[:, 1]), 4)
        height[todo] = round_like_python(d[:, 2], 4)
        d_world[todo] = d
        return length, height, d_world

    def _shank_inclination_deg(self, i: int) -> float | None:
        """Sagittal inclination of the shank at sample i (+ = knee ahead of ankle), deg."""
        return cells(self._shank_inclinations_deg([i]))[0]

    def _shank_inclinations_deg(self, idx: list[int]) -> np.ndarray:
        """:meth:`_shank_inclination_deg` at many samples (NaN: no shank, sample not there
        yet, or orientation unknown)."""
        ch = self.shank
        if ch is None:
            return np.full(len(idx), np.nan)
        i = np.array(idx, dtype=np.int64)
        there = i < ch.t.n
        q = ch.quat.view()[np.where(there, i, 0)] if ch.t.n else np.full((len(i), 4), np.nan)
        known = there & ~np.isnan(q).any(axis=1)
        cal = ch.calibration
        return np.where(known, sagittal_inclination_deg(q, cal.up_axis, cal.forward_axis), np.nan)

    def _activity(self, row: StepRow, incl_deg: float | None = None) -> str:
        """:meth:`_activities` of one row (and its ``shank_incl_ic_deg`` set to ``incl_deg``)."""
        row.shank_incl_ic_deg = incl_deg
        one = [np.array([v], dtype=float) for v in (row.ic_s, row.step_height_m,
                                                    row.knee_flexion_ic_deg, incl_deg)]
        return str(self._activities(*one)[0])

    def _activities(self, ic_s: np.ndarray, height_m: np.ndarray, knee_ic_deg: np.ndarray,
                    incl_deg: np.ndarray) -> np.ndarray:
        """Level / stairs up / stairs down for the strides that end at these contacts, from
        their (rounded) step heights, knee flexions and shank inclinations at contact (NaN:
        unknown).

        Mainly the step height. Going up a stair the foot lands with the knee well bent and the
        shank leaning forward, while the stride onto a landing at the top (also about +0.1 m in
        the integration) lands like level walking: a rise counts as stairs up only with a bent
        knee (thigh + shank) or a forward-leaning shank, or when clearly a riser or more.
        A leg with only a thigh is classified from the thigh's inclination.
        """
        if self.shank is None and self.thigh is not None:
            # thigh only: from its inclination (:mod:`.activity`)
            return np.array([thigh_stride_activity(self.thigh, ic) or "level"
                             for ic in ic_s.tolist()])
        thr = self.config.stairs_height_m
        with np.errstate(invalid="ignore"):
            bent = (knee_ic_deg > STAIRS_UP_KNEE_DEG) | (incl_deg > STAIRS_UP_SHANK_DEG)
            rise = height_m > thr
            up = rise & (bent | (height_m > CLEARLY_UP_M))
            down = ~rise & (height_m < -thr)
        return np.where(up, "stairs_up", np.where(down, "stairs_down", "level"))


class Engine:
    """Block-wise gait analysis of up to four sensors (two per leg)."""

    def __init__(self, rates_hz: dict[str, float], leg_length_m: float | None = None,
                 config: EngineConfig | None = None, contact_rows: bool = False,
                 history_s: float | None = None, notices: bool = True, table: bool = False):
        """``contact_rows``: also emit a contact row per contact (live displays; see the
        module docstring). Off by default: notices and final rows only, as before.
        ``notices=False``: no notice rows either (offline: final rows only).
        ``table=True``: the final rows are not returned but kept as table columns, read with
        :meth:`final_table` (offline: no row objects are made).

        ``history_s`` (live sessions; e.g. 30): release the memory of samples older than this
        and than anything a pending row or stage still reads; the rows are the same (tested).
        None (offline, default): everything is kept (the session report reads it)."""
        self.config = config or EngineConfig()
        self.history_s = history_s
        unknown = set(rates_hz) - set(SENSOR_NAMES)
        if unknown:
            raise ValueError(f"unknown sensor names: {sorted(unknown)}")
        self.leg_length_m = leg_length_m or DEFAULT_LEG_LENGTH_M
        self.leg_length_given = leg_length_m is not None
        self.chains = {n: SensorChain(n, r, self.config.chain) for n, r in rates_hz.items()}
        self.sides: dict[str, SideBuilder] = {}
        for side in ("left", "right"):
            mine = {n: c for n, c in self.chains.items() if n.startswith(side)}
            if mine:
                self.sides[side] = SideBuilder(side, mine, self.leg_length_m, self.config,
                                               contact_rows=contact_rows, notices=notices)
                if table:
                    self.sides[side].table = []
        self._now_s = float("-inf")

    def push(self, sensor: str, t_s, acc_mps2, gyr_dps) -> list[StepRow]:
        chain = self.chains.get(sensor)
        if chain is None:
            raise ValueError(f"sensor {sensor!r} was not declared to the engine")
        chain.push(t_s, acc_mps2, gyr_dps)
        self._now_s = max(self._now_s, chain.last_t)
        side = self.sides[chain.side]
        rows = side.collect(self._now_s)
        if self.history_s is not None:
            self._forget_old()
        return rows

    def _forget_old(self) -> None:
        cut = self._now_s - self.history_s
        for side in self.sides.values():
            cut = min(cut, side.oldest_needed_s())
        if np.isfinite(cut):
            for side in self.sides.values():
                side.forget_before_s(cut)

    def retained_samples(self) -> dict[str, int]:
        """Per sensor: samples whose arrays (any of them) are still held in memory."""
        return {n: max(a.retained for a in (c.acc, c.quat, c.t, c.sag, c.gap_after))
                for n, c in self.chains.items()}

    def finish(self) -> list[StepRow]:
        for chain in self.chains.values():
            chain.finish()
        out: list[StepRow] = []
        for side in self.sides.values():
            out.extend(side.collect(self._now_s, final=True))
        return out

    def final_table(self) -> pd.DataFrame:
        """The final rows so far (``Engine(table=True)``), the table :func:`rows_to_frame`
        makes of them as rows."""
        column_chunks = [c for side in self.sides.values() for c in side.table or []]
        if not column_chunks:
            return _empty_steps()
        values: dict[str, list] = {name: [] for name in FRAME_COLUMNS}
        for c in column_chunks:
            n = len(c["ic_s"])
            for name in FRAME_COLUMNS:
                v = c[name]
                if name in ("side", "event_sensor"):
                    v = [v] * n
                elif name == "impact_rate_hz":
                    v = np.full(n, np.nan if v is None else v)
                elif name == "flags":
                    v = [";".join(f) for f in v]
                elif name in ("ic_s", "to_s"):
                    v = cells(v)  # as the rows hold them (None: empty)
                values[name].append(v)
        return _steps_frame({name: (np.concatenate(parts) if isinstance(parts[0], np.ndarray)
                                    else [x for part in parts for x in part])
                             for name, parts in values.items()})

    # -------------------------------------------------------------- reporting

    def sensor_report(self) -> dict:
        rep = {}
        for name, ch in self.chains.items():
            flags = []
            if ch.calibration is None:
                flags.append("not_calibrated")
            elif ch.calibration.flags:
                flags.extend(ch.calibration.flags)
            if ch.rate_hz < 50:
                flags.append("rate_below_50hz")
            if clip_level_mps2(ch.max_abs_acc) is not None:
                flags.append("acc_reaches_full_scale")
            if ch.gaps:
                flags.append("gaps")
            rep[name] = {
                "rate_hz": round(ch.rate_hz, 2),
                "samples": int(ch.t.n),
                "calibration": None if ch.calibration is None else ch.calibration.as_dict(),
                "gaps_s": [[round(a, 3), round(b, 3)] for a, b in ch.gaps],
                "swings": len(ch.swings),
                "flags": flags,
            }
        return rep

    def knee_report(self) -> dict:
        """Per leg with thigh + shank: knee calibration quality, or why there is none."""
        return {side: b.knee.report() for side, b in self.sides.items() if b.knee is not None}

    def knee_series(self) -> dict[str, KneeSeries]:
        """Per leg: its knee flexion series so far (copies; see :class:`KneeSeries`).

        Every leg the engine has a sensor on gets an entry; a leg without a series has empty
        arrays and ``missing`` says why (no thigh or no shank sensor, calibration refused, ...).
        """
        out: dict[str, KneeSeries] = {}
        for side, b in self.sides.items():
            stage = b.knee
            if stage is None:
                out[side] = KneeSeries.unavailable(
                    "needs a thigh sensor as well as a shin sensor on this leg")
            elif stage.t.n == 0:
                out[side] = KneeSeries.unavailable(stage.message or "not available")
            else:
                out[side] = KneeSeries(np.array(stage.t.view()), np.array(stage.flexion.view()))
        return out


FRAME_COLUMNS = STEP_COLUMNS + ["impact_rate_hz", "event_sensor", "flags", "shank_incl_ic_deg",
                               "shank_tilt_max_stance_deg"]
_UNCONVERTED = ("side", "ic_s", "to_s", "activity", "event_sensor", "flags")  # types as given


def rows_to_frame(rows: list[StepRow]) -> pd.DataFrame:
    """Final rows as a DataFrame in DESIGN.md column order, sorted by contact time (then side;
    rows of the same contact time and side keep their order).

    Built column by column (no dict per row): the metric columns are floats (NaN: empty), the
    others as pandas infers them from the rows' values."""
    final = [r for r in rows if r.final]
    if not final:
        return _empty_steps()
    values = {c: list(map(attrgetter(c), final)) for c in FRAME_COLUMNS}
    values["flags"] = [";".join(f) for f in values["flags"]]
    return _steps_frame(values)


def join_step_frames(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """One table from :func:`rows_to_frame` tables (e.g. one per leg, each made where its rows
    were: a table pickles far faster than its rows); the same as :func:`rows_to_frame` of
    all their rows."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return _empty_steps()
    if any(not f.dtypes.equals(frames[0].dtypes) for f in frames[1:]):
        # a column typed otherwise in one table (no toe-off at all in it): typed from the values
        return _steps_frame({c: [v for f in frames for v in f[c].tolist()] for c in FRAME_COLUMNS})
    joined = pd.concat(frames, ignore_index=True)
    order = np.lexsort((joined["side"].to_numpy(dtype=str), joined["ic_s"].to_numpy(dtype=float)))
    return joined.take(order).reset_index(drop=True)


def _steps_frame(values: dict[str, list]) -> pd.DataFrame:
    """The steps table of per-column cell lists, rows sorted stably by (contact time, side)."""
    order = np.lexsort((np.array(values["side"]), np.array(values["ic_s"], dtype=float))).tolist()
    data = {}
    for c in FRAME_COLUMNS:
        if c in _UNCONVERTED:
            data[c] = [values[c][j] for j in order]
        else:
            data[c] = np.array(values[c], dtype=float)[order]
    return pd.DataFrame(data, columns=FRAME_COLUMNS)


def _empty_steps() -> pd.DataFrame:
    """The table of no rows, with the column types it has always had (pandas' for no values)."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in FRAME_COLUMNS}).astype(
        {c: np.int64 for c in FRAME_COLUMNS if c not in _UNCONVERTED})


def analyze_recording(rec: Recording, leg_length_m: float | None = None,
                      config: EngineConfig | None = None, progress: bool = False):
    """Analyse a whole recording: returns (steps DataFrame, summary dict).

    :func:`.offline.analyze_whole` gives the same and, on request, the knee series."""
    from .offline import analyze_whole

    res = analyze_whole(rec, leg_length_m=leg_length_m, config=config, progress=progress)
    return res.steps, res.summary
