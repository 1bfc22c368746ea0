"""The outreach dashboard's numbers: pure data for the console page and its JSON twin.

``build_dashboard`` gathers, over the last ``days`` days: debtors per segment and risk band
(today's profiles), outbox messages per channel and status, sent messages per local hour,
the queued backlog per day, contact-window and cap refusals, promises, payments and the
experiments' results. Hours and days are the debtor's own (the outbox row's time zone).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime, timedelta
from typing import Any, get_args
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from agent.outreach.channels.base import CHANNEL_NAMES
from agent.outreach.debtors import Profile
from agent.outreach.experiment_data import OFFICE_TZ, experiment_results
from agent.outreach.experiment_stats import ExperimentResult
from agent.outreach.experiments import RiskBand, Segment
from agent.outreach.planner import PlannedMessage
from agent.outreach.risk.model import Contribution
from agent.outreach.service import OutreachService
from agent.storage.models import PromiseRow
from agent.storage.outreach import OutboxRow, OutreachStore
from agent.storage.payments import PaymentRow

Counts = dict[str, int]  # in display order
STATUSES = ("queued", "sending", "sent", "blocked", "failed", "cancelled")
REFUSAL_GROUPS = ("outside hours", "Sunday", "national holiday", "daily cap", "weekly cap")
_REFUSAL_PREFIXES = (  # the sender's reasons (agent/outreach/window.py), lower-cased
    ("before ", "outside hours"),
    ("from ", "outside hours"),
    ("national holiday", "national holiday"),
    ("daily cap", "daily cap"),
    ("weekly cap", "weekly cap"),
)
HOURS = tuple(f"{hour:02d}" for hour in range(24))
PLAN_DAYS = 7
MAX_DAYS = 366


@dataclass(frozen=True)
class DebtorRow:
    """One debtor as the dashboard's table shows them."""

    account_id: str
    segment: str
    reason: str
    band: str
    probability: float
    features: tuple[Contribution, ...]  # the risk score's top features
    planned: int  # reminders planned in the next PLAN_DAYS days
    skipped: str | None  # why none is planned


@dataclass(frozen=True)
class Matrix:
    """Counts in a table: ``values[r][c]`` for row ``rows[r]`` and column ``columns[c]``."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    values: tuple[tuple[int, ...], ...]

    def to_dict(self) -> dict[str, dict[str, int]]:
        """``{row: {column: count}}``."""
        pairs = zip(self.rows, self.values, strict=True)
        return {row: dict(zip(self.columns, values, strict=True)) for row, values in pairs}


@dataclass(frozen=True)
class Promises:
    """Promises to pay recorded in the period, and kept or broken ones reported in it."""

    made: int
    kept: int
    broken: int
    statuses: Counts  # of the promises made, by their status now


@dataclass(frozen=True)
class Payments:
    """Payments received in the period."""

    count: int
    total: int  # rupiah


@dataclass(frozen=True)
class Dashboard:
    """Everything the outreach dashboard shows."""

    now: datetime
    since: datetime
    days: int
    segments: Counts
    risk_bands: Counts
    debtors: tuple[DebtorRow, ...]
    messages_by_channel_status: Matrix
    sent_by_local_hour: Matrix  # rows: channels, columns: local hours "00".."23"
    queued_by_day: Counts  # ISO local dates of queued messages' send times
    refusals: Counts
    promises: Promises
    payments: Payments
    experiments: tuple[ExperimentResult, ...]

    def to_dict(self) -> dict[str, Any]:
        """The dashboard as JSON-ready data (``GET /console/outreach.json``)."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


def build_dashboard(
    service: OutreachService, factory: sessionmaker[Session], days: int = 30
) -> Dashboard:
    """Gather the dashboard over the last ``days`` days (1 to 366).

    Raises:
        ValueError: When ``days`` is out of range.
    """
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}")
    now = service.clock.now()
    since = now - timedelta(days=days)
    plan = service.plan(PLAN_DAYS)
    debtors = tuple(_debtor_row(p, plan.messages, plan.skipped) for p in plan.profiles)
    rows = _outbox(factory, since)
    store = service.outreach
    refused = store.events(["refused"], since)
    return Dashboard(
        now=now,
        since=since,
        days=days,
        segments=_ordered(Counter(d.segment for d in debtors), get_args(Segment)),
        risk_bands=_ordered(Counter(d.band for d in debtors), get_args(RiskBand)),
        debtors=debtors,
        messages_by_channel_status=_channel_status(rows),
        sent_by_local_hour=_sent_by_hour(rows, since),
        queued_by_day=_queued_by_day(rows),
        refusals=_ordered(
            Counter(refusal_group(str((e.detail or {}).get("reason", ""))) for e in refused),
            REFUSAL_GROUPS,
        ),
        promises=_promises(store, factory, since),
        payments=_payments(factory, since),
        experiments=tuple(experiment_results(store, factory, service.debtors.experiments, now)),
    )


