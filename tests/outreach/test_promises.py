"""Promises to pay are settled by the outreach pass: kept when paid, broken when overdue."""

from __future__ import annotations

from datetime import datetime

from agent.storage.models import PaymentLinkRow, PromiseRow
from agent.storage.payments import PaymentBook
from tests.outreach.conftest import Rig


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def promise_status(rig: Rig, account_id: str) -> list[str]:
    with rig.store.factory() as db:
        rows = db.query(PromiseRow).filter_by(account_id=account_id).all()
        return [row.status for row in rows]


def pay(rig: Rig, account_id: str, amount: int, paid_at: datetime) -> None:
    with rig.store.transaction() as db:
        db.add(
            PaymentLinkRow(
                link_id=f"link-{account_id}",
                account_id=account_id,
                amount=amount,
                token="t",
                created_at=paid_at,
                expires_at=at("2026-12-31T00:00:00+07:00"),
            )
        )
    result = PaymentBook(rig.store.factory).record(
        f"link-{account_id}", amount, f"ref-{account_id}", paid_at, paid_at
    )
    assert result.outcome == "recorded"


def test_an_unpaid_promise_is_broken_after_its_day_and_reminders_resume(rig: Rig) -> None:
    rig.clock.at = at("2026-11-25T23:00:00+08:00")  # CC-1009 promised 25 Nov (WITA): still open
    assert rig.service.run().settled.broken == 0 and promise_status(rig, "CC-1009") == ["open"]
    rig.clock.at = at("2026-11-26T00:30:00+08:00")
    result = rig.service.run()
    assert (result.settled.kept, result.settled.broken) == (0, 1)
    assert promise_status(rig, "CC-1009") == ["broken"]
    broken = rig.service.outreach.events(["promise_broken"])
    assert [(e.account_id, e.source) for e in broken if e.source == "promises"] == [
        ("CC-1009", "promises")
    ]
    stages = {m.stage for m in rig.service.plan(7).messages if m.account_id == "CC-1009"}
    assert stages == {"after_due"}  # no more promise reminders: overdue ones again
    assert rig.service.run().settled == result.settled.__class__()  # settled once only


def test_a_promise_covered_by_payments_is_kept(rig: Rig) -> None:
    pay(rig, "CC-1009", 1_000_000, at("2026-11-24T14:00:00+08:00"))
    rig.clock.at = at("2026-11-24T15:00:00+08:00")
    result = rig.service.run()
    assert (result.settled.kept, result.settled.broken) == (1, 0)
    assert promise_status(rig, "CC-1009") == ["kept"]
    kept = [e for e in rig.service.outreach.events(["promise_kept"]) if e.source == "promises"]
    assert [(e.account_id, e.at) for e in kept] == [("CC-1009", at("2026-11-24T14:00:00+08:00"))]


def test_a_smaller_payment_does_not_keep_the_promise(rig: Rig) -> None:
    pay(rig, "CC-1009", 400_000, at("2026-11-24T14:00:00+08:00"))
    rig.clock.at = at("2026-11-26T09:00:00+08:00")
    assert rig.service.run().settled.broken == 1
    assert promise_status(rig, "CC-1009") == ["broken"]
