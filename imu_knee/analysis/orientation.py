"""Sensor orientation (inclination; heading is arbitrary) from the VQF library, block by block.

VQF runs at a lower rate than the sensor, and the orientation of every sample is still exact
to the gyro:

- The samples are taken in groups of ``g`` (``group_size``: the sensor rate over
  ``VQF_FILTER_RATE_HZ``, rounded down: 4 at 100 Hz; VQF at every sample, as before, below 3
  times that rate, e.g. 52 or 60 Hz, where grouping saves no CPU). The first sample after a
  start or ``reset`` forms a group of its own, so VQF sets its inclination from it as before.
- Each sample's gyro step is the quaternion ``delta_k = exp(omega_k dt / 2)`` (body increment,
  on the right: ``q_k = q_{k-1} * delta_k``). VQF gets one sample per group, with period
  ``g dt`` and the rate ``omega_eq = log(delta_1 ... delta_g) / (g dt)``, whose step is the
  group's exact composed rotation (VQF subtracts its bias from ``omega_eq``: a second-order
  difference from subtracting it sample by sample). The accelerometer it gets is the mean of
  the group's samples, each rotated into the frame of the group's last sample by the gyro
  steps between them.
- The group's last sample takes VQF's output (quat6D and bias). A sample inside a group takes
  the output at the end of the group before, times the steps of the group's samples up to it,
  with the gyro less that output's bias (VQF's quat6D is accQuat * gyrQuat and integrates the
  bias-corrected gyro into gyrQuat on the right: this is the same integration, with the slow
  accelerometer correction held until the group ends); its bias is that output's bias.

VQF's accelerometer correction and bias estimation have time constants of seconds, so a
25 Hz filter rate changes little (inclination vs VQF at every sample on the 100 Hz
virtual_imu files: median 0.02 deg, p99 0.10 deg), while the fast part, the gyro integration,
stays at the sensor rate; VQF's CPU drops to a quarter (1-h file, per sensor: 70 ms instead of
106 with the grouping's own work).

A group still incomplete at the end of a block is filled in at once from the last output and
kept until its remaining samples come, so any split of the samples into blocks gives the same
quaternions as one call (checked in the tests). Long blocks are computed on arrays over the
groups (the steps' exponentials of all positions at once; each group's composed rotation and
accelerometer sum by joining neighbouring samples pairwise, level by level: g - 1 rotations of
a vector and g - 1 products); short ones (live) sample by sample on plain floats, with the same
arithmetic in the same order (the functions below take either), so the bits agree.
"""

from __future__ import annotations

import numpy as np
from vqf import VQF

from .quaternion import (components_from_rotation_vector, conjugate_components,
                         multiply_components, rotate_one, rotation_vector_from_components)

VQF_FILTER_RATE_HZ = 25.0  # VQF's update rate (the sensor's, when less than 3 times this)
# fewer samples per update save no CPU: composing and filling in 2 samples costs about what
# VQF saves (1-h file, 100 Hz, per sensor: 111 ms at 2, 70 at 4, VQF at every sample 106)
MIN_GROUP_SIZE = 3
# blocks with fewer new samples (live ones) go sample by sample in plain floats: array
# operations cost more than their arithmetic on a few samples (the same bits either way;
# 100 Hz: 27 us for a 1-sample block, 16 us a sample in 16-sample blocks, arrays ~14 there)
SAMPLE_BY_SAMPLE_BELOW = 24
DEG_PER_RAD = 180.0 / np.pi  # (the same bits as np.degrees, a faster loop)


def group_size(rate_hz: float, filter_rate_hz: float = VQF_FILTER_RATE_HZ) -> int:
    """Samples per VQF update: the sensor rate over the filter rate, rounded down; 1 (VQF at
    every sample) when that is less than ``MIN_GROUP_SIZE``."""
    g = int(np.floor(rate_hz / filter_rate_hz + 1e-9))
    return g if g >= MIN_GROUP_SIZE else 1


def _by_group(rows: np.ndarray, n_groups: int, g: int, scale: float) -> np.ndarray:
    """(N, 3) rows times ``scale`` as (x/y/z, position in group, group), zero-padded to whole
    groups: each component at each position a contiguous row over the groups."""
    out = np.empty((3, g, n_groups))
    whole = len(rows) // g
    np.multiply(rows[:whole * g].reshape(whole, g, 3).transpose(2, 1, 0), scale, out=out[:, :, :whole])
    if whole < n_groups:
        out[:, :, whole:] = 0.0
        rest = len(rows) - whole * g
        np.multiply(rows[whole * g:].T, scale, out=out[:, :rest, whole])
    return out


# The steps of a group, on components that are arrays (one element per group) or floats (one
# group): the same operations in the same order either way.

