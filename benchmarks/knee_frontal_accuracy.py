"""Accuracy of knee flexion and shank frontal-plane metrics against virtual-IMU truth.

Usage: ``python benchmarks/knee_frontal_accuracy.py [DATA_DIR] [--hugadb FILE]``
(default DATA_DIR: ../shared/data/virtual_imu next to the repository).

Uses the truth contact/toe-off times (so it does not depend on event detection). For each
recording and leg with thigh + shank: calibrate on the first 2.5 s (standing) and the data
from 3 s on (walking), run the streaming estimators over the whole file, then compare
per step:
- knee_flexion_ic_deg and knee_min_flexion_stance_deg: RMSE, bias, per activity;
- frontal_range_deg vs truth shank_frontal_range_deg: Spearman rho (shank frame from the knee
  calibration, and shank-only frame);
separately for the 100 Hz and the 52 Hz files. A leg whose calibration fails is listed.
With ``--hugadb``: the knee angle over the HuGaDB walking file (real sensors) — per-stride
range, to check plausibility (expected roughly 0-65 deg).
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imu_knee.analysis.frontal import (FrontalEstimator, frontal_range_deg, frontal_wobble_dps,  # noqa: E402
                                       shank_frame_from_knee, shank_frame_from_walking,
                                       stance_slices)
from imu_knee.analysis.knee_angle import (KneeAngleEstimator, KneeBlock, KneeCalibrationError,  # noqa: E402
                                          calibrate, knee_flexion_at_ic,
                                          knee_min_flexion_in_stance, resample_to)
from imu_knee.recording import read_recording  # noqa: E402

STANDING_END_S = 2.5
WALKING_START_S = 3.0
REPO = Path(__file__).resolve().parents[1]
DEFAULT_DIR = REPO.parent / "shared" / "data" / "virtual_imu"
DEFAULT_HUGADB = REPO.parent / "shared" / "data" / "real" / "hugadb_walking" / "HuGaDB_v1_walking_01_00.txt"


def leg_block(rec, side: str) -> KneeBlock:
    sh, th = rec.streams[f"{side}_shank"], rec.streams[f"{side}_thigh"]
    t = sh.t_s
    return KneeBlock(t, resample_to(t, th.t_s, th.gyr_dps), resample_to(t, th.t_s, th.acc_mps2),
                     sh.gyr_dps, sh.acc_mps2)


def evaluate_file(path: str, tau_s: float = 0.05) -> tuple[list[dict], list[str]]:
    rec = read_recording(path)
    truth = pd.read_csv(path.replace(".csv", ".truth.csv"))
    rows, notes = [], []
    for side in ("left", "right"):
        if f"{side}_shank" not in rec.streams or f"{side}_thigh" not in rec.streams:
            continue
        blk = leg_block(rec, side)
        t = blk.t_s
        tr = truth[truth.side == side]
        standing, walking = blk.select(t < STANDING_END_S), blk.select(t >= WALKING_START_S)
        try:
            cal = calibrate(standing, walking)
        except KneeCalibrationError as exc:
            notes.append(f"{Path(path).name} {side}: calibration failed: {exc}")
            cal = None
        flex = np.full(len(t), np.nan)
        if cal is not None:
            flex = KneeAngleEstimator(cal, tau_s=tau_s).update(t, blk.thigh_gyr_dps, blk.thigh_acc_mps2,
                                                  blk.shank_gyr_dps, blk.shank_acc_mps2)
            notes.append(f"{Path(path).name} {side}: residual {cal.residual_dps:.0f} deg/s "
                         f"({cal.residual_rel:.2f}), up {cal.residual_up:.3f}, swings {cal.swings}")
        rate_hz = 1.0 / np.median(np.diff(t))
        frames = {}
        if cal is not None:
            frames["knee"] = shank_frame_from_knee(cal)
        try:
            frames["shank"] = shank_frame_from_walking(standing.shank_acc_mps2, walking.shank_gyr_dps, rate_hz)
        except ValueError as exc:
            notes.append(f"{Path(path).name} {side}: shank-only frame failed: {exc}")
        frontal = {}
        for name, frame in frames.items():
            ang, rate = FrontalEstimator(frame, side=side).update(t, blk.shank_gyr_dps, blk.shank_acc_mps2)
            frontal[name] = (ang, rate)
        ic, to = tr.ic_s.to_numpy(), tr.to_s.to_numpy()
        f_ic = knee_flexion_at_ic(t, flex, ic)
        f_min = knee_min_flexion_in_stance(t, flex, ic, to)
        slices = stance_slices(t, ic, to)
        for k, (_, row) in enumerate(tr.iterrows()):
            out = dict(file=Path(path).stem, rate="52hz" if "_52hz" in path else "100hz", side=side,
                       activity=row.activity, ic_s=row.ic_s,
                       ic_est=f_ic[k], ic_true=row.knee_flexion_ic_deg,
                       min_est=f_min[k], min_true=row.knee_min_flexion_stance_deg,
                       frontal_true=row.shank_frontal_range_deg)
            for name, (ang, rate) in frontal.items():
                sl = slices[k]
                out[f"range_{name}"] = frontal_range_deg(ang[sl]) if sl is not None else np.nan
                out[f"wobble_{name}"] = frontal_wobble_dps(rate[sl]) if sl is not None else np.nan
            rows.append(out)
    return rows, notes


def rmse(x) -> float:
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    return float(np.sqrt(np.mean(x ** 2))) if len(x) else float("nan")


def report(df: pd.DataFrame, label: str) -> None:
    print(f"\n=== {label}: {len(df)} contacts ===")
    df = df.assign(e_ic=df.ic_est - df.ic_true, e_min=df.min_est - df.min_true)
    print(f"{'activity':12s} {'n_ic':>4s} {'RMSE_ic':>8s} {'bias_ic':>8s} {'n_min':>5s} {'RMSE_min':>8s} {'bias_min':>8s}")
    for act, g in list(df.groupby("activity")) + [("ALL", df)]:
        n_ic = int(np.isfinite(g.e_ic).sum())
        n_min = int(np.isfinite(g.e_min).sum())
        print(f"{act:12s} {n_ic:4d} {rmse(g.e_ic):8.2f} {np.nanmean(g.e_ic):8.2f} "
              f"{n_min:5d} {rmse(g.e_min):8.2f} {np.nanmean(g.e_min):8.2f}")
    missed = int((~np.isfinite(df.ic_est) & np.isfinite(df.ic_true)).sum())
    if missed:
        print(f"contacts without an estimate (calibration failed): {missed}")
    for name in ("knee", "shank"):
        col = f"range_{name}"
        if col not in df:
            continue
        ok = np.isfinite(df[col]) & np.isfinite(df.frontal_true)
        if ok.sum() > 3:
            rho = spearmanr(df[col][ok], df.frontal_true[ok]).statistic
            print(f"frontal range ({name} frame): Spearman rho {rho:.3f} (n={int(ok.sum())}); "
                  f"median est {np.median(df[col][ok]):.1f} deg vs truth {np.median(df.frontal_true[ok]):.1f}; "
                  f"median wobble {np.nanmedian(df[f'wobble_{name}']):.1f} deg/s")


def hugadb_check(path: Path) -> None:
    raw = pd.read_csv(path, sep="\t", skiprows=3)
    n = len(raw)
    rate_hz = 58.8  # README totals; the file carries no timestamps
    t = np.arange(n) / rate_hz
    print(f"\n=== HuGaDB {path.name}: {n} samples, assumed {rate_hz} Hz ===")

    def sensor(prefix: str):
        acc = raw[[f"{prefix}_acc_{a}" for a in "xyz"]].to_numpy(float) / 16384.0 * 9.80665
        gyr = raw[[f"{prefix}_gyro_{a}" for a in "xyz"]].to_numpy(float) / 16.4
        return acc, gyr

    for side, p in (("right", "R"), ("left", "L")):
        sa, sg = sensor(f"{p}S")
        ta, tg = sensor(f"{p}T")
        blk = KneeBlock(t, tg, ta, sg, sa)
        # this file holds no standing: the zero pose is replaced by the mean pose of the walk
        # (a still "standing" block made of the mean accelerations), so only the per-stride
        # range (max - min) is comparable with the literature (about 55-65 deg in walking)
        k = int(rate_hz)
        pseudo = KneeBlock(np.arange(k) / rate_hz, np.zeros((k, 3)), np.tile(ta.mean(0), (k, 1)),
                           np.zeros((k, 3)), np.tile(sa.mean(0), (k, 1)))
        try:
            cal = calibrate(pseudo, blk.select(slice(0, min(n, int(30 * rate_hz)))), rate_hz=rate_hz)
        except KneeCalibrationError as exc:
            print(f"{side}: calibration failed: {exc}")
            continue
        flex = KneeAngleEstimator(cal).update(t, tg, ta, sg, sa)
        # strides from the shank's mid-swing peaks
        from scipy.signal import find_peaks
        sag = sg @ cal.shank_axis
        peaks, _ = find_peaks(sag, height=max(60.0, 0.4 * np.percentile(sag, 99)), distance=int(0.6 * rate_hz))
        ranges = np.array([np.ptp(flex[a:b]) for a, b in zip(peaks[:-1], peaks[1:])])
        lo = np.array([flex[a:b].min() for a, b in zip(peaks[:-1], peaks[1:])])
        print(f"{side}: residual {cal.residual_dps:.0f} deg/s ({cal.residual_rel:.2f}), up {cal.residual_up:.3f}; "
              f"{len(ranges)} strides; per-stride range median {np.median(ranges):.1f} deg "
              f"(IQR {np.percentile(ranges, 25):.1f}..{np.percentile(ranges, 75):.1f}); "
              f"per-stride minimum {np.percentile(lo, 5):.1f}..{np.percentile(lo, 95):.1f} deg (5-95 %, mean-pose zero)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", nargs="?", default=str(DEFAULT_DIR))
    ap.add_argument("--hugadb", default=str(DEFAULT_HUGADB))
    ap.add_argument("--csv", help="write the per-contact table here")
    ap.add_argument("--tau", type=float, default=0.05, help="KneeAngleEstimator tau_s (default 0.05)")
    ap.add_argument("--no-hugadb", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true", help="print calibration notes")
    args = ap.parse_args()
    files = sorted(f for f in glob.glob(os.path.join(args.data_dir, "*.csv"))
                   if not f.endswith(".truth.csv"))
    rows, notes = [], []
    for f in files:
        r, n = evaluate_file(f, args.tau)
        rows += r
        notes += n
    df = pd.DataFrame(rows)
    if args.verbose:
        print("\n".join(notes))
    else:
        print("\n".join(n for n in notes if "failed" in n))
    report(df[df.rate == "100hz"], "100 Hz files")
    report(df[df.rate == "52hz"], "52 Hz files")
    if args.csv:
        df.to_csv(args.csv, index=False)
    if not args.no_hugadb and Path(args.hugadb).exists():
        hugadb_check(Path(args.hugadb))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
