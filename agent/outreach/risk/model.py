"""The default-risk model: trained with scikit-learn, scored with numpy alone.

The model is a logistic regression on standardised features, so every score explains
itself exactly: feature i moves the log-odds by ``coef_i * (value_i - mean_i) / scale_i``,
that is, relative to an average account of the training data. The explanation is given
in the log-odds of the uncalibrated model; Platt calibration is an increasing affine map
of those log-odds (``slope * logit + offset``), so it keeps the ranking and the signs,
and the calibrated log-odds are still exactly ``slope * (intercept + sum) + offset``.

The exported JSON holds everything scoring needs, so scoring imports no scikit-learn.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from agent.outreach.risk.features import (
    FEATURE_DESCRIPTIONS,
    FEATURE_NAMES,
    LABEL,
    FloatArray,
)

MODEL_FILE = "risk_model.json"
DEMO_MODEL_PATH = Path(__file__).resolve().parents[2] / "data" / "outreach" / MODEL_FILE
FORMAT: Final = "santun-risk-model/1"
TOP_FEATURES = 3


class RiskModelError(ValueError):
    """A model file is missing, unreadable, or was trained on other features."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReliabilityBin(_Frozen):
    """One bin of the reliability table: predicted against observed default rate."""

    lower: float
    upper: float
    count: int
    mean_predicted: float | None
    observed_rate: float | None


class Metrics(_Frozen):
    """Held-out test metrics of the calibrated model."""

    auc: float
    brier: float
    ece: float
    test_rows: int
    test_positive_rate: float
    reliability: tuple[ReliabilityBin, ...]


class Calibration(_Frozen):
    """Platt calibration: ``p = sigmoid(slope * logit + offset)``."""

    method: Literal["platt"] = "platt"
    slope: float
    offset: float


class ModelFile(_Frozen):
    """The JSON model file (everything scoring needs, plus how it was made)."""

    format: Literal["santun-risk-model/1"] = FORMAT
    model: Literal["logistic_regression"] = "logistic_regression"
    label: Literal["defaulted_90d"] = LABEL
    features: tuple[str, ...]
    scaler_mean: tuple[float, ...]
    scaler_scale: tuple[float, ...]
    coefficients: tuple[float, ...]
    intercept: float
    calibration: Calibration
    metrics: Metrics
    training_rows: int
    calibration_rows: int
    data_source: str
    synthetic: bool
    created: datetime


@dataclass(frozen=True)
class Contribution:
    """How much one feature moved a score, in log-odds (positive = riskier)."""

    name: str
    description: str
    value: float
    contribution: float


@dataclass(frozen=True)
class RiskScore:
    """A calibrated default probability and the features that drove it.

    Attributes:
        probability: calibrated probability of 90+ days past due within three months.
        uncalibrated_probability: the logistic regression's own probability.
        base_log_odds: the intercept: log-odds of an average training account.
        top_features: the largest contributions by absolute value, both signs kept (a
            feature lowering the risk is as much a reason as one raising it).
        model_source: ``"synthetic"`` for the demo model, else the training file name.
    """

    probability: float
    uncalibrated_probability: float
    base_log_odds: float
    top_features: tuple[Contribution, ...]
    model_source: str


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _sigmoids(x: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(x, -500, 500))), dtype=np.float64)


class RiskModel:
    """A trained default-risk model, read from its JSON file."""

    def __init__(self, spec: ModelFile) -> None:
        """Wrap a validated model file.

        Raises:
            RiskModelError: If the file's features differ from this version's.

        """
        if spec.features != FEATURE_NAMES:
            raise RiskModelError(
                f"the model was trained on features {', '.join(spec.features)}; this "
                f"version computes {', '.join(FEATURE_NAMES)}. Retrain with santun risk train"
            )
        sizes = {len(spec.scaler_mean), len(spec.scaler_scale), len(spec.coefficients)}
        if sizes != {len(FEATURE_NAMES)} or min(spec.scaler_scale) <= 0:
            raise RiskModelError("scaler and coefficients do not match the features")
        self.spec = spec
        self._mean = np.asarray(spec.scaler_mean)
        self._scale = np.asarray(spec.scaler_scale)
        self._coef = np.asarray(spec.coefficients)

    @classmethod
    def load(cls, path: Path) -> RiskModel:
        """Read a model file.

        Raises:
            RiskModelError: If the file cannot be read or is not a model of this version.

        """
        try:
            return cls(ModelFile.model_validate_json(path.read_bytes()))
        except OSError as exc:
            raise RiskModelError(f"{path.name}: cannot read {path}: {exc}") from exc
        except (ValidationError, RiskModelError) as exc:
            raise RiskModelError(f"{path.name}: not a usable risk model: {exc}") from exc

    def save(self, path: Path) -> None:
        """Write the model as JSON, via a temporary file then a rename."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        try:
            partial.write_text(self.spec.model_dump_json(indent=1) + "\n", encoding="utf-8")
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)

    @property
    def source(self) -> str:
        """Where the training rows came from: ``"synthetic"`` or the CSV file name."""
        return self.spec.data_source

    def logits(self, x: FloatArray) -> FloatArray:
        """Uncalibrated log-odds of rows of features (columns in ``FEATURE_NAMES`` order)."""
        return np.asarray(((x - self._mean) / self._scale) @ self._coef + self.spec.intercept)

    def probabilities(self, x: FloatArray) -> FloatArray:
        """Calibrated probabilities of rows of features."""
        calibration = self.spec.calibration
        return _sigmoids(calibration.slope * self.logits(x) + calibration.offset)

    def score(self, features: Mapping[str, float], top: int | None = TOP_FEATURES) -> RiskScore:
        """Score one account's features (see ``account_features``).

        Args:
            features: A value for every name in ``FEATURE_NAMES``.
            top: How many contributions to keep (``None``: all of them).

        Raises:
            ValueError: If a feature is missing.

        """
        missing = [name for name in FEATURE_NAMES if name not in features]
        if missing:
            raise ValueError(f"missing feature(s): {', '.join(missing)}")
        values = np.asarray([float(features[name]) for name in FEATURE_NAMES])
        parts = self._coef * (values - self._mean) / self._scale
        logit = self.spec.intercept + float(parts.sum())
        contributions = sorted(
            (
                Contribution(name, FEATURE_DESCRIPTIONS[name], float(value), float(part))
                for name, value, part in zip(FEATURE_NAMES, values, parts, strict=True)
            ),
            key=lambda c: abs(c.contribution),
            reverse=True,
        )
        calibration = self.spec.calibration
        return RiskScore(
            probability=_sigmoid(calibration.slope * logit + calibration.offset),
            uncalibrated_probability=_sigmoid(logit),
            base_log_odds=self.spec.intercept,
            top_features=tuple(contributions[:top]),
            model_source=self.source,
        )


def load_risk_model(data_dir: Path) -> RiskModel:
    """Load ``data_dir/risk_model.json`` if a lender trained one, else the demo model.

    A broken trained model is an error, never a silent fall-back to synthetic scores.
    """
    trained = data_dir / MODEL_FILE
    return RiskModel.load(trained if trained.exists() else DEMO_MODEL_PATH)
