"""A demo walk for the virtual sensors (no hardware needed), made by the gait simulator."""

from __future__ import annotations

from imu_knee.recording import Recording

DEMO_ACTIVITIES = "level:8,stairs_up:6,stairs_down:8,level:6,stairs_down:6,level:6"
DEMO_SENSORS = ("left_shank", "right_shank", "left_thigh", "right_thigh")


def demo_recording(rate_hz: float = 200.0, sensors=DEMO_SENSORS, seed: int = 7,
                   activities: str = DEMO_ACTIVITIES) -> Recording:
    """A simulated walk with level walking and stairs; the right leg lands hard on the way down."""
    from imu_knee.simulate import simulate

    result = simulate(activities, sensors=tuple(sensors), rate_hz=rate_hz, seed=seed,
                      problems={"right": {"hard_landing_g": 6.0}})
    return result.recording
