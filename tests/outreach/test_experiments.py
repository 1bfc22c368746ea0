"""Experiments: definitions, sticky assignment, attribution and the significance test."""

from __future__ import annotations

import copy
import hashlib
import json
import math
import random
import re
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats  # type: ignore[import-untyped]

from agent.outreach.experiment_stats import (
    ArmRate,
    Exposure,
    OutcomeEvent,
    _chi2_sf_closed_form,
    _newcombe,
    chi_square,
    summarise,
    wilson_interval,
)
from agent.outreach.experiments import (
    Experiment,
    ExperimentError,
    assign,
    eligible,
    load_experiments,
)

T0 = datetime.fromisoformat("2026-11-23T10:00:00+07:00")
BASE: dict[str, Any] = {
    "id": "tone-test",
    "description": "Does a warmer tone get more replies?",
    "status": "running",
    "start": date(2026, 11, 20),
    "end": None,
    "population": {"segments": ["procrastinator"]},
    "arms": [
        {"id": "kontrol", "weight": 1},
        {"id": "hangat", "weight": 1, "overrides": {"tone": "empati"}},
    ],
    "primary_outcome": "reply",
}


def _write(tmp_path: Path, *experiments: dict[str, Any]) -> Path:
    path = tmp_path / "experiments.yaml"
    path.write_text(yaml.safe_dump({"experiments": list(experiments)}), encoding="utf-8")
    return path


def _experiment(tmp_path: Path, **changes: Any) -> Experiment:
    return load_experiments(_write(tmp_path, {**copy.deepcopy(BASE), **changes}))[0]


def _ids(count: int) -> list[str]:
    return [f"ACC-{i:06d}" for i in range(count)]


# --- the bundled file ---------------------------------------------------------------


def test_bundled_demo_experiment() -> None:
    (experiment,) = load_experiments()
    assert experiment.id == "tone-2026-12"
    assert experiment.status == "running"
    assert experiment.start == date(2026, 11, 20) and experiment.end is None
    assert [(arm.id, arm.weight) for arm in experiment.arms] == [("kontrol", 1), ("hangat", 1)]
    assert experiment.arms[0].overrides.tone is None
    assert experiment.arms[1].overrides.tone == "empati"
    assert experiment.population.segments == ("procrastinator", "inconsistent_payer")
    assert experiment.population.risk_bands is None
    assert experiment.primary_outcome == "reply"


# --- assignment ---------------------------------------------------------------------


@given(st.text(min_size=1, max_size=40))
def test_assignment_is_deterministic(account_id: str) -> None:
    (experiment,) = load_experiments()
    (reloaded,) = load_experiments()
    arm = assign(experiment, account_id)
    assert arm in experiment.arms
    assert assign(experiment, account_id) == arm
    assert assign(reloaded, account_id) == arm


def test_assignment_follows_the_documented_hash() -> None:
    """A change of hashing would silently reshuffle running experiments' debtors."""
    (experiment,) = load_experiments()
    arms = "".join(assign(experiment, account).id[0] for account in _ids(24))
    assert arms == "kkhkhhkkkkhhhhhkhhkhhkkh"
    for account in _ids(200):
        top_bit = hashlib.sha256(f"tone-2026-12:{account}".encode()).digest()[0] >> 7
        assert assign(experiment, account).id == ("hangat" if top_bit else "kontrol")


@pytest.mark.parametrize("weights", [(1, 1), (1, 3), (2, 3, 5)])
def test_arm_proportions_follow_weights(tmp_path: Path, weights: tuple[int, ...]) -> None:
    arms = [{"id": f"arm{i}", "weight": w} for i, w in enumerate(weights)]
    experiment = _experiment(tmp_path, arms=arms)
    n = 10_000
    counts = Counter(assign(experiment, account).id for account in _ids(n))
    for i, weight in enumerate(weights):
        share = weight / sum(weights)
        sd = math.sqrt(n * share * (1 - share))
        assert abs(counts[f"arm{i}"] - n * share) < 4 * sd, (counts, weights)


