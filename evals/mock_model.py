"""A deterministic stand-in for a chat model, so LLM-engine scenarios run without one.

:func:`respond` reads an OpenAI chat-completions request the way a competent, compliant
model would -- the conversation state in the system prompt, the debtor's masked messages and
the tool results -- and returns one :class:`~evals.scripted_llm.ScriptedLLM` step: tool calls
chosen with the offline NLU, or an Indonesian reply built only from this turn's tool results
(the guardrail blocks any figure no tool returned). Serve it with
``ScriptedLLM(responder=respond)`` or ``--responder evals.mock_model:respond``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from agent.engines.llm.engine import FEEDBACK_PREFIX
from agent.engines.offline.handlers import offer_line
from agent.engines.offline.nlu import understand
from agent.engines.offline.normalise import normalise
from agent.engines.offline.planner import ACCOUNT_INTENTS, BALANCE_INTENTS, resolve_choice
from agent.engines.offline.slots import parse_amount, parse_choice, parse_date
from agent.engines.offline.templates import default_templates
from agent.formatting import hari_tanggal, rupiah, tanggal
from agent.prompts.book import PROMPTS_DIR

__all__ = ["respond"]

Result = tuple[str, dict[str, Any]]
_TODAY = re.compile(r"Hari ini: (\d{4}-\d{2}-\d{2}) \(([\w/+-]+)\)")
_FLAGS = re.compile(r"Tanda dari penyaringan pesan: ([a-z_, ]+)")
_ACCEPTED = re.compile(r"Rencana yang sudah disetujui: (\S+?)\.?$", re.MULTILINE)
_LAST4, _DATE = "[4digit]", "[tanggal]"
# "14-03-1988" reaches the model as "****[4digit]" (masked like a long number): a date given.
_MASKED_RUN = re.compile(r"\*{4,}\[4digit\]")
_ZONES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}
_PAID = re.compile(r"Pembayaran baru diterima: (Rp[\d.]+) \((\d{4}-\d{2}-\d{2})\)")
# Lines of the system prompt's conversation state (agent/prompts/system.md.j2).
_HANDED_OVER = "- Percakapan sudah diteruskan ke petugas manusia."
_LOCKED = "- Verifikasi terkunci karena terlalu banyak percobaan gagal"
_DISTRESS = "- Debitur menyampaikan kesulitan berat"
_THIRD_PARTY = "- Lawan bicara menyatakan dirinya BUKAN pemilik rekening"
_JAIL = re.compile(r"penjara|dipenjara|dipidana|ditangkap|polisi")
# A question about the rules, not the account ("denda maksimal berapa?"): cite, not balance.
_RULES = re.compile(
    r"\b(?:maksimal|maksimum|batas|aturan|ketentuan|ojk|pojk|regulasi|dilarang|persen)\b"
)
# "restruk yg 24 bulan aja" names one plan and takes it: a choice, not a question.
_TAKES = re.compile(r"\b(?:ambil|pilih|aja|saja|setuju)\b")
_QUESTION = re.compile(
    r"\b(?:berapa lama|caranya|gimana|bagaimana|boleh (?:gak|nggak|tidak|ga)|apakah)\b"
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_TEXT_INTENTS = ("injection", "abusive", "third_party", "ask_identity", "greeting", "thanks_bye")
_FOLLOW_UP = frozenset({"out_of_scope", "greeting", "thanks_bye", "verify"})  # "500rb dulu"
_CALM = frozenset({"distress", "request_human", "out_of_scope", "greeting", "thanks_bye"})
_NO_ACCOUNT_TOOLS = frozenset({"complaint", "request_human", "distress", "ask_rights"})
# Debtor protections a role-play flag must not swallow ("penagih kasar" trips the screen).
_PROTECTED = frozenset({"complaint", "request_human", "dispute", "distress"})
_HELP = (
    'Saya dapat menghubungkan Bapak/Ibu dengan petugas kami; cukup ketik "hubungkan ke petugas".'
)
TEXTS = {
    "greeting": "Halo, saya Santun, asisten digital Bank Nusantara. Saya dapat membantu mengecek"
    " tagihan, melihat pilihan pembayaran, atau membuat tautan pembayaran. Ada yang bisa saya"
    " bantu?",
    "thanks_bye": "Sama-sama, Bapak/Ibu. Terima kasih sudah menghubungi Bank Nusantara.",
    "ask_identity": "Saya Santun, asisten digital (program komputer) Bank Nusantara, bukan"
    " manusia. Kami tidak pernah meminta kode OTP, PIN, atau kata sandi. " + _HELP,
    "injection": "Mohon maaf, saya tidak dapat mengubah peran atau aturan saya. Saya tetap"
    " Santun, asisten digital Bank Nusantara, dan dengan senang hati membantu terkait tagihan"
    " atau pilihan pembayaran Bapak/Ibu.",
    "abusive": "Kami memahami Bapak/Ibu mungkin sedang kesal, dan kami mohon maaf atas"
    " ketidaknyamanannya. Saya tetap siap membantu. " + _HELP,
    "third_party": "Terima kasih sudah menghubungi kami. Mohon maaf, demi menjaga kerahasiaan"
    " data nasabah, informasi rekening hanya dapat kami bahas langsung dengan pemilik rekening.",
    "out_of_scope": "Mohon maaf, saya hanya dapat membantu hal terkait tagihan kartu kredit dan"
    " pinjaman di Bank Nusantara, seperti cek tagihan, pilihan pembayaran, atau pengaduan.",
    "ask_verification": "Baik, dengan senang hati saya bantu. Demi keamanan data, mohon sebutkan"
    " 4 digit terakhir nomor kartu kredit atau nomor pinjaman Bapak/Ibu beserta tanggal lahir.",
    "need_birth_date": "Terima kasih. Mohon sebutkan juga tanggal lahir Bapak/Ibu.",
    "need_last4": "Terima kasih. Mohon sebutkan juga 4 digit terakhir nomor kartu kredit atau"
    " nomor pinjaman Bapak/Ibu.",
    "locked": "Mohon maaf, demi keamanan verifikasi tidak dapat dilanjutkan saat ini. " + _HELP,
    "choice_unclear": "Mohon maaf, saya belum yakin pilihan mana yang Bapak/Ibu maksud. Mohon"
    ' sebutkan nomor atau tenornya, misalnya "ambil yang 6 bulan".',
    "promise_amount": "Baik, terima kasih. Berapa nominal yang akan Bapak/Ibu bayarkan?",
    "promise_date": "Baik, terima kasih. Pada tanggal berapa Bapak/Ibu berencana membayar?"
    ' Mohon tulis tanggal dan bulannya saja, misalnya "30 November".',
    "already_verified": "Identitas Bapak/Ibu sudah terverifikasi. Ada yang bisa saya bantu?",
    "fallback": "Mohon maaf, saya belum dapat menjawab dengan tepat. " + _HELP,
    "apology": "Mohon maaf atas jawaban saya sebelumnya, Bapak/Ibu. Saya siap membantu terkait"
    " tagihan atau pilihan pembayaran Anda. " + _HELP,
}


@dataclass(frozen=True)
class _Chat:
    """What the request tells a model: state, the debtor's messages and the tool results."""

    system: str
    users: tuple[str, ...]  # the debtor's messages, oldest first; the last is this turn's
    results: tuple[Result, ...]  # every tool result in the request
    turn: tuple[Result, ...]  # the tool results after the debtor's last message

    @property
    def today(self) -> date:
        found = _TODAY.search(self.system)
        return date.fromisoformat(found.group(1)) if found else date.today()

    @property
    def timezone(self) -> str:
        found = _TODAY.search(self.system)
        return found.group(2) if found else "Asia/Jakarta"

    @property
    def verified(self) -> bool:
        return "- Identitas debitur: sudah terverifikasi" in self.system

    @property
    def flags(self) -> set[str]:
        found = _FLAGS.search(self.system)
        return {f.strip() for f in found.group(1).split(",")} if found else set()

    def says(self, phrase: str) -> bool:
        return phrase in self.system


