"""A synthetic repayment history, made up to train and test the demo risk model.

What it is: a small latent-propensity simulation. Every row draws a hidden "financial
stress" ``z ~ N(0, 1)`` that the model never sees. Stress makes missed and late cycles
more likely (a missed cycle makes the next one likelier still), lowers replies, raises
undeliverable messages and broken promises. Days past due follow from the trailing run
of missed cycles, and the label ``defaulted_90d`` (1 = the account is, or reaches, 90+
days past due within the next three months) is drawn from stress, days past due,
utilisation (a fuller card, or a loan early in its tenor, is riskier) and a few
behaviours: broken promises, hardship, an open dispute, recent partial payments.
An account already 90+ days past due counts as defaulted unless it cures, which stress
makes rarer. It is seeded and deterministic: the same ``rows`` and ``seed`` always
give the same table.

What it is not: a sample of any lender's debtors, or of Indonesian borrowers. Its
coefficients were chosen by hand so that the signs are plausible and the demo runs;
nothing in it was estimated from real data. Nor is it a benchmark: a model's AUC on
it measures how well the model recovers this hand-made process, not how well it would
predict real defaults. A model trained on it says nothing about real debtors until it
is retrained on the lender's own history (``santun risk train``).

Rows have exactly the feature columns of ``features.FEATURE_NAMES`` plus the label;
``santun risk generate --rows 20000 --seed 2026 --out FILE.csv`` writes them as CSV.
"""

from __future__ import annotations

import numpy as np

from agent.outreach.risk.features import FEATURE_NAMES, FloatArray, History

SOURCE = "synthetic"
DEMO_ROWS = 20_000
DEMO_SEED = 2026
_CYCLES = 6


