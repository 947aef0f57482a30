"""Accuracy of `imu-knee analyze` against ground truth.

    python benchmarks/accuracy.py [--data ../shared/data/virtual_imu] [--sensors shank|thigh|all]
                                  [--rate 100|52|all|paired] [--resample-hz HZ]

(``--sensors thigh``: the thigh-only case, contacts and activity from the thighs alone.
``--rate``: the 100 Hz files (default), the ``_52hz`` copies, both, or ``paired``: the copies
beside their own 100 Hz originals, so a rate's effect is not mixed up with the files'.
``--resample-hz 52``: every selected file resampled to that rate first, as a slower sensor
would have sampled it: anti-alias low-pass, then a uniform time grid.)

For every ``<name>.csv`` with a ``<name>.truth.csv`` beside it, analyses the recording (leg
length from ``<subject>.subject.json`` when present), matches each true initial contact to the
nearest detected contact of the same side within 100 ms, and prints per activity: contact F1,
timing errors, activity accuracy, stride length / step height errors, knee angle RMSE and the
Spearman correlation of frontal_range_deg with the truth's shank_frontal_range_deg.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.signal import butter, sosfiltfilt
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imu_knee.analysis.engine import analyze_recording  # noqa: E402
from imu_knee.recording import Recording, SensorStream, read_recording  # noqa: E402

MATCH_S = 0.100
DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "virtual_imu"


def leg_length_for(path: Path) -> float | None:
    """From <subject>.subject.json beside the file; None = the recording's own metadata."""
    subject = path.name.split("_")[0]
    sj = path.parent / f"{subject}.subject.json"
    if sj.exists():
        return float(json.loads(sj.read_text())["leg_length_m"])
    return None


def keep_sensors(rec: Recording, which: str) -> Recording:
    if which == "all":
        return rec
    streams = {n: s for n, s in rec.streams.items() if n.endswith(which)}
    return Recording(streams=streams, meta=rec.meta, leg_length_m=rec.leg_length_m, path=rec.path)


def resampled(rec: Recording, rate_hz: float) -> Recording:
    """``rec`` as a sensor sampling at ``rate_hz`` would have recorded it: each stream
    low-passed at 0.4 x the new rate (zero phase, order 4; a sensor's own anti-alias filter),
    then linearly interpolated onto a uniform grid from its first sample."""
    streams = {}
    for name, st in rec.streams.items():
        sos = butter(4, 0.4 * rate_hz, fs=st.rate_hz, output="sos")
        t = np.arange(st.t_s[0], st.t_s[-1], 1.0 / rate_hz)
        acc, gyr = (np.column_stack([np.interp(t, st.t_s, col) for col in sosfiltfilt(sos, x, axis=0).T])
                    for x in (st.acc_mps2, st.gyr_dps))
        streams[name] = SensorStream(name, t, acc, gyr, float(rate_hz), st.device)
    return Recording(streams=streams, meta=rec.meta, leg_length_m=rec.leg_length_m, path=rec.path)


def match(truth: pd.DataFrame, det: pd.DataFrame) -> pd.DataFrame:
    """One row per true contact with the matched detection's columns (suffix _det)."""
    rows = []
    for side in ("left", "right"):
        tr = truth[truth.side == side].reset_index(drop=True)
        dt = det[det.side == side].reset_index(drop=True)
        used: set[int] = set()
        for _, r in tr.iterrows():
            best, best_err = None, MATCH_S
            for j, ic in enumerate(dt.ic_s):
                err = abs(ic - r.ic_s)
                if j not in used and err <= best_err:
                    best, best_err = j, err
            rec = r.to_dict()
            if best is not None:
                used.add(best)
                for c, v in dt.iloc[best].items():
                    rec[f"{c}_det"] = v
            rows.append(rec)
    return pd.DataFrame(rows)


