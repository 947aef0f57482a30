"""Shared body of sub-commands that a later piece of work fills in."""

from ..errors import InputError


def not_available(name: str) -> InputError:
    return InputError(f"'{name}' is not available yet in this version of imu-knee")
