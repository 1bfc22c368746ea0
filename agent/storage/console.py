"""The compliance console's records: operators, access log, holds and human replies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Index, String, Text, delete, func, inspect, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from agent.privacy import mask_text
from agent.storage.models import (
    AuditEventRow,
    Base,
    ChatSessionRow,
    HandoffRow,
    MessageRow,
    VerificationAttemptRow,
)

if TYPE_CHECKING:
    from agent.storage.repository import Store

ROLES = ("compliance", "agent", "admin")
MIN_PASSWORD_CHARS = 10
HELD_TEXT_MAX_CHARS = 4000
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
_CHAT_KINDS = ("turn", "turn_held", "human_reply")
REVIEW_KINDS = ("case", "conversation")
REVIEW_STATUSES = ("approved", "flagged")
REVIEW_COMMENT_MAX_CHARS = 2000
REVIEW_TARGET_MAX_CHARS = 120
TARGET_ID = re.compile(r"[A-Za-z0-9:_.-]{3,120}")  # eval case ids and session ids


class OperatorRow(Base):
    """A person who signs in to the console."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class AccessLogRow(Base):
    """One look at (or action on) a conversation by an operator."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    operator: Mapped[str] = mapped_column(String(64), index=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(index=True)


class LoginFailureRow(Base):
    """A failed console login, counted for throttling."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_user_at", "username", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]


class SessionHoldRow(Base):
    """A conversation taken over by a human; the bot stays silent while it exists."""

    __tablename__ = "session_holds"

    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    operator: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(120))
    taken_at: Mapped[datetime]


