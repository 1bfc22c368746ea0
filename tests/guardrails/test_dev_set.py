"""The catalogue meets the issue's gates on the labelled dev set, and the engine's helpers
(prefilter, shouting, fee caps, negation scope) behave."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import guardrails.prefilter as prefilter
from evals.guard import GuardReport, evaluate_guard, load_guard_set
from guardrails import ComplianceGuard, GuardContext
from guardrails.catalogue import load_catalogue

GUARD = ComplianceGuard()
DATASETS = Path(__file__).resolve().parents[2] / "evals" / "datasets"
# The two independent training sets the catalogue is tuned on (never the held-out set).
DEV_SETS = {name: load_guard_set(DATASETS / f"{name}.yaml") for name in ("guard_dev", "guard_dev2")}
ITEMS = [item for items in DEV_SETS.values() for item in items]
RECALL_GATE = 0.97
FPR_GATE = 0.03


@pytest.fixture(scope="module", params=sorted(DEV_SETS))
def report(request: pytest.FixtureRequest) -> GuardReport:
    return evaluate_guard(DEV_SETS[request.param], GUARD)


def _explain(report: GuardReport) -> str:
    lines = [f"recall by category: {report.recall_by_category}"]
    lines += [f"  missed {m.id} ({m.expected}): {m.text}" for m in report.misses]
    lines += [f"  false positive {m.id} {m.fired}: {m.text}" for m in report.false_positives]
    return "\n".join(lines)


def test_recall_on_violating_sentences(report: GuardReport) -> None:
    assert report.recall >= RECALL_GATE, _explain(report)


def test_false_positive_rate_on_compliant_sentences(report: GuardReport) -> None:
    assert report.false_positive_rate <= FPR_GATE, _explain(report)
    assert report.hard_negative_fpr <= FPR_GATE, _explain(report)


def test_every_rule_appears_exactly_once() -> None:
    ids = sorted(rule.id for rule in load_catalogue().rules)
    assert ids == sorted([f"G{n:02d}" for n in range(1, 38)] + ["P01"])


def test_prefilter_never_changes_a_verdict() -> None:
    """The literal prefilter only skips patterns that cannot match (same rules fire)."""
    reference = ComplianceGuard()
    every_pattern = [(rule, list(rule.patterns)) for rule in reference.catalogue.wording_rules]
    reference._plan.candidates = lambda text: iter(every_pattern)  # type: ignore[method-assign]
    texts = [item.text for item in ITEMS]
    texts += [text.upper() for text in texts[:80]] + [text.replace("a", "*") for text in texts[:80]]
    for text in texts:
        fast, slow = GUARD.check(text), reference.check(text)
        assert fast.allowed == slow.allowed, text
        assert {(v.rule, v.span) for v in fast.violations} == {
            (v.rule, v.span) for v in slow.violations
        }, text


def test_break_positions_agree_with_find_and_rfind() -> None:
    """Sentences and clause starts found by bisecting break positions, as find/rfind gave."""
    from guardrails.checker import _CLAUSE_BREAK, _SENTENCE_BREAK, _Breaks
    from guardrails.normaliser import normalise

    for item in ITEMS[::7]:
        text = normalise(item.text + "  " + item.text.upper()).text
        breaks = _Breaks(text)
        for start in range(len(text) + 1):
            left = max(text.rfind(c, 0, start) for c in _SENTENCE_BREAK) + 1
            for end in (start, min(start + 5, len(text))):
                rights = [i for i in (text.find(c, end) for c in _SENTENCE_BREAK) if i >= 0]
                expected = text[left : min(rights) if rights else len(text)]
                assert breaks.sentence(start, end) == expected, (text, start, end)
            clause = max(text.rfind(c, 0, start) for c in _CLAUSE_BREAK) + 1
            assert breaks.clause_start(start) == clause, (text, start)


def _every_pattern_guard() -> ComplianceGuard:
    """A guard whose scan plan runs every pattern (the prefilter switched off)."""
    reference = ComplianceGuard()
    every_pattern = [(rule, list(rule.patterns)) for rule in reference.catalogue.wording_rules]
    reference._plan.candidates = lambda text: iter(every_pattern)  # type: ignore[method-assign]
    return reference


def test_prefilter_falls_back_to_every_pattern_without_the_private_parser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without ``re._parser`` no requirement is derived: every pattern runs, verdicts hold."""
    monkeypatch.setattr(prefilter, "_PARSER", None)
    assert prefilter.requirement(re.compile(r"\bpenjara\b")).groups == ()
    fallback = ComplianceGuard()
    assert all(not needs.groups for _, _, needs in fallback._plan._slots)
    for text in [item.text for item in ITEMS[::5]]:
        fast = {v.rule for v in fallback.check(text).violations}
        slow = {v.rule for v in GUARD.check(text).violations}
        assert fast == slow, text