def evaluate(files: list[Path], which: str, verbose: bool, rate_hz: float | None = None) -> pd.DataFrame:
    all_rows = []
    n_det_total: dict[str, int] = {}
    n_outside: dict[str, int] = {}
    for path in files:
        truth = pd.read_csv(path.with_suffix(".truth.csv"))
        rec = keep_sensors(read_recording(path), which)
        if rate_hz is not None:
            rec = resampled(rec, rate_hz)
        # truth rows of legs without sensors cannot be detected: leave them out
        truth = truth[truth.side.isin({n.split("_")[0] for n in rec.streams})]
        steps, _ = analyze_recording(rec, leg_length_m=leg_length_for(path))
        m = match(truth, steps)
        m["file"] = path.stem
        # the truth covers the motion-capture volume only: detections more than 0.5 s before
        # its first or after its last contact cannot be judged and are not counted
        lo, hi = truth.ic_s.min() - 0.5, truth.ic_s.max() + 0.5
        judged = steps[(steps.ic_s >= lo) & (steps.ic_s <= hi)]
        m["n_det_file"] = len(judged)
        all_rows.append(m)
        matched = int(m["ic_s_det"].notna().sum()) if "ic_s_det" in m else 0
        n_det_total[path.stem] = len(judged)
        n_outside[path.stem] = len(steps) - len(judged)
        if verbose:
            print(f"{path.stem}: truth {len(truth)}, detected {len(steps)}, matched {matched}",
                  file=sys.stderr)
    df = pd.concat(all_rows, ignore_index=True)
    df.attrs["n_det"] = n_det_total
    df.attrs["n_outside"] = n_outside
    return df


def rmse(a: pd.Series) -> float:
    a = a.dropna()
    return float(np.sqrt(np.mean(a ** 2))) if len(a) else float("nan")


def report(df: pd.DataFrame, files: list[Path]) -> pd.DataFrame:
    n_det = sum(df.attrs["n_det"].values())
    out = {}
    groups = {"level": df[df.activity == "level"], "stairs (up+down)": df[df.activity != "level"],
              "stairs_up": df[df.activity == "stairs_up"],
              "stairs_down": df[df.activity == "stairs_down"], "all": df}
    for name, g in groups.items():
        det = g["ic_s_det"].notna() if "ic_s_det" in g else pd.Series(False, index=g.index)
        tp = int(det.sum())
        r = {"true_contacts": len(g), "matched": tp}
        r["recall"] = tp / len(g) if len(g) else np.nan
        if name == "all":
            prec = tp / n_det if n_det else np.nan
            r["precision"] = prec
            r["F1"] = 2 * prec * r["recall"] / (prec + r["recall"]) if tp else 0.0
        e_ic = (g["ic_s_det"] - g["ic_s"]).abs() * 1000 if tp else pd.Series(dtype=float)
        r["IC_median_abs_ms"] = float(e_ic.median()) if tp else np.nan
        r["IC_mean_signed_ms"] = float((g["ic_s_det"] - g["ic_s"]).mean() * 1000) if tp else np.nan
        e_to = (g["to_s_det"] - g["to_s"]).abs() * 1000 if "to_s_det" in g else pd.Series(dtype=float)
        r["TO_median_abs_ms"] = float(e_to.median()) if e_to.notna().any() else np.nan
        r["TO_mean_signed_ms"] = (float((g["to_s_det"] - g["to_s"]).mean() * 1000)
                                  if e_to.notna().any() else np.nan)
        if "activity_det" in g:
            a = g[det]
            r["activity_accuracy"] = float((a["activity_det"] == a["activity"]).mean()) if len(a) else np.nan
        e_sl = (g.get("stride_length_m_det") - g["stride_length_m"]).abs() if "stride_length_m_det" in g else None
        r["stride_MAE_cm"] = float(e_sl.mean() * 100) if e_sl is not None and e_sl.notna().any() else np.nan
        r["stride_n"] = int(e_sl.notna().sum()) if e_sl is not None else 0
        e_h = (g.get("step_height_m_det") - g["step_height_m"]).abs() if "step_height_m_det" in g else None
        r["height_MAE_cm"] = float(e_h.mean() * 100) if e_h is not None and e_h.notna().any() else np.nan
        for col in ("knee_flexion_ic_deg", "knee_min_flexion_stance_deg"):
            if f"{col}_det" in g:
                r[f"{col}_RMSE"] = rmse(g[f"{col}_det"] - g[col])
                r[f"{col}_n"] = int((g[f"{col}_det"] - g[col]).notna().sum())
        if "impact_g_at_rate" in g and "impact_g_det" in g:
            ok = g["impact_g_det"].notna() & g["impact_g_at_rate"].notna()
            if ok.sum():
                e = g.loc[ok, "impact_g_det"] - g.loc[ok, "impact_g_at_rate"]
                r["impact_MAE_g_vs_at_rate"] = float(e.abs().mean())
                r["impact_bias_g_vs_at_rate"] = float(e.mean())
                r["impact_MAE_g_vs_physical"] = float((g.loc[ok, "impact_g_det"] - g.loc[ok, "impact_g"]).abs().mean())
        if "frontal_range_deg_det" in g:
            ok = g["frontal_range_deg_det"].notna() & g["shank_frontal_range_deg"].notna()
            r["frontal_spearman"] = (float(spearmanr(g.loc[ok, "frontal_range_deg_det"],
                                                     g.loc[ok, "shank_frontal_range_deg"]).statistic)
                                     if ok.sum() > 3 else np.nan)
            if "frontal_wobble_dps" in g and "frontal_wobble_dps_det" in g:
                ok = g["frontal_wobble_dps_det"].notna() & g["frontal_wobble_dps"].notna()
                r["wobble_spearman"] = (float(spearmanr(g.loc[ok, "frontal_wobble_dps_det"],
                                                        g.loc[ok, "frontal_wobble_dps"]).statistic)
                                        if ok.sum() > 3 else np.nan)
        out[name] = r
    table = pd.DataFrame(out)
    sd = df[df.activity == "stairs_down"]
    if "activity_det" in sd:
        sdm = sd[sd["ic_s_det"].notna()]
        table.loc["stairs_down_recall_activity", "stairs_down"] = float(
            (sdm["activity_det"] == "stairs_down").mean()) if len(sdm) else np.nan
    return table


