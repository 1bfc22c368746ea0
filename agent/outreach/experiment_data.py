"""Experiments' exposures and outcomes, read from the database, and their results so far."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from agent.outreach.experiment_stats import ExperimentResult, Exposure, OutcomeEvent, summarise
from agent.outreach.experiments import Experiment
from agent.storage.models import ComplaintRow, PromiseRow
from agent.storage.outreach import OutboxRow, OutreachStore
from agent.storage.payments import PaymentRow

OFFICE_TZ = ZoneInfo("Asia/Jakarta")  # complaints carry only the day they were received


def experiment_results(
    outreach_store: OutreachStore,
    factory: sessionmaker[Session],
    experiments: Sequence[Experiment],
    now: datetime,
) -> list[ExperimentResult]:
    """Each experiment's result so far, from the outbox and the debtors' outcomes.

    A debtor's exposure is their first SENT message of the experiment; a later exposure
    to another arm (weights edited mid-run) and arms no longer in the file are ignored.
    """
    found: dict[str, dict[str, Exposure]] = {}
    query = (
        select(OutboxRow.experiment_id, OutboxRow.account_id, OutboxRow.arm_id)
        .add_columns(func.min(OutboxRow.sent_at))
        .where(OutboxRow.status == "sent", OutboxRow.sent_at <= now)
        .where(OutboxRow.experiment_id.is_not(None), OutboxRow.arm_id.is_not(None))
        .group_by(OutboxRow.experiment_id, OutboxRow.account_id, OutboxRow.arm_id)
    )
    with factory() as db:
        for experiment_id, account_id, arm_id, first in db.execute(query):
            seen = found.setdefault(str(experiment_id), {}).get(account_id)
            if seen is None or first < seen.first_sent_at:
                found[str(experiment_id)][account_id] = Exposure(account_id, str(arm_id), first)
    exposed = [e for by_debtor in found.values() for e in by_debtor.values()]
    start = min((e.first_sent_at for e in exposed), default=now)
    outcomes = [o for o in _outcomes(outreach_store, factory, start) if o.at <= now]
    results = []
    for experiment in experiments:
        arms = {arm.id for arm in experiment.arms}
        exposures = [e for e in found.get(experiment.id, {}).values() if e.arm_id in arms]
        results.append(summarise(experiment, exposures, outcomes))
    return results


def _outcomes(
    store: OutreachStore, factory: sessionmaker[Session], since: datetime
) -> list[OutcomeEvent]:
    replies = store.events(["reply", "opt_out"], since)
    events = [
        OutcomeEvent(e.account_id, "reply" if e.kind == "reply" else "opt_out", e.at)
        for e in replies
    ]
    promised = select(PromiseRow.account_id, PromiseRow.recorded_at)
    paid = select(PaymentRow.account_id, PaymentRow.paid_at)
    complained = select(ComplaintRow.account_id, ComplaintRow.received_on)
    with factory() as db:
        for a, at in db.execute(promised.where(PromiseRow.recorded_at >= since)):
            events.append(OutcomeEvent(a, "promise", at))
        for a, at in db.execute(paid.where(PaymentRow.paid_at >= since)):
            events.append(OutcomeEvent(a, "payment", at))
        day = since.astimezone(OFFICE_TZ).date()
        for who, on in db.execute(complained.where(ComplaintRow.received_on >= day)):
            if who is not None:
                events.append(OutcomeEvent(who, "complaint", _end_of(on)))
    return events


def _end_of(day: date) -> datetime:
    """The last moment of a day (WIB): a complaint that day counts after that day's sends."""
    return datetime.combine(day, time.max, OFFICE_TZ)
