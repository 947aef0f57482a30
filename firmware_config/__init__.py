"""Per-device settings imu-knee writes (JSON, one file per device); installed as imu_knee.firmware_config."""
