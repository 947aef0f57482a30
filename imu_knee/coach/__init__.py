"""The coach: recognises the movement patterns of shared/COACHING.md in per-step metrics.

- :func:`coach_steps` (rules.py): one session's per-step table -> :class:`CoachResult`
  (findings with evidence, confidence, cue, exercises and the safety note; plus what could
  not be assessed and why).
- :class:`LiveCoach` (cues.py): per-step live cues with hysteresis and rate limits.
- Thresholds: imu_knee/data/coach_thresholds.toml, overridable by a user file
  (thresholds.py). Exercise library and cue texts: imu_knee/data/exercises.toml.
- The per-step column the coach adds for heel lift, ``shank_tilt_max_stance_deg``, is
  defined in step_columns.py.

The coach never diagnoses; every finding carries :data:`SAFETY_NOTE` (the 4-6 week rule).
"""

from .baselines import Baselines
from .cues import LiveCoach, LiveCue
from .exercises import PATTERNS, load_library
from .findings import SAFETY_NOTE, CoachResult, Finding, NotAssessed
from .rules import coach_steps, find_patterns
from .step_columns import SHANK_TILT_COLUMN
from .thresholds import Thresholds, load_thresholds, thresholds_from_dict

__all__ = [
    "Baselines", "CoachResult", "Finding", "LiveCoach", "LiveCue", "NotAssessed", "PATTERNS",
    "SAFETY_NOTE", "SHANK_TILT_COLUMN", "Thresholds", "coach_steps", "find_patterns",
    "load_library", "load_thresholds", "thresholds_from_dict",
]
