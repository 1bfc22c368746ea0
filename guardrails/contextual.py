"""Contextual checks: rules that depend on the turn's facts, not on wording alone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time

import holidays

from guardrails.context import GuardContext
from guardrails.normaliser import Normalised
from guardrails.verdict import Violation

RUPIAH = re.compile(
    r"\brp\.?\s?(\d{1,3}(?:[.,]\d{3})+|\d+)(?:,-|,00)?|\b(\d+(?:[.,]\d+)?)\s?(juta|jt|ribu|rb)\b"
)
_ACCOUNT_FACTS = re.compile(
    r"\b(?:terlambat|lewat|telat)\s+\d+\s+hari|\bjatuh tempo\s+(?:pada\s+|tanggal\s+)?\d"
    r"|\b(?:kol|kolektibilitas)\s*\d|\bdpd\s*\d"
)
_DEBT_TALK = re.compile(
    r"\b(?:tagihan|tunggakan|utang|angsuran|cicilan|bayar|membayar|bayarkan|lunasi|melunasi|"
    r"pelunasan|transfer|tanggung\s*jawab\s*(?:dia|beliau|suami|istri))"
)
_PRESSURE = re.compile(
    r"\b(?:harus|wajib|segera|tetap|mohon|jangan\s+lupa|ditunggu)\b[^.!?\n]{0,30}"
    r"\b(?:bayar|membayar|dibayar|lunasi|melunasi|dilunasi|transfer|setor)"
    r"|\b(?:bayar|membayar|dibayar|lunasi|melunasi|transfer)\b[^.!?\n]{0,30}"
    r"\b(?:hari ini|sekarang|besok|secepatnya|segera)\b"
)
_FIELD_COLLECTION = re.compile(
    r"\b(?:debt\s*collector|penagih\s+(?:lapangan|eksternal|pihak\s+ketiga)|pihak\s+ketiga|"
    r"agen(?:cy)?\s+penagihan|kolektor|petugas\s+lapangan|kunjungan\s+(?:petugas|penagih))"
)
_DISCOUNT = re.compile(r"\b(?:diskon|potongan|pemutihan|diputihkan)\b")
_NEGATION = re.compile(r"\b(?:tidak|bukan|tanpa|dilarang|jangan|belum)\b")
_WEEKDAYS_OUTBOUND = frozenset(range(6))  # Monday..Saturday


@dataclass(frozen=True)
class ContactRules:
    """Contact window and caps (the policy file's values by default)."""

    start: time = time(8, 0)
    end: time = time(20, 0)
    consent_start: time = time(6, 0)
    consent_end: time = time(22, 0)
    max_per_day: int = 2
    max_per_week: int = 6


def amount_of(match: re.Match[str]) -> int:
    """The rupiah value of a ``RUPIAH`` match."""
    if match.group(1):
        return int(re.sub(r"[.,]", "", match.group(1)))
    value = float(match.group(2).replace(",", "."))
    unit = 1_000_000 if match.group(3) in ("juta", "jt") else 1_000
    return round(value * unit)


def _clause_negated(norm: str, start: int, whole_clause: bool = False) -> bool:
    """A negation earlier in the clause (or anywhere in it, for availability statements)."""
    clause_start = max(norm.rfind(c, 0, start) for c in ".!?\n,;") + 1
    if not whole_clause:
        return bool(_NEGATION.search(norm[clause_start:start]))
    ends = [i for i in (norm.find(c, start) for c in ".!?\n,;") if i >= 0]
    return bool(_NEGATION.search(norm[clause_start : min(ends) if ends else len(norm)]))


def in_contact_window(moment: datetime, consent: bool, rules: ContactRules) -> bool:
    """Mon-Sat, not a national holiday, inside the hours (wider with prior consent)."""
    if moment.weekday() not in _WEEKDAYS_OUTBOUND or moment.date() in holidays.country_holidays(
        "ID", years=moment.year
    ):
        return False
    start, end = (rules.consent_start, rules.consent_end) if consent else (rules.start, rules.end)
    return start <= moment.time() < end


def contextual_violations(
    norm: Normalised, ctx: GuardContext, rules: ContactRules | None = None
) -> Iterator[Violation]:
    """Every contextual violation of a draft, with spans in the original text."""
    rules = rules or ContactRules()
    text = norm.text
    yield from _amounts(norm, ctx)
    if not ctx.verified and not ctx.outbound and ctx.speaker == "debtor":
        for match in _ACCOUNT_FACTS.finditer(text):
            yield _v("G12", "data_pribadi", norm, match, "account detail before verification")
    if ctx.speaker == "third_party":
        for match in _DEBT_TALK.finditer(text):
            if not _clause_negated(text, match.start()):
                yield _v("G11", "pihak_ketiga", norm, match, "debt discussed with a third party")
                break
    if ctx.outbound:
        yield from _outbound(norm, ctx, rules)
    if ctx.distress:
        for match in _PRESSURE.finditer(text):
            yield _v("G37", "tekanan", norm, match, "payment pressure after a distress signal")
    if ctx.product == "kartu_kredit" and ctx.kol is not None and ctx.kol < 5:
        for match in _FIELD_COLLECTION.finditer(text):
            if not _clause_negated(text, match.start()):
                yield _v("G18", "tekanan", norm, match, "field or third-party collection "
                         "mentioned for a card account that is not macet")
    if ctx.check_amounts and not any("diskon" in o for o in ctx.offers):
        for match in _DISCOUNT.finditer(text):
            if not _clause_negated(text, match.start(), whole_clause=True):
                yield _v("G25", "angka_dan_janji", norm, match, "discount or write-off not offered")


def _amounts(norm: Normalised, ctx: GuardContext) -> Iterator[Violation]:
    for match in RUPIAH.finditer(norm.text):
        amount = amount_of(match)
        if amount in ctx.public_amounts:
            continue
        if (not ctx.verified and not ctx.outbound) or ctx.speaker == "third_party":
            rule, category = ("G11", "pihak_ketiga") if ctx.speaker == "third_party" else (
                "G12", "data_pribadi")
            yield _v(rule, category, norm, match, "account figure before verification")
        elif ctx.check_amounts and amount not in ctx.known_amounts:
            yield _v("G22", "angka_dan_janji", norm, match,
                     f"amount {amount} was not returned by any tool")


def _outbound(norm: Normalised, ctx: GuardContext, rules: ContactRules) -> Iterator[Violation]:
    whole = re.match(r".*", norm.text, re.DOTALL)
    assert whole is not None
    if ctx.local_time is not None and not in_contact_window(
        ctx.local_time, ctx.consent_after_hours, rules
    ):
        yield _v("G14", "waktu_frekuensi", norm, whole, "outbound message outside the window")
    if ctx.sent_today >= rules.max_per_day or ctx.sent_this_week >= rules.max_per_week:
        yield _v("G15", "waktu_frekuensi", norm, whole, "outbound frequency cap reached")


def _v(rule: str, category: str, norm: Normalised, match: re.Match[str], message: str) -> Violation:
    return Violation(rule, category, norm.span(match.start(), match.end()), message)
