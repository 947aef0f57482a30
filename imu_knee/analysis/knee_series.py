"""A leg's knee flexion series over a session, as the engine computed it (public result)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class KneeSeries:
    """Knee flexion of one leg (deg; 0 = as straight as when standing, + = more bent).

    ``t_s`` are the shank sensor's sample times from the knee calibration's standing window
    on. ``missing`` is None when the series exists; otherwise the arrays are empty and it says
    in plain words why there is none (no thigh sensor on the leg, no quiet standing, ...).
    """

    t_s: np.ndarray
    flexion_deg: np.ndarray
    missing: str | None = None

    @classmethod
    def unavailable(cls, why: str) -> "KneeSeries":
        return cls(np.empty(0), np.empty(0), why)

    @property
    def available(self) -> bool:
        return self.missing is None
