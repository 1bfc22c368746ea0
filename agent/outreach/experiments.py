"""A/B (multi-arm) experiments on proactive outreach: definitions and sticky assignment.

Experiments are data (``agent/data/outreach/experiments.yaml``). A debtor's arm is a
SHA-256 hash of (experiment id, account id) spread over the arms' cumulative weights, so
it is sticky without stored state and independent of every other experiment. The
analysis (outcomes, intervals, significance) is in ``experiment_stats``.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, Self, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, model_validator

from agent.policy_formulas import load_yaml

DEFAULT_EXPERIMENTS_PATH = Path(__file__).parent.parent / "data" / "outreach" / "experiments.yaml"

Outcome = Literal["reply", "promise", "payment", "complaint", "opt_out"]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
Status = Literal["running", "paused", "stopped"]
Tone = Literal["ramah", "lugas", "empati", "informatif"]
Segment = Literal[
    "on_time", "procrastinator", "inconsistent_payer", "hardship", "disputing", "not_reachable"
]
RiskBand = Literal["low", "medium", "high"]
PromptVariant = Literal["default", "ringkas", "hangat"]
Slug = Annotated[str, Field(strict=True, pattern=r"^[a-z0-9][a-z0-9_-]*$")]


class ExperimentError(ValueError):
    """The experiments file is unreadable or invalid, or analysis input is inconsistent."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Overrides(_Model):
    """What an arm changes in the outreach plan; ``None`` keeps the default."""

    tone: Tone | None = None
    lead_plans: tuple[Annotated[str, Field(strict=True, min_length=1)], ...] | None = None
    send_hour: Annotated[StrictInt, Field(ge=0, le=23)] | None = None
    prompt_variant: PromptVariant | None = None


class Arm(_Model):
    """One arm of an experiment: its id, relative weight and overrides."""

    id: Slug
    weight: Annotated[StrictInt, Field(gt=0)]
    overrides: Overrides = Overrides()


class Population(_Model):
    """Who may be enrolled; ``None`` means every segment (or risk band)."""

    segments: tuple[Segment, ...] | None = Field(default=None, min_length=1)
    risk_bands: tuple[RiskBand, ...] | None = Field(default=None, min_length=1)


class Experiment(_Model):
    """One experiment; the first arm is the control."""

    id: Slug
    description: Annotated[str, Field(strict=True, min_length=1)]
    status: Status
    start: date
    end: date | None = None
    population: Population = Population()
    arms: tuple[Arm, ...]
    primary_outcome: Outcome

    @model_validator(mode="after")
    def _check(self) -> Self:
        if len(self.arms) < 2:
            raise ValueError(f"arms: needs at least two arms, found {len(self.arms)}")
        ids = [arm.id for arm in self.arms]
        duplicates = sorted({arm_id for arm_id in ids if ids.count(arm_id) > 1})
        if duplicates:
            raise ValueError(f"arms: duplicate arm id {duplicates[0]!r}")
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end: {self.end} is before start {self.start}")
        return self

    def arm(self, arm_id: str) -> Arm:
        """Return the arm called ``arm_id``.

        Raises:
            ExperimentError: When the experiment has no such arm.
        """
        for arm in self.arms:
            if arm.id == arm_id:
                return arm
        raise ExperimentError(f"experiment {self.id!r}: unknown arm {arm_id!r}")


def load_experiments(path: Path | str | None = None) -> list[Experiment]:
    """Load and validate the experiments file (default: the bundled one).

    Raises:
        ExperimentError: Naming the file, the experiment and the field at fault.
    """
    source = Path(path) if path is not None else DEFAULT_EXPERIMENTS_PATH
    try:
        data = load_yaml(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ExperimentError(f"{source.name}: cannot read the file: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ExperimentError(f"{source.name}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or set(data) - {"experiments"}:
        raise ExperimentError(f"{source.name}: expected a mapping with only the key 'experiments'")
    entries = data.get("experiments") or []
    if not isinstance(entries, list):
        raise ExperimentError(f"{source.name}: experiments: expected a list")
    experiments: list[Experiment] = []
    for index, entry in enumerate(entries):
        experiment = _parse(entry, index, source.name)
        if any(other.id == experiment.id for other in experiments):
            raise ExperimentError(
                f"{source.name}: experiment {experiment.id!r}: id: duplicate experiment id"
            )
        experiments.append(experiment)
    return experiments


def _parse(entry: Any, index: int, file_name: str) -> Experiment:
    name = entry.get("id") if isinstance(entry, dict) else None
    label = f"experiment {name!r}" if isinstance(name, str) else f"experiment #{index + 1}"
    try:
        return Experiment.model_validate(entry)
    except ValidationError as exc:
        raise ExperimentError(f"{file_name}: {label}: {_describe(exc)}") from exc


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        location = ""
        for item in error["loc"]:
            location += f"[{item}]" if isinstance(item, int) else f".{item}"
        location = location.lstrip(".")
        message = "unknown key" if error["type"] == "extra_forbidden" else str(error["msg"])
        message = message.removeprefix("Value error, ")
        parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts)


def eligible(experiment: Experiment, segment: str, risk_band: str, on: date) -> bool:
    """Whether a debtor of ``segment`` and ``risk_band`` may be enrolled on day ``on``."""
    population = experiment.population
    return (
        experiment.status == "running"
        and experiment.start <= on
        and (experiment.end is None or on <= experiment.end)
        and (population.segments is None or segment in population.segments)
        and (population.risk_bands is None or risk_band in population.risk_bands)
    )


def assign(experiment: Experiment, account_id: str) -> Arm:
    """Return the debtor's arm: deterministic, sticky, independent of other experiments."""
    digest = hashlib.sha256(f"{experiment.id}:{account_id}".encode()).digest()
    total = sum(arm.weight for arm in experiment.arms)
    point = (int.from_bytes(digest[:8], "big") * total) >> 64  # uniform on [0, total)
    for arm in experiment.arms:
        if point < arm.weight:
            return arm
        point -= arm.weight
    return experiment.arms[-1]  # unreachable: point < total
