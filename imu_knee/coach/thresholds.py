"""Coach thresholds: defaults from imu_knee/data/coach_thresholds.toml, overridable by a user file.

Where the user file is looked for, first match wins:
1. an explicit path (``load_thresholds(path)``),
2. the environment variable ``IMU_KNEE_COACH_THRESHOLDS``,
3. ``~/.config/imu-knee/coach_thresholds.toml`` if it exists.

The user file may hold a subset of the settings; the rest keep their defaults. Unknown
sections or names, values of the wrong kind and negative numbers are refused with a one-line
:class:`~imu_knee.errors.InputError` naming the file and the setting.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..errors import InputError

DEFAULT_THRESHOLDS_PATH = Path(__file__).resolve().parent.parent / "data" / "coach_thresholds.toml"
ENV_VAR = "IMU_KNEE_COACH_THRESHOLDS"
USER_THRESHOLDS_PATH = Path("~/.config/imu-knee/coach_thresholds.toml")

_INT_KEYS = {"min_steps", "full_confidence_steps", "min_level_steps", "window_steps",
             "on_steps", "off_steps", "warmup_steps"}
_FRACTION_KEYS = {"min_fraction_flagged", "calm_fraction"}
_SIGNED_KEYS = {"implausible_below_deg"}  # may be negative


@dataclass(frozen=True)
class Thresholds:
    """All coach settings: ``values[section][name]`` -> number; ``source`` says where from."""

    values: Mapping[str, Mapping[str, float]]
    source: str = "defaults"

    def __getitem__(self, section: str) -> Mapping[str, float]:
        return self.values[section]

    def get(self, section: str, name: str) -> float:
        return self.values[section][name]


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(f"coach thresholds file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"coach thresholds file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise InputError(f"cannot read coach thresholds file {path}: {exc.strerror}") from None


def _merge(defaults: dict[str, dict[str, Any]], user: dict[str, Any], path: Path) -> dict:
    merged = {sec: dict(vals) for sec, vals in defaults.items()}
    for section, entries in user.items():
        if section not in defaults:
            raise InputError(f"{path}: unknown section [{section}] "
                             f"(known: {', '.join(sorted(defaults))})")
        if not isinstance(entries, dict):
            raise InputError(f"{path}: '{section}' must be a [section] of settings")
        for name, value in entries.items():
            if name not in defaults[section]:
                raise InputError(f"{path}: unknown setting {section}.{name} "
                                 f"(known: {', '.join(sorted(defaults[section]))})")
            merged[section][name] = _checked(section, name, value, path)
    return merged


def _checked(section: str, name: str, value: Any, path: Path) -> float:
    where = f"{path}: {section}.{name}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{where} must be a number, got {value!r}")
    if value != value:
        raise InputError(f"{where} must be a number, got {value!r}")
    if value < 0 and name not in _SIGNED_KEYS:
        raise InputError(f"{where} must be a number >= 0, got {value!r}")
    if name in _INT_KEYS:
        if int(value) != value or value < 1:
            raise InputError(f"{where} must be a whole number >= 1, got {value!r}")
        return int(value)
    if name in _FRACTION_KEYS and value > 1:
        raise InputError(f"{where} must be between 0 and 1, got {value!r}")
    return float(value)


def _user_path(path: str | os.PathLike | None) -> Path | None:
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    user = USER_THRESHOLDS_PATH.expanduser()
    return user if user.is_file() else None


def load_thresholds(path: str | os.PathLike | None = None) -> Thresholds:
    """Defaults merged with the user's file (see module docstring). Raises InputError."""
    defaults = _read_toml(DEFAULT_THRESHOLDS_PATH)
    user_path = _user_path(path)
    if user_path is None:
        return Thresholds(defaults, "defaults")
    merged = _merge(defaults, _read_toml(user_path), user_path)
    _check_consistent(merged, user_path)
    return Thresholds(merged, str(user_path))


def _check_consistent(merged: dict, path: Path) -> None:
    live = merged["live"]
    if live["on_steps"] > live["window_steps"] or live["off_steps"] > live["window_steps"]:
        raise InputError(f"{path}: live.on_steps and live.off_steps must not exceed "
                         f"live.window_steps ({live['window_steps']})")


def thresholds_from_dict(overrides: Mapping[str, Mapping[str, float]]) -> Thresholds:
    """Defaults with ``overrides`` applied (checked like a user file); for tests and GUIs."""
    defaults = _read_toml(DEFAULT_THRESHOLDS_PATH)
    merged = _merge(defaults, {k: dict(v) for k, v in overrides.items()}, Path("<overrides>"))
    _check_consistent(merged, Path("<overrides>"))
    return Thresholds(merged, "overrides")
