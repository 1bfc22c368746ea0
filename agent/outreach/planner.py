"""Plan proactive reminders: which debtor, which day and hour, which channel, and why.

Pure functions: the caller gathers each debtor's facts (``Debtor``) and the planner
returns messages whose every ``send_at`` lies inside the contact window and the caps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from agent.outreach.contact import ContactStats
from agent.outreach.segments import SegmentResult
from agent.outreach.sendtime import SendHour
from agent.outreach.strategy import Strategy
from agent.outreach.window import Caps, ContactPolicy
from agent.portfolio import Account


@dataclass(frozen=True)
class Debtor:
    """Everything the planner needs to know about one debtor."""

    account: Account
    contact: ContactStats
    opted_out: bool
    segment: SegmentResult
    risk: float
    band: str
    risk_reason: str
    strategy: Strategy
    hour: SendHour
    experiment: tuple[str, str] | None = None  # (experiment id, arm id)
    sent: tuple[datetime, ...] = ()  # proactive messages already sent (for the caps)
    planned_keys: frozenset[str] = frozenset()  # reminders already in the outbox


@dataclass(frozen=True)
class PlannedMessage:
    """One reminder to send, with its reason."""

    key: str
    account_id: str
    channel: str
    send_at: datetime  # in the debtor's own time zone
    stage: str
    family: str
    segment: str
    risk: float
    band: str
    reason: str
    offer_human: bool
    experiment_id: str | None = None
    arm_id: str | None = None

    @property
    def template(self) -> str:
        """The approved template this message is drafted from (family.stage)."""
        return f"{self.family}.{self.stage}"

    def to_json(self) -> dict[str, Any]:
        """The ``santun outreach plan --json`` line (DESIGN.md)."""
        return {
            "account_id": self.account_id,
            "channel": self.channel,
            "send_at": self.send_at.isoformat(),
            "template": self.template,
            "segment": self.segment,
            "risk": round(self.risk, 3),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Occasion:
    """A day on which a reminder is due, and what kind."""

    day: date
    stage: str
    label: str


def due_date(account: Account) -> date:
    """The date the debt fell (or falls) due: statement due date, or oldest unpaid instalment."""
    if account.statement is not None:
        return account.statement.due_date
    assert account.loan is not None
    loan = account.loan
    return (
        loan.oldest_unpaid_due_date
        if account.dpd > 0 and loan.oldest_unpaid_due_date
        else (loan.next_due_date)
    )


def occasions(account: Account, strategy: Strategy, first: date, last: date) -> list[Occasion]:
    """Reminder days from ``first`` to ``last`` inclusive, in order (one per day at most)."""
    due, rules = due_date(account), strategy.reminders
    promise = account.promise_to_pay
    promised = promise.date if promise and rules.promise and promise.date >= first else None
    stage_of = "dispute_update" if strategy.tone == "informatif" else None
    after_last = max(rules.after_due_days, default=0)
    found: list[Occasion] = []
    day = first
    while day <= last:
        delta = (day - due).days
        occasion: Occasion | None = None
        if promised is not None and day <= promised:
            if (promised - day).days in (0, 1):
                label = "promised payment date" if day == promised else "day before promise"
                occasion = Occasion(day, "promise_reminder", f"{label} {promised:%d %b}")
        elif -delta in rules.before_due_days:
            occasion = Occasion(day, "before_due", f"{-delta} days before due date {due:%d %b}")
        elif delta == 0 and rules.on_due:
            occasion = Occasion(day, "due_today", f"due date {due:%d %b}")
        elif delta in rules.after_due_days or _cadence(delta, after_last, rules.overdue_every_days):
            occasion = Occasion(day, "after_due", f"{delta} days after due date {due:%d %b}")
        if occasion is not None:
            found.append(Occasion(day, stage_of or occasion.stage, occasion.label))
        day += timedelta(days=1)
    return found


def _cadence(delta: int, after_last: int, every: int) -> bool:
    return every > 0 and delta > after_last and (delta - after_last) % every == 0


def channel_for(account: Account, strategy: Strategy) -> str | None:
    """The first channel of the strategy's order that the debtor consented to."""
    contact = account.contact
    for choice in strategy.channels:
        channel = contact.preferred_channel if choice == "preferred" else choice
        if contact.channel_consent.get(channel, False):
            return channel
    return None


