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
25 Hz filter rate changes little, while the fast part, the gyro integration, stays at the
sensor rate. A group still incomplete at the end of a block is filled in at once from the last
output and kept until its remaining samples come, so any split of the samples into blocks gives
the same quaternions as one call (checked in the tests).
"""

from __future__ import annotations

import numpy as np
from vqf import VQF

from .quaternion import (components_from_rotation_vector, multiply_components, rotate,
                         rotation_vector_from_components)

VQF_FILTER_RATE_HZ = 25.0  # VQF's update rate (the sensor's, when less than 3 times this)
# fewer samples per update save no CPU: composing and filling in 2 samples costs about what
# VQF saves (1-h file, 100 Hz, per sensor: 111 ms at 2, 70 at 4, VQF at every sample 106)
MIN_GROUP_SIZE = 3


def group_size(rate_hz: float, filter_rate_hz: float = VQF_FILTER_RATE_HZ) -> int:
    """Samples per VQF update: the sensor rate over the filter rate, rounded down; 1 (VQF at
    every sample) when that is less than ``MIN_GROUP_SIZE``."""
    g = int(np.floor(rate_hz / filter_rate_hz + 1e-9))
    return g if g >= MIN_GROUP_SIZE else 1


def _by_group(rows: np.ndarray, n_groups: int, g: int, scale: float) -> np.ndarray:
    """(N, 3) rows times ``scale`` as (x/y/z, position in group, group), zero-padded to whole
    groups: each component at each position a contiguous row over the groups."""
    out = np.zeros((3, g, n_groups))
    view = out.transpose(2, 1, 0)  # (group, position, x/y/z)
    whole = len(rows) // g
    np.multiply(rows[:whole * g].reshape(whole, g, 3), scale, out=view[:whole])
    if whole < n_groups:
        np.multiply(rows[whole * g:], scale, out=view[whole, :len(rows) - whole * g])
    return out


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

    def process_with_bias(self, acc_mps2: np.ndarray, gyr_dps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(quaternions (N,4), VQF's gyro-bias estimate per sample (N,3) in deg/s)."""
        n = len(acc_mps2)
        if n == 0:
            return np.empty((0, 4)), np.empty((0, 3))
        acc = np.asarray(acc_mps2, dtype=np.float64)
        gyr_dps = np.asarray(gyr_dps, dtype=np.float64)
        g = self.group
        if g == 1:  # VQF at the sensor rate
            q, bias = self._update(acc, np.radians(gyr_dps))
            return q, np.degrees(bias, out=bias)
        first = 0
        if self._last is None:  # a start: the first sample is a group of its own
            q0, b0 = self._update(acc[:1], np.radians(gyr_dps[:1]) / g)
            first = 1
        held = len(self._held[0])
        acc = np.concatenate([self._held[0], acc[first:]])
        gyr_dps = np.concatenate([self._held[1], gyr_dps[first:]])
        complete = len(acc) // g
        self._held = (acc[complete * g:].copy(), gyr_dps[complete * g:].copy())
        # rows: [the first sample] [held samples] [new samples] [padding to whole groups]
        quat = np.empty((first + -(-len(acc) // g) * g, 4))
        bias_dps = np.empty((len(quat), 3))
        if first:
            quat[0], bias_dps[0] = q0[0], np.degrees(b0[0])
        self._groups(acc, gyr_dps, quat[first:], bias_dps[first:])
        return quat[held:held + n], bias_dps[held:held + n]

    def _update(self, acc: np.ndarray, gyr_rps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """VQF updates (one per group); remembers the last output."""
        out = self._vqf.updateBatch(np.ascontiguousarray(gyr_rps), np.ascontiguousarray(acc))
        q, b = out["quat6D"], out["bias"]
        self._last = (q[-1].copy(), b[-1].copy())
        return q, b

    def _groups(self, acc: np.ndarray, gyr_dps: np.ndarray, quat: np.ndarray,
                bias_dps: np.ndarray) -> None:
        """Orientation and bias of samples from a group start on, into ``quat`` and
        ``bias_dps`` (whole groups' rows): VQF for each complete group, fill-in inside groups."""
        g, dt_s = self.group, self._dt_s
        n_groups, complete = len(quat) // g, len(acc) // g
        steps = _by_group(gyr_dps, n_groups, g, np.radians(dt_s))  # each sample's rotation, rad
        start_q = self._last[0][:, None]  # component-first, a column per group
        start_b = self._last[1][:, None]
        if complete:
            acc_g = _by_group(acc[:complete * g], complete, g, 1.0)
            # the group's exact rotation, the product of its samples' steps; the accelerometer
            # samples rotated into the group's starting frame and summed on the way
            whole = components_from_rotation_vector(steps[:, 0, :complete])
            acc_sum = rotate(whole.T, acc_g[:, 0].T)
            for j in range(1, g):
                whole = multiply_components(whole, components_from_rotation_vector(steps[:, j, :complete]))
                if j < g - 1:
                    acc_sum += rotate(whole.T, acc_g[:, j].T)
            # their mean in the frame of the group's last sample (which is in it already)
            acc_sum = rotate((whole * np.array([[1.0], [-1.0], [-1.0], [-1.0]])).T, acc_sum)
            acc_sum += acc_g[:, -1].T
            acc_sum *= 1.0 / g
            q_end, b_end = self._update(acc_sum, rotation_vector_from_components(whole).T / (g * dt_s))
            start_q = np.concatenate([start_q, q_end.T], axis=1)[:, :n_groups]
            start_b = np.concatenate([start_b, b_end.T], axis=1)[:, :n_groups]
        bias_g = bias_dps.reshape(n_groups, g, 3)
        bias_g[:] = np.degrees(start_b.T)[:, None, :]
        # inside a group: the last output times the bias-corrected steps up to the sample
        # (built component-first, (w/x/y/z, position in group, group), then written as rows)
        quat_t = np.empty((4, g, n_groups))
        fill, bias_step = start_q, start_b * dt_s
        for j in range(g - 1):
            fill = multiply_components(fill, components_from_rotation_vector(steps[:, j] - bias_step),
                                       out=quat_t[:, j])
        if complete:
            quat_t[:, -1, :complete] = q_end.T
            bias_g[:complete, -1] = np.degrees(b_end)
        quat.reshape(n_groups, g, 4)[:] = quat_t.transpose(2, 1, 0)
