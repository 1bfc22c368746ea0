"""Tests of the portfolio models and loader."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from agent.portfolio import DEFAULT_PORTFOLIO_PATH, PortfolioError, load_portfolio

EXPECTED_IDS = [f"CC-{n}" for n in range(1001, 1011)] + ["KTA-2001", "KTA-2002"]


def _raw() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEFAULT_PORTFOLIO_PATH.read_text(encoding="utf-8"))
    return data


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "portfolio.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_packaged_portfolio_has_all_twelve_accounts() -> None:
    """The packaged file loads with every demo account, in file order."""
    portfolio = load_portfolio()
    assert portfolio.as_of == dt.date(2026, 11, 20)
    assert portfolio.currency == "IDR"
    assert [account.account_id for account in portfolio.accounts] == EXPECTED_IDS


@pytest.mark.parametrize("index", range(len(EXPECTED_IDS)), ids=EXPECTED_IDS)
def test_account_round_trips_the_fixture_figures(index: int) -> None:
    """Every key and figure of the JSON survives loading unchanged."""
    raw = _raw()["accounts"][index]
    account = load_portfolio().accounts[index]
    assert account.model_dump(mode="json", exclude_unset=True) == raw


def test_convenience_properties() -> None:
    """last4, total_due and open_dispute_amount read the right stored figures."""
    portfolio = load_portfolio()
    card, disputed, loan = (portfolio.account(i) for i in ("CC-1003", "CC-1008", "KTA-2001"))
    assert (card.last4, card.total_due, card.open_dispute_amount) == ("9054", 12450000, 0)
    assert (disputed.total_due, disputed.open_dispute_amount) == (9726000, 3200000)
    assert (loan.last4, loan.total_due, loan.open_dispute_amount) == ("7315", 3824000, 0)
    assert loan.loan is not None and loan.loan.oldest_unpaid_due_date == dt.date(2026, 10, 18)
    current_loan = portfolio.account("KTA-2002").loan
    assert current_loan is not None and current_loan.oldest_unpaid_due_date is None


def test_resolved_dispute_is_not_excluded() -> None:
    """Only an open dispute's amount counts as excluded."""
    disputed = load_portfolio().account("CC-1008")
    assert disputed.dispute is not None
    resolved = disputed.model_copy(
        update={"dispute": disputed.dispute.model_copy(update={"status": "resolved"})}
    )
    assert resolved.open_dispute_amount == 0


def test_promise_to_pay_and_history_are_typed() -> None:
    """Nested dates and the null entries of the payment history are parsed."""
    portfolio = load_portfolio()
    promise = portfolio.account("CC-1009").promise_to_pay
    assert promise is not None
    assert (promise.date, promise.amount) == (dt.date(2026, 11, 25), 1000000)
    assert portfolio.account("CC-1003").payment_history_days_late == [0, None, 21, 0, 35, None]


def test_unknown_account_id_raises_key_error() -> None:
    """Looking up a missing account is a KeyError."""
    with pytest.raises(KeyError):
        load_portfolio().account("CC-9999")


def test_wrong_type_names_file_field_and_account(tmp_path: Path) -> None:
    """A string where an amount is expected is rejected with its location."""
    data = _raw()
    data["accounts"][2]["statement"]["total_due"] = "12.450.000"
    with pytest.raises(PortfolioError) as info:
        load_portfolio(_write(tmp_path, data))
    message = str(info.value)
    assert message.startswith("portfolio.json: accounts.2.statement.total_due (CC-1003): ")
    assert "valid integer" in message


def test_unknown_key_is_rejected(tmp_path: Path) -> None:
    """A misspelt key is an error, not silently ignored."""
    data = _raw()
    data["accounts"][0]["hardship_declard"] = True
    with pytest.raises(PortfolioError, match=r"accounts\.0\.hardship_declard \(CC-1001\)"):
        load_portfolio(_write(tmp_path, data))


def test_card_account_without_statement_is_rejected(tmp_path: Path) -> None:
    """A kartu_kredit account must carry a statement."""
    data = _raw()
    del data["accounts"][1]["statement"]
    with pytest.raises(PortfolioError, match=r"accounts\.1 \(CC-1002\): .*needs statement"):
        load_portfolio(_write(tmp_path, data))


def test_duplicate_account_ids_are_rejected(tmp_path: Path) -> None:
    """account_id must be unique."""
    data = _raw()
    data["accounts"][1]["account_id"] = "CC-1001"
    with pytest.raises(PortfolioError, match="unique"):
        load_portfolio(_write(tmp_path, data))


def test_invalid_json_and_missing_file(tmp_path: Path) -> None:
    """Syntax errors and missing files are PortfolioErrors naming the file."""
    path = tmp_path / "portfolio.json"
    path.write_text('{"as_of": ', encoding="utf-8")
    with pytest.raises(PortfolioError, match="portfolio.json: invalid JSON"):
        load_portfolio(path)
    with pytest.raises(PortfolioError, match="missing.json: cannot read"):
        load_portfolio(tmp_path / "missing.json")


def test_portfolio_error_is_a_value_error() -> None:
    """Callers may catch PortfolioError as ValueError."""
    assert issubclass(PortfolioError, ValueError)