def plan_debtor(
    debtor: Debtor, now: datetime, days: int, policy: ContactPolicy
) -> tuple[list[PlannedMessage], str | None]:
    """Plan one debtor's reminders for ``days`` days from ``now``; or say why none."""
    account, strategy = debtor.account, debtor.strategy
    skip = _skip_reason(debtor)
    channel = channel_for(account, strategy)
    if skip is None and channel is None:
        skip = "no channel with the debtor's consent"
    if skip is not None or channel is None:
        return [], skip
    zone = ZoneInfo(account.timezone)
    local_now = now.astimezone(zone)
    horizon = local_now.date() + timedelta(days=days)
    consent = account.consent_after_hours
    caps = Caps(policy.per_day, min(policy.per_week, strategy.max_per_week), debtor.sent)
    start, end = policy.hours(consent)
    hour = min(max(debtor.hour.hour, start.hour), end.hour - 1)
    planned: list[PlannedMessage] = []
    for occasion in occasions(account, strategy, local_now.date(), horizon - timedelta(days=1)):
        key = f"{account.account_id}:{occasion.stage}:{occasion.day.isoformat()}"
        if key in debtor.planned_keys:
            continue
        wanted = max(
            datetime.combine(occasion.day, datetime.min.time(), zone).replace(hour=hour), local_now
        )
        slot = _slot(wanted, hour, policy, consent)
        send_at = caps.next_allowed(slot, policy, consent)
        if send_at.date() >= horizon:
            continue
        caps.add(send_at)
        moved = _moved(wanted, send_at, policy, consent)
        planned.append(_message(debtor, key, channel, send_at, occasion, moved))
    return planned, None


def _skip_reason(debtor: Debtor) -> str | None:
    if debtor.opted_out:
        return "opted out of proactive contact"
    if debtor.account.total_due - debtor.account.open_dispute_amount <= 0:
        return "nothing due"
    return None


def _slot(wanted: datetime, hour: int, policy: ContactPolicy, consent: bool) -> datetime:
    """The wanted moment, or the first allowed day after it at the same hour."""
    moment = wanted
    while policy.day_refusal(moment.date()) is not None:
        next_day = moment.date() + timedelta(days=1)
        moment = datetime.combine(next_day, datetime.min.time(), moment.tzinfo).replace(hour=hour)
    return policy.next_slot(moment, consent)


def _moved(wanted: datetime, send_at: datetime, policy: ContactPolicy, consent: bool) -> str:
    if send_at == wanted:
        return ""
    why = policy.refusal(wanted, consent)
    if why is None:
        why = "the daily or weekly cap"
    return f"; moved from {wanted:%a %d %b %H:%M} ({why})"


def _message(
    debtor: Debtor,
    key: str,
    channel: str,
    send_at: datetime,
    occasion: Occasion,
    moved: str,
) -> PlannedMessage:
    strategy, hour = debtor.strategy, debtor.hour
    when = (
        f"{hour.hour:02d}:00 learned from {hour.replies} replies"
        if hour.learned
        else f"{hour.hour:02d}:00 strategy default"
    )
    consent = " (after-hours consent on record)" if debtor.account.consent_after_hours else ""
    reason = (
        f"{occasion.label}; {debtor.segment.segment}: {debtor.segment.reason} "
        f"Risk {debtor.band} ({debtor.risk_reason}); send time {when}{consent}{moved}"
    )
    experiment_id, arm_id = debtor.experiment or (None, None)
    if experiment_id is not None:
        reason += f"; experiment {experiment_id} arm {arm_id} (tone {strategy.tone})"
    return PlannedMessage(
        key=key,
        account_id=debtor.account.account_id,
        channel=channel,
        send_at=send_at,
        stage=occasion.stage,
        family=strategy.tone,
        segment=debtor.segment.segment,
        risk=debtor.risk,
        band=debtor.band,
        reason=reason,
        offer_human=_offer_human(strategy, debtor.contact),
        experiment_id=experiment_id,
        arm_id=arm_id,
    )


def _offer_human(strategy: Strategy, contact: ContactStats) -> bool:
    if strategy.offer_human == "always":
        return True
    unanswered = contact.attempts_60d - contact.replies_60d
    return strategy.offer_human == "after_unanswered" and unanswered >= strategy.unanswered_limit
