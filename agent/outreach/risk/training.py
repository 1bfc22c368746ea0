"""Training the default-risk model; the only module that imports scikit-learn (lazily).

Rows are split, stratified on the label and with a fixed seed, into 60 % training (the
logistic regression), 20 % calibration (Platt) and 20 % test (the reported metrics). The
test rows are never used to fit or choose anything.

Regenerate the shipped demo model (20 000 synthetic rows, seed 2026) with
``santun risk train-demo`` (or ``python -m agent.risk_cli train-demo``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from agent.outreach.risk.features import (
    FEATURE_NAMES,
    FloatArray,
    History,
    IntArray,
    RiskDataError,
)
from agent.outreach.risk.model import (
    DEMO_MODEL_PATH,
    Calibration,
    Metrics,
    ModelFile,
    ReliabilityBin,
    RiskModel,
)
from agent.outreach.risk.synthetic import DEMO_ROWS, DEMO_SEED, SOURCE, generate_history

CALIBRATION_SHARE = 0.2
TEST_SHARE = 0.2


def reliability(p: FloatArray, y: IntArray, bins: int = 10) -> tuple[ReliabilityBin, ...]:
    """Bin predictions into equal-width bins; compare mean prediction and default rate."""
    index = np.minimum((p * bins).astype(np.int64), bins - 1)
    table = []
    for i in range(bins):
        inside = index == i
        count = int(inside.sum())
        table.append(
            ReliabilityBin(
                lower=i / bins,
                upper=(i + 1) / bins,
                count=count,
                mean_predicted=float(p[inside].mean()) if count else None,
                observed_rate=float(y[inside].mean()) if count else None,
            )
        )
    return tuple(table)


def expected_calibration_error(table: tuple[ReliabilityBin, ...]) -> float:
    """Count-weighted mean gap between predicted and observed rates over the bins."""
    total = sum(b.count for b in table)
    gaps = (
        b.count * abs(b.mean_predicted - b.observed_rate)
        for b in table
        if b.mean_predicted is not None and b.observed_rate is not None
    )
    return float(sum(gaps) / total) if total else 0.0


def split(y: IntArray, seed: int) -> tuple[IntArray, IntArray, IntArray]:
    """Stratified row indices for training, calibration and test."""
    from sklearn.model_selection import train_test_split  # type: ignore[import-untyped]

    rows = np.arange(y.shape[0])
    rest, test = train_test_split(rows, test_size=TEST_SHARE, stratify=y, random_state=seed)
    share = CALIBRATION_SHARE / (1 - TEST_SHARE)
    fit, calibrate = train_test_split(rest, test_size=share, stratify=y[rest], random_state=seed)
    return fit, calibrate, test


def _fit_platt(logits: FloatArray, y: IntArray) -> Calibration:
    """Fit ``sigmoid(slope * logit + offset)`` on the calibration rows.

    Platt rather than isotonic: an affine map of the log-odds keeps each explanation
    exact and the ranking strictly monotone (isotonic is a step function that ties
    neighbouring scores and has no log-odds form), and two parameters fit stably on a
    calibration split of a few dozen to a few thousand rows, where isotonic overfits.
    """
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    # A huge C: Platt scaling is a plain maximum-likelihood fit, not a regularised one.
    platt = LogisticRegression(C=1e6, max_iter=1000).fit(logits.reshape(-1, 1), y)
    slope, offset = float(platt.coef_[0, 0]), float(platt.intercept_[0])
    if slope <= 0:
        raise RiskDataError(
            "the model ranks the calibration rows no better than chance; "
            "the history does not separate defaults from repayments"
        )
    return Calibration(slope=slope, offset=offset)


def _metrics(model: RiskModel, x: FloatArray, y: IntArray) -> Metrics:
    from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]

    p = model.probabilities(x)
    table = reliability(p, y)
    return Metrics(
        auc=float(roc_auc_score(y, p)),
        brier=float(np.mean((p - y) ** 2)),
        ece=expected_calibration_error(table),
        test_rows=int(y.shape[0]),
        test_positive_rate=float(y.mean()),
        reliability=table,
    )


def train(history: History, *, seed: int = DEMO_SEED, created: datetime | None = None) -> RiskModel:
    """Train, calibrate and evaluate a model on a history.

    Args:
        history: The rows (see ``read_history_csv`` or ``generate_history``).
        seed: The seed of the stratified split.
        created: The timestamp written into the model (default: now, UTC).

    Returns:
        The calibrated model, its held-out metrics inside (``model.spec.metrics``).

    Raises:
        RiskDataError: If the history cannot support a model.

    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

    fit, calibrate, test = split(history.y, seed)
    scaler = StandardScaler().fit(history.x[fit])
    regression = LogisticRegression(C=1.0, max_iter=2000)
    regression.fit(scaler.transform(history.x[fit]), history.y[fit])
    spec = ModelFile(
        features=FEATURE_NAMES,
        scaler_mean=tuple(float(v) for v in scaler.mean_),
        scaler_scale=tuple(float(v) for v in scaler.scale_),
        coefficients=tuple(float(v) for v in regression.coef_[0]),
        intercept=float(regression.intercept_[0]),
        calibration=Calibration(slope=1.0, offset=0.0),
        metrics=Metrics(auc=0, brier=0, ece=0, test_rows=0, test_positive_rate=0, reliability=()),
        training_rows=int(fit.shape[0]),
        calibration_rows=int(calibrate.shape[0]),
        data_source=history.source,
        synthetic=history.source == SOURCE,
        created=created or datetime.now(UTC),
    )
    # Scores come from the numpy path of the exported model, so what is evaluated here
    # is exactly what is later loaded and used.
    raw = RiskModel(spec)
    calibration = _fit_platt(raw.logits(history.x[calibrate]), history.y[calibrate])
    calibrated = RiskModel(spec.model_copy(update={"calibration": calibration}))
    metrics = _metrics(calibrated, history.x[test], history.y[test])
    return RiskModel(calibrated.spec.model_copy(update={"metrics": metrics}))


def train_demo_model(
    out: Path = DEMO_MODEL_PATH,
    *,
    rows: int = DEMO_ROWS,
    seed: int = DEMO_SEED,
    created: datetime | None = None,
) -> RiskModel:
    """Train the demo model on synthetic rows and write it to ``out`` (the shipped file)."""
    model = train(generate_history(rows, seed), seed=seed, created=created)
    model.save(out)
    return model
