"""Per-sample values of a shank sensor that the per-step metrics read many times.

Each step reads its stride, stance and impact window from these; computing them once per
sample (as the samples arrive, on demand) instead of once per window keeps the cost per step
small, and gives exactly the values the per-window computation gives (the same arithmetic per
sample).
"""

from __future__ import annotations

import numpy as np

from .buffers import GrowingArray
from .quaternion import row_norms
from .sensor_chain import SensorChain
from .stride import squared_norms


class ShankDerived:
    """``acc_norm`` (|acc|, m/s²) and ``gyr_lp_sq`` (|low-passed rate|², (deg/s)²) per sample
    of ``chain``; :meth:`update` extends them to the chain's samples so far."""

    def __init__(self, chain: SensorChain):
        self.chain = chain
        self.acc_norm = GrowingArray()
        self.gyr_lp_sq = GrowingArray()

    def update(self) -> None:
        ch = self.chain
        n = ch.t.n
        done = self.acc_norm.n
        # new arrays, the buffers' own (kept without a copy when the samples came whole)
        if n > done:
            self.acc_norm.append(row_norms(ch.acc.view()[done:n]), adopt=True)
            self.gyr_lp_sq.append(squared_norms(ch.gyr_lp.view()[done:n]), adopt=True)

    def forget_before(self, i: int) -> None:
        for arr in (self.acc_norm, self.gyr_lp_sq):
            arr.forget_before(i)
