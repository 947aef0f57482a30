"""Speed of the analysis on a 1-hour, 4-sensor, 100 Hz recording.

    python benchmarks/speed.py [--minutes 60] [--keep FILE]

Makes the recording (a 2-minute synthetic walk, tests/fixtures/analysis/synth.py, repeated),
writes it as CSV,
then prints: pandas.read_csv time of the file, imu-knee read_recording time, analysis time
(engine only, the whole file pushed), and the ratios. Floor: analysis <= 2 x read_csv, < 10 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "analysis"))

from synth import synth_recording  # noqa: E402

from imu_knee.analysis.engine import analyze_recording  # noqa: E402
from imu_knee.recording import Recording, SensorStream, read_recording, write_recording  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--keep", type=Path, help="keep the generated recording at this path")
    args = ap.parse_args()
    # a 2-minute walk (standing, ~105 strides, standing) repeated back to back
    piece, _ = synth_recording(("left_shank", "right_shank", "left_thigh", "right_thigh"),
                               strides=105)
    dur = max(s.t_s[-1] for s in piece.streams.values()) + 0.01
    reps = max(1, int(round(args.minutes * 60 / dur)))
    streams = {}
    for name, s in piece.streams.items():
        streams[name] = SensorStream(
            name, np.concatenate([s.t_s + k * dur for k in range(reps)]),
            np.tile(s.acc_mps2, (reps, 1)), np.tile(s.gyr_dps, (reps, 1)), s.rate_hz)
    rec = Recording(streams=streams, leg_length_m=0.9)
    path = args.keep or Path(tempfile.mkdtemp()) / "speed_1h.csv"
    print(f"writing {path} ...", file=sys.stderr)
    write_recording(path, rec)
    n = sum(len(s) for s in rec.streams.values())
    print(f"{n} samples, {path.stat().st_size / 1e6:.0f} MB")

    t0 = time.perf_counter()
    pd.read_csv(path, comment="#")
    t_pandas = time.perf_counter() - t0
    t0 = time.perf_counter()
    rec2 = read_recording(path)
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    steps, _ = analyze_recording(rec2)
    t_analysis = time.perf_counter() - t0
    print(f"pandas.read_csv:          {t_pandas:6.2f} s")
    print(f"imu-knee read_recording:  {t_read:6.2f} s")
    print(f"analysis (engine):        {t_analysis:6.2f} s   ({len(steps)} steps)")
    print(f"analysis / read_csv:      {t_analysis / t_pandas:6.2f}")
    print(f"read+analysis / read_csv: {(t_read + t_analysis) / t_pandas:6.2f}")
    if not args.keep:
        path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
