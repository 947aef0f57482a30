"""imu-knee: gait and stair-landing coach from wearable IMUs."""

__version__ = "0.1.0"
