"""The exercise library and per-pattern cues, read from imu_knee/data/exercises.toml.

The library is data: adding or rewording an exercise means editing the TOML file only.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, asdict
from functools import lru_cache
from pathlib import Path

from ..errors import InputError

EXERCISES_PATH = Path(__file__).resolve().parent.parent / "data" / "exercises.toml"

PATTERNS = ("hard_landing", "knee_wobble", "heel_lift", "incomplete_extension", "long_strides")


@dataclass(frozen=True)
class Exercise:
    id: str
    name: str
    patterns: tuple[str, ...]
    instructions: str
    dosage: str
    progression: str

    def to_dict(self) -> dict:
        d = asdict(self)
        d["patterns"] = list(self.patterns)
        return d


@dataclass(frozen=True)
class PatternAdvice:
    pattern: str
    title: str
    resembles: str
    cue: str
    cue_detail: str
    exercises: tuple[Exercise, ...]


@dataclass(frozen=True)
class Library:
    patterns: dict[str, PatternAdvice]
    exercises: dict[str, Exercise]

    def advice(self, pattern: str) -> PatternAdvice:
        return self.patterns[pattern]


def _require(table: dict, key: str, where: str, path: Path) -> str:
    value = table.get(key)
    if not isinstance(value, str):
        raise InputError(f"{path}: {where}.{key} must be text")
    return value


def parse_library(data: dict, path: Path = EXERCISES_PATH) -> Library:
    """Check and convert the parsed TOML of an exercise library."""
    exercises: dict[str, Exercise] = {}
    for ex_id, table in data.get("exercises", {}).items():
        where = f"exercises.{ex_id}"
        pats = table.get("patterns")
        if not isinstance(pats, list) or not all(p in PATTERNS for p in pats):
            raise InputError(f"{path}: {where}.patterns must list patterns out of {PATTERNS}")
        exercises[ex_id] = Exercise(
            ex_id, _require(table, "name", where, path), tuple(pats),
            _require(table, "instructions", where, path), _require(table, "dosage", where, path),
            str(table.get("progression", "")))
    patterns: dict[str, PatternAdvice] = {}
    for pattern in PATTERNS:
        table = data.get("patterns", {}).get(pattern)
        if not isinstance(table, dict):
            raise InputError(f"{path}: missing [patterns.{pattern}]")
        where = f"patterns.{pattern}"
        ids = table.get("exercises", [])
        missing = [i for i in ids if i not in exercises]
        if missing:
            raise InputError(f"{path}: {where}.exercises names unknown exercise(s) {missing}")
        patterns[pattern] = PatternAdvice(
            pattern, _require(table, "title", where, path), _require(table, "resembles", where, path),
            _require(table, "cue", where, path), _require(table, "cue_detail", where, path),
            tuple(exercises[i] for i in ids))
    return Library(patterns, exercises)


@lru_cache(maxsize=4)
def load_library(path: str | None = None) -> Library:
    """The exercise library (default: the bundled file)."""
    p = Path(path) if path else EXERCISES_PATH
    try:
        with open(p, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(f"exercise library not found: {p}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"exercise library {p} is not valid TOML: {exc}") from None
    return parse_library(data, p)