KEY_ROWS = ["matched", "IC_median_abs_ms", "TO_median_abs_ms", "TO_mean_signed_ms", "F1"]


def file_sets(data: Path, rate: str) -> dict[str, list[Path]]:
    """The recordings with truth to evaluate, by set name (``paired``: two sets, the _52hz
    copies and the 100 Hz files they were made from)."""
    files = sorted(p for p in data.glob("*.csv")
                   if not p.name.endswith(".truth.csv") and p.with_suffix(".truth.csv").exists())
    copies = [p for p in files if "_52hz" in p.name]
    originals = [p for p in files if "_52hz" not in p.name]
    if rate == "paired":
        made_from = {p.with_name(p.name.replace("_52hz", "")) for p in copies}
        return {"52 Hz copies": copies, "their 100 Hz originals": [p for p in originals if p in made_from]}
    return {f"--rate {rate}": {"100": originals, "52": copies, "all": files}[rate]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--sensors", choices=["all", "shank", "thigh"], default="all")
    ap.add_argument("--rate", choices=["100", "52", "all", "paired"], default="100",
                    help="which copies: the 100 Hz files (default), the _52hz copies, all, or the"
                         " copies beside their 100 Hz originals (paired)")
    ap.add_argument("--resample-hz", type=float, help="resample every file to this rate first")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--dump", type=Path, help="write the matched table to this CSV")
    args = ap.parse_args()
    sets = file_sets(args.data, args.rate)
    if not all(sets.values()):
        print(f"no recordings with truth in {args.data}", file=sys.stderr)
        return 2
    pd.set_option("display.width", 200)
    pd.set_option("display.max_rows", 100)
    frames, tables = [], {}
    for name, files in sets.items():
        df = evaluate(files, args.sensors, args.verbose, args.resample_hz)
        table = report(df, files)
        frames.append(df.assign(set=name))
        tables[name] = table
        rate = f"resampled to {args.resample_hz:g} Hz" if args.resample_hz else f"set: {name}"
        print(f"{len(files)} recordings ({rate}), sensors: {args.sensors}; detections outside the"
              f" truth's time span (not judged): {sum(df.attrs['n_outside'].values())}")
        print(table.to_string(float_format=lambda x: f"{x:.3f}"))
    if len(tables) > 1:
        print("\nside by side:")
        cols = ["level", "stairs (up+down)", "all"]
        side = pd.concat({n: t.loc[KEY_ROWS, cols] for n, t in tables.items()}, axis=1)
        print(side.to_string(float_format=lambda x: f"{x:.3f}"))
    if args.dump:
        pd.concat(frames, ignore_index=True).to_csv(args.dump, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
