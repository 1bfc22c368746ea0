"""Gather what the planner needs about each debtor: segment, risk, strategy, send hour."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from agent.outreach.contact import ContactEvent, summarise
from agent.outreach.experiments import Experiment, assign, eligible
from agent.outreach.planner import Debtor
from agent.outreach.risk import RiskScore, account_features
from agent.outreach.segments import segment_of
from agent.outreach.sendtime import send_hour
from agent.outreach.strategy import Strategy, StrategyBook
from agent.portfolio import Account
from agent.storage.outreach import OutreachStore
from agent.storage.repository import Store


class RiskScorer(Protocol):
    """Scores a debtor's default risk from their features."""

    def score(self, features: dict[str, float]) -> RiskScore:
        """The calibrated probability and the top contributing features."""
        ...


@dataclass(frozen=True)
class Profile:
    """A debtor's segment, risk and strategy, for the console and reports."""

    debtor: Debtor
    risk: RiskScore


class DebtorBook:
    """Builds ``Debtor`` views from the database, the risk model and the strategy file."""

    def __init__(
        self,
        *,
        store: Store,
        outreach: OutreachStore,
        strategy: StrategyBook,
        risk: RiskScorer,
        experiments: Sequence[Experiment] = (),
    ) -> None:
        """Wrap the stores and the models (injected)."""
        self.store, self.outreach, self.strategy = store, outreach, strategy
        self.risk, self.experiments = risk, list(experiments)

    def profiles(self, now: datetime, account_ids: Sequence[str] | None = None) -> list[Profile]:
        """Every debtor's profile (or some), in account order."""
        ids = list(account_ids) if account_ids is not None else self.store.account_ids()
        events: defaultdict[str, list[ContactEvent]] = defaultdict(list)
        for event in self.outreach.contact_events(ids):
            events[event.account_id].append(event)
        opt_outs = self.outreach.opt_outs()
        keys = self.outreach.settled_keys(ids)
        found = []
        for account_id in ids:
            account = self.store.get_account(account_id)
            if account is None:
                continue
            opted = opt_outs.get(account_id, account.contact.opt_out)
            own_keys = frozenset(k for k in keys if k.startswith(account_id + ":"))
            found.append(self._profile(account, events[account_id], opted, own_keys, now))
        return found

    def _profile(
        self,
        account: Account,
        events: list[ContactEvent],
        opted_out: bool,
        keys: frozenset[str],
        now: datetime,
    ) -> Profile:
        contact = summarise(events, now, account.timezone)
        segment = segment_of(account, contact, opted_out)
        today = now.astimezone(ZoneInfo(account.timezone)).date()
        risk = self.risk.score(account_features(account, contact, today))
        band = self.strategy.band(risk.probability)
        strategy = self.strategy.strategy(segment.segment, band)
        strategy, experiment = self._experiment(account, strategy, segment.segment, band, today)
        learn = self.strategy.send_time
        hour = send_hour(
            contact.reply_hours,
            strategy.send_hour,
            learn.learn_from_replies,
            learn.reply_hours_window,
        )
        debtor = Debtor(
            account=account,
            contact=contact,
            opted_out=opted_out,
            segment=segment,
            risk=risk.probability,
            band=band,
            risk_reason=_risk_reason(risk),
            strategy=strategy,
            hour=hour,
            experiment=experiment,
            sent=tuple(self.outreach.sent_times(account.account_id, now - timedelta(days=8))),
            planned_keys=keys,
        )
        return Profile(debtor, risk)

    def _experiment(
        self, account: Account, strategy: Strategy, segment: str, band: str, today: date
    ) -> tuple[Strategy, tuple[str, str] | None]:
        for experiment in self.experiments:
            if experiment.status != "running" or not eligible(experiment, segment, band, today):
                continue
            arm = assign(experiment, account.account_id)
            changes = {
                name: value
                for name, value in (
                    ("tone", arm.overrides.tone),
                    ("send_hour", arm.overrides.send_hour),
                    (
                        "lead_plans",
                        list(arm.overrides.lead_plans) if arm.overrides.lead_plans else None,
                    ),
                )
                if value is not None
            }
            return strategy.model_copy(update=changes), (experiment.id, arm.id)
        return strategy, None


def _risk_reason(risk: RiskScore) -> str:
    top = ", ".join(f"{c.name}={c.value:.3g}" for c in risk.top_features)
    return f"p={risk.probability:.2f}; top: {top}" if top else f"p={risk.probability:.2f}"
