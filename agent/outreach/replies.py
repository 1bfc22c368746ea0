"""What comes back from the channels: delivery reports, opt-outs and replies.

A reply continues the debtor's conversation: it runs through the same agent (graph,
tools, guardrail) in a chat session kept per debtor and channel, and the agent's answer
goes back on the channel it came from. The session starts unverified, like any chat: a
phone or mailbox may be read by someone else, so the agent asks for verification before
it discloses anything about the account.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from agent.clock import Clock
from agent.outreach.channels.base import (
    Channel,
    ChannelError,
    ChannelEvent,
    OutboundMessage,
    normalise_phone,
)
from agent.storage.outreach import OutreachStore
from agent.storage.repository import Store

log = logging.getLogger(__name__)

OPT_OUT = re.compile(
    r"^\s*(?:stop|berhenti|unreg|unsubscribe|jangan\s+(?:hubungi|kirim)\b.*)\s*[.!]*\s*$",
    re.IGNORECASE,
)
OPT_OUT_REPLY = (
    "Baik, permintaan Bapak/Ibu sudah kami catat. Bank Nusantara tidak akan lagi mengirim "
    "pengingat melalui WhatsApp, SMS, e-mail maupun kotak pesan web. Bapak/Ibu tetap dapat "
    "menghubungi kami kapan saja melalui chat."
)


class Conversations(Protocol):
    """The chat agent (agent.service.ChatService), as far as replies need it."""

    store: Store

    async def handle_message(
        self, session_id: str, text: str, client_message_id: str | None = None
    ) -> dict[str, Any]:
        """Answer one debtor message."""
        ...


class ReplyDesk:
    """Handles every event the channel webhooks deliver (``app.state.outreach_events``)."""

    def __init__(
        self,
        *,
        outreach: OutreachStore,
        channels: Mapping[str, Channel],
        clock: Clock,
        chat: Conversations | None = None,
    ) -> None:
        """Wrap the outreach store, the channels and (for replies) the chat agent."""
        self.outreach, self.channels, self.clock, self.chat = outreach, channels, clock, chat
        self._chat_day, self._chat_seen = "", set[str]()  # web sessions counted today

    def chat_turn(self, session_id: str, account_id: str, at: datetime) -> None:
        """A verified debtor wrote in the web chat: count it as a reply, once a day.

        Sessions that continue a WhatsApp, SMS or e-mail thread are left out: their
        webhook already recorded the reply.
        """
        today = at.date().isoformat()
        if today != self._chat_day:  # only today's sessions are remembered
            self._chat_day, self._chat_seen = today, set()
        if session_id in self._chat_seen:
            return
        self._chat_seen.add(session_id)
        if self.chat is None or self.chat.store.session_channel(session_id) != "web":
            return
        self.outreach.record_event(
            account_id,
            "reply",
            at,
            source="chat",
            channel="web",
            event_id=f"chat:{session_id}:{today}",
        )

    async def handle_event(self, event: ChannelEvent) -> None:
        """Record one event; a repeated event (same provider event id) changes nothing."""
        if event.kind == "reply":
            await self._reply(event)
            return
        row = self.outreach.find_message(event.key, event.provider_id)
        if row is None:
            log.warning("delivery report for an unknown message (%s)", event.channel)
            return
        event_id = event.event_id or f"{event.kind}:{row.key}"
        self.outreach.record_event(
            row.account_id,
            event.kind,
            event.at,
            source="provider",
            channel=event.channel,
            key=row.key,
            event_id=f"{event.channel}:{event_id}",
        )

    async def _reply(self, event: ChannelEvent) -> None:
        account_id = self._account_for(event)
        if account_id is None or event.address is None:
            log.warning("reply on %s from an unknown sender: ignored", event.channel)
            return
        event_id = f"{event.channel}:{event.event_id or secrets.token_hex(8)}"
        first = self.outreach.record_event(
            account_id,
            "reply",
            event.at,
            source="provider",
            channel=event.channel,
            event_id=event_id,
        )
        if not first:
            return  # the provider repeated a webhook we already answered
        text = (event.text or "").strip()
        if OPT_OUT.match(text):
            now = self.clock.now()
            cancelled = self.outreach.set_opt_out(account_id, True, now, f"reply:{event.channel}")
            self.outreach.record_event(
                account_id,
                "opt_out",
                now,
                source="provider",
                channel=event.channel,
                event_id=f"opt_out:{event_id}",
                detail={"cancelled": cancelled},
            )
            self._answer(event, account_id, event_id, OPT_OUT_REPLY)
            return
        if self.chat is None or not text:
            return
        session_id = self._session(account_id, event)
        result = await self.chat.handle_message(session_id, text, client_message_id=event_id)
        if result.get("reply"):
            self._answer(event, account_id, event_id, str(result["reply"]))

    def _session(self, account_id: str, event: ChannelEvent) -> str:
        session_id = self.outreach.thread(account_id, event.channel)
        assert self.chat is not None and event.address is not None
        if session_id is None or not self.chat.store.session_exists(session_id):
            session_id = secrets.token_urlsafe(18)
            now = self.clock.now()
            self.chat.store.create_session(session_id, now, None, channel=event.channel)
            self.outreach.set_thread(account_id, event.channel, event.address, session_id, now)
        return session_id

    def _answer(self, event: ChannelEvent, account_id: str, event_id: str, text: str) -> None:
        assert event.address is not None
        message = OutboundMessage(
            key=f"answer:{event_id}",
            account_id=account_id,
            channel=event.channel,
            address=event.address,
            text=text,
            subject="Balasan dari Bank Nusantara" if event.channel == "email" else None,
        )
        try:
            self.channels[event.channel].send(message)
        except ChannelError as exc:  # the debtor can still read it in the chat session
            log.warning("answer on %s not delivered: %s", event.channel, exc)

    def _account_for(self, event: ChannelEvent) -> str | None:
        if event.address is None:
            return None
        wanted = event.address.strip().lower()
        for account_id, contact in self.outreach.contacts().items():
            if event.channel == "email" and str(contact.get("email", "")).lower() == wanted:
                return account_id
            if event.channel in ("whatsapp", "sms") and _same_phone(contact.get("phone"), wanted):
                return account_id
        return None


def _same_phone(phone: object, wanted: str) -> bool:
    try:
        return isinstance(phone, str) and normalise_phone(phone) == normalise_phone(wanted)
    except ValueError:
        return False