def test_other_experiments_do_not_change_assignments(tmp_path: Path) -> None:
    alone = load_experiments(_write(tmp_path, BASE))[0]
    other = {**copy.deepcopy(BASE), "id": "send-hour", "arms": [
        {"id": "pagi", "weight": 5, "overrides": {"send_hour": 9}},
        {"id": "sore", "weight": 1, "overrides": {"send_hour": 16}},
        {"id": "malam", "weight": 2, "overrides": {"send_hour": 19}},
    ]}  # fmt: skip
    together = load_experiments(_write(tmp_path, other, BASE))
    first = next(e for e in together if e.id == BASE["id"])
    accounts = _ids(2_000)
    assert [assign(alone, a).id for a in accounts] == [assign(first, a).id for a in accounts]


def test_experiments_are_randomised_independently(tmp_path: Path) -> None:
    a = _experiment(tmp_path)
    b = _experiment(tmp_path, id="tone-test-2")
    accounts = _ids(4_000)
    same = sum(assign(a, x).id == assign(b, x).id for x in accounts) / len(accounts)
    assert abs(same - 0.5) < 4 * math.sqrt(0.25 / len(accounts))


# --- loader errors ------------------------------------------------------------------


def _arms(*specs: tuple[str, Any]) -> list[dict[str, Any]]:
    return [{"id": arm_id, "weight": weight} for arm_id, weight in specs]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"primary_outcome": "click"}, "primary_outcome: Input should be 'reply'"),
        ({"arms": []}, "arms: needs at least two arms, found 0"),
        ({"arms": _arms(("kontrol", 1))}, "arms: needs at least two arms, found 1"),
        ({"arms": _arms(("a", 1), ("a", 2))}, "arms: duplicate arm id 'a'"),
        ({"arms": _arms(("a", 1), ("b", 0))}, "arms[1].weight: Input should be greater than 0"),
        ({"arms": _arms(("a", 1), ("b", -2))}, "arms[1].weight: Input should be greater than 0"),
        ({"arms": _arms(("a", 1), ("b", "1"))}, "arms[1].weight: Input should be a valid int"),
        ({"colour": "red"}, "colour: unknown key"),
        ({"arms": [{"id": "a", "weight": 1, "share": 2}, {"id": "b", "weight": 1}]},
         "arms[0].share: unknown key"),
        ({"arms": [{"id": "a", "weight": 1, "overrides": {"font": "x"}},
                   {"id": "b", "weight": 1}]}, "arms[0].overrides.font: unknown key"),
        ({"arms": [{"id": "a", "weight": 1, "overrides": {"tone": "galak"}},
                   {"id": "b", "weight": 1}]}, "arms[0].overrides.tone: Input should be"),
        ({"arms": [{"id": "a", "weight": 1, "overrides": {"send_hour": 24}},
                   {"id": "b", "weight": 1}]}, "arms[0].overrides.send_hour"),
        ({"population": {"segments": ["rich"]}}, "population.segments[0]: Input should be"),
        ({"end": date(2026, 11, 1)}, "end: 2026-11-01 is before start 2026-11-20"),
        ({"status": "live"}, "status: Input should be 'running'"),
    ],
)  # fmt: skip
def test_loader_errors_name_experiment_and_field(
    tmp_path: Path, changes: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ExperimentError) as caught:
        _experiment(tmp_path, **changes)
    message = str(caught.value)
    assert message.startswith("experiments.yaml: experiment 'tone-test': "), message
    assert expected in message


def test_loader_rejects_duplicate_experiment_ids(tmp_path: Path) -> None:
    with pytest.raises(ExperimentError, match="experiment 'tone-test': id: duplicate"):
        load_experiments(_write(tmp_path, BASE, BASE))


def test_loader_names_an_experiment_without_id_by_position(tmp_path: Path) -> None:
    nameless = {key: value for key, value in BASE.items() if key != "id"}
    with pytest.raises(ExperimentError, match=r"experiment #2: id: Field required"):
        load_experiments(_write(tmp_path, {**BASE, "id": "first"}, nameless))


