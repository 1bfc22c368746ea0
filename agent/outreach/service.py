"""Proactive outreach, assembled: plan, enqueue, send, and take events back."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import cast

from agent.clock import Clock, clock_for
from agent.config import Settings
from agent.outreach.channels.base import Channel, ChannelEvent
from agent.outreach.channels.factory import build_channels
from agent.outreach.channels.web import WebInbox
from agent.outreach.debtors import DebtorBook, Profile
from agent.outreach.experiments import load_experiments
from agent.outreach.lock import sender_lock
from agent.outreach.planner import PlannedMessage, plan_debtor
from agent.outreach.promises import Settled, settle_promises
from agent.outreach.replies import Conversations, ReplyDesk
from agent.outreach.risk import load_risk_model
from agent.outreach.sender import Drafter, Sender, SendReport
from agent.outreach.strategy import load_strategy
from agent.outreach.templates import load_templates
from agent.outreach.window import ContactPolicy
from agent.policy import load_policy
from agent.portfolio import load_portfolio
from agent.protocols import Guard
from agent.storage.database import init_database, make_engine
from agent.storage.outreach import OutboxRow, OutreachStore
from agent.storage.repository import Store
from guardrails.checker import ComplianceGuard

ENQUEUE_AHEAD = timedelta(days=1)  # `run` puts the next day's reminders in the outbox


@dataclass(frozen=True)
class Plan:
    """What would be sent, and which debtors get nothing and why."""

    messages: list[PlannedMessage]
    skipped: dict[str, str]
    profiles: list[Profile] = field(default_factory=list)


@dataclass(frozen=True)
class RunResult:
    """What ``santun outreach run`` did."""

    enqueued: int
    report: SendReport
    settled: Settled = Settled()


class OutreachService:
    """Plans reminders, keeps the outbox, sends what is due and handles replies."""

    def __init__(
        self,
        *,
        debtors: DebtorBook,
        outreach: OutreachStore,
        sender: Sender,
        replies: ReplyDesk,
        policy: ContactPolicy,
        clock: Clock,
        lock: Callable[[], AbstractContextManager[None]] = nullcontext,
    ) -> None:
        """Assemble from built parts (see ``build_outreach``)."""
        self.debtors, self.outreach, self.sender = debtors, outreach, sender
        self.replies, self.policy, self.clock, self.lock = replies, policy, clock, lock

    def plan(self, days: int = 7) -> Plan:
        """Every reminder of the next ``days`` days, without sending or storing anything."""
        now = self.clock.now()
        messages: list[PlannedMessage] = []
        skipped: dict[str, str] = {}
        profiles = self.debtors.profiles(now)
        for profile in profiles:
            planned, skip = plan_debtor(profile.debtor, now, days, self.policy)
            messages.extend(planned)
            if skip is None and not planned:
                skip = f"no reminder falls in the next {days} days"
            if skip is not None:
                skipped[profile.debtor.account.account_id] = skip
        messages.sort(key=lambda m: (m.send_at, m.account_id))
        return Plan(messages, skipped, profiles)

    def enqueue(self, horizon: timedelta = ENQUEUE_AHEAD) -> int:
        """Put the reminders due before ``now + horizon`` in the outbox (once per key)."""
        now = self.clock.now()
        days = max(1, horizon.days + 1)
        due = [m for m in self.plan(days).messages if m.send_at <= now + horizon]
        return self.outreach.enqueue(_row(m, now) for m in due)

    def run(self, progress: Callable[[int, int], None] | None = None) -> RunResult:
        """Settle promises, enqueue what the plan says, then send every message due now.

        Raises:
            SenderBusy: another pass is running (one sender at a time).
        """
        with self.lock():
            settled = settle_promises(self.debtors.store.factory, self.outreach, self.clock.now())
            enqueued = self.enqueue()
            return RunResult(enqueued, self.sender.send_due(progress), settled)

    def read_inbox(self, account_id: str) -> list[dict[str, str]]:
        """The debtor's unread web-inbox reminders, marked read as they are handed over."""
        inbox = self.sender.channels.get("web")
        if not isinstance(inbox, WebInbox):
            return []
        items = inbox.unread(account_id)
        now = self.clock.now()
        inbox.mark_read(account_id, [item.id for item in items], now)
        for item in items:
            self.outreach.record_event(
                account_id,
                "read",
                now,
                source="widget",
                channel="web",
                key=item.key,
                event_id=f"web:read:{item.key}",
            )
        return [{"text": item.text, "sent_at": item.created_at.isoformat()} for item in items]

    async def handle_event(self, event: ChannelEvent) -> None:
        """A webhook's delivery report or reply (``app.state.outreach_events``)."""
        await self.replies.handle_event(event)


def _row(message: PlannedMessage, now: datetime) -> OutboxRow:
    return OutboxRow(
        key=message.key,
        account_id=message.account_id,
        channel=message.channel,
        stage=message.stage,
        family=message.family,
        segment=message.segment,
        risk=message.risk,
        band=message.band,
        reason=message.reason,
        experiment_id=message.experiment_id,
        arm_id=message.arm_id,
        offer_human=message.offer_human,
        timezone=str(message.send_at.tzinfo),
        send_at=message.send_at,
        status="queued",
        attempts=0,
        created_at=now,
        updated_at=now,
    )


def build_outreach(
    settings: Settings,
    store: Store,
    *,
    clock: Clock | None = None,
    guard: Guard | None = None,
    chat: Conversations | None = None,
    channels: Mapping[str, Channel] | None = None,
) -> OutreachService:
    """Build the outreach service over an initialised database (data files from the package)."""
    clock = clock or clock_for(settings.now)
    outreach = OutreachStore(store.factory)
    outreach.load_demo_history()
    policy = ContactPolicy.from_policy(load_policy().contact_window)
    routes = channels or cast(
        "Mapping[str, Channel]", build_channels(settings, store.factory, clock)
    )
    templates = load_templates()
    drafter: Drafter = templates
    debtors = DebtorBook(
        store=store,
        outreach=outreach,
        strategy=load_strategy(),
        risk=load_risk_model(settings.data_dir),
        experiments=load_experiments(),
    )
    sender = Sender(
        store=store,
        outreach=outreach,
        drafter=drafter,
        guard=guard or ComplianceGuard(),
        channels=routes,
        policy=policy,
        clock=clock,
        public_url=settings.base_public_url(),
    )
    replies = ReplyDesk(outreach=outreach, channels=routes, clock=clock, chat=chat)
    engine = store.factory.kw["bind"]
    return OutreachService(
        lock=partial(sender_lock, engine, settings.data_dir),
        debtors=debtors,
        outreach=outreach,
        sender=sender,
        replies=replies,
        policy=policy,
        clock=clock,
    )


@contextmanager
def open_outreach(settings: Settings) -> Iterator[OutreachService]:
    """Open the database (loading demo data on first run) and build the service (CLI)."""
    engine = make_engine(settings.resolved_database_url())
    try:
        store = Store(init_database(engine, load_portfolio()))
        yield build_outreach(settings, store)
    finally:
        engine.dispose()
