"""The per-step row (DESIGN.md section 2) and its column order."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

STEP_COLUMNS = [
    "side", "ic_s", "to_s", "activity", "stride_length_m", "step_height_m", "impact_g",
    "loading_rate_gps", "knee_flexion_ic_deg", "knee_min_flexion_stance_deg",
    "frontal_range_deg", "frontal_wobble_dps",
]
EXTRA_COLUMNS = ["impact_rate_hz", "event_sensor", "flags"]
METRIC_COLUMNS = STEP_COLUMNS[4:]


@dataclass
class StepRow:
    """One initial contact of one leg. ``None`` = not measurable with these sensors.

    Live use sees each contact up to three times (``stage``):

    - ``"notice"``: side and ``ic_s`` only, as soon as the contact is detected (~20 ms after it);
    - ``"contact"``: what is knowable at the contact, about 0.1 s after it: ``impact_g``,
      ``loading_rate_gps``, ``impact_rate_hz``, ``knee_flexion_ic_deg`` (thigh + shank, once
      the knee is calibrated) and *provisional* ``activity``, ``stride_length_m`` and
      ``step_height_m`` (flag ``provisional_stride``; the integration ends at the contact). The
      impact window may have been closed early (flag ``impact_window_closed_early``);
    - ``"final"``: every column, after the stance (about one stride later). It may revise the
      contact row's values and, on stairs, its ``ic_s`` (by a few tens of ms).

    ``final`` is True only for the final row; offline ``analyze`` keeps final rows only.
    """

    side: str
    ic_s: float
    to_s: float | None = None
    activity: str | None = None
    stride_length_m: float | None = None
    step_height_m: float | None = None
    impact_g: float | None = None
    loading_rate_gps: float | None = None
    knee_flexion_ic_deg: float | None = None
    knee_min_flexion_stance_deg: float | None = None
    frontal_range_deg: float | None = None
    frontal_wobble_dps: float | None = None
    impact_rate_hz: float | None = None
    event_sensor: str = ""
    flags: list[str] = field(default_factory=list)
    final: bool = True
    stage: str = "final"  # "notice", "contact" or "final" (final is True only for "final")
    shank_incl_ic_deg: float | None = None  # internal: shank inclination at contact
    # largest forward lean of the shank in stance, vs standing (coach heel lift; final rows)
    shank_tilt_max_stance_deg: float | None = None
    emitted_t_s: float | None = None  # signal time (latest sample pushed) when this was emitted

    def as_record(self) -> dict:
        rec = {c: getattr(self, c) for c in STEP_COLUMNS}
        rec["impact_rate_hz"] = self.impact_rate_hz
        rec["event_sensor"] = self.event_sensor
        rec["flags"] = ";".join(self.flags)
        rec["shank_incl_ic_deg"] = self.shank_incl_ic_deg
        rec["shank_tilt_max_stance_deg"] = self.shank_tilt_max_stance_deg
        return rec


def round_like_python(values, digits: int) -> np.ndarray:
    """``round(v, digits)`` of every value, as Python rounds one float (the decimal of the
    exact binary value, ties to even), in one numpy pass; NaN stays NaN.

    ``np.round`` rounds the product ``v * 10**digits``, whose own rounding can move a value
    lying within an ulp of a tie to the other side: those few values (found with a wide
    margin), and products too large to hold a fraction, are rounded by Python. The rest agree
    exactly: rint of the product is the rounding of the exact value, and dividing the integer
    by the exact power of ten is correctly rounded, as Python's conversion of the decimal is."""
    v = np.asarray(values, dtype=float)
    scale = 10.0 ** digits
    with np.errstate(invalid="ignore", over="ignore"):
        y = v * scale
        out = np.rint(y) / scale
        by_python = (np.abs(y - np.floor(y) - 0.5) <= 1e-9 * np.maximum(np.abs(y), 1.0)) | (
            np.isfinite(v) & ~(np.abs(y) < 2.0 ** 52))
    for j in np.flatnonzero(by_python).tolist():
        out.flat[j] = round(float(v.flat[j]), digits)
    return out


def cells(values) -> list[float | None]:
    """A float column as row cells: Python floats, None for NaN (not measurable)."""
    return [None if v != v else v for v in np.asarray(values, dtype=float).tolist()]