def refusal_group(reason: str) -> str:
    """The dashboard's group of a refusal reason recorded by the sender.

    ``"before 08:00 local time"`` and ``"from 20:00 local time"`` are outside hours;
    ``"Sunday (no outbound contact)"`` is its weekday; holidays and caps are named as such.
    """
    text = reason.strip().lower()
    for prefix, group in _REFUSAL_PREFIXES:
        if text.startswith(prefix):
            return group
    if text.endswith("(no outbound contact)"):
        return reason.strip().split(" ", 1)[0].capitalize()
    return "other"


def _debtor_row(
    profile: Profile, messages: Iterable[PlannedMessage], skipped: dict[str, str]
) -> DebtorRow:
    debtor, risk = profile.debtor, profile.risk
    account_id = debtor.account.account_id
    return DebtorRow(
        account_id=account_id,
        segment=debtor.segment.segment,
        reason=debtor.segment.reason,
        band=debtor.band,
        probability=risk.probability,
        features=tuple(risk.top_features),
        planned=sum(1 for m in messages if m.account_id == account_id),
        skipped=skipped.get(account_id),
    )


def _outbox(factory: sessionmaker[Session], since: datetime) -> list[OutboxRow]:
    """Rows touched in the period, and every message still waiting to go out."""
    query = select(OutboxRow).where(
        or_(
            OutboxRow.status.in_(["queued", "sending"]),
            OutboxRow.updated_at >= since,
            OutboxRow.sent_at >= since,
        )
    )
    with factory() as db:
        return list(db.scalars(query))


def _channels(rows: Iterable[OutboxRow]) -> tuple[str, ...]:
    extra = sorted({r.channel for r in rows} - set(CHANNEL_NAMES))
    return (*CHANNEL_NAMES, *extra)


def _channel_status(rows: list[OutboxRow]) -> Matrix:
    counts = Counter((r.channel, r.status) for r in rows)
    channels = _channels(rows)
    statuses = (*STATUSES, *sorted({r.status for r in rows} - set(STATUSES)))
    values = tuple(tuple(counts[(c, s)] for s in statuses) for c in channels)
    return Matrix(channels, statuses, values)


def _sent_by_hour(rows: list[OutboxRow], since: datetime) -> Matrix:
    counts: Counter[tuple[str, int]] = Counter()
    for row in rows:
        if row.status == "sent" and row.sent_at is not None and row.sent_at >= since:
            counts[(row.channel, row.sent_at.astimezone(_zone(row.timezone)).hour)] += 1
    channels = _channels(rows)
    values = tuple(tuple(counts[(c, h)] for h in range(24)) for c in channels)
    return Matrix(channels, HOURS, values)


def _queued_by_day(rows: list[OutboxRow]) -> Counts:
    days = Counter(
        r.send_at.astimezone(_zone(r.timezone)).date().isoformat()
        for r in rows
        if r.status == "queued"
    )
    return dict(sorted(days.items()))


def _promises(store: OutreachStore, factory: sessionmaker[Session], since: datetime) -> Promises:
    with factory() as db:
        query = (
            select(PromiseRow.status, func.count())
            .where(PromiseRow.recorded_at >= since)
            .group_by(PromiseRow.status)
        )
        statuses = {str(status): int(n) for status, n in db.execute(query)}
    reported = Counter(e.kind for e in store.events(["promise_kept", "promise_broken"], since))
    return Promises(
        made=sum(statuses.values()),
        kept=reported["promise_kept"],
        broken=reported["promise_broken"],
        statuses=dict(sorted(statuses.items())),
    )


def _payments(factory: sessionmaker[Session], since: datetime) -> Payments:
    query = select(func.count(), func.coalesce(func.sum(PaymentRow.amount), 0)).where(
        PaymentRow.paid_at >= since
    )
    with factory() as db:
        count, total = db.execute(query).one()
    return Payments(int(count), int(total))


def _ordered(counts: Counter[str], known: Sequence[str]) -> Counts:
    """Known names first in their order (zeros kept, so charts stay stable), then the rest."""
    extra = sorted(set(counts) - set(known))
    return {name: counts[name] for name in (*known, *extra)}


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return OFFICE_TZ


def _plain(value: Any) -> Any:
    """JSON-ready data: results' own ``to_dict``, dataclasses as dicts, ISO datetimes."""
    if isinstance(value, Matrix | ExperimentResult):
        return value.to_dict()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return [_plain(v) for v in value] if isinstance(value, tuple | list) else value
