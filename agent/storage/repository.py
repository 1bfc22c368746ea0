"""The store: every read and write the agent makes, behind one small class."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    CursorResult,
    DateTime,
    String,
    bindparam,
    delete,
    func,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session, sessionmaker

from agent.portfolio import Account
from agent.storage.models import (
    AccountRow,
    AuditEventRow,
    CardStatementRow,
    ChatSessionRow,
    DisputeRow,
    LoanRow,
    MessageRow,
    PromiseRow,
    VerificationAttemptRow,
)


class Store:
    """Accounts, sessions, verification attempts, messages and the audit trail."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        """Wrap a session factory bound to an initialised database."""
        self._factory = factory

    @property
    def factory(self) -> sessionmaker[Session]:
        """The session factory (for stores of other tables in the same database)."""
        return self._factory

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Open a unit of work that commits on success and rolls back on error."""
        with self._factory.begin() as db:
            yield db

    # -- accounts ---------------------------------------------------------------

    def account_ids(self) -> list[str]:
        """Every account id, in order."""
        with self._factory() as db:
            return list(db.scalars(select(AccountRow.account_id).order_by(AccountRow.account_id)))

    def get_account(self, account_id: str) -> Account | None:
        """Return an account with its current statement, loan, dispute and promise."""
        params = {"account_id": account_id}
        with self._factory() as db:
            found = db.execute(_ACCOUNT_QUERY, params).mappings().first()
            if found is None:
                return None
            dispute = db.execute(_DISPUTE_QUERY, params).mappings().first()
            promise = db.execute(_PROMISE_QUERY, params).mappings().first()
        return _to_account(found, dispute, promise)

    def as_of(self, account_id: str) -> date | None:
        """Return the date the account's stored figures are as of."""
        with self._factory() as db:
            return db.scalar(select(AccountRow.as_of).where(AccountRow.account_id == account_id))

    def accounts_with_last4(self, last4: str) -> list[tuple[str, date]]:
        """Return ``(account_id, birth_date)`` of accounts whose card or loan ends in ``last4``."""
        with self._factory() as db:
            rows = db.execute(
                select(AccountRow.account_id, AccountRow.birth_date).where(
                    (AccountRow.card_last4 == last4) | (AccountRow.loan_last4 == last4)
                )
            ).all()
            return [(r[0], r[1]) for r in rows]

    # -- verification -----------------------------------------------------------

    def record_verification(
        self, session_id: str, account_id: str | None, success: bool, at: datetime
    ) -> None:
        """Append one verification attempt."""
        with self.transaction() as db:
            db.add(
                VerificationAttemptRow(
                    session_id=session_id, account_id=account_id, success=success, at=at
                )
            )

    def failures_since(self, account_id: str, since: datetime) -> int:
        """Count failed verification attempts against an account since a moment."""
        with self._factory() as db:
            return int(
                db.scalar(
                    select(func.count(VerificationAttemptRow.id)).where(
                        VerificationAttemptRow.account_id == account_id,
                        VerificationAttemptRow.success.is_(False),
                        VerificationAttemptRow.at >= since,
                    )
                )
                or 0
            )

    # -- sessions and messages ----------------------------------------------------

    def create_session(
        self, session_id: str, at: datetime, auth_account_id: str | None, channel: str = "web"
    ) -> None:
        """Register a new chat session (``channel``: where the debtor writes from)."""
        with self.transaction() as db:
            db.add(
                ChatSessionRow(
                    session_id=session_id,
                    created_at=at,
                    auth_account_id=auth_account_id,
                    channel=channel,
                )
            )

    def session_exists(self, session_id: str) -> bool:
        """Tell whether a chat session id is known."""
        with self._factory() as db:
            return db.get(ChatSessionRow, session_id) is not None

    def session_channel(self, session_id: str) -> str | None:
        """Where a session's debtor writes from (web, whatsapp, sms, email), if known."""
        with self._factory() as db:
            row = db.get(ChatSessionRow, session_id)
            return row.channel if row else None

    def session_account(self, session_id: str) -> str | None:
        """Return the account a session was opened for with a signed token, if any."""
        with self._factory() as db:
            row = db.get(ChatSessionRow, session_id)
            return row.auth_account_id if row else None

    def find_message(self, session_id: str, client_message_id: str) -> dict[str, Any] | None:
        """Return the answer already sent for a client message id, if any."""
        with self._factory() as db:
            return db.scalar(
                select(MessageRow.response).where(
                    MessageRow.session_id == session_id,
                    MessageRow.client_message_id == client_message_id,
                )
            )

    def save_turn(
        self,
        session_id: str,
        client_message_id: str | None,
        response: dict[str, Any],
        audit: dict[str, Any],
        at: datetime,
    ) -> int:
        """Store a processed message, its answer and its audit event in one transaction."""
        turn = int(audit.get("turn") or 0)
        with self.transaction() as db:
            db.add(AuditEventRow(session_id=session_id, kind="turn", created_at=at, payload=audit))
            db.add(
                MessageRow(
                    session_id=session_id,
                    client_message_id=client_message_id,
                    turn=turn,
                    created_at=at,
                    response=response,
                )
            )
            return turn

    # -- retention ---------------------------------------------------------------------

    def purge_before(self, cutoff: datetime) -> tuple[list[str], dict[str, int]]:
        """Delete conversations last active before ``cutoff``; return their ids and counts.

        A session is purged with its messages, audit events and verification attempts when
        its newest message (or its creation, if it has none) is older than the cutoff.
        Business records (offers, promises, disputes, complaints, handoffs) are kept.
        """
        with self.transaction() as db:
            last_seen = (
                select(ChatSessionRow.session_id)
                .outerjoin(MessageRow, MessageRow.session_id == ChatSessionRow.session_id)
                .group_by(ChatSessionRow.session_id)
                .having(
                    # compared as plain naive UTC, the form UTCDateTime stores
                    type_coerce(
                        func.coalesce(
                            func.max(MessageRow.created_at), func.max(ChatSessionRow.created_at)
                        ),
                        DateTime(),
                    )
                    < cutoff.astimezone(UTC).replace(tzinfo=None)
                )
            )
            ids = list(db.scalars(last_seen))
            counts = {"sessions": len(ids)}
            for name, model in (
                ("messages", MessageRow),
                ("audit_events", AuditEventRow),
                ("verification_attempts", VerificationAttemptRow),
            ):
                result = cast(
                    CursorResult[Any], db.execute(delete(model).where(model.session_id.in_(ids)))
                )
                counts[name] = int(result.rowcount or 0)
            db.execute(delete(ChatSessionRow).where(ChatSessionRow.session_id.in_(ids)))
        return ids, counts

    # -- audit -----------------------------------------------------------------------

    def append_audit(
        self, session_id: str, kind: str, payload: dict[str, Any], at: datetime
    ) -> None:
        """Append one audit event (never updated, never deleted except by retention)."""
        with self.transaction() as db:
            db.add(AuditEventRow(session_id=session_id, kind=kind, created_at=at, payload=payload))

    def audit_events(self, session_id: str) -> list[dict[str, Any]]:
        """Return a session's audit events in order."""
        with self._factory() as db:
            rows = db.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.session_id == session_id)
                .order_by(AuditEventRow.id)
            )
            return [{"kind": r.kind, "at": r.created_at, **r.payload} for r in rows]


