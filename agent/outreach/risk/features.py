"""The default-risk features: names, descriptions, extraction and the history CSV format.

Every feature is a number a collector can read back from the account screen. ``kol`` is
left out on purpose: OJK collectibility is assigned from days past due, so it would only
duplicate ``dpd`` and split its weight between two collinear coefficients, which makes
the explanations harder to read without making the score better.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from agent.outreach.contact import ContactStats
from agent.portfolio import Account

LABEL: Final = "defaulted_90d"
MIN_ROWS = 200
MIN_PER_CLASS = 10
_DAYS_PER_MONTH = 30.44

FEATURE_DESCRIPTIONS: dict[str, str] = {
    "dpd": "Days past due today.",
    "months_since_payment": "Months since the last payment was received.",
    "missed_cycles_6": "Billing cycles with no payment among the last six.",
    "on_time_cycles_6": "Billing cycles paid on time among the last six.",
    "avg_days_late_paid": "Average days late of the cycles paid among the last six.",
    "utilisation": "Balance owed over the card limit, or KTA principal left over the original.",
    "is_kta": "1 for a personal loan (KTA), 0 for a credit card.",
    "hardship_declared": "1 if the debtor has declared financial hardship.",
    "open_dispute": "1 if a transaction dispute is open.",
    "open_promise": "1 if a promise to pay is open.",
    "replies_60d": "Replies from the debtor in the last 60 days.",
    "unanswered_60d": "Delivered messages of the last 60 days the debtor did not answer.",
    "undelivered_60d": "Messages of the last 60 days that could not be delivered.",
    "promises_kept_12m": "Promises to pay kept in the last 12 months.",
    "promises_broken_12m": "Promises to pay broken in the last 12 months.",
}
FEATURE_NAMES: tuple[str, ...] = tuple(FEATURE_DESCRIPTIONS)
COLUMNS: tuple[str, ...] = (*FEATURE_NAMES, LABEL)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class RiskDataError(ValueError):
    """A history file cannot be used for training; the message names the row and column."""


@dataclass(frozen=True)
class History:
    """A repayment history: one row per account and observation date.

    Attributes:
        x: feature values, shape (rows, len(FEATURE_NAMES)), columns in FEATURE_NAMES order.
        y: the label ``defaulted_90d`` (0 or 1) of each row.
        source: where the rows come from: ``"synthetic"`` or the CSV file name.
    """

    x: FloatArray
    y: IntArray
    source: str

    @property
    def rows(self) -> int:
        """The number of rows."""
        return int(self.y.shape[0])


def _utilisation(account: Account) -> float:
    if account.loan is not None:
        original = account.loan.principal_original
        return account.loan.outstanding_principal / original if original else 0.0
    if account.statement is not None and account.credit_limit:
        return account.statement.total_due / account.credit_limit
    return 0.0


def account_features(account: Account, contact: ContactStats, as_of: date) -> dict[str, float]:
    """Compute the risk features of one account, in ``FEATURE_NAMES`` order.

    Args:
        account: The account as stored in the portfolio.
        contact: The debtor's contact outcomes (empty stats when there is no history).
        as_of: The observation date (for the months since the last payment).

    Returns:
        A mapping from every feature name to its value.

    """
    history = account.payment_history_days_late[-6:]
    paid = [days for days in history if days is not None]
    delivered = max(0, contact.attempts_60d - contact.undelivered_60d)
    dispute_open = account.dispute is not None and account.dispute.status == "open"
    return {
        "dpd": float(account.dpd),
        "months_since_payment": max(0, (as_of - account.last_payment.date).days) / _DAYS_PER_MONTH,
        "missed_cycles_6": float(len(history) - len(paid)),
        "on_time_cycles_6": float(sum(1 for days in paid if days == 0)),
        "avg_days_late_paid": sum(paid) / len(paid) if paid else 0.0,
        "utilisation": _utilisation(account),
        "is_kta": 1.0 if account.product == "kta" else 0.0,
        "hardship_declared": 1.0 if account.hardship_declared else 0.0,
        "open_dispute": 1.0 if dispute_open else 0.0,
        "open_promise": 1.0 if account.promise_to_pay is not None else 0.0,
        "replies_60d": float(contact.replies_60d),
        "unanswered_60d": float(max(0, delivered - contact.replies_60d)),
        "undelivered_60d": float(contact.undelivered_60d),
        "promises_kept_12m": float(contact.promises_kept_12m),
        "promises_broken_12m": float(contact.promises_broken_12m),
    }


def _number(text: str, line: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        shown = repr(text) if text.strip() else "an empty value"
        raise RiskDataError(f"line {line}, column '{column}': {shown} is not a number") from None
    if not math.isfinite(value):
        raise RiskDataError(f"line {line}, column '{column}': {text!r} is not a finite number")
    return value


def _label(text: str, line: int) -> int:
    value = _number(text, line, LABEL)
    if value not in (0.0, 1.0):
        raise RiskDataError(f"line {line}, column '{LABEL}': expected 0 or 1, got {text!r}")
    return int(value)


def _header(header: list[str] | None) -> dict[str, int]:
    if not header:
        raise RiskDataError("the file is empty; expected a header row")
    positions = {column.strip(): index for index, column in enumerate(header)}
    missing = [column for column in COLUMNS if column not in positions]
    if missing:
        raise RiskDataError(f"missing column(s): {', '.join(missing)}")
    return positions


def _parse_row(
    row: list[str], line: int, width: int, positions: dict[str, int]
) -> tuple[list[float], int]:
    if len(row) != width:
        raise RiskDataError(f"line {line} has {len(row)} values; the header has {width}")
    values = [_number(row[positions[name]], line, name) for name in FEATURE_NAMES]
    return values, _label(row[positions[LABEL]], line)


def _check_counts(y: IntArray, name: str) -> None:
    if y.shape[0] < MIN_ROWS:
        raise RiskDataError(f"{name}: {y.shape[0]} data rows; training needs at least {MIN_ROWS}")
    positives = int(y.sum())
    if positives in (0, y.shape[0]):
        raise RiskDataError(
            f"{name}: every row has {LABEL} = {int(y[0])}; training needs both 0 and 1"
        )
    minority = min(positives, y.shape[0] - positives)
    if minority < MIN_PER_CLASS:
        raise RiskDataError(
            f"{name}: only {minority} rows of the rarer {LABEL} value; "
            f"training needs at least {MIN_PER_CLASS} of each"
        )


def read_history_csv(path: Path) -> History:
    """Read a lender's repayment history for training.

    The file needs a header with every feature column and ``defaulted_90d``; other
    columns (an account id, say) are ignored. Line numbers in errors are those of a text
    editor: the header is line 1.

    Raises:
        RiskDataError: If the file cannot be read, a column is missing, a value is not a
            number, the label is not 0/1, or there are too few rows or a single class.

    """
    rows: list[list[float]] = []
    labels: list[int] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            positions = _header(header)
            width = len(header or ())
            for row in reader:
                if any(cell.strip() for cell in row):
                    values, label = _parse_row(row, reader.line_num, width, positions)
                    rows.append(values)
                    labels.append(label)
    except RiskDataError as exc:
        raise RiskDataError(f"{path.name}: {exc}") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RiskDataError(f"{path.name}: cannot read {path}: {exc}") from exc
    y = np.asarray(labels, dtype=np.int64)
    _check_counts(y, path.name)
    x = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(FEATURE_NAMES))
    return History(x=x, y=y, source=path.name)


def write_history_csv(history: History, path: Path) -> None:
    """Write a history as CSV (header ``COLUMNS``), via a temporary file then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        with partial.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            for values, label in zip(history.x.tolist(), history.y.tolist(), strict=True):
                writer.writerow([f"{value:.6g}" for value in values] + [label])
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