def respond(body: dict[str, Any]) -> dict[str, Any]:
    """Given an OpenAI chat-completions request body, return one scripted step.

    Returns:
        ``{"tool_calls": [...]}`` when a tool is needed and tools were offered, else
        ``{"content": "..."}``.
    """
    messages: list[dict[str, Any]] = list(body.get("messages") or [])
    chat = _read(messages)
    last = messages[-1] if messages else {}
    if last.get("role") == "user" and _text(last).startswith(FEEDBACK_PREFIX):
        return {"content": TEXTS["apology"]}  # no figures: the last draft was blocked
    if last.get("role") == "tool":
        step: dict[str, Any] = {"tool_calls": _follow_up(chat)}
    elif last.get("role") == "user":
        step = _on_user(chat, _text(last))
    else:
        step = {"content": TEXTS["fallback"]}
    if step.get("tool_calls") and body.get("tools"):
        return step
    if not step.get("content"):
        step = {"content": _compose(chat) if chat.turn else TEXTS["fallback"]}
    return {"content": _obey_length(body, _payment_thanks(chat) + step["content"])}


_SHORT_INSTRUCTION = re.compile(r"satu atau dua kalimat", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"(])")


def _obey_length(body: dict[str, Any], text: str) -> str:
    """Follow a variant's "one or two sentences" instruction, as an obedient model would.

    This is what makes prompt variants differ under the mock model: the ``ringkas`` variant's
    replies are cut to two sentences, so answers that need more (a list of plans) lose detail.
    """
    messages = body.get("messages") or []
    system = _text(messages[0]) if messages and messages[0].get("role") == "system" else ""
    if not _SHORT_INSTRUCTION.search(system):
        return text
    return " ".join(_SENTENCE.split(text)[:2])


