"""Pure-Python multinomial Naive Bayes intent classifier used as a fallback to the rules.

Features are extracted from the NORMALISED text (see ``normalise.py``): word unigrams and
bigrams plus character 3-5-grams of each word, counted once per message (binarised NB, which
suits short chat messages). The model is stored as integer feature counts in
``nlu_model.json`` (written by ``evals/train_nlu.py``) and turned into log-probabilities once,
at load time, so training and inference are deterministic.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["MODEL_PATH", "TEMPERATURE", "NaiveBayes", "features", "load_model", "train_counts"]

MODEL_PATH: Path = Path(__file__).with_name("nlu_model.json")
_CHAR_SIZES = (3, 4, 5)
# Naive Bayes is grossly over-confident with overlapping n-gram features; dividing the
# log-odds by this temperature minimised the 5-fold cross-validated log-loss on the dev sets.
TEMPERATURE = 10.0


def features(norm: str) -> set[str]:
    """Extract the binary feature set of a normalised message.

    Args:
        norm: Normalised text (lowercase, slang expanded).

    Returns:
        Word unigrams (``w:``), word bigrams (``b:``) and per-word char n-grams (``c:``);
        empty when the message has no alphabetic word (numbers alone are left to the rules).
    """
    words = [w for w in norm.split() if w.isalpha()]
    if not words:
        return set()
    feats = {"w:" + w for w in words}
    padded = ["<s>", *words, "</s>"]
    feats.update(f"b:{a}_{b}" for a, b in zip(padded, padded[1:], strict=False))
    for word in words:
        marked = f"<{word}>"
        for size in _CHAR_SIZES:
            feats.update("c:" + marked[i : i + size] for i in range(len(marked) - size + 1))
    return feats


def train_counts(
    samples: Iterable[tuple[str, str]], classes: Sequence[str], min_count: int = 1
) -> dict[str, Any]:
    """Count features per class (the JSON-serialisable model).

    Args:
        samples: ``(normalised_text, intent)`` pairs.
        classes: All intent names, in a fixed order.
        min_count: Drop features seen in fewer messages than this (over all classes).

    Returns:
        ``{"classes", "docs", "features": {feature: [[class_index, count], ...]}}``.
    """
    index = {name: i for i, name in enumerate(classes)}
    docs = [0] * len(classes)
    table: dict[str, Counter[int]] = {}
    for norm, intent in samples:
        docs[index[intent]] += 1
        for feat in features(norm):
            table.setdefault(feat, Counter())[index[intent]] += 1
    kept = {
        feat: sorted([c, n] for c, n in counts.items())
        for feat, counts in sorted(table.items())
        if sum(counts.values()) >= min_count
    }
    return {"classes": list(classes), "docs": docs, "features": kept}


@dataclass(frozen=True)
class NaiveBayes:
    """Binarised multinomial Naive Bayes with Laplace smoothing."""

    classes: tuple[str, ...]
    base: tuple[float, ...]
    unseen: tuple[float, ...]
    weights: dict[str, tuple[tuple[int, float], ...]]

    @classmethod
    def from_counts(cls, model: dict[str, Any], alpha: float = 0.3) -> NaiveBayes:
        """Build log-probability tables from a counts model (see ``train_counts``).

        Args:
            model: The counts model.
            alpha: Additive smoothing.

        Returns:
            The ready-to-use classifier.
        """
        classes = tuple(str(c) for c in model["classes"])
        docs = [int(n) for n in model["docs"]]
        totals = [0] * len(classes)
        for pairs in model["features"].values():
            for c, n in pairs:
                totals[c] += n
        vocab = len(model["features"]) + 1
        denom = [math.log(t + alpha * vocab) for t in totals]
        unseen = tuple(math.log(alpha) - d for d in denom)
        prior = tuple(math.log((d + 1) / (sum(docs) + len(docs))) for d in docs)
        weights = {
            feat: tuple((int(c), math.log((n + alpha) / alpha)) for c, n in pairs)
            for feat, pairs in model["features"].items()
        }
        return cls(classes, prior, unseen, weights)

    def scores(self, norm: str) -> dict[str, float]:
        """Calibrated posterior probability of every intent for a normalised message.

        Args:
            norm: Normalised text.

        Returns:
            Intent -> probability (sums to 1).
        """
        feats = [self.weights[f] for f in features(norm) if f in self.weights]
        logits = [b + u * len(feats) for b, u in zip(self.base, self.unseen, strict=True)]
        for pairs in feats:
            for c, w in pairs:
                logits[c] += w
        top = max(logits)
        exp = [math.exp((v - top) / TEMPERATURE) for v in logits]
        total = sum(exp)
        return {name: e / total for name, e in zip(self.classes, exp, strict=True)}


def load_model(path: Path = MODEL_PATH) -> NaiveBayes | None:
    """Load the shipped counts model, or None when it has not been trained yet.

    Args:
        path: JSON file written by ``evals/train_nlu.py``.

    Returns:
        The classifier, or None if the file is missing.
    """
    if not path.exists():
        return None
    return NaiveBayes.from_counts(json.loads(path.read_text(encoding="utf-8")))
