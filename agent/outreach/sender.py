"""Send what is due from the outbox: re-check the rules, draft, guard, send once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from agent.clock import Clock
from agent.formatting import rupiah, tanggal
from agent.outreach.channels.base import Channel, ChannelError, OutboundMessage
from agent.outreach.planner import due_date
from agent.outreach.window import Caps, ContactPolicy
from agent.portfolio import Account
from agent.protocols import Guard
from agent.storage.outreach import OutboxRow, OutreachStore
from agent.storage.repository import Store
from guardrails.context import GuardContext

MAX_ATTEMPTS = 5
RETRY_AFTER = timedelta(minutes=10)
PRODUCT_NAMES = {"kartu_kredit": "kartu kredit", "kta": "pinjaman KTA"}


class Drafter(Protocol):
    """Renders an approved outbound template (agent.outreach.templates.TemplateBook)."""

    def render(
        self,
        family: str,
        stage: str,
        channel: str,
        values: Mapping[str, str],
        offer_human: bool = False,
    ) -> Any:
        """Return an object with ``text``, ``subject`` and ``template_id``."""
        ...


@dataclass
class SendReport:
    """What one pass over the outbox did."""

    sent: int = 0
    duplicates: int = 0  # the provider had it already (a retry after a crash)
    refused: int = 0  # outside the window or over a cap: moved to the next allowed slot
    blocked: int = 0  # the guardrail refused the draft
    failed: int = 0
    retrying: int = 0
    cancelled: int = 0  # opted out or nothing due any more
    details: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return dict(self.__dict__)


class Sender:
    """Sends due outbox messages through their channels, each at most once per key."""

    def __init__(
        self,
        *,
        store: Store,
        outreach: OutreachStore,
        drafter: Drafter,
        guard: Guard,
        channels: Mapping[str, Channel],
        policy: ContactPolicy,
        clock: Clock,
        public_url: str,
    ) -> None:
        """Wrap the stores, the drafter, the guardrail and the channels (injected)."""
        self.store, self.outreach, self.drafter, self.guard = store, outreach, drafter, guard
        self.channels, self.policy, self.clock = channels, policy, clock
        self.public_url = public_url.rstrip("/")

    def send_due(self, progress: Callable[[int, int], None] | None = None) -> SendReport:
        """Send every due message; ``progress(done, total)`` is called after each."""
        report = SendReport()
        due = self.outreach.due(self.clock.now())
        for index, row in enumerate(due, start=1):
            outcome = self._send_one(row, report)
            report.details.append({"key": row.key, "channel": row.channel, "outcome": outcome})
            if progress is not None:
                progress(index, len(due))
        return report

    def _send_one(self, row: OutboxRow, report: SendReport) -> str:
        now = self.clock.now()
        account = self.store.get_account(row.account_id)
        cancel = self._cancel_reason(account, row)
        if cancel is not None or account is None:
            self.outreach.update_message(
                row.id, status="cancelled", last_error=cancel, updated_at=now
            )
            report.cancelled += 1
            return "cancelled"
        local = now.astimezone(ZoneInfo(account.timezone))
        # a message left mid-send by a crash does not count against itself
        sent = self.outreach.sent_times(account.account_id, local - timedelta(days=8), row.id)
        caps = Caps(self.policy.per_day, self.policy.per_week, sent)
        refused = self._refusal(account, local, caps)
        if refused is not None:
            reason, retry_at = refused
            self.outreach.update_message(
                row.id, status="queued", send_at=retry_at, last_error=reason, updated_at=now
            )
            self.outreach.record_event(
                row.account_id,
                "refused",
                now,
                source="sender",
                channel=row.channel,
                key=row.key,
                detail={"reason": reason, "retry_at": retry_at.isoformat()},
            )
            report.refused += 1
            return "refused"
        draft = self._draft(account, row)
        verdict = self.guard.check(draft.text, _context(account, local, caps))
        if not verdict.allowed:
            rules = sorted({v.rule for v in verdict.violations})
            self.outreach.update_message(
                row.id,
                status="blocked",
                text=draft.text,
                last_error=f"guardrail: {rules}",
                updated_at=now,
            )
            report.blocked += 1
            return "blocked"
        return self._deliver(account, row, draft, report)

    def _cancel_reason(self, account: Account | None, row: OutboxRow) -> str | None:
        if account is None:
            return "unknown account"
        opted = self.outreach.opted_out(account.account_id)
        if opted if opted is not None else account.contact.opt_out:
            return "debtor opted out"
        if not account.contact.channel_consent.get(row.channel, False):
            return f"no consent for {row.channel}"
        if account.total_due - account.open_dispute_amount <= 0:
            return "nothing due any more"
        return None

    def _refusal(
        self, account: Account, local: datetime, caps: Caps
    ) -> tuple[str, datetime] | None:
        consent = account.consent_after_hours
        reason = self.policy.refusal(local, consent) or caps.refusal(local)
        if reason is None:
            return None
        return reason, caps.next_allowed(local, self.policy, consent)

    def _draft(self, account: Account, row: OutboxRow) -> Any:
        promise = account.promise_to_pay
        day = promise.date if row.stage == "promise_reminder" and promise else due_date(account)
        values = {
            "nama": account.holder_name,
            "produk": PRODUCT_NAMES[account.product],
            "last4": account.last4,
            "tanggal": tanggal(day),
            "tautan": f"{self.public_url}/",
        }
        if row.channel == "web":
            values["jumlah"] = rupiah(account.total_due - account.open_dispute_amount)
        return self.drafter.render(row.family, row.stage, row.channel, values, row.offer_human)

    def _deliver(self, account: Account, row: OutboxRow, draft: Any, report: SendReport) -> str:
        now = self.clock.now()
        attempts = row.attempts + 1
        self.outreach.update_message(
            row.id,
            status="sending",
            attempts=attempts,
            text=draft.text,
            template_id=draft.template_id,
            updated_at=now,
        )
        message = OutboundMessage(
            key=row.key,
            account_id=account.account_id,
            channel=row.channel,  # type: ignore[arg-type]
            address=_address(account, row.channel),
            text=draft.text,
            subject=draft.subject,
        )
        try:
            delivery = self.channels[row.channel].send(message)
        except ChannelError as exc:
            if exc.retryable and attempts < MAX_ATTEMPTS:
                retry_at = now + RETRY_AFTER * attempts
                self.outreach.update_message(
                    row.id, status="queued", send_at=retry_at, last_error=str(exc), updated_at=now
                )
                report.retrying += 1
                return "retrying"
            self.outreach.update_message(
                row.id, status="failed", last_error=str(exc), updated_at=now
            )
            report.failed += 1
            return "failed"
        self.outreach.mark_sent(row, delivery.provider_id, self.clock.now())
        if delivery.duplicate:
            report.duplicates += 1
            return "duplicate"
        report.sent += 1
        return "sent"


def _address(account: Account, channel: str) -> str:
    if channel == "web":
        return account.account_id
    return account.contact.email if channel == "email" else account.contact.phone


def _context(account: Account, local: datetime, caps: Caps) -> GuardContext:
    """What the guardrail needs to judge a proactive message at this moment."""
    today, week = caps.counts(local)
    due = account.total_due - account.open_dispute_amount
    return GuardContext(
        verified=True,
        outbound=True,
        local_time=local,
        consent_after_hours=account.consent_after_hours,
        sent_today=today,
        sent_this_week=week,
        known_amounts=frozenset({due, account.total_due}),
        product=account.product,
        kol=account.kol,
    )