class HumanMessageRow(Base):
    """A human agent's reply as sent to the debtor (its audit event holds it masked)."""

    __tablename__ = "human_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    audit_id: Mapped[int] = mapped_column(unique=True)
    operator: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class ReviewRow(Base):
    """A compliance officer's mark on an eval case or a conversation (append-only)."""

    __tablename__ = "reviews"
    __table_args__ = (Index("ix_reviews_target", "target_kind", "target_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target_kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[str] = mapped_column(String(REVIEW_TARGET_MAX_CHARS))
    status: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(index=True)


class OperatorError(ValueError):
    """Bad operator input: unknown role, duplicate or invalid username, short password."""


class ReviewError(ValueError):
    """Bad review input: unknown kind or status, invalid target id, comment too long."""


@dataclass(frozen=True)
class Operator:
    """A signed-in operator, without the password hash."""

    username: str
    display_name: str
    role: str


@dataclass(frozen=True)
class Filters:
    """What the conversation list is narrowed to; ``until`` is exclusive."""

    account_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    blocked_only: bool = False
    handoff_only: bool = False


@dataclass(frozen=True)
class Conversation:
    """One line of the conversation list."""

    session_id: str
    created_at: datetime
    last_at: datetime
    account_id: str | None
    turns: int
    blocked_drafts: int
    handoff: bool
    held_by: str | None


@dataclass(frozen=True)
class QueueEntry:
    """A conversation waiting for (or held by) a human agent."""

    session_id: str
    reference: str
    reason: str
    account_id: str | None
    since: datetime
    held_by: str | None
    held_since: datetime | None


def hash_password(password: str) -> str:
    """Hash with scrypt and a random salt: ``scrypt$n$r$p$salt_b64$hash_b64``."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P, 32)
    return "$".join(
        ["scrypt", str(_SCRYPT_N), str(_SCRYPT_R), str(_SCRYPT_P), _b64(salt), _b64(digest)]
    )


def verify_password(password: str, stored: str) -> bool:
    """Check a password against a stored hash in constant time."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest, validate=True)
        if scheme != "scrypt":
            return False
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except ValueError:  # also binascii.Error: a malformed stored hash never matches
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, size: int) -> bytes:
    data = unicodedata.normalize("NFKC", password).encode()
    return hashlib.scrypt(data, salt=salt, n=n, r=r, p=p, dklen=size)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# Checked against unknown usernames too, so a login takes as long whether the user exists.
_DUMMY_HASH = hash_password(secrets.token_hex(8))


class ConsoleStore:
    """Operators, login throttling, the access log, holds and human replies."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        """Wrap a session factory bound to an initialised database."""
        self._factory = factory

    @classmethod
    def for_store(cls, store: Store) -> ConsoleStore:
        """Share the database of the agent's store."""
        return cls(store._factory)

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with self._factory.begin() as db:
            yield db

    # -- operators --------------------------------------------------------------------

    def add_operator(
        self, username: str, role: str, password: str, display_name: str | None, at: datetime
    ) -> Operator:
        """Create an operator account.

        Raises:
            OperatorError: unknown role, invalid or taken username, password too short.
        """
        if role not in ROLES:
            raise OperatorError(f"unknown role {role!r} (choose one of {', '.join(ROLES)})")
        if not _USERNAME.fullmatch(username):
            raise OperatorError(
                "invalid username (2-64 characters: lowercase letters, digits, '.', '_', '-')"
            )
        if len(password) < MIN_PASSWORD_CHARS:
            raise OperatorError(f"password must have at least {MIN_PASSWORD_CHARS} characters")
        name = (display_name or username).strip()[:120] or username
        try:
            with self._tx() as db:
                db.add(
                    OperatorRow(
                        username=username,
                        display_name=name,
                        role=role,
                        password_hash=hash_password(password),
                        active=True,
                        created_at=at,
                    )
                )
        except IntegrityError as exc:
            raise OperatorError(f"operator {username!r} already exists") from exc
        return Operator(username, name, role)

    def operators(self) -> list[tuple[Operator, bool, datetime]]:
        """Every operator with whether the account is active and when it was created."""
        with self._factory() as db:
            rows = db.scalars(select(OperatorRow).order_by(OperatorRow.username))
            return [(_operator(r), r.active, r.created_at) for r in rows]

    def operator(self, username: str) -> Operator | None:
        """Return an active operator by username."""
        with self._factory() as db:
            row = db.scalar(
                select(OperatorRow).where(
                    OperatorRow.username == username, OperatorRow.active.is_(True)
                )
            )
            return _operator(row) if row else None

    def authenticate(self, username: str, password: str) -> Operator | None:
        """Return the operator when the password matches an active account."""
        with self._factory() as db:
            row = db.scalar(
                select(OperatorRow).where(
                    OperatorRow.username == username, OperatorRow.active.is_(True)
                )
            )
        if row is None:
            verify_password(password, _DUMMY_HASH)
            return None
        return _operator(row) if verify_password(password, row.password_hash) else None

    def login_failures_since(self, username: str, since: datetime) -> int:
        """Count failed logins for a username since a moment."""
        with self._factory() as db:
            return int(
                db.scalar(
                    select(func.count(LoginFailureRow.id)).where(
                        LoginFailureRow.username == username, LoginFailureRow.at >= since
                    )
                )
                or 0
            )

    def record_login_failure(self, username: str, at: datetime) -> None:
        """Remember one failed login."""
        with self._tx() as db:
            db.add(LoginFailureRow(username=username[:64], at=at))

    def clear_login_failures(self, username: str) -> None:
        """Forget a username's failures after a successful login."""
        with self._tx() as db:
            db.execute(delete(LoginFailureRow).where(LoginFailureRow.username == username))

    # -- access log ---------------------------------------------------------------------

    def log_access(self, operator: str, session_id: str, action: str, at: datetime) -> None:
        """Append one access-log row."""
        with self._tx() as db:
            db.add(AccessLogRow(operator=operator, session_id=session_id, action=action, at=at))

    def access_log(self, limit: int = 500) -> list[dict[str, Any]]:
        """The newest access-log rows first."""
        with self._factory() as db:
            rows = db.scalars(select(AccessLogRow).order_by(AccessLogRow.id.desc()).limit(limit))
            return [
                {"operator": r.operator, "session_id": r.session_id, "action": r.action, "at": r.at}
                for r in rows
            ]

    # -- holds and human replies ----------------------------------------------------------

    def held_by(self, session_id: str) -> str | None:
        """The username of the operator holding a conversation, if any."""
        with self._factory() as db:
            return db.scalar(
                select(SessionHoldRow.operator).where(SessionHoldRow.session_id == session_id)
            )

    def in_queue(self, session_id: str) -> bool:
        """Whether a conversation waits for a human or is held by one."""
        with self._factory() as db:
            found = db.scalar(
                select(HandoffRow.id).where(
                    HandoffRow.session_id == session_id,
                    HandoffRow.status.in_(("waiting", "taken")),
                )
            )
            return found is not None or db.get(SessionHoldRow, session_id) is not None

    def queue(self) -> list[QueueEntry]:
        """Conversations handed to humans, oldest first: waiting ones and held ones."""
        with self._factory() as db:
            rows = db.execute(
                select(HandoffRow, SessionHoldRow)
                .outerjoin(SessionHoldRow, SessionHoldRow.session_id == HandoffRow.session_id)
                .where(HandoffRow.status.in_(("waiting", "taken")))
                .order_by(HandoffRow.created_at, HandoffRow.id)
            ).all()
        entries: dict[str, QueueEntry] = {}
        for handoff, hold in rows:
            if handoff.session_id and handoff.session_id not in entries:
                entries[handoff.session_id] = QueueEntry(
                    session_id=handoff.session_id,
                    reference=handoff.reference,
                    reason=handoff.reason,
                    account_id=handoff.account_id,
                    since=handoff.created_at,
                    held_by=hold.operator if hold else None,
                    held_since=hold.taken_at if hold else None,
                )
        return list(entries.values())

    def take(self, session_id: str, operator: Operator, at: datetime) -> bool:
        """Hold a waiting conversation for an operator; False when it is not available."""
        try:
            with self._tx() as db:
                hold = db.get(SessionHoldRow, session_id)
                if hold is not None:
                    return hold.operator == operator.username
                handoffs = list(
                    db.scalars(
                        select(HandoffRow).where(
                            HandoffRow.session_id == session_id, HandoffRow.status == "waiting"
                        )
                    )
                )
                if not handoffs:
                    return False
                for handoff in handoffs:
                    handoff.status = "taken"
                db.add(SessionHoldRow(session_id=session_id, taken_at=at, **_who(operator)))
                _audit(db, session_id, "human_taken", _who(operator), at)
        except IntegrityError:  # another operator took it at the same moment
            return False
        return True

    def release(self, session_id: str, operator: Operator, at: datetime, *, force: bool) -> bool:
        """Give a conversation back to the bot; only its holder may, unless ``force``."""
        with self._tx() as db:
            hold = db.get(SessionHoldRow, session_id)
            if hold is None or (hold.operator != operator.username and not force):
                return False
            db.delete(hold)
            for handoff in db.scalars(
                select(HandoffRow).where(
                    HandoffRow.session_id == session_id, HandoffRow.status == "taken"
                )
            ):
                handoff.status = "released"
            _audit(
                db, session_id, "human_released", {**_who(operator), "holder": hold.operator}, at
            )
        return True

    def add_human_reply(self, session_id: str, operator: Operator, text: str, at: datetime) -> bool:
        """Send a human reply in a conversation the operator holds; False when not held."""
        with self._tx() as db:
            hold = db.get(SessionHoldRow, session_id)
            if hold is None or hold.operator != operator.username:
                return False
            event = _audit(
                db, session_id, "human_reply", {**_who(operator), "text": mask_text(text)}, at
            )
            db.flush()
            db.add(
                HumanMessageRow(
                    session_id=session_id,
                    audit_id=event.id,
                    text=text,
                    created_at=at,
                    **_who(operator),
                )
            )
        return True

    def record_held_message(
        self, session_id: str, client_message_id: str | None, masked_text: str, at: datetime
    ) -> dict[str, Any]:
        """Record a debtor message the bot must not answer; return the (silent) response."""
        with self._tx() as db:
            last = db.scalar(
                select(MessageRow.response)
                .where(MessageRow.session_id == session_id)
                .order_by(MessageRow.id.desc())
                .limit(1)
            )
            response = {
                "reply": "",
                "verified": bool(last and last.get("verified")),
                "tool_calls": [],
                "citations": [],
                "guardrail": {"drafts_blocked": 0, "violations": []},
                "handoff": True,
            }
            holder = db.scalar(
                select(SessionHoldRow.operator).where(SessionHoldRow.session_id == session_id)
            )
            payload = {"input": masked_text[:HELD_TEXT_MAX_CHARS], "held_by": holder}
            _audit(db, session_id, "turn_held", payload, at)
            db.add(
                MessageRow(
                    session_id=session_id,
                    client_message_id=client_message_id,
                    turn=0,
                    created_at=at,
                    response=response,
                )
            )
        return response

    # -- what the debtor's widget shows ------------------------------------------------------

    def messages(self, session_id: str, after: int = 0) -> list[dict[str, Any]]:
        """The conversation as the debtor sees it, after a sequence number.

        ``seq`` is twice the audit event id (plus one for the bot's answer to a message), so it
        is stable and increasing. Each ``turn``/``turn_held`` event has exactly one message row,
        written with it in one transaction, which holds the reply as sent.
        """
        first_id = after // 2
        with self._factory() as db:
            events = db.execute(
                select(
                    AuditEventRow.id,
                    AuditEventRow.kind,
                    AuditEventRow.created_at,
                    AuditEventRow.payload,
                )
                .where(
                    AuditEventRow.session_id == session_id,
                    AuditEventRow.kind.in_(_CHAT_KINDS),
                    AuditEventRow.id >= first_id,
                )
                .order_by(AuditEventRow.id)
            ).all()
            skipped = db.scalar(
                select(func.count(AuditEventRow.id)).where(
                    AuditEventRow.session_id == session_id,
                    AuditEventRow.kind.in_(("turn", "turn_held")),
                    AuditEventRow.id < first_id,
                )
            )
            replies = iter(
                db.scalars(
                    select(MessageRow.response)
                    .where(MessageRow.session_id == session_id)
                    .order_by(MessageRow.id)
                    .offset(int(skipped or 0))
                ).all()
            )
            human = dict(
                db.execute(
                    select(HumanMessageRow.audit_id, HumanMessageRow.text).where(
                        HumanMessageRow.session_id == session_id,
                        HumanMessageRow.audit_id >= first_id,
                    )
                ).all()
            )
        found = [m for event in events for m in _chat_messages(event, replies, human)]
        return [m for m in found if m["seq"] > after]

    # -- the conversation list -------------------------------------------------------------

    def conversations(self, filters: Filters, limit: int = 200) -> list[Conversation]:
        """Conversations matching the filters, newest first."""
        query = select(
            ChatSessionRow.session_id, ChatSessionRow.created_at, ChatSessionRow.auth_account_id
        )
        if filters.account_id:
            query = query.where(_for_account(filters.account_id))
        if filters.since:
            query = query.where(ChatSessionRow.created_at >= filters.since)
        if filters.until:
            query = query.where(ChatSessionRow.created_at < filters.until)
        if filters.handoff_only:
            query = query.where(ChatSessionRow.session_id.in_(select(HandoffRow.session_id)))
        # blocked drafts are found in the audit payloads, so read more candidates for that filter
        query = query.order_by(ChatSessionRow.created_at.desc(), ChatSessionRow.session_id)
        with self._factory() as db:
            rows = db.execute(query.limit(limit * 5 if filters.blocked_only else limit)).all()
            found = _summaries(db, rows)
        if filters.blocked_only:
            found = [c for c in found if c.blocked_drafts]
        return found[:limit]

    def conversation(self, session_id: str) -> Conversation | None:
        """One conversation's summary, or None when the session is unknown."""
        with self._factory() as db:
            rows = db.execute(
                select(
                    ChatSessionRow.session_id,
                    ChatSessionRow.created_at,
                    ChatSessionRow.auth_account_id,
                ).where(ChatSessionRow.session_id == session_id)
            ).all()
            found = _summaries(db, rows)
        return found[0] if found else None

    # -- eval review marks -------------------------------------------------------------------

    def add_review(
        self, kind: str, target_id: str, status: str, comment: str, reviewer: str, at: datetime
    ) -> dict[str, Any]:
        """Mark an eval case or a conversation; a target's newest mark replaces older ones.

        Raises:
            ReviewError: unknown kind or status, invalid target id, comment too long.
        """
        target_id, comment = target_id.strip(), _review_comment(comment)
        _check_review(kind, target_id, status, comment)
        row = ReviewRow(
            target_kind=kind,
            target_id=target_id,
            status=status,
            comment=comment,
            reviewer=reviewer,
            created_at=at,
        )
        mark = _review(row)
        with self._tx() as db:
            db.add(row)
        return mark

    def reviews(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The latest mark of every target (of one kind, if given), newest first.

        Raises:
            ReviewError: unknown kind.
        """
        latest = select(func.max(ReviewRow.id)).group_by(ReviewRow.target_kind, ReviewRow.target_id)
        if kind is not None:
            if kind not in REVIEW_KINDS:
                raise ReviewError(f"unknown review kind {kind!r}")
            latest = latest.where(ReviewRow.target_kind == kind)
        query = select(ReviewRow).where(ReviewRow.id.in_(latest))
        with self._factory() as db:
            rows = db.scalars(query.order_by(ReviewRow.created_at.desc(), ReviewRow.id.desc()))
            return [_review(r) for r in rows]

    def review(self, kind: str, target_id: str) -> dict[str, Any] | None:
        """The latest mark of one target, if it has any."""
        with self._factory() as db:
            row = db.scalar(
                select(ReviewRow)
                .where(ReviewRow.target_kind == kind, ReviewRow.target_id == target_id)
                .order_by(ReviewRow.id.desc())
                .limit(1)
            )
        return _review(row) if row else None

    # -- retention ---------------------------------------------------------------------------

    def purge_sessions(self, session_ids: Sequence[str]) -> dict[str, int]:
        """Delete the console's copies of purged conversations (holds, human replies, marks)."""
        counts: dict[str, int] = {}
        with self._tx() as db:
            for name, model in (("human_messages", HumanMessageRow), ("holds", SessionHoldRow)):
                result = db.execute(delete(model).where(model.session_id.in_(session_ids)))
                counts[name] = int(getattr(result, "rowcount", 0) or 0)
            # a comment may quote the debtor, so a conversation's marks go with it
            result = db.execute(
                delete(ReviewRow).where(
                    ReviewRow.target_kind == "conversation", ReviewRow.target_id.in_(session_ids)
                )
            )
            counts["reviews"] = int(getattr(result, "rowcount", 0) or 0)
        return counts


def export_reviews(database_url: str) -> list[dict[str, Any]]:
    """The latest review marks in a database, for an eval report; masked, newest first.

    Reads only: a database without the ``reviews`` table (or a SQLite file that does not
    exist) has no marks, and nothing is created.
    """
    from agent.storage.database import make_engine  # database.py imports this module

    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        if path != ":memory:" and not Path(path).is_file():
            return []
    engine = make_engine(database_url)
    try:
        if not inspect(engine).has_table(ReviewRow.__tablename__):
            return []
        marks = ConsoleStore(sessionmaker(engine)).reviews()
    finally:
        engine.dispose()
    # reports are shared more widely than the console: comments may quote a debtor
    return [{**mark, "comment": mask_text(mark["comment"])} for mark in marks]


def _review_comment(comment: str) -> str:
    """Browsers send CRLF; count a line break as one character, as the textarea does."""
    return comment.replace("\r\n", "\n").replace("\r", "\n").strip()


def _check_review(kind: str, target_id: str, status: str, comment: str) -> None:
    if kind not in REVIEW_KINDS:
        raise ReviewError(f"unknown review kind {kind!r} (choose {' or '.join(REVIEW_KINDS)})")
    if status not in REVIEW_STATUSES:
        raise ReviewError("choose a status: approved or flagged")
    if not TARGET_ID.fullmatch(target_id):
        raise ReviewError(
            f"invalid {'eval case' if kind == 'case' else 'conversation'} id: use 3-120 "
            "characters of letters, digits, ':', '_', '.' and '-' "
            "(for example offline:coop-cc1003-cicilan-6)"
        )
    if len(comment) > REVIEW_COMMENT_MAX_CHARS:
        raise ReviewError(
            f"the comment has {len(comment)} characters; at most "
            f"{REVIEW_COMMENT_MAX_CHARS} are allowed"
        )


def _review(row: ReviewRow) -> dict[str, Any]:
    return {
        "target_kind": row.target_kind,
        "target_id": row.target_id,
        "status": row.status,
        "comment": row.comment,
        "reviewer": row.reviewer,
        "at": row.created_at.isoformat(),
    }


def _operator(row: OperatorRow) -> Operator:
    return Operator(row.username, row.display_name, row.role)


def _who(operator: Operator) -> dict[str, str]:
    return {"operator": operator.username, "display_name": operator.display_name}


def _audit(
    db: Session, session_id: str, kind: str, payload: dict[str, Any], at: datetime
) -> AuditEventRow:
    event = AuditEventRow(session_id=session_id, kind=kind, created_at=at, payload=payload)
    db.add(event)
    return event


def _chat_messages(
    event: tuple[int, str, datetime, dict[str, Any]],
    replies: Iterator[dict[str, Any]],
    human: dict[int, str],
) -> list[dict[str, Any]]:
    event_id, kind, at, payload = event
    when = at.isoformat()
    if kind == "human_reply":
        text = human.get(event_id, payload.get("text", ""))
        return [{"seq": 2 * event_id, "role": "agent", "text": text, "at": when}]
    found = [{"seq": 2 * event_id, "role": "user", "text": payload.get("input", ""), "at": when}]
    response = next(replies, None)
    reply = response.get("reply", "") if response else ""
    if kind == "turn" and reply:
        found.append({"seq": 2 * event_id + 1, "role": "assistant", "text": reply, "at": when})
    return found


def _for_account(account_id: str) -> Any:
    return or_(
        ChatSessionRow.auth_account_id == account_id,
        ChatSessionRow.session_id.in_(
            select(VerificationAttemptRow.session_id).where(
                VerificationAttemptRow.account_id == account_id,
                VerificationAttemptRow.success.is_(True),
            )
        ),
        ChatSessionRow.session_id.in_(
            select(HandoffRow.session_id).where(HandoffRow.account_id == account_id)
        ),
    )


def _summaries(db: Session, rows: Sequence[tuple[str, datetime, str | None]]) -> list[Conversation]:
    ids = [r[0] for r in rows]
    events = db.execute(
        select(AuditEventRow.session_id, AuditEventRow.created_at, AuditEventRow.payload).where(
            AuditEventRow.session_id.in_(ids), AuditEventRow.kind.in_(("turn", "turn_held"))
        )
    ).all()
    verified = dict(
        db.execute(
            select(VerificationAttemptRow.session_id, VerificationAttemptRow.account_id).where(
                VerificationAttemptRow.session_id.in_(ids),
                VerificationAttemptRow.success.is_(True),
            )
        ).all()
    )
    handed = set(db.scalars(select(HandoffRow.session_id).where(HandoffRow.session_id.in_(ids))))
    holds = dict(
        db.execute(
            select(SessionHoldRow.session_id, SessionHoldRow.operator).where(
                SessionHoldRow.session_id.in_(ids)
            )
        ).all()
    )
    stats: dict[str, list[Any]] = {sid: [0, 0, False, None] for sid in ids}
    for sid, at, payload in events:
        entry = stats[sid]
        entry[0] += 1
        entry[1] += sum(1 for d in payload.get("drafts", []) if not d.get("allowed"))
        entry[2] = entry[2] or bool(payload.get("handoff"))
        entry[3] = at if entry[3] is None or at > entry[3] else entry[3]
    return [
        Conversation(
            session_id=sid,
            created_at=created,
            last_at=stats[sid][3] or created,
            account_id=auth or verified.get(sid),
            turns=stats[sid][0],
            blocked_drafts=stats[sid][1],
            handoff=sid in handed or stats[sid][2],
            held_by=holds.get(sid),
        )
        for sid, created, auth in rows
    ]
