"""Analysis of outreach experiments: outcomes per debtor, intervals and significance.

Debtors, not messages, are the unit of analysis: each outcome is counted at most once per
debtor, and only inside the attribution window after the debtor's first exposure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from agent.outreach.experiments import OUTCOMES, Experiment, ExperimentError, Outcome

DEFAULT_WINDOW = timedelta(days=7)
ALPHA = 0.05
MIN_DEBTORS_PER_ARM = 30
MIN_EXPECTED = 5.0
TOO_FEW = (
    f"too few debtors to test (each arm needs {MIN_DEBTORS_PER_ARM} or more, "
    f"and every cell an expected count of {MIN_EXPECTED:g} or more)"
)
_Z95 = 1.959963984540054  # two-sided 95% standard normal quantile


@dataclass(frozen=True)
class Exposure:
    """A debtor's enrolment: the arm and when they were first sent its message."""

    account_id: str
    arm_id: str
    first_sent_at: datetime


@dataclass(frozen=True)
class OutcomeEvent:
    """Something a debtor did that the experiment may count."""

    account_id: str
    kind: Outcome
    at: datetime


class _Report:
    """Mixin giving result dataclasses a ``to_dict()`` for JSON reports."""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict: tuples become lists, ``x: timedelta`` becomes ``x_days``."""
        return cast(dict[str, Any], _plain(self))


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        plain = {}
        for field in fields(value):
            item = getattr(value, field.name)
            days = isinstance(item, timedelta)
            plain[f"{field.name}_days" if days else field.name] = _plain(item)
        return plain
    if isinstance(value, timedelta):
        return value.total_seconds() / 86400
    return [_plain(item) for item in value] if isinstance(value, tuple) else value


@dataclass(frozen=True)
class ArmRate(_Report):
    """One arm's result for one outcome, with a Wilson 95% interval (``None`` when n=0)."""

    arm_id: str
    n: int
    successes: int
    rate: float | None
    ci: tuple[float, float] | None


@dataclass(frozen=True)
class Difference(_Report):
    """Treatment rate minus control rate, with a Newcombe (Wilson-score) 95% interval."""

    treatment: str
    control: str
    value: float
    ci: tuple[float, float]


@dataclass(frozen=True)
class OutcomeTest(_Report):
    """One outcome across arms: rates, a chi-square test and (two arms) the difference.

    ``chi2`` and ``p_value`` are ``None`` when ``refusal`` says the data are too thin.
    """

    outcome: Outcome
    arms: tuple[ArmRate, ...]
    chi2: float | None
    dof: int
    p_value: float | None
    significant: bool
    refusal: str | None
    difference: Difference | None


@dataclass(frozen=True)
class ExperimentResult(_Report):
    """The analysis of one experiment, with a plain-English verdict on its primary outcome."""

    experiment_id: str
    primary_outcome: Outcome
    window: timedelta
    debtors: int
    outcomes: tuple[OutcomeTest, ...]
    verdict: str

    def outcome(self, kind: Outcome) -> OutcomeTest:
        """Return the test of outcome ``kind``."""
        return next(test for test in self.outcomes if test.outcome == kind)


def summarise(
    experiment: Experiment,
    exposures: Iterable[Exposure],
    outcomes: Iterable[OutcomeEvent],
    *,
    window: timedelta = DEFAULT_WINDOW,
) -> ExperimentResult:
    """Count each outcome per arm and test whether the arms differ.

    An outcome counts for a debtor when it happened strictly after their first exposure
    and at most ``window`` later; repeats count once.

    Raises:
        ExperimentError: When an exposure names an unknown arm, or a debtor is in two arms.
    """
    first = _first_exposures(experiment, exposures)
    hits: dict[Outcome, set[str]] = {kind: set() for kind in OUTCOMES}
    for event in outcomes:
        exposure = first.get(event.account_id)
        if exposure and exposure.first_sent_at < event.at <= exposure.first_sent_at + window:
            hits[event.kind].add(event.account_id)
    tests = tuple(_test(experiment, kind, first, hits[kind]) for kind in OUTCOMES)
    primary = next(test for test in tests if test.outcome == experiment.primary_outcome)
    verdict = _verdict(primary, running=experiment.status == "running")
    return ExperimentResult(
        experiment.id, experiment.primary_outcome, window, len(first), tests, verdict
    )


def _first_exposures(experiment: Experiment, exposures: Iterable[Exposure]) -> dict[str, Exposure]:
    first: dict[str, Exposure] = {}
    for exposure in exposures:
        experiment.arm(exposure.arm_id)
        seen = first.get(exposure.account_id)
        if seen is not None and seen.arm_id != exposure.arm_id:
            raise ExperimentError(
                f"experiment {experiment.id!r}: debtor {exposure.account_id!r} was exposed to "
                f"arms {seen.arm_id!r} and {exposure.arm_id!r}; a debtor must stay in one arm"
            )
        if seen is None or exposure.first_sent_at < seen.first_sent_at:
            first[exposure.account_id] = exposure
    return first


