"""Steps counted from real sensors: HuGaDB walking (shins and thighs, raw counts, acc clipped).

    python benchmarks/hugadb_steps.py [FILE]   (default ../shared/data/real/hugadb_walking/...)

Converts the raw int16 counts (acc +-2 g, gyro +-2000 deg/s, about 58.8 Hz, no timestamps) to
an imu-knee Recording, analyses (a) shin sensors only, (b) thigh sensors only, (c) all four, and
prints per side the step counts and their agreement. Floors: shin vs thigh of the same leg
within 2 %, left vs right within one step.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imu_knee.analysis.engine import analyze_recording  # noqa: E402
from imu_knee.recording import GRAVITY_MPS2, Recording, SensorStream  # noqa: E402

DEFAULT = ROOT / ".." / "shared" / "data" / "real" / "hugadb_walking" / "HuGaDB_v1_walking_01_00.txt"
RATE_HZ = 2111962 / 35903  # README totals: about 58.8 Hz
PREFIX = {"right_shank": "RS", "right_thigh": "RT", "left_shank": "LS", "left_thigh": "LT"}


def load_hugadb(path: Path) -> Recording:
    df = pd.read_csv(path, sep="\t", skiprows=3)
    t = np.arange(len(df)) / RATE_HZ
    streams = {}
    for name, p in PREFIX.items():
        acc = df[[f"{p}_acc_{a}" for a in "xyz"]].to_numpy(float) / 32768.0 * 2.0 * GRAVITY_MPS2
        gyr = df[[f"{p}_gyro_{a}" for a in "xyz"]].to_numpy(float) / 32768.0 * 2000.0
        streams[name] = SensorStream(name, t, acc, gyr, RATE_HZ)
    return Recording(streams=streams, path=path)


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    rec = load_hugadb(path)
    print(f"{path.name}: {len(rec.streams['left_shank'])} samples at {RATE_HZ:.1f} Hz "
          f"({rec.duration_s:.0f} s)")
    counts = {}
    for label, keep in (("shin", "shank"), ("thigh", "thigh"), ("all four", None)):
        sub = Recording({n: s for n, s in rec.streams.items() if keep is None or n.endswith(keep)},
                        path=path)
        steps, summary = analyze_recording(sub)
        counts[label] = {side: int((steps.side == side).sum()) for side in ("left", "right")}
        cad = {side: summary["sides"].get(side, {}).get("all", {}).get("cadence_spm") for side in ("left", "right")}
        flags = "; ".join(summary["flags"]) or "-"
        print(f"{label:9s} left {counts[label]['left']:4d}  right {counts[label]['right']:4d}"
              f"  cadence L/R {cad['left']}/{cad['right']} spm   flags: {flags}")
    ok = True
    for side in ("left", "right"):
        a, b = counts["shin"][side], counts["thigh"][side]
        diff = abs(a - b) / max(a, b, 1) * 100
        ok &= diff <= 2.0
        print(f"{side}: shin {a} vs thigh {b}: {diff:.1f} % apart (floor 2 %)")
    for label in ("shin", "thigh", "all four"):
        d = abs(counts[label]["left"] - counts[label]["right"])
        ok &= d <= 1
        print(f"{label}: left - right = {counts[label]['left'] - counts[label]['right']} (floor: at most 1)")
    print("PASS" if ok else "FAIL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