def _sigmoid(x: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


def _cycles(rng: np.random.Generator, z: FloatArray) -> dict[str, FloatArray]:
    """The last six cycles, oldest first: missed (sticky) or paid with some days late."""
    n = z.shape[0]
    missed = np.zeros((n, _CYCLES), dtype=bool)
    days_late = np.zeros((n, _CYCLES))
    previous = np.zeros(n, dtype=bool)
    for cycle in range(_CYCLES):
        p_miss = np.where(previous, _sigmoid(0.6 + 1.0 * z), _sigmoid(-3.6 + 1.4 * z))
        miss = rng.random(n) < p_miss
        late = ~miss & (rng.random(n) < _sigmoid(-1.3 + 1.1 * z))
        days = np.minimum(1 + rng.poisson(np.exp(1.4 + 0.35 * z)), 29)
        days_late[:, cycle] = np.where(late, days, 0)
        missed[:, cycle] = miss
        previous = miss
    trailing = np.zeros(n)
    still = np.ones(n, dtype=bool)
    for cycle in reversed(range(_CYCLES)):
        still &= missed[:, cycle]
        trailing += still
    paid = _CYCLES - missed.sum(axis=1)
    return {
        "trailing": trailing,
        "missed_cycles_6": missed.sum(axis=1).astype(np.float64),
        "on_time_cycles_6": (~missed & (days_late == 0)).sum(axis=1).astype(np.float64),
        "avg_days_late_paid": days_late.sum(axis=1) / np.maximum(paid, 1),
    }


def _arrears(
    rng: np.random.Generator, z: FloatArray, trailing: FloatArray
) -> dict[str, FloatArray]:
    """Days past due from the trailing missed cycles; months since the last payment."""
    n = z.shape[0]
    current_late = rng.random(n) < _sigmoid(-2.6 + 0.9 * z)
    dpd = np.where(current_late, rng.integers(1, 30, n), 0).astype(np.float64)
    dpd = np.where(trailing > 0, 30 * (trailing - 1) + rng.integers(1, 46, n), dpd)
    dpd = np.where(trailing == _CYCLES, 150 + rng.integers(1, 211, n), dpd)
    partial = (dpd > 0) & (rng.random(n) < _sigmoid(-0.3 - 0.9 * z))
    recent = (dpd == 0) | partial
    months = np.where(recent, rng.uniform(0, 1.2, n), dpd / 30.44 + rng.uniform(0, 1, n))
    return {"dpd": dpd, "months_since_payment": months, "partial": partial.astype(np.float64)}


def _account(rng: np.random.Generator, z: FloatArray, dpd: FloatArray) -> dict[str, FloatArray]:
    """Product, utilisation and the hardship / dispute / promise flags."""
    n = z.shape[0]
    kta = np.less(rng.random(n), 0.3)
    mean = _sigmoid(-0.5 + 0.8 * z)
    card = np.minimum(rng.beta(mean * 6, (1 - mean) * 6) * 1.1, 1.3)
    loan = rng.beta(2.0, 2.0, n)
    hardship = rng.random(n) < _sigmoid(-3.6 + 0.9 * z + 0.6 * (dpd > 30))
    promise = (dpd > 0) & (rng.random(n) < _sigmoid(-1.5 - 0.4 * z))
    return {
        "utilisation": np.where(kta, loan, card),
        "is_kta": kta.astype(np.float64),
        "hardship_declared": hardship.astype(np.float64),
        "open_dispute": np.less(rng.random(n), 0.03).astype(np.float64),
        "open_promise": promise.astype(np.float64),
    }


def _contact(rng: np.random.Generator, z: FloatArray, dpd: FloatArray) -> dict[str, FloatArray]:
    """Messages sent, delivered and answered in 60 days; promises kept and broken in 12."""
    attempts = rng.poisson(0.6 + 0.06 * np.minimum(dpd, 90))
    undelivered = rng.binomial(attempts, _sigmoid(-2.4 + 0.8 * z))
    replies = rng.binomial(attempts - undelivered, _sigmoid(0.2 - 0.9 * z))
    return {
        "replies_60d": replies.astype(np.float64),
        "unanswered_60d": (attempts - undelivered - replies).astype(np.float64),
        "undelivered_60d": undelivered.astype(np.float64),
        "promises_kept_12m": rng.poisson(np.exp(-1.2 - 0.4 * z)).astype(np.float64),
        "promises_broken_12m": rng.poisson(np.exp(-2.0 + 0.8 * z)).astype(np.float64),
    }


def _label(rng: np.random.Generator, z: FloatArray, c: dict[str, FloatArray]) -> FloatArray:
    """Whether the account is, or reaches, 90+ days past due within three months."""
    logit = (
        -3.0
        + 1.0 * z
        + 0.05 * c["dpd"]
        + 0.35 * c["promises_broken_12m"]
        - 0.2 * c["promises_kept_12m"]
        + 0.5 * c["hardship_declared"]
        + 0.4 * c["open_dispute"]
        - 0.4 * c["open_promise"]
        - 0.8 * c["partial"]
        + 0.8 * (c["utilisation"] - 0.5)
        + 0.25 * c["undelivered_60d"]
        + 0.1 * c["unanswered_60d"]
        - 0.15 * c["replies_60d"]
    )
    n = z.shape[0]
    rolls = rng.random(n) < _sigmoid(logit)
    cured = rng.random(n) < _sigmoid(-2.6 - 0.7 * z)
    return np.where(c["dpd"] >= 90, ~cured, rolls).astype(np.float64)


def generate_history(rows: int = DEMO_ROWS, seed: int = DEMO_SEED) -> History:
    """Generate a synthetic repayment history (see the module docstring for what it is).

    Args:
        rows: How many rows (one per account).
        seed: The random seed; the same rows and seed always give the same history.

    Returns:
        The history, with every feature column and the ``defaulted_90d`` label, and
        ``source`` set to ``"synthetic"``.

    Raises:
        ValueError: If ``rows`` is not positive.

    """
    if rows < 1:
        raise ValueError(f"rows must be at least 1, got {rows}")
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(rows)
    columns = _cycles(rng, z)
    columns |= _arrears(rng, z, columns["trailing"])
    columns |= _account(rng, z, columns["dpd"])
    columns |= _contact(rng, z, columns["dpd"])
    y = _label(rng, z, columns)
    x = np.column_stack([columns[name] for name in FEATURE_NAMES])
    return History(x=x.astype(np.float64), y=y.astype(np.int64), source=SOURCE)
