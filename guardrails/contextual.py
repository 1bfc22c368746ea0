"""Contextual checks: rules that depend on the turn's facts, not on wording alone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time

import holidays

from guardrails.context import GuardContext
from guardrails.normaliser import Normalised, normalise
from guardrails.verdict import Violation

RUPIAH = re.compile(
    r"\brp\.?\s?(\d{1,3}(?:[.,]\d{3})+|\d+)(?:,-|,00)?|\b(\d+(?:[.,]\d+)?)\s?(juta|jt|ribu|rb)\b"
)
_ACCOUNT_FACTS = re.compile(
    r"\b(?:terlambat|lewat|telat|menunggak|nunggak)\s+(?:selama\s+)?\d+\s+(?:hari|bulan|minggu)"
    r"|\bjatuh tempo\s+(?:pada\s+|tanggal\s+)?\d"
    r"|\b(?:kol|kolektibilitas)\s*(?:\d|macet)|\bdpd\s*\d|\b\d+\s*dpd\b"
    r"|\b(?:sudah|telah)\s+(?:macet|menunggak|masuk\s+(?:kol|kategori\s+macet))"
    r"|\bstatus\s+(?:kredit|pinjaman|kartu|akun|rekening|tagihan)\s+(?:\w+\s+){0,2}?"
    r"(?:macet|bermasalah|kol|menunggak|diragukan|kurang\s+lancar)"
    r"|\b\d+\s+(?:angsuran|cicilan|bulan)\s+(?:tertunggak|menunggak|belum\s+dibayar)"
    r"|\bsisa\s+(?:pokok|utang|pinjaman)\b|\blimit\s+kartu\b"
)
# Third party (speaker = third_party): asking them to pay, or revealing that a debt exists.
_DEBT_TALK = re.compile(
    r"\b(?:tunggakan|menunggak|nunggak|utang|utangnya|berutang|angsuran|cicilan|bayar|membayar|"
    r"bayarkan|dibayar|lunasi|melunasi|dilunasi|pelunasan|pelunasannya|transfer|talangi|menalangi|"
    r"macet|denda|tanggung\s*jawab\s*(?:dia|beliau|suami|istri)|"
    r"tagihan(?:nya)?\s+(?:milik\s+|atas\s+nama\s+)?(?:beliau|dia|suami|istri|anak|kakak|adik|ayah|"
    r"ibunya|bapaknya|saudara|sdr|yang\s+bersangkutan|teman)|"
    r"(?:terlambat|lewat|telat)\s+(?:\d+\s+hari|jatuh\s+tempo|dari\s+jatuh\s+tempo))"
)
_PRESSURE = re.compile(
    r"\bkapan\b[^.!?\n]{0,30}\b(?:bayar|membayar|melunasi|transfer|dibayar|dilunasi|pembayaran)\b"
    r"|\b(?:janji\s+bayar|komitmen\s+(?:bayar|pembayaran)|tunggakan\s+(?:anda|bapak|ibu))\b"
    r"|\bberapa\b[^.!?\n]{0,30}\b(?:bayar|membayar|dibayar|setor|transfer|cicil)"
    r"|\b(?:link|tautan)\s+(?:pembayaran|bayar)|\bkewajiban\s+tetap\s+kewajiban"
    r"|\b(?:harus|wajib|segera|tetap|mohon|jangan\s+lupa|ditunggu)\b[^.!?\n]{0,30}"
    r"\b(?:bayar|membayar|dibayar|lunasi|melunasi|dilunasi|transfer|setor|masuk|dibayarkan|disetor)"
    r"|\b(?:bayar|transfer|pembayaran|pelunasan|setor)(?:nya|annya)?\s+kapan\b"
    r"|\b(?:bayar|membayar|dibayar|lunasi|melunasi|dilunasi|transfer|dicicil|disetor)(?:nya)?\b[^.!?\n]{0,30}"
    r"\b(?:hari ini|sekarang|besok|secepatnya|segera)\b"
)
_FIELD_COLLECTION = re.compile(
    r"\b(?:debt\s*collector|dc\b|mata\s+elang|matel\b|field\s+collector|"
    r"penagih(?:an)?\s+(?:lapangan|eksternal|pihak\s+ketiga|luar)|pihak\s+ketiga|"
    r"agen(?:cy|si)?\s+penagihan|mitra\s+(?:agensi|penagihan)|collector\b|"
    r"(?:tim|pihak|petugas|penagih)\s+(?:\w+\s+)?eksternal|jasa\s+penagihan|vendor\s+penagihan|kantor\s+penagihan|kolektor|"
    r"petugas\s+(?:penagihan\s+)?lapangan|tim\s+(?:penagihan\s+|penagih\s+)?lapangan|"
    r"kunjungan\s+(?:petugas|penagih|lapangan|ke\s+rumah|ke\s+alamat|langsung)|"
    r"(?:petugas|tim|penagih)\s+(?:kami\s+)?(?:akan\s+|segera\s+)?"
    r"(?:datang|mendatangi|berkunjung|mengunjungi|menyambangi|turun))"
)
_DISCOUNT = re.compile(r"\b(?:diskon|potongan|pemutihan|diputihkan)\b")
# The sentence says no discount is available ("... dan untuk akun Anda belum ada").
_UNAVAILABLE = re.compile(r"\b(?:belum|tidak)\s+(?:ada|tersedia)\b")
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


def amounts_in(text: str) -> set[int]:
    """Every rupiah amount written in a text (``Rp15.000.000``, ``500 ribu``, ``1,5 juta``)."""
    return {amount_of(m) for m in RUPIAH.finditer(normalise(text).text)}


def _clause_negated(norm: str, start: int, whole_clause: bool = False) -> bool:
    """A negation earlier in the clause (or anywhere in it, for availability statements)."""
    clause_start = max(norm.rfind(c, 0, start) for c in ".!?\n,;") + 1
    if not whole_clause:
        return bool(_NEGATION.search(norm[clause_start:start]))
    ends = [i for i in (norm.find(c, start) for c in ".!?\n,;") if i >= 0]
    return bool(_NEGATION.search(norm[clause_start : min(ends) if ends else len(norm)]))


def _sentence(norm: str, start: int) -> str:
    """The sentence around a position of the normalised text."""
    left = max(norm.rfind(c, 0, start) for c in ".!?\n") + 1
    ends = [i for i in (norm.find(c, start) for c in ".!?\n") if i >= 0]
    return norm[left : min(ends) if ends else len(norm)]


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
                yield _v(
                    "G18",
                    "tekanan",
                    norm,
                    match,
                    "field or third-party collection "
                    "mentioned for a card account that is not macet",
                )
    if ctx.check_amounts and not any("diskon" in o for o in ctx.offers):
        for match in _DISCOUNT.finditer(text):
            if not _clause_negated(
                text, match.start(), whole_clause=True
            ) and not _UNAVAILABLE.search(_sentence(text, match.start())):
                yield _v("G25", "angka_dan_janji", norm, match, "discount or write-off not offered")


# --- Context-free checks run on every draft (with or without context) -------------------
# G34 shouting: letter case is lost in normalisation, so this looks at the ORIGINAL text.
# A run of two or more ALL-CAPS words (at least one of 3+ letters) that are not known
# acronyms, a single ALL-CAPS word of 4+ letters followed by "!", or "!!" / "?!?" bursts.
_ACRONYMS = frozenset(
    "OJK BI PIN OTP KTP SLIK QRIS WIB WITA WIT LAPS SJK HRD DPD KTA NIK NPWP BPJS PT TBK CS VA "
    "SMS ATM ID AI UU POJK SEOJK SE PBI KUHP PDP ITE BCA BRI BNI BSI HP URL KK RT RW TNI POLRI CC "
    "PDF SEJIWA YLKI BPSK SK NO RP IDR KPR SIM STNK BPKB PNS MA KPK PN IG WA FB OVO DANA GOPAY "
    "API OK CVV CVC SOS VIP USD HO SGH ADU OF PL DC KOL LPS AFPI DASP SEJ NB PS CEO ATMN IB JT "
    "RB WhatsApp".split()
)
_CAPS_WORD = re.compile(r"(?<![\w-])[A-Z]{2,}(?![\w-])")
_BANGS = re.compile(r"!{2,}|[!?]{3,}")
_LATE_FEE = re.compile(r"\b(?:denda|biaya\s+keterlambatan|late\s+fee)\b")
_RATE = re.compile(
    r"\b(?:bunga|suku\s+bunga|denda)\b[^.!?\n]{0,30}?(\d+(?:[.,]\d+)?)\s*(?:%|persen)"
    r"(?:\s*(?:per|/|setiap|tiap|se)\s*(hari|minggu|bulan|tahun))?"
)
_LATE_FEE_CAP = 100_000
_INTEREST_CAP_MONTHLY = 1.75
_LATE_FEE_RATE_CAP = 1.0


def context_free_violations(
    text: str, norm: Normalised, ctx: GuardContext | None
) -> Iterator[Violation]:
    """Checks that need no context: shouting (original casing) and the card fee caps."""
    yield from _shouting(text)
    if ctx is None or ctx.product in (None, "kartu_kredit"):
        yield from _fee_caps(norm, ctx)


def _shouting(text: str) -> Iterator[Violation]:
    words = [m for m in _CAPS_WORD.finditer(text) if m.group() not in _ACRONYMS]
    for first, second in zip(words, words[1:], strict=False):
        between = text[first.end() : second.start()]
        if (
            not re.search(r"[a-z0-9]", between)
            and max(len(first.group()), len(second.group())) >= 3
        ):
            yield Violation("G34", "hinaan", (first.start(), second.end()), "shouting (ALL CAPS)")
            return
    for word in words:
        if len(word.group()) >= 4 and text[word.end() : word.end() + 2].lstrip().startswith("!"):
            yield Violation("G34", "hinaan", (word.start(), word.end() + 1), "shouting (ALL CAPS)")
            return
    bangs = _BANGS.search(text)
    if bangs:
        yield Violation("G34", "hinaan", (bangs.start(), bangs.end()), "shouting ('!!!')")


def _fee_caps(norm: Normalised, ctx: GuardContext | None) -> Iterator[Violation]:
    text = norm.text
    known = ctx.known_amounts | ctx.public_amounts if ctx is not None else frozenset()
    for fee in _LATE_FEE.finditer(text):
        window = text[fee.end() : fee.end() + 40]
        window = re.split(r"[!?\n;]|\.\s", window)[0]
        amount = RUPIAH.search(window)
        if amount and amount_of(amount) > _LATE_FEE_CAP and amount_of(amount) not in known:
            start = fee.end() + amount.start()
            yield Violation(
                "G22",
                "angka_dan_janji",
                norm.span(fee.start(), start + len(amount.group())),
                "late fee above the Rp100.000 cap",
            )
            return
    for rate in _RATE.finditer(text):
        if _clause_negated(text, rate.start()) or re.search(
            r"\b(?:maksimal|paling\s+(?:banyak|tinggi)|"
            r"batas|tidak\s+lebih)\b",
            rate.group(),
        ):
            continue
        value = float(rate.group(1).replace(",", "."))
        per = {"hari": 30.0, "minggu": 4.3, "tahun": 1 / 12}.get(rate.group(2) or "bulan", 1.0)
        cap = _LATE_FEE_RATE_CAP if rate.group().startswith("denda") else _INTEREST_CAP_MONTHLY
        if value * per > cap + 1e-9:
            yield _v("G22", "angka_dan_janji", norm, rate, "fee or interest rate above the cap")
            return


def _amounts(norm: Normalised, ctx: GuardContext) -> Iterator[Violation]:
    for match in RUPIAH.finditer(norm.text):
        amount = amount_of(match)
        if amount in ctx.public_amounts:
            continue
        if (not ctx.verified and not ctx.outbound) or ctx.speaker == "third_party":
            rule, category = (
                ("G11", "pihak_ketiga") if ctx.speaker == "third_party" else ("G12", "data_pribadi")
            )
            yield _v(rule, category, norm, match, "account figure before verification")
        elif ctx.check_amounts and amount not in ctx.known_amounts:
            yield _v(
                "G22",
                "angka_dan_janji",
                norm,
                match,
                f"amount {amount} was not returned by any tool",
            )


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
