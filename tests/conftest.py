"""Suite-wide safety: no test writes to the real user's data folder or needs a screen."""

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _private_imu_knee_home(tmp_path_factory, monkeypatch):
    """Every test gets its own IMU_KNEE_HOME (history database, settings)."""
    monkeypatch.setenv("IMU_KNEE_HOME", str(tmp_path_factory.mktemp("imu_knee_home")))