def _join(first, then):
    """Two consecutive runs of samples as one: (their composed gyro rotation, the sum of their
    accelerometer samples in the frame of the last sample). ``first`` and ``then``:
    (rotation, sum) of each, ``then``'s rotation from the end of ``first`` to its own end."""
    (q1, s1), (q2, s2) = first, then
    # s1 into the frame of then's end (new floats or arrays: added to in place)
    x, y, z = rotate_one(conjugate_components(q2), s1)
    x += s2[0]
    y += s2[1]
    z += s2[2]
    return multiply_components(q1, q2), (x, y, z)


def _group_update_input(whole, acc_sum, g: int, group_dt_s: float):
    """VQF's input for complete groups from the group's joined run (:func:`_join`): the rate
    whose step is the product of the samples' steps (the group's exact rotation), and the
    accelerometer samples' mean in the frame of the group's last sample."""
    rate = tuple(r * (1.0 / group_dt_s) for r in rotation_vector_from_components(whole))
    return rate, tuple(s * (1.0 / g) for s in acc_sum)


def _pairwise_floats(runs: list) -> tuple:
    """Runs (one per sample, in order) joined pairwise, level by level (a last odd one carried
    to the next level) down to one: the order the arrays' version uses."""
    while len(runs) > 1:
        joined = [_join(runs[i], runs[i + 1]) for i in range(0, len(runs) - 1, 2)]
        runs = joined + runs[len(joined) * 2:]
    return runs[0]


def _pairwise_arrays(q: tuple, s: tuple) -> tuple:
    """:func:`_pairwise_floats` on components whose first axis is the sample in the group."""
    while len(q[0]) > 1:
        m = len(q[0])
        even, odd = slice(0, m - 1, 2), slice(1, m, 2)
        jq, js = _join(([c[even] for c in q], [c[even] for c in s]),
                       ([c[odd] for c in q], [c[odd] for c in s]))
        if m % 2:
            jq = tuple(np.concatenate([c, r[-1:]]) for c, r in zip(jq, q))
            js = tuple(np.concatenate([c, r[-1:]]) for c, r in zip(js, s))
        q, s = jq, js
    return tuple(c[0] for c in q), tuple(c[0] for c in s)


