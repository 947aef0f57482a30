"""imu-knee Qt dashboard (installed as the package ``imu_knee_gui``). Depends on the core only."""