def _test(
    experiment: Experiment, kind: Outcome, first: dict[str, Exposure], hit: set[str]
) -> OutcomeTest:
    totals = [sum(e.arm_id == arm.id for e in first.values()) for arm in experiment.arms]
    wins = [sum(first[a].arm_id == arm.id for a in hit) for arm in experiment.arms]
    rates = tuple(
        ArmRate(arm.id, n, s, s / n if n else None, wilson_interval(s, n) if n else None)
        for arm, n, s in zip(experiment.arms, totals, wins, strict=True)
    )
    difference = None
    if len(rates) == 2 and all(rate.n for rate in rates):
        difference = _newcombe(rates[1], rates[0])
    dof = len(rates) - 1
    if min(totals) < MIN_DEBTORS_PER_ARM or _min_expected(wins, totals) < MIN_EXPECTED:
        return OutcomeTest(kind, rates, None, dof, None, False, TOO_FEW, difference)
    statistic, dof, p_value = chi_square(wins, totals)
    return OutcomeTest(kind, rates, statistic, dof, p_value, p_value < ALPHA, None, difference)


def _min_expected(successes: Sequence[int], totals: Sequence[int]) -> float:
    grand = sum(totals)
    if grand == 0:
        return 0.0
    hits = sum(successes)
    return min(n * min(hits, grand - hits) / grand for n in totals)


def wilson_interval(successes: int, n: int, z: float = _Z95) -> tuple[float, float]:
    """Return the Wilson score interval (95% by default) for ``successes`` out of ``n``."""
    if n <= 0:
        raise ValueError("n must be positive")
    p = successes / n
    scale = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / scale
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / scale
    return max(0.0, centre - half), min(1.0, centre + half)


def _newcombe(treatment: ArmRate, control: ArmRate) -> Difference:
    p1, p0 = treatment.successes / treatment.n, control.successes / control.n
    l1, u1 = wilson_interval(treatment.successes, treatment.n)
    l0, u0 = wilson_interval(control.successes, control.n)
    diff = p1 - p0
    low = diff - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = diff + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return Difference(treatment.arm_id, control.arm_id, diff, (low, high))


def chi_square(successes: Sequence[int], totals: Sequence[int]) -> tuple[float, int, float]:
    """Pearson chi-square test of independence on a k x 2 table (no continuity correction).

    Args:
        successes: Debtors with the outcome, per arm.
        totals: Debtors exposed, per arm (all positive).

    Returns:
        The statistic, the degrees of freedom (k - 1) and the p-value.
    """
    grand, hits = sum(totals), sum(successes)
    statistic = 0.0
    for s, n in zip(successes, totals, strict=True):
        for observed, column in ((s, hits), (n - s, grand - hits)):
            expected = n * column / grand
            statistic += (observed - expected) ** 2 / expected if expected else 0.0
    dof = len(totals) - 1
    return statistic, dof, chi2_sf(statistic, dof)


def chi2_sf(statistic: float, dof: int) -> float:
    """Return P(X >= statistic) for X chi-square with ``dof`` degrees of freedom."""
    try:
        from scipy.stats import chi2  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - scikit-learn brings scipy
        return _chi2_sf_closed_form(statistic, dof)
    return float(chi2.sf(statistic, dof))


def _chi2_sf_closed_form(x: float, dof: int) -> float:
    """Chi-square upper tail for integer ``dof`` (Abramowitz & Stegun 26.4.4 and 26.4.5)."""
    if x <= 0:
        return 1.0
    if dof % 2 == 0:
        term = total = math.exp(-x / 2)
        for i in range(1, dof // 2):
            term *= x / (2 * i)
            total += term
        return min(1.0, total)
    total = math.erfc(math.sqrt(x / 2))
    term = math.sqrt(2 * x / math.pi) * math.exp(-x / 2)
    for r in range(1, (dof - 1) // 2 + 1):
        total += term
        term *= x / (2 * r + 1)
    return min(1.0, total)


def _verdict(test: OutcomeTest, *, running: bool) -> str:
    def pct(rate: ArmRate) -> str:
        return "n/a" if rate.rate is None else f"{rate.rate:.0%}"

    if len(test.arms) == 2:
        control, treatment = test.arms
        head = (
            f"{treatment.arm_id} vs {control.arm_id}: {test.outcome} "
            f"{pct(treatment)} vs {pct(control)} (n={treatment.n}/{control.n})"
        )
    else:
        listed = ", ".join(f"{rate.arm_id} {pct(rate)} (n={rate.n})" for rate in test.arms)
        head = f"{test.outcome}: {listed}"
    if test.p_value is None:
        return f"{head} — {test.refusal or TOO_FEW}"
    p = "p<0.001" if test.p_value < 0.001 else f"p={test.p_value:.2g}"
    if test.significant:
        return f"{head}, {p} — significant at {ALPHA:.0%}"
    if running:
        return f"{head} — not significant yet ({p}); keep running"
    return f"{head} — not significant ({p})"
