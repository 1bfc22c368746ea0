"""Payment-behaviour segments, each with a one-sentence reason an operator can read."""

from __future__ import annotations

from dataclasses import dataclass

from agent.outreach.contact import ContactStats
from agent.outreach.strategy import Segment
from agent.portfolio import Account

UNREACHABLE_AFTER = 4  # unanswered reminders in 60 days before a debtor counts as not reachable
LATE_GRACE_DAYS = 3  # a payment at most this late still counts as on time


@dataclass(frozen=True)
class SegmentResult:
    """A debtor's segment and why."""

    segment: Segment
    reason: str


def segment_of(account: Account, contact: ContactStats, opted_out: bool) -> SegmentResult:
    """Place a debtor in one segment; the first rule that applies wins.

    Order: an open dispute, declared hardship, not reachable (opted out, no channel with
    consent, or no answer to recent reminders), then the payment history of the last six
    cycles: on time, late but paid (procrastinator), or with missed cycles (inconsistent).
    """
    dispute = account.dispute
    if dispute is not None and dispute.status == "open":
        return SegmentResult(
            "disputing",
            f"Has an open dispute ({dispute.reference}, opened {dispute.opened:%d %b %Y});"
            " reminders only inform and never ask for the disputed amount.",
        )
    if account.hardship_declared:
        return SegmentResult(
            "hardship", "Declared financial hardship; reminders lead with relief options."
        )
    unreachable = _unreachable(account, contact, opted_out)
    if unreachable:
        return SegmentResult("not_reachable", unreachable)
    return _by_history(account.payment_history_days_late)


def _unreachable(account: Account, contact: ContactStats, opted_out: bool) -> str | None:
    if opted_out:
        return "Opted out of proactive contact; no reminders are sent."
    if not any(account.contact.channel_consent.values()):
        return "Gave consent for no contact channel."
    unanswered = contact.attempts_60d
    if contact.replies_60d == 0 and unanswered >= UNREACHABLE_AFTER:
        undelivered = f", {contact.undelivered_60d} undelivered" if contact.undelivered_60d else ""
        return f"No reply to any of the {unanswered} reminders of the last 60 days{undelivered}."
    return None


def _by_history(history: list[int | None]) -> SegmentResult:
    cycles = len(history)
    missed = sum(1 for days in history if days is None)
    late = [days for days in history if days is not None and days > LATE_GRACE_DAYS]
    if cycles == 0:
        return SegmentResult("on_time", "No payment cycles on record yet.")
    if missed == 0 and not late:
        return SegmentResult("on_time", f"Paid all {cycles} of the last {cycles} cycles on time.")
    if missed == 0:
        average = round(sum(late) / len(late))
        return SegmentResult(
            "procrastinator",
            f"Paid all {cycles} of the last {cycles} cycles, {len(late)} of them late"
            f" ({min(late)}-{max(late)} days, {average} on average).",
        )
    paid = cycles - missed
    if paid == 0:
        reason = f"Missed all {cycles} of the last {cycles} cycles."
    else:
        worst = max(days for days in history if days is not None)
        how = f"up to {worst} days late" if worst > LATE_GRACE_DAYS else "on time"
        reason = f"Missed {missed} of the last {cycles} cycles and paid the other {paid} {how}."
    return SegmentResult("inconsistent_payer", reason)