def test_word_start_scanner_finds_the_same_matches() -> None:
    """Patterns run without their leading \\b, then confirmed: identical spans, in order."""
    from guardrails.normaliser import normalise

    scanners = [
        run for _, run, _ in GUARD._plan._runs if isinstance(run, prefilter.WordStartScanner)
    ]
    assert scanners
    texts = [normalise(item.text).text for item in ITEMS[::3]] + ["xkami akan datang", "a-kami"]
    for run in scanners:
        for text in texts:
            fast = [m.span() for m in run.finditer(text)]
            assert fast == [m.span() for m in run.full.finditer(text)], (run.pattern, text)


def test_prefilter_falls_back_when_the_analysis_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """An error inside the regex analysis makes that pattern run always, never skip it."""

    def broken(items: object, at_start: bool = False) -> list[frozenset[str]]:
        raise AttributeError("re._parser changed")

    monkeypatch.setattr(prefilter, "_required", broken)
    assert prefilter.requirement(re.compile(r"\bpenjara\b")).groups == ()
    fallback = ComplianceGuard()
    assert not fallback.check("Anda akan dipenjara.").allowed
    assert fallback.check("Terima kasih, pembayaran sudah kami terima.").allowed


@pytest.mark.parametrize(
    ("text", "shouting"),
    [
        ("BAYAR SEKARANG!!!", True),
        ("Tagihan Anda SUDAH LEWAT JATUH TEMPO.", True),
        ("Bayar sekarang!!", True),
        ("LUNASI! Jangan ditunda.", True),
        ("Bank Nusantara tidak pernah meminta OTP, PIN, atau kata sandi.", False),
        ("Silakan bayar lewat QRIS atau VA sebelum 20.00 WITA.", False),
        ("Nomor antrean HO-20261123-001 sudah tercatat.", False),
    ],
)
def test_shouting_is_judged_on_the_original_casing(text: str, shouting: bool) -> None:
    fired = {v.rule for v in GUARD.check(text).violations}
    assert ("G34" in fired) is shouting


def test_card_fee_caps_apply_without_context_but_not_to_known_figures() -> None:
    assert not GUARD.check("Denda keterlambatan bulan ini Rp250.000.").allowed
    assert not GUARD.check("Bunga kartu Anda 3% per bulan.").allowed
    assert GUARD.check("Bunga cicilan tetap 1,19% per bulan.").allowed
    assert GUARD.check("Denda keterlambatan tercatat Rp100.000.").allowed
    loan = GuardContext(verified=True, product="kta", known_amounts=frozenset({250_000}))
    assert GUARD.check("Denda keterlambatan bulan ini Rp250.000.", loan).allowed


def test_negation_reaches_a_few_words_back_but_not_out_of_a_condition() -> None:
    assert GUARD.check("Kami tidak akan datang beramai-ramai ke rumah Ibu.").allowed
    assert GUARD.check("Tidak ada ancaman penjara dalam penagihan kami.").allowed
    assert not GUARD.check("Kalau tidak bayar kami laporkan Anda ke polisi.").allowed
    assert not GUARD.check("Orang yang tidak membayar utang bisa dipenjara.").allowed
    assert not GUARD.check("Tidak takut azab?").allowed
    assert not GUARD.check("Jangan sampai tangan kami sendiri yang turun.").allowed


def test_third_party_may_be_offered_verification_but_not_told_about_the_debt() -> None:
    third = GuardContext(speaker="third_party")
    assert GUARD.check(
        "Baik, saya bantu mengecek tagihan Bapak/Ibu setelah verifikasi.", third
    ).allowed
    assert not GUARD.check("Tagihan beliau sudah lewat jatuh tempo.", third).allowed