def test_loader_file_level_errors(tmp_path: Path) -> None:
    with pytest.raises(ExperimentError, match="cannot read"):
        load_experiments(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("experiments: [\n", encoding="utf-8")
    with pytest.raises(ExperimentError, match="not valid YAML"):
        load_experiments(bad)
    bad.write_text("experiment: []\n", encoding="utf-8")
    with pytest.raises(ExperimentError, match="only the key 'experiments'"):
        load_experiments(bad)


def test_end_on_start_day_is_allowed(tmp_path: Path) -> None:
    assert _experiment(tmp_path, end=date(2026, 11, 20)).end == date(2026, 11, 20)


# --- eligibility --------------------------------------------------------------------


def test_eligibility(tmp_path: Path) -> None:
    experiment = _experiment(
        tmp_path,
        end=date(2026, 12, 31),
        population={"segments": ["procrastinator"], "risk_bands": ["medium", "high"]},
    )
    on = date(2026, 12, 1)
    assert eligible(experiment, "procrastinator", "high", on)
    assert not eligible(experiment, "on_time", "high", on)
    assert not eligible(experiment, "procrastinator", "low", on)
    assert not eligible(experiment, "procrastinator", "high", date(2026, 11, 19))
    assert eligible(experiment, "procrastinator", "high", date(2026, 11, 20))
    assert eligible(experiment, "procrastinator", "high", date(2026, 12, 31))
    assert not eligible(experiment, "procrastinator", "high", date(2027, 1, 1))
    paused = _experiment(tmp_path, status="paused")
    assert not eligible(paused, "procrastinator", "high", on)


def test_missing_population_keys_include_everyone(tmp_path: Path) -> None:
    experiment = _experiment(tmp_path, population={})
    assert eligible(experiment, "hardship", "low", date(2030, 1, 1))


# --- attribution --------------------------------------------------------------------


def test_attribution_window_and_first_exposure(tmp_path: Path) -> None:
    experiment = _experiment(tmp_path)
    exposures = [
        Exposure("A", "kontrol", T0 + timedelta(days=2)),
        Exposure("A", "kontrol", T0),  # the earliest exposure is the one that counts
        Exposure("B", "kontrol", T0),
        Exposure("C", "kontrol", T0),
        Exposure("D", "kontrol", T0),
        Exposure("E", "hangat", T0),
        Exposure("F", "hangat", T0),
    ]
    outcomes = [
        OutcomeEvent("A", "reply", T0 + timedelta(days=1)),  # inside: counts
        OutcomeEvent("B", "reply", T0 - timedelta(minutes=1)),  # before exposure
        OutcomeEvent("B", "reply", T0),  # same instant: not after exposure
        OutcomeEvent("C", "reply", T0 + timedelta(days=7)),  # window edge: counts
        OutcomeEvent("D", "reply", T0 + timedelta(days=7, seconds=1)),  # too late
        OutcomeEvent("E", "payment", T0 + timedelta(hours=1)),
        OutcomeEvent("F", "reply", T0 + timedelta(hours=1)),
        OutcomeEvent("F", "reply", T0 + timedelta(days=3)),  # a repeat: counts once
        OutcomeEvent("Z", "reply", T0 + timedelta(hours=1)),  # never exposed
    ]
    result = summarise(experiment, exposures, outcomes)
    assert result.debtors == 6
    reply = {rate.arm_id: rate for rate in result.outcome("reply").arms}
    assert (reply["kontrol"].n, reply["kontrol"].successes) == (4, 2)
    assert (reply["hangat"].n, reply["hangat"].successes) == (2, 1)
    payment = {rate.arm_id: rate.successes for rate in result.outcome("payment").arms}
    assert payment == {"kontrol": 0, "hangat": 1}
    wider = summarise(experiment, exposures, outcomes, window=timedelta(days=8))
    assert wider.outcome("reply").arms[0].successes == 3
    narrower = summarise(experiment, exposures, outcomes, window=timedelta(hours=12))
    assert narrower.outcome("reply").arms[0].successes == 0


def test_exposure_errors(tmp_path: Path) -> None:
    experiment = _experiment(tmp_path)
    with pytest.raises(ExperimentError, match="unknown arm 'galak'"):
        summarise(experiment, [Exposure("A", "galak", T0)], [])
    both = [Exposure("A", "kontrol", T0), Exposure("A", "hangat", T0)]
    with pytest.raises(ExperimentError, match="'A' was exposed to arms 'kontrol' and 'hangat'"):
        summarise(experiment, both, [])


# --- statistics ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611),
     (1, 29, 0.0061, 0.1718)],
)  # fmt: skip
def test_wilson_interval_matches_newcombe_1998(
    successes: int, n: int, low: float, high: float
) -> None:
    assert wilson_interval(successes, n) == pytest.approx((low, high), abs=5e-5)


