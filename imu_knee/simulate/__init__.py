"""Gait simulator: physically consistent shank/thigh IMU recordings with per-step truth.

``simulate(...)`` returns a ``SimulationResult`` (``.recording``, ``.truth``);
``write_outputs(result, REC.csv)`` writes the recording and ``REC.truth.csv``.
"""

from .api import SimulationResult, parse_activities, simulate
from .config import GaitSpec, SensorSpec, SideProblems, SimulationSpec
from .truth import TRUTH_COLUMNS
from .writer import write_outputs, write_simulated_recording

__all__ = ["simulate", "SimulationResult", "parse_activities", "GaitSpec", "SensorSpec",
           "SideProblems", "SimulationSpec", "TRUTH_COLUMNS", "write_outputs",
           "write_simulated_recording"]
