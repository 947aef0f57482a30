"""Device profiles behind one interface (see base.py), one small module per device family.

    >>> from imu_knee.ble.profiles import get_profile
    >>> profile = get_profile("witmotion")
    >>> decoder = profile.new_decoder(rate_hz=100)
    >>> samples = decoder.feed(char_uuid, payload, arrival_s)   # list of Sample/SampleBlock
"""

from __future__ import annotations

from importlib import import_module

from .base import (
    Command, Decoder, DecodeError, Encoder, Notification, Profile, Sample, SampleArrays,
    SampleBlock, SettingError, StreamSettings, stack_samples,
)

#: profile name → (module, class); modules are imported on first use.
_REGISTRY = {
    "witmotion": ("witmotion", "WitMotionProfile"),
    "metamotion": ("metamotion", "MetaMotionProfile"),
    "movesense": ("movesense", "MovesenseProfile"),
    "polar": ("polar", "PolarProfile"),
    "thingy52": ("thingy52", "Thingy52Profile"),
    "imu-knee": ("imuknee", "ImuKneeProfile"),
}

PROFILE_NAMES = tuple(_REGISTRY)


def get_profile(name: str, config: dict | None = None) -> Profile:
    """A profile by name, with its settings from firmware_config/<name>.json; keys given in
    `config` replace the file's (e.g. ``get_profile("polar", {"model": "h10"})``)."""
    try:
        module_name, class_name = _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown sensor profile {name!r} (known: {', '.join(PROFILE_NAMES)})") from None
    cls = getattr(import_module(f"{__name__}.{module_name}"), class_name)
    return cls(cls.merged_config(config))


__all__ = [
    "PROFILE_NAMES", "Command", "Decoder", "DecodeError", "Encoder", "Notification", "Profile",
    "Sample", "SampleArrays", "SampleBlock", "SettingError", "StreamSettings", "get_profile",
    "stack_samples",
]