def test_newcombe_difference_matches_published_values() -> None:
    diff = _newcombe(ArmRate("t", 70, 56, 0.8, None), ArmRate("c", 80, 48, 0.6, None))
    assert diff.value == pytest.approx(0.2)
    assert diff.ci == pytest.approx((0.0524, 0.3339), abs=5e-5)


def test_chi_square_on_a_hand_computed_table() -> None:
    # 30/100 vs 45/100: pooled 0.375, so expected 37.5 / 62.5 per arm and
    # chi2 = 2 * 7.5**2 / 37.5 + 2 * 7.5**2 / 62.5 = 4.8; p = erfc(sqrt(2.4)).
    statistic, dof, p_value = chi_square([30, 45], [100, 100])
    assert statistic == pytest.approx(4.8)
    assert dof == 1
    assert p_value == pytest.approx(math.erfc(math.sqrt(2.4)))
    assert p_value == pytest.approx(0.028460, abs=1e-6)


def test_chi_square_matches_scipy_on_three_arms() -> None:
    successes, totals = [12, 30, 21], [80, 95, 70]
    table = [[s, n - s] for s, n in zip(successes, totals, strict=True)]
    reference = stats.chi2_contingency(table, correction=False)
    statistic, dof, p_value = chi_square(successes, totals)
    assert (statistic, dof, p_value) == pytest.approx(
        (reference.statistic, reference.dof, reference.pvalue)
    )


@pytest.mark.parametrize("dof", [1, 2, 3, 4, 5, 8])
@pytest.mark.parametrize("x", [0.0, 0.3, 1.0, 3.84, 7.5, 20.0, 60.0])
def test_closed_form_fallback_matches_scipy(dof: int, x: float) -> None:
    assert _chi2_sf_closed_form(x, dof) == pytest.approx(stats.chi2.sf(x, dof), rel=1e-9, abs=1e-15)


def _simulate(
    experiment: Experiment, rates: dict[str, float], n: int, seed: int
) -> tuple[list[Exposure], list[OutcomeEvent]]:
    rng = random.Random(seed)
    exposures, outcomes = [], []
    for arm_id, rate in rates.items():
        for i in range(n):
            account = f"{arm_id}-{i}"
            exposures.append(Exposure(account, arm_id, T0))
            if rng.random() < rate:
                outcomes.append(OutcomeEvent(account, "reply", T0 + timedelta(hours=5)))
    return exposures, outcomes


def test_clear_difference_is_significant(tmp_path: Path) -> None:
    experiment = _experiment(tmp_path)
    result = summarise(experiment, *_simulate(experiment, {"kontrol": 0.2, "hangat": 0.4}, 300, 7))
    reply = result.outcome("reply")
    assert reply.significant and reply.p_value is not None and reply.p_value < 0.001
    assert reply.difference is not None and reply.difference.treatment == "hangat"
    assert 0 < reply.difference.ci[0] < reply.difference.value < reply.difference.ci[1]
    assert result.verdict.startswith("hangat vs kontrol: reply ")
    assert result.verdict.endswith("p<0.001 — significant at 5%")


