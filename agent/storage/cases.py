"""What conversations create: offers, payment links, promises, disputes, complaints, handoffs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from agent.storage.models import (
    ComplaintRow,
    DisputeRow,
    HandoffRow,
    HardshipReviewRow,
    OfferRow,
    PaymentLinkRow,
    PromiseRow,
)

_REFERENCE_MODELS: dict[str, Any] = {
    "SGH": DisputeRow,
    "ADU": ComplaintRow,
    "HO": HandoffRow,
    "HRD": HardshipReviewRow,
}


class CaseBook:
    """Reads and writes the records a conversation leaves behind."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        """Wrap a session factory bound to an initialised database."""
        self._factory = factory

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with self._factory.begin() as db:
            yield db

    @staticmethod
    def _reference(db: Session, prefix: str, day: date) -> str:
        model = _REFERENCE_MODELS[prefix]
        stem = f"{prefix}-{day:%Y%m%d}-"
        count = db.scalar(select(func.count(model.id)).where(model.reference.like(stem + "%")))
        return f"{stem}{int(count or 0) + 1:03d}"

    # -- offers ---------------------------------------------------------------------

    def live_offers(self, account_id: str, now: datetime) -> list[OfferRow]:
        """Return an account's offers that are still open for acceptance."""
        with self._factory() as db:
            return list(
                db.scalars(
                    select(OfferRow)
                    .where(
                        OfferRow.account_id == account_id,
                        OfferRow.status == "offered",
                        OfferRow.expires_at > now,
                    )
                    .order_by(OfferRow.created_at, OfferRow.offer_id)
                )
            )

    def add_offers(self, rows: list[OfferRow]) -> None:
        """Persist newly made offers."""
        with self._tx() as db:
            db.add_all(rows)

    def get_offer(self, offer_id: str) -> OfferRow | None:
        """Return one offer by id."""
        with self._factory() as db:
            return db.get(OfferRow, offer_id)

    def accept_offer(self, offer_id: str, at: datetime) -> OfferRow | None:
        """Mark an offer accepted (once); return it, or None if it was not open."""
        with self._tx() as db:
            row = db.get(OfferRow, offer_id, with_for_update=True)
            if row is None or row.status not in ("offered", "accepted"):
                return None
            if row.status == "offered":
                row.status, row.accepted_at = "accepted", at
            return row

    # -- payment links ----------------------------------------------------------------

    def add_payment_link(self, row: PaymentLinkRow) -> None:
        """Persist an issued payment link."""
        with self._tx() as db:
            db.add(row)

    # -- promises -----------------------------------------------------------------------

    def record_promise(
        self, account_id: str, amount: int, day: date, at: datetime, session_id: str
    ) -> tuple[PromiseRow, PromiseRow | None]:
        """Record a promise, replacing the open one; return (new, replaced)."""
        with self._tx() as db:
            replaced = db.scalar(
                select(PromiseRow).where(
                    PromiseRow.account_id == account_id, PromiseRow.status == "open"
                )
            )
            if replaced is not None:
                replaced.status = "replaced"
            row = PromiseRow(
                account_id=account_id,
                amount=amount,
                promised_date=day,
                recorded_at=at,
                status="open",
                session_id=session_id,
            )
            db.add(row)
            return row, replaced

    # -- disputes, complaints, handoffs, hardship ------------------------------------------

    def open_dispute(self, account_id: str) -> DisputeRow | None:
        """Return the account's open dispute, if any."""
        with self._factory() as db:
            return db.scalar(
                select(DisputeRow).where(
                    DisputeRow.account_id == account_id, DisputeRow.status == "open"
                )
            )

    def add_dispute(
        self, account_id: str, reason: str, amount: int | None, day: date, session_id: str
    ) -> DisputeRow:
        """Open a new dispute with a fresh reference."""
        with self._tx() as db:
            row = DisputeRow(
                reference=self._reference(db, "SGH", day),
                account_id=account_id,
                amount=amount,
                reason=reason,
                opened=day,
                status="open",
                session_id=session_id,
            )
            db.add(row)
            return row

    def add_complaint(
        self, fields: dict[str, Any], received_on: date, response_due: date
    ) -> ComplaintRow:
        """Register a complaint with a fresh reference."""
        with self._tx() as db:
            row = ComplaintRow(
                reference=self._reference(db, "ADU", received_on),
                received_on=received_on,
                response_due=response_due,
                status="open",
                **fields,
            )
            db.add(row)
            return row

    def add_handoff(
        self, session_id: str, account_id: str | None, reason: str, at: datetime
    ) -> HandoffRow:
        """Queue the conversation for a human; one open handoff per session."""
        with self._tx() as db:
            existing = db.scalar(
                select(HandoffRow).where(
                    HandoffRow.session_id == session_id, HandoffRow.status == "waiting"
                )
            )
            if existing is not None:
                return existing
            row = HandoffRow(
                reference=self._reference(db, "HO", at.date()),
                session_id=session_id,
                account_id=account_id,
                reason=reason,
                created_at=at,
                status="waiting",
            )
            db.add(row)
            return row

    def add_hardship_review(self, account_id: str, session_id: str, at: datetime) -> str:
        """Record a hardship review request (one open per account); return its reference."""
        with self._tx() as db:
            existing = db.scalar(
                select(HardshipReviewRow).where(
                    HardshipReviewRow.account_id == account_id,
                    HardshipReviewRow.status == "open",
                )
            )
            if existing is not None:
                return existing.reference
            reference = self._reference(db, "HRD", at.date())
            db.add(
                HardshipReviewRow(
                    reference=reference, account_id=account_id, session_id=session_id, created_at=at
                )
            )
            return reference
