"""The replay source lives in the core (no Qt): `imu_knee.replay_source`; re-exported here."""

from imu_knee.replay_source import (FAST_BLOCK_S, SPEED_MAX, SPEED_MIN, TICK_S,  # noqa: F401
                                    ReplaySource, clamp_speed)