def test_null_case_is_not_significant(tmp_path: Path) -> None:
    experiment = _experiment(tmp_path)
    result = summarise(experiment, *_simulate(experiment, {"kontrol": 0.3, "hangat": 0.3}, 300, 11))
    reply = result.outcome("reply")
    assert reply.p_value is not None and not reply.significant
    assert re.search(r"— not significant yet \(p=0\.\d+\); keep running$", result.verdict)
    assert reply.difference is not None and reply.difference.ci[0] < 0 < reply.difference.ci[1]


def test_false_positive_rate_is_near_five_percent(tmp_path: Path) -> None:
    experiment = _experiment(tmp_path)
    runs = 400
    positives = sum(
        summarise(experiment, *_simulate(experiment, {"kontrol": 0.3, "hangat": 0.3}, 120, seed))
        .outcome("reply")
        .significant
        for seed in range(runs)
    )
    assert abs(positives / runs - 0.05) < 4 * math.sqrt(0.05 * 0.95 / runs)


def _counts(experiment: Experiment, table: dict[str, tuple[int, int]]) -> Any:
    exposures, outcomes = [], []
    for arm_id, (hits, n) in table.items():
        for i in range(n):
            exposures.append(Exposure(f"{arm_id}-{i}", arm_id, T0))
            if i < hits:
                outcomes.append(OutcomeEvent(f"{arm_id}-{i}", "reply", T0 + timedelta(hours=1)))
    return summarise(experiment, exposures, outcomes)


def test_verdict_wording_matches_the_report_format(tmp_path: Path) -> None:
    result = _counts(_experiment(tmp_path), {"kontrol": (33, 118), "hangat": (49, 120)})
    assert (
        result.verdict
        == "hangat vs kontrol: reply 41% vs 28% (n=120/118), p=0.037 — significant at 5%"
    )


@pytest.mark.parametrize(
    "table",
    [
        {"kontrol": (12, 29), "hangat": (15, 40)},  # an arm under 30 debtors
        {"kontrol": (1, 100), "hangat": (2, 100)},  # expected counts under 5
    ],
)
def test_too_few_debtors_refuses_to_test(tmp_path: Path, table: dict[str, tuple[int, int]]) -> None:
    result = _counts(_experiment(tmp_path), table)
    reply = result.outcome("reply")
    assert reply.p_value is None and reply.chi2 is None and not reply.significant
    assert reply.refusal is not None and reply.refusal.startswith("too few debtors to test")
    assert "too few debtors to test" in result.verdict and "significant" not in result.verdict


def test_three_arms_and_stopped_experiment(tmp_path: Path) -> None:
    arms = _arms(("kontrol", 1), ("hangat", 1), ("ringkas", 1))
    experiment = _experiment(tmp_path, arms=arms, status="stopped")
    result = _counts(experiment, {"kontrol": (30, 100), "hangat": (33, 100), "ringkas": (31, 100)})
    reply = result.outcome("reply")
    assert reply.dof == 2 and reply.difference is None
    assert result.verdict.startswith("reply: kontrol 30% (n=100), hangat 33% (n=100), ringkas 31%")
    assert result.verdict.endswith(")") and "keep running" not in result.verdict


def test_to_dict_is_json_ready(tmp_path: Path) -> None:
    result = _counts(_experiment(tmp_path), {"kontrol": (33, 118), "hangat": (49, 120)})
    data = json.loads(json.dumps(result.to_dict()))
    assert data["experiment_id"] == "tone-test" and data["window_days"] == 7.0
    assert [test["outcome"] for test in data["outcomes"]] == [
        "reply", "promise", "payment", "complaint", "opt_out"
    ]  # fmt: skip
    reply = data["outcomes"][0]
    assert reply["arms"][1] == {
        "arm_id": "hangat", "n": 120, "successes": 49, "rate": pytest.approx(49 / 120),
        "ci": pytest.approx(list(wilson_interval(49, 120))),
    }  # fmt: skip
    assert reply["difference"]["treatment"] == "hangat" and len(reply["difference"]["ci"]) == 2
    assert data["outcomes"][1]["refusal"].startswith("too few debtors")
    assert data["verdict"] == result.verdict


def test_wilson_interval_needs_debtors() -> None:
    with pytest.raises(ValueError, match="n must be positive"):
        wilson_interval(0, 0)