class StreamingOrientation:
    """6-D (no magnetometer) orientation: quaternion sensor → world (z up)."""

    def __init__(self, rate_hz: float, filter_rate_hz: float = VQF_FILTER_RATE_HZ):
        self.group = group_size(rate_hz, filter_rate_hz)
        self._dt_s = 1.0 / rate_hz
        self._vqf = VQF(self.group * self._dt_s)
        self.reset()

    def reset(self) -> None:
        """Forget the orientation (after a gap): the next sample re-initialises the inclination."""
        self._vqf.resetState()
        self._last: tuple[np.ndarray, np.ndarray] | None = None  # VQF's last (quat, bias rad/s)
        self._held = (np.empty((0, 3)), np.empty((0, 3)))  # (acc, gyr_dps) of an incomplete group

    def process(self, acc_mps2: np.ndarray, gyr_dps: np.ndarray) -> np.ndarray:
        return self.process_with_bias(acc_mps2, gyr_dps)[0]

    def process_with_bias(self, acc_mps2: np.ndarray, gyr_dps: np.ndarray,
                          out: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(quaternions (N,4), VQF's gyro-bias estimate per sample (N,3) in deg/s), written
        into ``out`` (two such arrays) if given."""
        n = len(acc_mps2)
        if n == 0:
            return out or (np.empty((0, 4)), np.empty((0, 3)))
        acc = np.asarray(acc_mps2, dtype=np.float64)
        gyr_dps = np.asarray(gyr_dps, dtype=np.float64)
        g = self.group
        if g == 1:  # VQF at the sensor rate
            q, bias = self._update(acc, np.radians(gyr_dps))
            if out is None:
                return q, np.multiply(bias, DEG_PER_RAD, out=bias)
            out[0][:] = q
            np.multiply(bias, DEG_PER_RAD, out=out[1])
            return out
        first = 0
        if self._last is None:  # a start: the first sample is a group of its own
            q0, b0 = self._update(acc[:1], np.radians(gyr_dps[:1]) / g)
            first = 1
        held = len(self._held[0])
        if held:
            acc = np.concatenate([self._held[0], acc[first:]])
            gyr_dps = np.concatenate([self._held[1], gyr_dps[first:]])
        else:
            acc, gyr_dps = acc[first:], gyr_dps[first:]
        complete = len(acc) // g
        self._held = (acc[complete * g:].copy(), gyr_dps[complete * g:].copy())
        # rows: [the first sample] [held samples] [new samples]
        quat, bias = (out if out is not None and not held else
                      (np.empty((first + len(acc), 4)), np.empty((first + len(acc), 3))))
        if first:
            quat[0] = q0[0]
            np.multiply(b0[0], DEG_PER_RAD, out=bias[0])
        groups = self._groups_of_samples if n < SAMPLE_BY_SAMPLE_BELOW else self._groups
        groups(acc, gyr_dps, quat[first:], bias[first:])
        if out is None:
            return quat[held:held + n], bias[held:held + n]
        if held:  # (else ``quat`` and ``bias`` are ``out``: written in place)
            out[0][:] = quat[held:held + n]
            out[1][:] = bias[held:held + n]
        return out

    def _update(self, acc: np.ndarray, gyr_rps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """VQF updates (one per group); remembers the last output."""
        out = self._vqf.updateBatch(np.ascontiguousarray(gyr_rps), np.ascontiguousarray(acc))
        q, b = out["quat6D"], out["bias"]
        self._last = (q[-1].copy(), b[-1].copy())
        return q, b

    def _groups(self, acc: np.ndarray, gyr_dps: np.ndarray, quat: np.ndarray, bias: np.ndarray) -> None:
        """Orientation and bias (deg/s) of samples from a group start on, into ``quat`` and
        ``bias`` (a row each): VQF for each complete group, the fill-in inside groups (the bias
        of the group's start); on arrays over the groups, all positions in the group at once
        where they are independent."""
        g = self.group
        n_groups = -(-len(acc) // g)
        complete = len(acc) // g
        steps = _by_group(gyr_dps, n_groups, g, np.radians(self._dt_s))  # gyro steps, rad
        start_q = np.empty((4, n_groups))  # components, a column per group
        start_b = np.empty((n_groups, 3))
        start_q[:, 0], start_b[0] = self._last
        q_end, b_end = np.empty((0, 4)), np.empty((0, 3))
        if complete:
            step_q = components_from_rotation_vector(steps[:, :, :complete])
            whole, acc_sum = _pairwise_arrays(step_q, _by_group(acc[:complete * g], complete, g, 1.0))
            rate, acc_mean = _group_update_input(whole, acc_sum, g, g * self._dt_s)
            q_end, b_end = self._update(np.stack(acc_mean, axis=1), np.stack(rate, axis=1))
            start_q[:, 1:] = q_end[:n_groups - 1].T
            start_b[1:] = b_end[:n_groups - 1]
        corrected = steps[:, :g - 1]
        corrected -= (start_b.T * self._dt_s)[:, None, :]  # the gyro less the bias, rad per step
        step_q = components_from_rotation_vector(corrected)
        q, spare = start_q, np.empty((4, n_groups))
        # written a component at a time (long loops) into the complete groups' rows
        groups_q = quat[:complete * g].reshape(complete, g, 4)
        rest = len(acc) - complete * g
        for j in range(g - 1):
            q, spare = multiply_components(q, [c[j] for c in step_q], out=spare), q
            for k in range(4):
                groups_q[:, j, k] = q[k][:complete]
            if j < rest:  # the incomplete group
                quat[complete * g + j] = [c[complete] for c in q]
        start_b *= DEG_PER_RAD
        groups_b = bias[:complete * g].reshape(complete, g, 3)
        for k in range(4):
            groups_q[:, -1, k] = q_end[:, k]
        for k in range(3):
            for j in range(g - 1):
                groups_b[:, j, k] = start_b[:complete, k]
            np.multiply(b_end[:, k], DEG_PER_RAD, out=groups_b[:, -1, k])
        bias[complete * g:] = start_b[complete:]

    def _groups_of_samples(self, acc: np.ndarray, gyr_dps: np.ndarray, quat: np.ndarray, bias: np.ndarray) -> None:
        """:meth:`_groups` a group at a time, on plain floats (a few samples)."""
        g = self.group
        step_rad = float(np.radians(self._dt_s))
        steps = [[v * step_rad for v in row] for row in gyr_dps.tolist()]
        accs = acc.tolist()
        start_q, start_b = self._last[0].tolist(), self._last[1].tolist()
        for a in range(0, len(acc), g):
            count = min(g, len(acc) - a)
            bias[a:a + count] = [b * DEG_PER_RAD for b in start_b]
            bias_step = [b * self._dt_s for b in start_b]
            q = start_q
            for j, step in enumerate(steps[a:a + min(count, g - 1)]):
                q = multiply_components(q, components_from_rotation_vector(
                    [h - b for h, b in zip(step, bias_step)]))
                quat[a + j] = q
            if count == g:
                runs = [(components_from_rotation_vector(r), tuple(v)) for r, v in
                        zip(steps[a:a + g], accs[a:a + g])]
                rate, acc_mean = _group_update_input(*_pairwise_floats(runs), g, g * self._dt_s)
                q_end, b_end = self._update(np.array([acc_mean]), np.array([rate]))
                quat[a + g - 1] = q_end[0]
                np.multiply(b_end[0], DEG_PER_RAD, out=bias[a + g - 1])
                start_q, start_b = q_end[0].tolist(), b_end[0].tolist()
