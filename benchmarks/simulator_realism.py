"""How close is the gait simulator to real human motion? Compare it with the virtual IMU
recordings computed from optical motion capture (../shared/data/virtual_imu; not shipped).

For every subject the simulator is run with the subject's leg length, level stride length
and cadence and stair stride times (medians from the mocap truth), then the same per-stride
features are measured on both, per activity, using the truth events of each:

- shank sagittal gyro: mid-swing peak, stride minimum (deg/s); stride time (s); when the
  forward swing ends (the rate crosses zero) relative to the truth contact (ms)
- shank acceleration magnitude: stride max and min (g)
- thigh sagittal gyro: stride max and min (deg/s)
- knee sagittal range over the stride from integrated shank - thigh gyro (deg)
- truth knee flexion at contact and best extension in stance (deg)

The sagittal axis of each sensor is found the same way on both (principal axis of the gyro,
sign so that the mid-swing peak is positive), because both are strapped with unknown
rotations. Usage: python benchmarks/simulator_realism.py [DATA_DIR]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imu_knee.recording import GRAVITY_MPS2, read_recording  # noqa: E402
from imu_knee.simulate import simulate  # noqa: E402

DEFAULT_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "virtual_imu"
FEATURES = ["stride_s", "swing_end_vs_ic_ms", "shank_swing_peak_dps", "shank_min_dps", "shank_acc_max_g",
            "shank_acc_min_g", "thigh_max_dps", "thigh_min_dps", "knee_range_deg",
            "knee_ic_deg", "knee_min_stance_deg"]


def sagittal_rate(gyr_dps: np.ndarray, swing: np.ndarray) -> np.ndarray:
    """Gyro projected on its principal axis, signed so that it is positive on average in
    swing (the foot swinging forward)."""
    moving = np.linalg.norm(gyr_dps, axis=1) > 30
    _, _, vt = np.linalg.svd(gyr_dps[moving], full_matrices=False)
    rate = gyr_dps @ vt[0]
    return rate if rate[swing].mean() > 0 else -rate


def swing_mask(t_s: np.ndarray, events: pd.DataFrame) -> np.ndarray:
    mask = np.zeros(len(t_s), dtype=bool)
    for k in range(len(events) - 1):
        if np.isfinite(events.to_s[k]) and events.ic_s[k + 1] - events.to_s[k] < 1.0:
            mask |= (t_s >= events.to_s[k]) & (t_s < events.ic_s[k + 1])
    return mask


MOCAP_LOWPASS_HZ = 8.0


def mocap_like(rec):
    """The simulator's signals low-passed at 8 Hz like the mocap markers (zero phase)."""
    from scipy.signal import butter, sosfiltfilt

    for s in rec.streams.values():
        sos = butter(2, MOCAP_LOWPASS_HZ, fs=s.rate_hz, output="sos")
        s.acc_mps2 = sosfiltfilt(sos, s.acc_mps2, axis=0)
        s.gyr_dps = sosfiltfilt(sos, s.gyr_dps, axis=0)
    return rec


