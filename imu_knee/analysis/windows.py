"""Many variable-length windows of one series at once, as one padded 2-D index array.

The per-step metrics read one stance or stride of a sensor's series per step; doing that
for hundreds of steps with one numpy call each costs more in call overhead than in work.
:func:`window_index` gives, for windows ``[start, stop)``, a (K, L) index array (L the longest
window) and the mask of its real entries, so that ``series[idx]`` gathers every window at once
and masked reductions give each window's result. Padding repeats a window's last index, so
gathered values are always real samples (never out of range), only masked.
"""

from __future__ import annotations

import numpy as np


def window_index(starts, stops) -> tuple[np.ndarray, np.ndarray]:
    """(idx (K, L), valid (K, L)) for windows ``[starts[k], stops[k])``; empty windows give
    a row with no valid entry (its index row repeats ``starts[k]``, which must exist)."""
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(stops, dtype=np.int64) - starts
    width = max(int(lengths.max()) if len(lengths) else 0, 1)
    offs = np.arange(width)
    valid = offs < lengths[:, None]
    idx = starts[:, None] + np.minimum(offs, np.maximum(lengths[:, None] - 1, 0))
    return idx, valid


def chunks(n: int, size: int):
    """Slices covering range(n) in pieces of at most ``size`` (bounds the padded arrays' memory)."""
    for a in range(0, n, size):
        yield slice(a, min(a + size, n))


def window_argext(values: np.ndarray, starts, stops, largest: bool, chunk: int = 256,
                  max_width: int = 1024) -> np.ndarray:
    """Per non-empty window ``values[starts[k]:stops[k]]``: the index (into ``values``) of its
    first largest (``largest``) or smallest value, as ``np.argmax`` / ``np.argmin`` of the
    window alone (a NaN counts as the extreme). Windows side by side in padded arrays of at
    most ``chunk`` rows, in order of length; a window longer than ``max_width`` on its own."""
    starts = np.asarray(starts, dtype=np.int64)
    stops = np.asarray(stops, dtype=np.int64)
    arg = np.argmax if largest else np.argmin
    out = np.empty(len(starts), dtype=np.int64)
    long = stops - starts > max_width
    for k in np.flatnonzero(long).tolist():
        out[k] = starts[k] + int(arg(values[starts[k]:stops[k]]))
    short = np.flatnonzero(~long)
    # windows of about the same length side by side (less padding; each row's result is its own)
    short = short[np.argsort((stops - starts)[short], kind="stable")]
    for sl in chunks(len(short), chunk):
        k = short[sl]
        idx, valid = window_index(starts[k], stops[k])
        v = np.where(valid, values[idx], -np.inf if largest else np.inf)
        out[k] = starts[k] + arg(v, axis=1)
    return out


def spans_with_mark(marked: np.ndarray, starts, stops) -> np.ndarray:
    """Per span ``[starts[k], stops[k])``: whether it holds a marked index (``marked``: the
    sorted indices of the marks, e.g. ``np.flatnonzero(mask)``)."""
    return np.searchsorted(marked, stops) > np.searchsorted(marked, starts)


def windows_by_length(i0: np.ndarray, i1: np.ndarray, keep: np.ndarray | None = None):
    """For each length n > 0 of the windows ``[i0[k], i1[k])`` (those where ``keep``, if
    given): (the windows' positions k, their (K, n) index array). Windows of one length are
    the rows of one array: no padding and no mask, and each row reduces as its slice alone."""
    length = i1 - i0
    use = length > 0 if keep is None else keep & (length > 0)
    for n in np.unique(length[use]).tolist():
        sel = np.flatnonzero(use & (length == n))
        yield sel, i0[sel, None] + np.arange(n)
