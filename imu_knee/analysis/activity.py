"""Activity per stride from a segment's sagittal inclination (thigh-only legs), and the
inclination itself.

A leg with a shank sensor is classified from the shank's integrated step height (the engine's
``_activity``). A thigh cannot be integrated (it never stands still), but its inclination
tells the stairs apart. On the virtual IMU recordings' motion capture (105 thigh strides):
- going up, the hip is flexed more than 40 degrees at contact (median 51; level 28, down 23);
- going down, the thigh is still flexed at the toe-off that starts the stride's swing (the
  body is lowered on the bent stance leg: median 15 degrees ahead of vertical, level 3 behind)
  and never extends far behind vertical over the stride.
"""

from __future__ import annotations

import numpy as np

from .quaternion import dot_rows

UP_HIP_FLEXION_IC_DEG = 40.0     # thigh ahead of vertical at contact: stairs up above this
DOWN_FLEXION_TO_DEG = 7.0        # ... at the toe-off before the swing: stairs down above this
DOWN_MAX_EXTENSION_DEG = 8.0     # ... and never further behind vertical than this in the stride
NO_PREVIOUS_STRIDE_S = 0.7       # without a previous contact the stride is looked at this far back


def sagittal_inclination_deg(quat: np.ndarray, up_axis: np.ndarray, forward_axis: np.ndarray) -> np.ndarray:
    """Inclination of a segment in its sagittal plane per quaternion row (deg; + = its upper
    end ahead of its lower end: the knee ahead of the ankle for the shank, the hip ahead of
    the knee (hip extended) for the thigh; 0 = as when standing)."""
    q = np.atleast_2d(quat)
    up_world_in_sensor = np.stack([2 * (q[:, 1] * q[:, 3] - q[:, 0] * q[:, 2]),
                                   2 * (q[:, 2] * q[:, 3] + q[:, 0] * q[:, 1]),
                                   1 - 2 * (q[:, 1] ** 2 + q[:, 2] ** 2)], axis=1)
    # row by row (a row's value does not depend on how many rows come with it)
    return np.degrees(np.arctan2(-dot_rows(up_world_in_sensor, forward_axis),
                                 dot_rows(up_world_in_sensor, up_axis)))


def thigh_stride_activity(chain, ic_s: float) -> str | None:
    """Level / stairs up / stairs down of the stride a thigh-only leg ends at contact ``ic_s``
    (a :class:`.sensor_chain.SensorChain` of a thigh with its swings); None if unknown."""
    swings = chain.swings
    if not swings or chain.calibration is None:
        return None
    k = int(np.argmin([abs(sw.ic_s - ic_s) for sw in swings]))
    sw = swings[k]
    t = chain.t.view()
    i_ic = min(int(np.searchsorted(t, sw.ic_s)), len(t) - 1)
    i_to = min(int(np.searchsorted(t, sw.to_s)), i_ic)
    if k > 0:
        i0 = int(np.searchsorted(t, swings[k - 1].ic_s))
    else:
        i0 = int(np.searchsorted(t, sw.to_s - NO_PREVIOUS_STRIDE_S))
    if i0 >= i_ic:
        return None
    cal = chain.calibration
    incl = sagittal_inclination_deg(chain.quat.view()[i0:i_ic + 1], cal.up_axis, cal.forward_axis)
    if np.isnan(incl).any():
        return None
    return thigh_stride_class(incl, i_to - i0)


def thigh_stride_class(incl_deg: np.ndarray, to_i: int) -> str:
    """Activity from the thigh's inclination over a stride (from the contact before to the
    one that ends it; ``to_i``: the toe-off's index in it)."""
    # the thigh's inclination is + with the knee behind the hip: flexion is its negative
    flexion_ic, flexion_to = -incl_deg[-1], -incl_deg[to_i]
    if flexion_ic > UP_HIP_FLEXION_IC_DEG:
        return "stairs_up"
    if flexion_to > DOWN_FLEXION_TO_DEG and incl_deg.max() < DOWN_MAX_EXTENSION_DEG:
        return "stairs_down"
    return "level"
