"""One comparison of a leg's steps against one reference (history, level walking, other leg, ...).

Every coach rule is built from these: the median of the tested steps must lie past a
threshold set relative to the reference, and enough single steps must lie past it too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .step_columns import ACTIVITY_WORDS, PLAIN_NAMES

# How much a comparison of each kind is trusted (scales the confidence).
REFERENCE_WEIGHT = {
    "history": 1.0,
    "level": 0.9,
    "standing": 0.9,
    "drift": 0.85,
    "other_side": 0.85,
    "leg_length": 0.8,
    "within_session": 0.75,
    "fallback": 0.55,
}

_UNITS = {"_g": (" g", 2), "_gps": (" g/s", 0), "_deg": ("°", 1), "_dps": ("°/s", 0),
          "_m": (" m", 2)}


def fmt(value: float, metric: str) -> str:
    """A value with the unit of its column name, rounded for people."""
    for suffix, (unit, digits) in _UNITS.items():
        if metric.endswith(suffix):
            return f"{value:.{digits}f}{unit}"
    return f"{value:.2f}"


@dataclass
class Comparison:
    pattern: str
    side: str
    activity: str
    metric: str
    kind: str
    reference: float
    reference_text: str  # e.g. "your level walking on the same leg"
    direction: str  # "high": more is the problem; "low": less is the problem
    ratio: float | None  # threshold as a multiple of the reference (None: not used)
    min_difference: float  # threshold as a distance from the reference
    value: float = math.nan  # median of the tested steps
    threshold: float = math.nan
    n_steps: int = 0
    flagged_ic: list[float] = field(default_factory=list)
    passed: bool = False
    strength: float = 0.0  # distance past the reference / distance of the threshold
    confidence: float = 0.0

    def evaluate(self, values: np.ndarray, ic_s: np.ndarray, general) -> "Comparison":
        """Test the steps (``values`` with their contact times ``ic_s``; NaN ignored)."""
        ok = np.isfinite(values)
        values, ic_s = values[ok], ic_s[ok]
        self.n_steps = int(values.size)
        if self.n_steps == 0 or not math.isfinite(self.reference):
            return self
        ref = self.reference
        if self.direction == "high":
            thr = ref + self.min_difference
            if self.ratio is not None:
                thr = max(thr, ref * self.ratio)
            flagged = values >= thr
        else:
            thr = ref - self.min_difference
            if self.ratio is not None:
                thr = min(thr, ref * self.ratio)
            flagged = values <= thr
        self.threshold = float(thr)
        self.value = float(np.median(values))
        self.flagged_ic = ic_s[flagged].tolist()
        span = abs(thr - ref)
        self.strength = (abs(self.value - ref) / span) if span > 0 else math.inf
        beyond = self.value >= thr if self.direction == "high" else self.value <= thr
        n_flag = len(self.flagged_ic)
        self.passed = bool(beyond and n_flag >= general["min_steps"]
                           and n_flag >= general["min_fraction_flagged"] * self.n_steps)
        if self.passed:
            step_factor = min(1.0, n_flag / general["full_confidence_steps"])
            margin = 0.6 + 0.4 * min(1.0, max(0.0, (self.strength - 1.0) / 2.0))
            self.confidence = (REFERENCE_WEIGHT.get(self.kind, 0.7)
                               * (0.5 + 0.5 * step_factor) * margin)
        return self

    def sentence(self, first: bool = True) -> str:
        """The evidence as a sentence a person can read (``first=False``: a follow-up
        sentence about the same metric, without repeating the measured value)."""
        what = PLAIN_NAMES.get(self.metric, self.metric)
        where = ACTIVITY_WORDS.get(self.activity, self.activity)
        ref = self.reference
        ref_txt = fmt(ref, "_m") if self.kind == "leg_length" else fmt(ref, self.metric)
        rel = ""
        if self.ratio is None:  # a difference threshold: say the difference
            if self.kind != "standing":
                diff = self.value - ref
                rel = f", {fmt(abs(diff), self.metric)} {'more' if diff >= 0 else 'less'}"
        elif ref > 0 and self.value > 0:
            r = self.value / ref
            rel = f", {r:.1f} times as much" if r >= 1 else f", {100 * (1 - r):.0f} % less"
        beyond = "above" if self.direction == "high" else "below"
        count = (f"{len(self.flagged_ic)} of the {self.n_steps} steps were {beyond} "
                 f"{fmt(self.threshold, self.metric)}.")
        if not first:
            return f"Against {ref_txt} {self.reference_text}{rel}: {count}"
        return (f"{where.capitalize()}, the {self.side} leg's {what} was "
                f"{fmt(self.value, self.metric)} (median of {self.n_steps} steps) against "
                f"{ref_txt} {self.reference_text}{rel}; {count}")

    def to_dict(self) -> dict:
        return {
            "metric": self.metric, "activity": self.activity, "side": self.side,
            "reference_kind": self.kind, "reference": round(self.reference, 4),
            "value": round(self.value, 4), "threshold": round(self.threshold, 4),
            "steps_flagged": len(self.flagged_ic), "steps_tested": self.n_steps,
            "confidence": round(self.confidence, 2),
        }
