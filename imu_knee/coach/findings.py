"""What the coach hands back: findings, what it could not assess, and the safety note."""

from __future__ import annotations

from dataclasses import dataclass, field

SAFETY_NOTE = (
    "This is not a diagnosis: it shows what the sensors measured, which movement pattern "
    "that resembles and the usual advice for it. If you try the advice for 4-6 weeks "
    "without improvement, or if pain increases, see a physical therapist. If you are "
    "recovering from a knee injury, follow your clinician's advice."
)


@dataclass
class Finding:
    """One recognised pattern on one side (or both), with its evidence and advice."""

    pattern: str
    side: str  # "left", "right" or "both"
    evidence: str  # sentences a person can read, with the numbers
    steps: list[float]  # ic_s of the steps behind it
    confidence: float  # 0..1
    cue: str  # the immediate cue, in full
    live_cue: str  # the short cue for live use
    title: str = ""
    resembles: str = ""
    exercises: list[dict] = field(default_factory=list)
    comparisons: list[dict] = field(default_factory=list)  # machine-readable evidence
    safety: str = SAFETY_NOTE

    @property
    def confidence_label(self) -> str:
        return "high" if self.confidence >= 0.75 else "medium" if self.confidence >= 0.5 else "low"

    def to_dict(self) -> dict:
        return {
            "pattern": self.pattern,
            "side": self.side,
            "title": self.title,
            "evidence": self.evidence,
            "evidence_detail": self.comparisons,
            "steps": [round(float(t), 4) for t in self.steps],
            "confidence": round(float(self.confidence), 2),
            "confidence_label": self.confidence_label,
            "cue": self.cue,
            "live_cue": self.live_cue,
            "resembles": self.resembles,
            "exercises": self.exercises,
            "safety": self.safety,
        }


@dataclass(frozen=True)
class NotAssessed:
    """A pattern (and side) the coach could not judge, and why."""

    pattern: str
    side: str
    reason: str

    def to_dict(self) -> dict:
        return {"pattern": self.pattern, "side": self.side, "reason": self.reason}


@dataclass
class CoachResult:
    findings: list[Finding]
    not_assessed: list[NotAssessed]
    thresholds_source: str = "defaults"
    safety: str = SAFETY_NOTE

    def to_dict(self) -> dict:
        return {
            "findings": [f.to_dict() for f in self.findings],
            "not_assessed": [n.to_dict() for n in self.not_assessed],
            "thresholds": self.thresholds_source,
            "safety": self.safety,
        }
