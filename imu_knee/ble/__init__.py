"""Bluetooth LE sensors: device profiles (pure Python) and, later, the live link.

`imu_knee.ble.profiles` turns each device's GATT protocol into commands and decoders that
yield samples in recording units (acc m/s² specific force, gyro deg/s). Nothing in this
package imports bleak at import time.
"""
