"""Virtual BLE sensors on Google's Bumble, reachable through the real bleak API.

`VirtualRadio` is the in-memory air; `VirtualPeripheral` a generic GATT peripheral built
from a small spec; `VirtualSensor` (in `sensor`) serves a device profile and streams a
recording through the profile's encoder. `imu_knee.ble.bumble_backend` holds the bleak
backend classes. Importing this package needs the optional `bumble` dependency.
"""

from .peripheral import CharSpec, ServiceSpec, VirtualPeripheral, canonical_uuid
from .radio import VirtualDeviceDetails, VirtualRadio, default_radio

__all__ = [
    "CharSpec", "ServiceSpec", "VirtualPeripheral", "VirtualRadio", "VirtualDeviceDetails",
    "canonical_uuid", "default_radio",
]
