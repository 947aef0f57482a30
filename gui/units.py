"""Display units (metric or imperial) for lengths; angles, g and deg/s stay as they are."""

from __future__ import annotations

import math
from dataclasses import dataclass

FT_PER_M = 3.28084


@dataclass
class Units:
    system: str = "metric"   # or "imperial"

    def length(self, metres: float, digits: int = 2) -> str:
        if metres is None or not math.isfinite(metres):
            return "—"
        if self.system == "imperial":
            return f"{metres * FT_PER_M:.{digits}f} ft"
        return f"{metres:.{digits}f} m"
