"""Baselines from earlier sessions: medians of each coach metric per side and activity."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from .step_columns import ACTIVITIES, METRIC_COLUMNS, SIDES


@dataclass(frozen=True)
class Baselines:
    """``medians[(metric, side, activity)]`` = the person's usual value from history.

    Built with :meth:`from_step_tables` from earlier sessions' per-step tables (median of
    the per-session medians, so one long session does not outweigh the others).
    """

    medians: Mapping[tuple[str, str, str], float] = field(default_factory=dict)
    sessions: int = 0

    def get(self, metric: str, side: str, activity: str) -> float | None:
        value = self.medians.get((metric, side, activity))
        if value is None or not math.isfinite(value):
            return None
        return float(value)

    @classmethod
    def from_step_tables(cls, tables: Iterable[pd.DataFrame], min_steps: int = 3) -> "Baselines":
        per_key: dict[tuple[str, str, str], list[float]] = {}
        n = 0
        for table in tables:
            n += 1
            for (side, activity), group in table.groupby(["side", "activity"]):
                if side not in SIDES or activity not in ACTIVITIES:
                    continue
                for metric in METRIC_COLUMNS:
                    if metric not in group:
                        continue
                    values = pd.to_numeric(group[metric], errors="coerce").dropna()
                    if len(values) >= min_steps:
                        per_key.setdefault((metric, side, activity), []).append(
                            float(values.median()))
        return cls({k: float(np.median(v)) for k, v in per_key.items()}, n)

    def to_dict(self) -> dict:
        return {"sessions": self.sessions,
                "medians": [{"metric": m, "side": s, "activity": a, "median": v}
                            for (m, s, a), v in sorted(self.medians.items())]}

    @classmethod
    def from_dict(cls, data: Mapping) -> "Baselines":
        return cls({(r["metric"], r["side"], r["activity"]): float(r["median"])
                    for r in data.get("medians", [])}, int(data.get("sessions", 0)))
