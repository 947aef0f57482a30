"""Live latency: time from a foot contact in the signal to its rows being emitted.

    python benchmarks/latency.py [--data ../shared/data/virtual_imu] [--block 1]

Replays each recording through the live engine in blocks of ``--block`` samples per sensor,
interleaved by time as they would arrive, and measures for every contact (signal time of the
newest sample pushed when the row is emitted, minus the true contact time from the truth file,
or, without truth, the detected contact time):
- notice: the early row with side and contact time only (``stage="notice"``);
- contact row: impact, provisional activity and stride (``stage="contact"``), the row a
  live display shows (target: median <= 150 ms at 100 Hz);
- final row: every column, after the stance has ended.
Contacts before the sensors' full calibration (the first ~2.5 s of walking, when the
sagittal axis is the provisional one from the first swing) are also reported apart. Also: how often the contact row's impact / activity equal the final row's, how
often its impact window was closed early, the provisional stride's difference from the final
one, and the compute time per pushed block.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "analysis"))

from imu_knee.analysis.engine import Engine  # noqa: E402
from imu_knee.recording import read_recording  # noqa: E402
from imu_knee.replay_source import interleaved_sample_blocks  # noqa: E402

DEFAULT_DATA = ROOT / ".." / "shared" / "data" / "virtual_imu"


def replay(rec, block: int):
    engine = Engine({n: s.rate_hz for n, s in rec.streams.items()}, leg_length_m=rec.leg_length_m,
                    contact_rows=True)
    rows, times = [], []
    for piece in interleaved_sample_blocks(rec, lambda: block):
        t0 = time.perf_counter()
        rows.extend(engine.push(*piece))
        times.append(time.perf_counter() - t0)
    rows.extend(engine.finish())
    return engine, rows, np.array(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--block", type=int, default=1, help="samples per pushed block")
    args = ap.parse_args()
    files = sorted(p for p in args.data.glob("*.csv") if not p.name.endswith(".truth.csv")
                   and "_52hz" not in p.name)
    recs = []
    for p in files:
        truth_path = p.with_suffix(".truth.csv")
        truth = pd.read_csv(truth_path) if truth_path.exists() else None
        recs.append((p.stem, read_recording(p), truth))
    if not recs:
        from synth import synth_recording
        rec, truth_d = synth_recording(("left_shank", "right_shank", "left_thigh", "right_thigh"),
                                       strides=100)
        truth = pd.DataFrame([{"side": n.split("_")[0], "ic_s": t} for n, ts in truth_d.items()
                              if n.endswith("shank") for t in ts])
        recs.append(("synthetic", rec, truth))
    out = []
    all_times = []
    for name, rec, truth in recs:
        engine, rows, times = replay(rec, args.block)
        all_times.append(times)
        cal_t = max((c.calibration.calibrated_at_s for c in engine.chains.values()
                     if c.calibration is not None), default=np.inf)
        early = {"notice": [r for r in rows if r.stage == "notice"],
                 "contact": [r for r in rows if r.stage == "contact"]}
        for r in (r for r in rows if r.final):
            # the notice / contact row of this contact: same side, nearest contact time
            match = {}
            for stage, cands in early.items():
                c = [e for e in cands if e.side == r.side]
                if c:
                    match[stage] = min(c, key=lambda e: abs(e.ic_s - r.ic_s))
            if len(match) < 2:
                continue
            ref = r.ic_s
            if truth is not None:
                tr = truth[truth.side == r.side]
                if len(tr):
                    j = int(np.argmin(np.abs(tr.ic_s.to_numpy() - r.ic_s)))
                    if abs(tr.ic_s.iloc[j] - r.ic_s) <= 0.1:
                        ref = float(tr.ic_s.iloc[j])
                    else:
                        continue
            c = match["contact"]
            same_impact = (c.impact_g is None and r.impact_g is None) or (
                c.impact_g is not None and r.impact_g is not None and abs(c.impact_g - r.impact_g) <= 0.01)
            out.append({"file": name, "after_calibration": r.ic_s > cal_t, "activity": r.activity,
                        "notice_ms": (match["notice"].emitted_t_s - ref) * 1000,
                        "contact_ms": (c.emitted_t_s - ref) * 1000,
                        "row_ms": (r.emitted_t_s - ref) * 1000,
                        "same_impact": same_impact, "impact_diff_g": (np.nan if c.impact_g is None or r.impact_g is None
                                                                      else c.impact_g - r.impact_g),
                        "same_activity": c.activity == r.activity,
                        "early_close": "impact_window_closed_early" in c.flags,
                        "stride_diff_m": (np.nan if c.stride_length_m is None or r.stride_length_m is None
                                          else c.stride_length_m - r.stride_length_m),
                        "height_diff_m": (np.nan if c.step_height_m is None or r.step_height_m is None
                                          else c.step_height_m - r.step_height_m)})
    df = pd.DataFrame(out)
    times = np.concatenate(all_times)
    print(f"{len(df)} contacts in {len(recs)} recordings, blocks of {args.block} sample(s); "
          "latency = signal time at emission - true contact, ms: median (p90)")
    print(f"{'':19s} {'n':>4s}  {'notice':>15s}  {'contact row':>15s}  {'final row':>15s}")
    for label, g in (("after calibration", df[df.after_calibration]),
                     ("before full calib.", df[~df.after_calibration]), ("all", df)):
        if len(g):
            cells = "  ".join(f"{g[c].median():6.1f} ({g[c].quantile(0.9):6.1f})"
                              for c in ("notice_ms", "contact_ms", "row_ms"))
            print(f"{label:19s} {len(g):4d}  {cells}")
    ok = df[df.after_calibration].contact_ms.median() <= 150 if df.after_calibration.any() else False
    ok_all = df.contact_ms.median() <= 150 if len(df) else False
    print(f"target contact row median <= 150 ms: after full calibration {'OK' if ok else 'MISSED'},"
          f" over all contacts {'OK' if ok_all else 'MISSED'}")
    print(f"contact row vs final row: same impact (0.01 g) {100 * df.same_impact.mean():.0f} %"
          f" (largest difference {np.nanmax(np.abs(df.impact_diff_g)) if df.impact_diff_g.notna().any() else 0:.2f} g),"
          f" window closed early {100 * df.early_close.mean():.0f} %, same activity {100 * df.same_activity.mean():.0f} %")
    for act, g in df[df.after_calibration].groupby("activity"):
        print(f"  {act:<12s} n={len(g):3d}  contact row {g.contact_ms.median():6.1f} ms (p90 {g.contact_ms.quantile(0.9):6.1f}),"
              f" same impact {100 * g.same_impact.mean():3.0f} %, closed early {100 * g.early_close.mean():3.0f} %,"
              f" same activity {100 * g.same_activity.mean():3.0f} %  (after calibration)")
    print(f"provisional stride - final: stride length MAE {np.nanmean(np.abs(df.stride_diff_m)) * 100:.1f} cm, "
          f"step height MAE {np.nanmean(np.abs(df.height_diff_m)) * 100:.1f} cm "
          f"(n={int(df.stride_diff_m.notna().sum())})")
    print(f"compute per block: median {np.median(times) * 1e6:.0f} us, p99 {np.percentile(times, 99) * 1e6:.0f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
