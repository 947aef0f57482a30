"""Gait analysis: one chain of block-wise stages shared by `analyze` (whole file) and live use.

Public entry points: :class:`imu_knee.analysis.engine.Engine` (push blocks, get step rows)
and :func:`imu_knee.analysis.engine.analyze_recording` (a whole :class:`Recording`).
"""