_STATEMENT_FIELDS = (
    "statement_date",
    "due_date",
    "principal",
    "interest",
    "late_fee",
    "total_due",
    "minimum_due",
)
_ACCOUNT_FIELDS = tuple(c.name for c in AccountRow.__table__.columns if c.name != "as_of")
_ID: BindParameter[str] = bindparam("account_id", type_=String())
# Built once: composing SQLAlchemy statements per call costs more than running them.
_ACCOUNT_QUERY = (
    select(
        *(getattr(AccountRow, f) for f in _ACCOUNT_FIELDS),
        *(getattr(CardStatementRow, f).label(f"s_{f}") for f in _STATEMENT_FIELDS),
        CardStatementRow.id.label("statement_id"),
        LoanRow.details.label("loan"),
    )
    .outerjoin(CardStatementRow, CardStatementRow.account_id == AccountRow.account_id)
    .outerjoin(LoanRow, LoanRow.account_id == AccountRow.account_id)
    .where(AccountRow.account_id == _ID)
)
_DISPUTE_QUERY = (
    select(
        DisputeRow.reference,
        DisputeRow.amount,
        DisputeRow.reason,
        DisputeRow.opened,
        DisputeRow.status,
    )
    .where(DisputeRow.account_id == _ID)
    .order_by((DisputeRow.status == "open").desc(), DisputeRow.id.desc())
    .limit(1)
)
_PROMISE_QUERY = (
    select(
        PromiseRow.promised_date.label("date"),
        PromiseRow.amount,
        PromiseRow.recorded_at,
    )
    .where(PromiseRow.account_id == _ID, PromiseRow.status == "open")
    .order_by(PromiseRow.id.desc())
    .limit(1)
)


def _to_account(found: Any, dispute: Any | None, promise: Any | None) -> Account:
    data: dict[str, Any] = {name: found[name] for name in _ACCOUNT_FIELDS}
    data["statement"] = (
        None if found["statement_id"] is None else {k: found[f"s_{k}"] for k in _STATEMENT_FIELDS}
    )
    data["loan"] = found["loan"]
    data["dispute"] = None if dispute is None else dict(dispute)
    data["promise_to_pay"] = (
        None
        if promise is None
        else {
            "date": promise["date"],
            "amount": promise["amount"],
            "recorded": promise["recorded_at"].date(),
        }
    )
    return Account.model_validate(data, strict=False)
