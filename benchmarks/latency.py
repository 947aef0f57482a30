"""Live latency: time from a foot contact in the signal to its step row being emitted.

    python benchmarks/latency.py [--data ../shared/data/virtual_imu] [--block 1]

Replays each recording through the live engine in blocks of ``--block`` samples per sensor,
interleaved by time as they would arrive, and measures for every contact:
- notice latency: signal time of the newest sample pushed when the early row (side, ic_s;
  ``final=False``) is emitted, minus the true contact time (truth file) or, without truth, the
  detected contact time;
- full-row latency: the same for the complete row (after the stance ends).
Contacts before the sensors' calibration (the first seconds of walking) are reported apart.
Also prints the compute time per pushed block.
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

DEFAULT_DATA = ROOT / ".." / "shared" / "data" / "virtual_imu"


def replay(rec, block: int):
    engine = Engine({n: s.rate_hz for n, s in rec.streams.items()}, leg_length_m=rec.leg_length_m)
    pos = {n: 0 for n in rec.streams}
    rows, times = [], []
    while True:
        open_ = [n for n in rec.streams if pos[n] < len(rec.streams[n])]
        if not open_:
            break
        name = min(open_, key=lambda n: rec.streams[n].t_s[pos[n]])
        s = rec.streams[name]
        sl = slice(pos[name], min(pos[name] + block, len(s)))
        t0 = time.perf_counter()
        rows.extend(engine.push(name, s.t_s[sl], s.acc_mps2[sl], s.gyr_dps[sl]))
        times.append(time.perf_counter() - t0)
        pos[name] = sl.stop
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
        notices = {(r.side, r.ic_s): r.emitted_t_s for r in rows if not r.final}
        finals = [r for r in rows if r.final]
        for r in finals:
            # the early notice for this contact: same side, nearest contact time
            cands = [(abs(ic - r.ic_s), et) for (side, ic), et in notices.items() if side == r.side]
            if not cands:
                continue
            _, notice_t = min(cands)
            ref = r.ic_s
            if truth is not None:
                tr = truth[truth.side == r.side]
                if len(tr):
                    j = int(np.argmin(np.abs(tr.ic_s.to_numpy() - r.ic_s)))
                    if abs(tr.ic_s.iloc[j] - r.ic_s) <= 0.1:
                        ref = float(tr.ic_s.iloc[j])
                    else:
                        continue
            out.append({"file": name, "after_calibration": r.ic_s > cal_t,
                        "notice_ms": (notice_t - ref) * 1000, "row_ms": (r.emitted_t_s - ref) * 1000})
    df = pd.DataFrame(out)
    times = np.concatenate(all_times)
    print(f"{len(df)} contacts in {len(recs)} recordings, blocks of {args.block} sample(s)")
    for label, g in (("after calibration", df[df.after_calibration]),
                     ("during calibration", df[~df.after_calibration]), ("all", df)):
        if len(g):
            print(f"{label:19s} n={len(g):4d}  notice latency median {g.notice_ms.median():6.1f} ms"
                  f" (p90 {g.notice_ms.quantile(0.9):6.1f})   full row median {g.row_ms.median():6.1f} ms")
    print(f"compute per block: median {np.median(times) * 1e6:.0f} us, p99 {np.percentile(times, 99) * 1e6:.0f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