def _payment_thanks(chat: _Chat) -> str:
    """Thank the debtor for payments the system prompt reports as just received."""
    return "".join(
        f"Terima kasih, pembayaran Bapak/Ibu sebesar {amount} pada {_day(day)} sudah kami terima. "
        for amount, day in _PAID.findall(chat.system)
    )


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    return content if isinstance(content, str) else ""


@lru_cache(maxsize=1)
def _fewshots() -> tuple[tuple[tuple[str, str], ...], ...]:
    data = yaml.safe_load((PROMPTS_DIR / "fewshot.yaml").read_text(encoding="utf-8"))
    return tuple(tuple((m["role"], m["content"]) for m in d["messages"]) for d in data["dialogues"])


def _skip_fewshots(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop the example dialogues that open the prompt: they are not this conversation."""
    position, moved = 0, True
    while moved:
        moved = False
        for shot in _fewshots():
            window = [(m.get("role"), _text(m)) for m in messages[position : position + len(shot)]]
            if window == list(shot):
                position, moved = position + len(shot), True
    return messages[position:]


def _read(messages: list[dict[str, Any]]) -> _Chat:
    system = "\n".join(_text(m) for m in messages if m.get("role") == "system")
    names: dict[str, str] = {}
    users: list[str] = []
    results: list[Result] = []
    turn: list[Result] = []
    for message in _skip_fewshots([m for m in messages if m.get("role") != "system"]):
        role = message.get("role")
        if role == "user" and not _text(message).startswith(FEEDBACK_PREFIX):
            users.append(_text(message))
            turn = []
        for call in message.get("tool_calls") or []:
            names[call.get("id", "")] = call.get("function", {}).get("name", "")
        if role == "tool":
            try:
                result = json.loads(_text(message))
            except ValueError:
                result = {"ok": False, "error": "unreadable"}
            item = (names.get(message.get("tool_call_id", ""), ""), result)
            results.append(item)
            turn.append(item)
    return _Chat(system, tuple(users), tuple(results), tuple(turn))


# --- Deciding on tools -------------------------------------------------------------------


def _reading(chat: _Chat, text: str) -> tuple[str, dict[str, Any]]:
    """The intent and slots of a debtor message, as the input screen and the NLU see it."""
    found = understand(text, chat.today)
    intent, slots = found.intent, found.slots.model_dump(exclude_none=True)
    flags = chat.flags
    if "distress" in flags:
        return "distress", slots
    third_party = "third_party" in flags or chat.says(_THIRD_PARTY)
    if third_party and intent in ACCOUNT_INTENTS | {"verify", "out_of_scope", "third_party"}:
        return "third_party", slots
    if "injection" in flags and intent not in _PROTECTED:
        return "injection", slots
    if "abuse" in flags and intent == "out_of_scope":
        return "abusive", slots
    if intent == "verify" and (_LAST4 in text or _DATE in text):
        rest = understand(text.replace(_LAST4, " ").replace(_DATE, " "), chat.today)
        if rest.intent in ACCOUNT_INTENTS | _NO_ACCOUNT_TOOLS:
            return rest.intent, rest.slots.model_dump(exclude_none=True)
    return _refined(text, intent, slots)


def _refined(text: str, intent: str, slots: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Read what a model would, where the rules' intent is too literal."""
    lowered = text.lower()
    if intent in BALANCE_INTENTS | {"out_of_scope", "ask_plans"} and _RULES.search(lowered):
        return "ask_rights", slots  # "denda maksimal berapa?"
    if intent == "complaint" and _QUESTION.search(lowered):
        return "ask_rights", slots  # "kalau mau ngadu ke OJK caranya gimana?"
    if intent in ("ask_plans", "ask_minimum") and _TAKES.search(lowered):
        plan = slots.get("plan") or parse_choice(normalise(text))[1]
        if plan or slots.get("tenor"):  # "restruk yg 24 bulan aja", "ok yg minimum aja"
            return "choose_plan", {**slots, **({"plan": plan} if plan else {})}
    return intent, slots


def _promise(chat: _Chat, intent: str, slots: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Complete a promise to pay with the amount or date of the debtor's earlier messages.

    Looks back over the promise and its follow-ups (verification data in between is
    skipped), as the engine keeps a pending promise.
    """
    now = {"amount": parse_amount(chat.users[-1]), "date": parse_date(chat.users[-1], chat.today)}
    if intent != "promise_to_pay" and (intent not in _FOLLOW_UP or not any(now.values())):
        return intent, slots
    merged: dict[str, Any] = {}
    promised = False
    for earlier in reversed(chat.users[:-1]):
        found = understand(earlier, chat.today)
        if found.intent == "verify" or any(_verification_data(earlier)):
            continue
        if found.intent != "promise_to_pay":
            break
        promised = True
        merged = {**found.slots.model_dump(exclude_none=True), **merged}
    if not promised:
        return intent, slots
    merged.update(slots)
    merged.update({k: v for k, v in now.items() if v is not None})
    return "promise_to_pay", merged


def _on_user(chat: _Chat, text: str) -> dict[str, Any]:
    intent, slots = _promise(chat, *_reading(chat, text))
    if intent in _CALM and chat.says(_DISTRESS):  # stay with the debtor, do not collect
        if chat.says(_HANDED_OVER):
            return {"content": _handoff(chat, {})}
        return {"tool_calls": [_call("request_handoff", reason="distress")]}
    if intent in _TEXT_INTENTS:
        return {"content": TEXTS[intent]}
    if intent == "request_human" and chat.says(_HANDED_OVER):
        return {"content": _handoff(chat, {})}
    if not chat.verified:
        verification = _verification(chat)
        if verification is not None and (
            "tool_calls" in verification or intent not in _NO_ACCOUNT_TOOLS
        ):
            return verification
        if intent not in _NO_ACCOUNT_TOOLS:
            return {"content": TEXTS[_unverified_text(chat, intent)]}
    elif intent == "verify":
        return {"content": TEXTS["already_verified"]}
    calls = _calls(chat, intent, slots, text)
    if calls:
        return {"tool_calls": calls}
    if intent == "promise_to_pay":
        return {"content": TEXTS["promise_amount" if "amount" not in slots else "promise_date"]}
    if intent == "choose_plan":
        return {"content": TEXTS["choice_unclear"]}
    return {"content": TEXTS["out_of_scope" if intent == "out_of_scope" else "fallback"]}


def _verification_data(text: str) -> tuple[bool, bool]:
    """Whether a masked message carries the last four digits and a date of birth."""
    return _LAST4 in text, _DATE in text or bool(_MASKED_RUN.search(text))


def _verification(chat: _Chat) -> dict[str, Any] | None:
    """Verify when this message completes the data; ask for a missing half; else None.

    The data counts from the debtor's messages since the last complete set (which was
    verified then, successfully or not), as the engine keeps it locally.
    """
    last4 = birth = False
    for text in chat.users[:-1]:
        has = _verification_data(text)
        last4, birth = last4 or has[0], birth or has[1]
        if last4 and birth:
            last4 = birth = False
    now = _verification_data(chat.users[-1] if chat.users else "")
    if not any(now):
        return None
    if chat.says(_LOCKED):
        return {"content": TEXTS["locked"]}
    if (last4 or now[0]) and (birth or now[1]):
        return {"tool_calls": [{"name": "verify_identity", "arguments": {}}]}
    return {"content": TEXTS["need_birth_date" if last4 or now[0] else "need_last4"]}


def _unverified_text(chat: _Chat, intent: str) -> str:
    if chat.says(_LOCKED):
        return "locked"
    if intent in ACCOUNT_INTENTS or intent == "verify":
        return "ask_verification"
    return "out_of_scope" if intent == "out_of_scope" else "greeting"


def _call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "arguments": {k: v for k, v in arguments.items() if v is not None}}


def _latest(results: tuple[Result, ...], name: str) -> dict[str, Any] | None:
    return next((r for n, r in reversed(results) if n == name and r.get("ok")), None)


def _calls(chat: _Chat, intent: str, slots: dict[str, Any], text: str) -> list[dict[str, Any]]:
    """The tool calls that answer ``intent`` (like the offline planner)."""
    simple = {
        "ask_plans": lambda: _call("list_payment_plans", tenor=slots.get("tenor")),
        "cannot_pay": lambda: _call("list_payment_plans", hardship=True),
        "dispute": lambda: _call(
            "register_dispute", reason=text[:1000], amount=slots.get("amount")
        ),
        "complaint": lambda: _call("register_complaint", text=text[:4000]),
        "request_human": lambda: _call("request_handoff", reason="permintaan_debitur"),
        "distress": lambda: _call("request_handoff", reason="distress"),
        "ask_rights": lambda: _call("search_knowledge", query=text[:500]),
        "request_payment_link": lambda: _call("create_payment_link", offer_id=_accepted(chat)),
    }
    if intent in BALANCE_INTENTS:
        return [_call("get_balance")]
    if intent in simple:
        return [simple[intent]()]
    if intent == "choose_plan":
        listed = _latest(chat.results, "list_payment_plans")
        if listed is None:
            return [_call("list_payment_plans", tenor=slots.get("tenor"))]
        offer_id = resolve_choice(listed.get("offers", []), slots, _focus(listed))
        return [_call("accept_plan", offer_id=offer_id)] if offer_id else []
    if intent == "promise_to_pay" and slots.get("amount") and slots.get("date"):
        when = slots["date"]
        return [_call("record_promise_to_pay", amount=slots["amount"], date=str(when))]
    return []


def _focus(listed: dict[str, Any]) -> str | None:
    matching = listed.get("matching_offer_ids") or []
    return str(matching[0]) if len(matching) == 1 else None


def _accepted(chat: _Chat) -> str | None:
    accepted = _latest(chat.results, "accept_plan")
    if accepted is not None:
        return str(accepted["offer"]["offer_id"])
    found = _ACCEPTED.search(chat.system)
    return found.group(1) if found else None


def _follow_up(chat: _Chat) -> list[dict[str, Any]]:
    """More tool calls after this turn's results: the asked-for data once verified, a choice."""
    done = {name for name, _ in chat.turn}
    text = chat.users[-1] if chat.users else ""
    intent, slots = _reading(chat, text)
    verified = next((r for n, r in chat.turn if n == "verify_identity"), {})
    if verified.get("verified") and done == {"verify_identity"}:
        if intent in _NO_ACCOUNT_TOOLS:
            return _calls(chat, intent, slots, text)
        for earlier in (text, *reversed(chat.users[:-1])):  # the latest account question
            intent, slots = _reading(chat, earlier)
            if intent in ACCOUNT_INTENTS:
                return _calls(chat, intent, slots, earlier)
        return []
    if intent == "choose_plan" and "accept_plan" not in done:
        listed = _latest(chat.turn, "list_payment_plans")
        offer_id = resolve_choice(listed.get("offers", []), slots, None) if listed else None
        return [_call("accept_plan", offer_id=offer_id)] if offer_id else []
    return []


# --- Writing the reply from the tool results ---------------------------------------------


def _compose(chat: _Chat) -> str:
    latest = dict(chat.turn)  # the last result of each tool
    accepted = bool(latest.get("accept_plan", {}).get("ok"))
    parts = []
    if "list_payment_plans" in latest and "accept_plan" not in latest and chat.users:
        if _reading(chat, chat.users[-1])[0] == "choose_plan":  # a choice no offer matched
            parts.append(TEXTS["choice_unclear"])
    for name, result in latest.items():
        if name == "list_payment_plans" and accepted:
            continue
        if not result.get("ok"):
            parts.append(_refusal(result))
        else:
            writer = _WRITERS.get(name)
            parts.append(writer(chat, result) if writer else "")
    if list(latest) == ["verify_identity"] and latest["verify_identity"].get("verified"):
        parts.append("Ada yang bisa saya bantu terkait tagihan Bapak/Ibu?")
    return " ".join(p for p in parts if p) or TEXTS["fallback"]


def _day(value: str) -> str:
    return tanggal(date.fromisoformat(value[:10]))


def _refusal(result: dict[str, Any]) -> str:
    error = result.get("error")
    if error == "not_verified":
        return TEXTS["ask_verification"]
    reasons = {
        "offer_expired": "penawaran tersebut sudah tidak berlaku. Silakan minta pilihan"
        " pembayaran terbaru",
        "unknown_offer": "penawaran tersebut tidak ditemukan. Mohon pilih kembali rencana"
        " pembayaran Anda",
        "offer_not_accepted": "rencana pembayaran itu belum disetujui. Mohon pilih rencananya"
        " terlebih dahulu",
        "date_in_past": "tanggal tersebut sudah lewat. Mohon sebutkan tanggal mulai hari ini",
        "amount_too_low": "nominal tersebut di bawah batas minimum janji bayar",
    }
    if error == "date_too_far" and result.get("latest_date"):
        return (
            "Mohon maaf, janji pembayaran hanya dapat dicatat paling lambat"
            f" {_day(result['latest_date'])}."
        )
    if error == "amount_above_due" and result.get("amount_due"):
        due = rupiah(result["amount_due"])
        return f"Mohon maaf, nominal tersebut melebihi jumlah tagihan ({due})."
    if error in reasons:
        return f"Mohon maaf, {reasons[str(error)]}."
    return TEXTS["fallback"]


def _verify(chat: _Chat, r: dict[str, Any]) -> str:
    if r.get("verified"):
        return "Terima kasih, identitas Bapak/Ibu sudah terverifikasi."
    if r.get("session_locked") or r.get("account_locked"):
        return TEXTS["locked"]
    return (
        "Mohon maaf, data yang Bapak/Ibu sampaikan belum cocok dengan data kami. Mohon periksa"
        " kembali 4 digit terakhir dan tanggal lahir Bapak/Ibu (sisa"
        f" {r.get('attempts_left', 0)} kali percobaan)."
    )


def _balance(chat: _Chat, r: dict[str, Any]) -> str:
    s, loan = r.get("statement"), r.get("loan")
    text = f"Per {_day(r['as_of'])}, total tagihan Bapak/Ibu adalah {rupiah(r['total_due'])}"
    if s:
        text += (
            f", jatuh tempo {_day(s['due_date'])}, pembayaran minimum {rupiah(s['minimum_due'])}"
        )
    if loan:
        text += (
            f", angsuran bulanan {rupiah(loan['monthly_installment'])}, jatuh tempo berikutnya"
            f" {_day(loan['next_due_date'])}"
        )
    text += "."
    dispute = r.get("dispute") or {}
    if dispute.get("status") == "open" and dispute.get("amount"):
        text += (
            f" Dari jumlah itu, {rupiah(dispute['amount'])} sedang dalam proses sanggahan"
            f"{_ref(dispute.get('reference'))}, sehingga yang perlu dibayar saat ini"
            f" {rupiah(r['amount_due'])}."
        )
    fees = loan or s or {}
    asked_text = chat.users[-1].lower() if chat.users else ""
    if "denda" in asked_text and "late_fee" in fees:
        text += f" Denda keterlambatan yang tercatat {rupiah(fees['late_fee'])}."
    if "bunga" in asked_text and "interest" in fees:
        text += f" Bunga yang tercatat {rupiah(fees['interest'])}."
    asked = _reading(chat, chat.users[-1])[0] if chat.users else ""
    if asked == "ask_minimum" and s and r.get("minimum_offered") is False:
        text += " Karena sudah lewat lebih dari 30 hari, opsi bayar minimum tidak lagi tersedia."
    paid = r.get("last_payment") or {}
    if paid.get("amount") and asked == "already_paid":
        text += (
            f" Pembayaran terakhir yang tercatat adalah {rupiah(paid['amount'])} pada"
            f" {_day(paid['date'])}."
        )
    return text


def _ref(value: Any) -> str:
    """`` (nomor X)`` for a reference; nothing when it reached the model masked (``*``)."""
    return f" (nomor {value})" if value and "*" not in str(value) else ""


def _plans(chat: _Chat, r: dict[str, Any]) -> str:
    book, offers = default_templates(), r.get("offers", [])
    parts = []
    if r.get("hardship_review"):
        parts.append(
            "Kami memahami kondisi Bapak/Ibu. Permintaan peninjauan keringanan sudah kami"
            f" catat{_ref(r['hardship_review'])}."
        )
    tenor, matching = r.get("requested_tenor"), r.get("matching_offer_ids") or []
    match = next((o for o in offers if o["offer_id"] in matching), None)
    if tenor and match is not None:
        parts.append(f"Bisa, Bapak/Ibu. {offer_line(book, match)}")
    elif tenor:
        parts.append(f"Mohon maaf, tenor {tenor} bulan tidak tersedia untuk tagihan Bapak/Ibu.")
    if not offers:
        return " ".join([*parts, TEXTS["fallback"]])
    lines = " ".join(f"{i}. {offer_line(book, o)}" for i, o in enumerate(offers, 1))
    expires = _day(min(o["expires_at"] for o in offers))
    parts.append(f"Pilihan pembayaran yang tersedia: {lines} Penawaran berlaku sampai {expires};")
    return " ".join([*parts, "untuk memilih, sebutkan nomor atau nama pilihannya."])


def _accept(chat: _Chat, r: dict[str, Any]) -> str:
    offer = r["offer"]
    label = default_templates().label(offer).lower()
    text = f"Baik, pilihan {label} sudah tercatat{_ref(offer['offer_id'])}."
    if offer.get("kind") == "deferral":
        return text
    amount = rupiah(offer.get("installment") or offer["amount"])
    return f"{text} Jumlah yang perlu dibayarkan {amount}. Apakah perlu saya buatkan tautannya?"


def _link(chat: _Chat, r: dict[str, Any]) -> str:
    expires = datetime.fromisoformat(r["expires_at"]).astimezone(ZoneInfo(chat.timezone))
    until = f"{tanggal(expires.date())} pukul {expires:%H.%M} {_ZONES.get(chat.timezone, '')}"
    return (
        f"Tautan pembayaran sudah kami buat untuk pembayaran sebesar {rupiah(r['amount'])},"
        f" berlaku sampai {until.strip()}. Silakan buka tautan yang tampil di percakapan ini;"
        " pembayaran dapat dilakukan melalui virtual account atau QRIS."
    )


def _promised(chat: _Chat, r: dict[str, Any]) -> str:
    when = hari_tanggal(date.fromisoformat(r["date"]))
    amount = rupiah(r["amount"])
    text = f"Terima kasih, janji pembayaran sebesar {amount} pada {when} sudah kami catat."
    replaced = r.get("replaced")
    if replaced:
        before = hari_tanggal(date.fromisoformat(replaced["date"]))
        text += f" Janji ini menggantikan janji sebelumnya untuk {before}."
    return text


def _dispute(chat: _Chat, r: dict[str, Any]) -> str:
    if not r.get("created"):
        return (
            f"Sanggahan Bapak/Ibu sudah tercatat{_ref(r.get('reference'))} dan masih dalam"
            " pemeriksaan, jadi tidak perlu diajukan ulang."
        )
    return (
        f"Sanggahan Bapak/Ibu sudah kami catat{_ref(r.get('reference'))}. Tim kami akan"
        " memeriksanya; selama pemeriksaan, jumlah yang disanggah tidak kami tagihkan."
    )


def _complaint(chat: _Chat, r: dict[str, Any]) -> str:
    due = hari_tanggal(date.fromisoformat(r["response_due"]))
    return (
        f"Pengaduan Bapak/Ibu sudah kami terima{_ref(r.get('reference'))}. Kami akan"
        f" menanggapinya paling lambat {due} ({r.get('working_days', 10)} hari kerja)."
    )


def _handoff(chat: _Chat, r: dict[str, Any]) -> str:
    if chat.says(_DISTRESS):
        return (
            "Terima kasih sudah mau bercerita. Keselamatan Bapak/Ibu jauh lebih penting, dan"
            " urusan tagihan bisa menunggu. Petugas kami akan segera mendampingi Bapak/Ibu"
            f"{_ref(r.get('reference'))}. Jika Bapak/Ibu merasa dalam bahaya, mohon hubungi"
            " layanan darurat 112 atau layanan kesehatan jiwa SEJIWA di 119 ekstensi 8."
        )
    return (
        f"Baik, percakapan ini sudah saya teruskan ke petugas kami{_ref(r.get('reference'))}."
        " Petugas akan melanjutkan secepatnya pada jam layanan."
    )


def _knowledge(chat: _Chat, r: dict[str, Any]) -> str:
    passages = r.get("passages") or []
    if not passages:
        return "Saya belum menemukan rujukan resmi untuk pertanyaan itu. " + _HELP
    top = passages[0]
    if not top.get("current", True):
        until = f" sampai {_day(top['effective_to'])}" if top.get("effective_to") else ""
        return (
            f"Ketentuan yang saya temukan ({top['source']}) hanya berlaku{until}, sehingga tidak"
            " dapat saya sampaikan sebagai aturan yang berlaku saat ini. " + _HELP
        )
    asked = chat.users[-1].lower() if chat.users else ""
    summary = _summary(top["text"], asked)
    lead = ""
    if _JAIL.search(asked) and "perdata" in top["text"]:
        lead = "Tidak, Bapak/Ibu tidak akan dipenjara karena tidak mampu membayar utang. "
    if "menurut" in summary.lower():  # the passage names its basis already
        return f"{lead}{summary} (Sumber: {top['source']}.)"
    return f"{lead}Menurut {top['source']}: {summary}"


def _summary(text: str, question: str) -> str:
    """The passage's first sentence and the one sharing most words with the question."""
    sentences = _SENTENCE.split(text.strip())
    words = {w for w in re.findall(r"\w+", question) if len(w) > 3}
    rest = sentences[1:]
    best = max(rest, key=lambda s: len(words & set(re.findall(r"\w+", s.lower()))), default="")
    return " ".join(s for s in (sentences[0], best) if s)


_WRITERS: dict[str, Callable[[_Chat, dict[str, Any]], str]] = {
    "verify_identity": _verify,
    "get_balance": _balance,
    "list_payment_plans": _plans,
    "accept_plan": _accept,
    "create_payment_link": _link,
    "record_promise_to_pay": _promised,
    "register_dispute": _dispute,
    "register_complaint": _complaint,
    "request_handoff": _handoff,
    "search_knowledge": _knowledge,
}
