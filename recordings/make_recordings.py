"""Regenerate the bundled recordings and their truth files (deterministic: fixed seeds).

Usage: python recordings/make_recordings.py [OUT_DIR]   (default: this folder)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imu_knee.simulate import simulate, write_outputs  # noqa: E402

RECORDINGS = {
    "level_walk_shank.csv": dict(
        activities="level:30", sensors=["left_shank"], rate_hz=200, leg_length_m=0.90,
        height_m=1.72, seed=101),
    "stairs_hard_landing.csv": dict(
        activities="level:3,stairs_up:3,level:1,stairs_down:4",
        sensors=["left_shank", "right_shank", "left_thigh", "right_thigh"], rate_hz=100,
        leg_length_m=0.92, height_m=1.76, seed=102, problems={"right": {"hard_landing_g": 5.0}}),
    "knee_wobble_both.csv": dict(
        activities="level:10,stairs_up:3,level:1,stairs_down:4",
        sensors=["left_shank", "right_shank"], rate_hz=100, leg_length_m=0.86, height_m=1.64,
        seed=103, problems={"both": {"knee_wobble_deg": 3.0, "knee_caving_deg": 5.0}}),
    "incomplete_extension_left.csv": dict(
        activities="level:12", sensors=["left_shank", "left_thigh"], rate_hz=100,
        leg_length_m=0.95, height_m=1.82, seed=104,
        problems={"left": {"extension_deficit_deg": 12.0}}),
}


def main(out_dir: Path) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, options in RECORDINGS.items():
        result = simulate(**options)
        truth = write_outputs(result, out_dir / name)
        size_kb = (out_dir / name).stat().st_size / 1024
        print(f"{name}: {result.recording.duration_s:.1f} s, {len(result.truth)} contacts,"
              f" {size_kb:.0f} KB; truth {Path(truth).name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent))
