"""Per-sample values of a shank sensor that the per-step metrics read many times.

Each step reads its stride, stance and impact window from these; computing them once per
sample (as the samples arrive, on demand) instead of once per window keeps the cost per step
small, and gives exactly the values the per-window computation gives (the same arithmetic per
sample).
"""

from __future__ import annotations

from .buffers import GrowingArray
from .quaternion import row_norms
from .sensor_chain import SensorChain


class ShankDerived:
    """``acc_norm`` (|acc|, m/s²) per sample of ``chain``; :meth:`update` extends it to the
    chain's samples so far. (The squared low-passed rate is the chain's own,
    :meth:`.SensorChain.gyr_lp_sq_view`: its toe-off search reads it too.)"""

    def __init__(self, chain: SensorChain):
        self.chain = chain
        self.acc_norm = GrowingArray()

    def update(self) -> None:
        ch = self.chain
        n = ch.t.n
        done = self.acc_norm.n
        # new arrays, the buffers' own (kept without a copy when the samples came whole)
        if n > done:
            self.acc_norm.append(row_norms(ch.acc.view()[done:n]), adopt=True)

    def forget_before(self, i: int) -> None:
        self.acc_norm.forget_before(i)
