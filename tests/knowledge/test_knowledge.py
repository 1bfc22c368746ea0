"""The corpus, the index and retrieval as a debtor meets them."""

from __future__ import annotations

import socket
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from knowledge.index import chroma_client, ingest, make_embedder, open_collection, open_retriever
from knowledge.passages import CorpusError, load_corpus, load_passage

DEMO_DAY = date(2026, 11, 23)


def test_corpus_is_complete_and_valid() -> None:
    passages = load_corpus()
    kinds = {p.kind for p in passages}
    assert len(passages) >= 60 and kinds == {"regulation", "policy", "faq"}
    ids = [p.id for p in passages]
    assert len(ids) == len(set(ids))
    for passage in passages:
        assert passage.summary().endswith((".", "?", "!")), passage.id
    p2p = [p for p in passages if p.applies_to == ("p2p",)]
    assert p2p and not any(p.applies("kartu_kredit") or p.applies(None) for p in p2p)


@pytest.mark.parametrize(
    ("front", "message"),
    [
        ("id: x-bad\ntitle: Judul\n", "x-bad.md: source: Field required"),
        (
            "id: other-id\ntitle: Judul\nsource: FAQ\nkind: faq\napplies_to: [all]\n"
            "effective_from: 2026-01-01\nconfidence: V1\n",
            "does not match the file name",
        ),
        ("id: x-bad\n: : :\n", "not valid YAML"),
        (
            "id: x-bad\ntitle: Judul\nsource: FAQ\nkind: blog\napplies_to: [all]\n"
            "effective_from: 2026-01-01\nconfidence: V1\n",
            "x-bad.md: kind",
        ),
    ],
)
def test_malformed_passages_are_named(tmp_path: Path, front: str, message: str) -> None:
    path = tmp_path / "x-bad.md"
    path.write_text(f"---\n{front}---\nIsi yang cukup panjang untuk sebuah bagian korpus ini.\n")
    with pytest.raises(CorpusError, match=message):
        load_passage(path)


def test_ingest_is_idempotent_and_removes_deleted(tmp_path: Path) -> None:
    passages = load_corpus()[:5]
    embedder = make_embedder("use")
    collection = open_collection(chroma_client(tmp_path, None), embedder)
    assert ingest(collection, embedder, passages) == (5, 0)
    assert ingest(collection, embedder, passages) == (0, 0)
    assert ingest(collection, embedder, passages[:4]) == (0, 1)


def test_done_when_searches(index_dir: Path) -> None:
    retriever = open_retriever(index_dir, None, lambda: DEMO_DAY)
    hours = retriever.search("debt collector boleh datang jam 9 malam?", k=3)
    assert hours[0].id == "pojk22-62-waktu-penagihan"
    jail = retriever.search("apakah saya bisa dipenjara kalau tidak bayar kartu kredit?", k=3)
    assert "UU 39/1999" in jail[0].source


def test_p2p_rules_are_never_cited_to_bank_debtors(index_dir: Path) -> None:
    retriever = open_retriever(index_dir, None, lambda: DEMO_DAY)
    for product in ("kartu_kredit", "kta", None):
        hits = retriever.search("aturan penagihan pinjol kontak darurat AFPI", k=5, product=product)
        assert hits and all("p2p" not in h.passage.applies_to for h in hits)


def test_expired_passages_are_flagged_not_current(index_dir: Path) -> None:
    retriever = open_retriever(index_dir, None, lambda: DEMO_DAY)
    hits = retriever.search("relaksasi pembayaran minimum kartu kredit 5% sampai Juni 2026", k=5)
    relaxation = [h for h in hits if h.passage.effective_to == date(2026, 6, 30)]
    assert relaxation and not relaxation[0].current
    earlier = open_retriever(index_dir, None, lambda: date(2026, 5, 1))
    again = earlier.search("relaksasi pembayaran minimum kartu kredit 5% sampai Juni 2026", k=5)
    assert any(h.current for h in again if h.passage.effective_to == date(2026, 6, 30))


def test_ingest_and_search_never_touch_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: socket.socket, address: Any) -> None:
        raise RuntimeError(f"network access attempted: {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    retriever = open_retriever(tmp_path, None, lambda: DEMO_DAY)
    assert retriever.search("cara bayar pakai QRIS", k=3)
