"""The default-risk score: synthetic history, training, calibration, explanations, CLI."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from agent.config import Settings
from agent.outreach.contact import ContactStats
from agent.outreach.risk import (
    FEATURE_DESCRIPTIONS,
    FEATURE_NAMES,
    RiskDataError,
    RiskModel,
    RiskModelError,
    account_features,
    generate_history,
    load_risk_model,
    read_history_csv,
    train,
)
from agent.outreach.risk.features import COLUMNS, LABEL, write_history_csv
from agent.outreach.risk.model import DEMO_MODEL_PATH, MODEL_FILE
from agent.outreach.risk.training import expected_calibration_error, reliability, split
from agent.portfolio import load_portfolio
from agent.risk_cli import risk_app


@pytest.fixture(scope="module")
def demo_retrained() -> RiskModel:
    """The demo recipe (20 000 synthetic rows, seed 2026), trained afresh."""
    return train(generate_history(20_000, 2026), seed=2026)


@pytest.fixture(scope="module")
def shipped() -> RiskModel:
    return RiskModel.load(DEMO_MODEL_PATH)


@pytest.fixture
def demo_features() -> dict[str, dict[str, float]]:
    portfolio = load_portfolio()
    return {
        a.account_id: account_features(a, ContactStats(), portfolio.as_of)
        for a in portfolio.accounts
    }


def _csv(path: Path, rows: list[list[object]], header: tuple[str, ...] = COLUMNS) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _good_rows(count: int = 300) -> list[list[object]]:
    history = generate_history(count, seed=11)
    return [[*x, y] for x, y in zip(history.x.tolist(), history.y.tolist(), strict=True)]


# --- synthetic history ---------------------------------------------------------------


def test_generator_is_deterministic_and_has_the_feature_columns(tmp_path: Path) -> None:
    first, again, other = (generate_history(500, s) for s in (7, 7, 8))
    assert np.array_equal(first.x, again.x) and np.array_equal(first.y, again.y)
    assert not np.array_equal(first.x, other.x)
    assert first.x.shape == (500, len(FEATURE_NAMES)) and set(first.y.tolist()) == {0, 1}
    write_history_csv(first, tmp_path / "h.csv")
    with (tmp_path / "h.csv").open() as handle:
        header = next(csv.reader(handle))
    assert header == [*FEATURE_NAMES, "defaulted_90d"]
    assert read_history_csv(tmp_path / "h.csv").source == "h.csv"


def test_every_feature_has_a_description() -> None:
    assert set(FEATURE_DESCRIPTIONS) == set(FEATURE_NAMES)
    assert all(text.endswith(".") and len(text) > 15 for text in FEATURE_DESCRIPTIONS.values())


# --- training, metrics, calibration --------------------------------------------------


def test_held_out_discrimination_and_calibration(demo_retrained: RiskModel) -> None:
    metrics = demo_retrained.spec.metrics
    # Measured over seeds 1-8: AUC 0.904-0.919, ECE 0.005-0.016, Brier 0.056-0.064.
    assert metrics.auc > 0.88
    assert metrics.ece < 0.03
    assert metrics.brier < 0.075
    assert metrics.test_rows == 4000 and sum(b.count for b in metrics.reliability) == 4000
    assert demo_retrained.spec.training_rows == 12000
    assert demo_retrained.spec.calibration_rows == 4000


def test_the_model_beats_days_past_due_alone(demo_retrained: RiskModel) -> None:
    from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]

    history = generate_history(20_000, 2026)
    _, _, test = split(history.y, 2026)
    dpd_only = roc_auc_score(history.y[test], history.x[test, FEATURE_NAMES.index("dpd")])
    assert demo_retrained.spec.metrics.auc > dpd_only + 0.03


def test_split_is_stratified_and_disjoint() -> None:
    y = generate_history(3000, 5).y
    fit, calibrate, test = split(y, 2026)
    assert len(set(fit) | set(calibrate) | set(test)) == 3000
    assert (len(fit), len(calibrate), len(test)) == (1800, 600, 600)
    assert abs(y[test].mean() - y.mean()) < 0.005 and abs(y[calibrate].mean() - y.mean()) < 0.005


def test_reliability_table_and_ece_by_hand() -> None:
    p = np.array([0.05, 0.05, 0.95, 0.95, 0.55])
    y = np.array([0, 1, 1, 1, 0])
    table = reliability(p, y)
    assert [b.count for b in table] == [2, 0, 0, 0, 0, 1, 0, 0, 0, 2]
    assert table[0].observed_rate == 0.5 and table[1].mean_predicted is None
    # (2 * 0.45 + 1 * 0.55 + 2 * 0.05) / 5
    assert expected_calibration_error(table) == pytest.approx(0.31)


def test_shipped_model_is_the_documented_recipe(
    shipped: RiskModel, demo_retrained: RiskModel
) -> None:
    assert shipped.source == "synthetic" and shipped.spec.synthetic
    assert shipped.spec.coefficients == pytest.approx(demo_retrained.spec.coefficients, abs=1e-3)
    assert shipped.spec.metrics.auc == pytest.approx(demo_retrained.spec.metrics.auc, abs=1e-3)


# --- scores and explanations ---------------------------------------------------------


def test_contributions_add_up_to_the_uncalibrated_log_odds(
    shipped: RiskModel, demo_features: dict[str, dict[str, float]]
) -> None:
    for features in demo_features.values():
        score = shipped.score(features, top=None)
        assert len(score.top_features) == len(FEATURE_NAMES)
        logit = score.base_log_odds + sum(c.contribution for c in score.top_features)
        p = score.uncalibrated_probability
        assert logit == pytest.approx(math.log(p / (1 - p)), rel=1e-6, abs=1e-6)
        sizes = [abs(c.contribution) for c in score.top_features]
        assert sizes == sorted(sizes, reverse=True)
        calibration = shipped.spec.calibration
        calibrated = 1 / (1 + math.exp(-(calibration.slope * logit + calibration.offset)))
        assert score.probability == pytest.approx(calibrated)


@pytest.mark.parametrize(
    ("feature", "low", "high", "riskier"),
    [
        ("dpd", 10, 80, True),
        ("missed_cycles_6", 0, 4, True),
        ("promises_broken_12m", 0, 3, True),
        ("undelivered_60d", 0, 4, True),
        ("on_time_cycles_6", 0, 6, False),
        ("promises_kept_12m", 0, 3, False),
    ],
)
def test_scores_move_the_obvious_way(
    shipped: RiskModel,
    demo_features: dict[str, dict[str, float]],
    feature: str,
    low: float,
    high: float,
    riskier: bool,
) -> None:
    base = demo_features["KTA-2001"]
    p_low = shipped.score({**base, feature: low}).probability
    p_high = shipped.score({**base, feature: high}).probability
    assert (p_high > p_low) is riskier and p_high != p_low


def test_demo_accounts_score_sensibly(
    shipped: RiskModel, demo_features: dict[str, dict[str, float]]
) -> None:
    scores = {aid: shipped.score(f) for aid, f in demo_features.items()}
    assert len(scores) == 12
    assert all(0 < s.probability < 1 and len(s.top_features) == 3 for s in scores.values())
    assert all(s.model_source == "synthetic" for s in scores.values())
    assert scores["CC-1001"].probability < 0.10
    assert scores["CC-1010"].probability > 0.95
    assert scores["CC-1010"].top_features[0].name == "dpd"
    assert scores["CC-1010"].top_features[0].value == 299
    assert scores["CC-1010"].top_features[0].description == FEATURE_DESCRIPTIONS["dpd"]
    assert scores["CC-1002"].probability > scores["CC-1007"].probability


def test_account_features_read_the_account(demo_features: dict[str, dict[str, float]]) -> None:
    assert list(demo_features["CC-1001"]) == list(FEATURE_NAMES)
    card, loan = demo_features["CC-1006"], demo_features["KTA-2001"]
    assert card["utilisation"] == pytest.approx(31_750_000 / 40_000_000)
    assert card["missed_cycles_6"] == 6 and card["on_time_cycles_6"] == 0
    assert loan["utilisation"] == pytest.approx(21_000_000 / 36_000_000) and loan["is_kta"] == 1
    assert demo_features["CC-1008"]["open_dispute"] == 1
    assert demo_features["CC-1002"]["avg_days_late_paid"] == pytest.approx(10)


def test_contact_outcomes_enter_the_features() -> None:
    account = load_portfolio().account("CC-1003")
    stats = ContactStats(attempts_60d=6, undelivered_60d=1, replies_60d=2, promises_broken_12m=2)
    features = account_features(account, stats, load_portfolio().as_of)
    assert features["unanswered_60d"] == 3 and features["undelivered_60d"] == 1
    assert features["replies_60d"] == 2 and features["promises_broken_12m"] == 2


def test_scoring_needs_no_scikit_learn() -> None:
    code = (
        "import sys; from pathlib import Path\n"
        "from agent.outreach.risk import load_risk_model, account_features\n"
        "from agent.outreach.contact import ContactStats\n"
        "from agent.portfolio import load_portfolio\n"
        "p = load_portfolio(); m = load_risk_model(Path('no-such-dir'))\n"
        "[m.score(account_features(a, ContactStats(), p.as_of)) for a in p.accounts]\n"
        "assert 'sklearn' not in sys.modules, 'sklearn was imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


# --- CSV errors ----------------------------------------------------------------------


def test_missing_columns_are_named(tmp_path: Path) -> None:
    header = tuple(c for c in COLUMNS if c not in ("dpd", LABEL))
    with pytest.raises(RiskDataError, match=r"bad\.csv: missing column\(s\): dpd, defaulted_90d"):
        read_history_csv(_csv(tmp_path / "bad.csv", [], header))


def test_a_non_number_names_its_line_and_column(tmp_path: Path) -> None:
    rows = _good_rows()
    rows[1][FEATURE_NAMES.index("utilisation")] = "tinggi"
    with pytest.raises(RiskDataError, match=r"line 3, column 'utilisation': 'tinggi' is not"):
        read_history_csv(_csv(tmp_path / "h.csv", rows))
    rows = _good_rows()
    rows[4][0] = ""
    with pytest.raises(RiskDataError, match=r"line 6, column 'dpd': an empty value"):
        read_history_csv(_csv(tmp_path / "h.csv", rows))


def test_a_label_other_than_0_or_1_is_refused(tmp_path: Path) -> None:
    rows = _good_rows()
    rows[9][-1] = "2"
    with pytest.raises(RiskDataError, match=r"line 11, column 'defaulted_90d': expected 0 or 1"):
        read_history_csv(_csv(tmp_path / "h.csv", rows))


def test_short_rows_too_few_rows_and_one_class(tmp_path: Path) -> None:
    rows = _good_rows()
    rows[0] = rows[0][:5]
    with pytest.raises(RiskDataError, match=r"line 2 has 5 values; the header has 16"):
        read_history_csv(_csv(tmp_path / "h.csv", rows))
    with pytest.raises(RiskDataError, match=r"150 data rows; training needs at least 200"):
        read_history_csv(_csv(tmp_path / "h.csv", _good_rows()[:150]))
    one_class = [[*row[:-1], 0] for row in _good_rows()]
    with pytest.raises(RiskDataError, match=r"every row has defaulted_90d = 0"):
        read_history_csv(_csv(tmp_path / "h.csv", one_class))


# --- CLI and model precedence --------------------------------------------------------


def test_cli_generates_trains_and_reports(tmp_path: Path) -> None:
    runner = CliRunner()
    history, model = tmp_path / "history.csv", tmp_path / "out" / "model.json"
    result = runner.invoke(
        risk_app, ["generate", "--rows", "800", "--seed", "3", "--out", str(history)]
    )
    assert result.exit_code == 0, result.output
    assert "synthetic" in result.output
    result = runner.invoke(risk_app, ["train", str(history), "--out", str(model)])
    assert result.exit_code == 0, result.output
    assert "AUC" in result.output and "Reliability" in result.output
    assert RiskModel.load(model).source == "history.csv"
    result = runner.invoke(risk_app, ["train", str(history), "--out", str(model), "--json"])
    report = json.loads(result.output)
    assert 0.8 < report["auc"] <= 1 and report["data_source"] == "history.csv"
    assert len(report["reliability"]) == 10 and report["synthetic"] is False


def test_cli_bad_input_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    rows = _good_rows()
    rows[0][0] = "abc"
    bad, model = _csv(tmp_path / "bad.csv", rows), tmp_path / "model.json"
    result = CliRunner().invoke(risk_app, ["train", str(bad), "--out", str(model)])
    assert result.exit_code == 2
    assert "bad.csv: line 2, column 'dpd'" in result.output
    assert list(tmp_path.iterdir()) == [bad]
    result = CliRunner().invoke(risk_app, ["train", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2 and "cannot read" in result.output


def test_a_model_trained_into_the_data_dir_wins(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_risk_model(settings.data_dir).source == "synthetic"
    monkeypatch.setattr("agent.risk_cli.get_settings", lambda: settings)
    history = _csv(tmp_path / "lender.csv", _good_rows(400))
    result = CliRunner().invoke(risk_app, ["train", str(history)])
    assert result.exit_code == 0, result.output
    assert (settings.data_dir / MODEL_FILE).exists()
    model = load_risk_model(settings.data_dir)
    assert model.source == "lender.csv" and not model.spec.synthetic
    (settings.data_dir / MODEL_FILE).write_text("{}")
    with pytest.raises(RiskModelError, match="not a usable risk model"):
        load_risk_model(settings.data_dir)


def test_a_model_of_other_features_is_refused(tmp_path: Path) -> None:
    data = json.loads(DEMO_MODEL_PATH.read_text())
    data["features"] = [*data["features"][:-1], "kol"]
    (tmp_path / MODEL_FILE).write_text(json.dumps(data))
    with pytest.raises(RiskModelError, match="Retrain with santun risk train"):
        load_risk_model(tmp_path)