def stride_features(rec, truth: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for side in ("left", "right"):
        shank = rec.streams.get(f"{side}_shank")
        thigh = rec.streams.get(f"{side}_thigh")
        if shank is None:
            continue
        t = shank.t_s
        ev = truth[truth.side == side].sort_values("ic_s").reset_index(drop=True)
        s_rate = sagittal_rate(shank.gyr_dps, swing_mask(t, ev))
        acc_g = np.linalg.norm(shank.acc_mps2, axis=1) / GRAVITY_MPS2
        th_rate = knee_rate = None
        if thigh is not None:
            th_rate = np.interp(t, thigh.t_s, sagittal_rate(thigh.gyr_dps, swing_mask(thigh.t_s, ev)))
            knee_rate = s_rate - th_rate
        for k in range(len(ev) - 1):
            ic, to, nxt = ev.ic_s[k], ev.to_s[k], ev.ic_s[k + 1]
            if not np.isfinite(to) or not ic < to < nxt or nxt - ic > 2.5:
                continue
            stride = (t >= ic) & (t < nxt)
            swing = (t >= to) & (t < nxt)
            # end of swing: the shank's forward swing stops (rate crosses zero) near contact
            w = np.flatnonzero((t >= nxt - 0.25) & (t <= nxt + 0.1))
            cross = [j for j in w[1:] if s_rate[j - 1] > 0 >= s_rate[j]]
            row = {"side": side, "activity": ev.activity[k + 1], "stride_s": nxt - ic,
                   "swing_end_vs_ic_ms": 1000 * (t[cross[-1]] - nxt) if cross else np.nan,
                   "shank_swing_peak_dps": s_rate[swing].max(), "shank_min_dps": s_rate[stride].min(),
                   "shank_acc_max_g": acc_g[stride].max(), "shank_acc_min_g": acc_g[stride].min(),
                   "knee_ic_deg": ev.knee_flexion_ic_deg[k + 1],
                   "knee_min_stance_deg": ev.knee_min_flexion_stance_deg[k + 1]}
            if th_rate is not None:
                dt = np.diff(t[stride], prepend=t[stride][0])
                angle = np.cumsum(knee_rate[stride] * dt)
                angle -= np.linspace(0, angle[-1], len(angle))       # remove drift per stride
                row.update(thigh_max_dps=th_rate[stride].max(), thigh_min_dps=th_rate[stride].min(),
                           knee_range_deg=np.ptp(angle))
            rows.append(row)
    return pd.DataFrame(rows)


def matched_simulation(subject: dict, truth: pd.DataFrame, seed: int, impacts: bool = True):
    lv = truth[truth.activity == "level"]
    stride_s = {a: float(truth[(truth.activity == a) & (truth.stride_s < 2.5)].stride_s.median())
                for a in ("level", "stairs_up", "stairs_down")}
    stride_m = float(lv.stride_length_m[lv.stride_length_m > 0.9].median())
    return simulate("level:6,stairs_up:4,level:1,stairs_down:5",
                    sensors=["left_shank", "right_shank", "left_thigh", "right_thigh"], rate_hz=100,
                    leg_length_m=subject["leg_length_m"], height_m=subject["height_estimate_m"],
                    stride_length_m=stride_m, cadence_spm=120.0 / stride_s["level"],
                    stairs_up_stride_s=stride_s["stairs_up"], stairs_down_stride_s=stride_s["stairs_down"],
                    stair_riser_m=0.165, seed=seed,
                    **({} if impacts else dict(impact_level_g=0.0, impact_stairs_up_g=0.0,
                                               impact_stairs_down_g=0.0)))


def main(data_dir: Path) -> int:
    virt, sim, sim_soft, impacts = [], [], [], []
    subjects = sorted(data_dir.glob("*.subject.json"))
    if not subjects:
        print(f"no virtual IMU data in {data_dir}")
        return 1
    for sj in subjects:
        subject = json.loads(sj.read_text())
        name = sj.name.split(".")[0]
        truths = []
        for path in sorted(data_dir.glob(f"{name}_*.csv")):
            if path.name.endswith(".truth.csv") or "_52hz" in path.name:
                continue
            truth = pd.read_csv(Path(str(path)[:-4] + ".truth.csv")).sort_values("ic_s")
            truth["stride_s"] = truth.groupby("side").ic_s.diff()
            virt.append(stride_features(read_recording(path), truth).assign(subject=name))
            truths.append(truth)
        res = matched_simulation(subject, pd.concat(truths), seed=len(sim))
        sim.append(stride_features(res.recording, res.truth).assign(subject=name))
        impacts.append(res.truth)
        res = matched_simulation(subject, pd.concat(truths), seed=len(sim), impacts=False)
        sim_soft.append(stride_features(mocap_like(res.recording), res.truth).assign(subject=name))
    frames = [pd.concat(virt), pd.concat(sim), pd.concat(sim_soft)]
    impact = pd.concat(impacts).groupby("activity").impact_g.median()
    lines = ["median [IQR] n=strides; 'mocap-like' = the simulator with its heel-strike pulse off",
             "and its signals low-passed at 8 Hz like the mocap markers (comparable with them)",
             f"{'activity':<12} {'feature':<21} {'virtual IMU (mocap)':>30} {'simulator':>30}"
             f" {'simulator, mocap-like':>30}"]
    for activity in ("level", "stairs_up", "stairs_down"):
        for feat in FEATURES:
            cells = []
            for df in frames:
                v = df[df.activity == activity][feat].dropna()
                cells.append(f"{v.median():7.2f} [{v.quantile(.25):7.2f},{v.quantile(.75):7.2f}] n={len(v):3d}"
                             if len(v) else "-")
            lines.append(f"{activity:<12} {feat:<21} {cells[0]:>30} {cells[1]:>30} {cells[2]:>30}")
    lines.append("impact_g (simulator truth on its 2 kHz grid, level / stairs_up / stairs_down, g): "
                 + " / ".join(f"{impact[a]:.2f}" for a in ("level", "stairs_up", "stairs_down")))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR))
