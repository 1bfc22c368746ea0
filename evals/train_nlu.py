"""Train the offline NLU's Naive Bayes fallback and cross-validate the rules+classifier NLU.

Run ``python -m evals.train_nlu`` to rewrite ``agent/engines/offline/nlu_model.json`` from
the two dev sets (deterministic: same data, same file) and print the 5-fold cross-validated
accuracy. ``--check`` only verifies that the shipped model is what the script would write.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence

from agent.engines.offline.classifier import MODEL_PATH, NaiveBayes, train_counts
from agent.engines.offline.nlu import INTENTS, understand_with
from agent.engines.offline.normalise import normalise
from evals.nlu import DEV2_SET, DEV_SET, NluItem, load_nlu_set

__all__ = ["CvResult", "cross_validate", "fold_ids", "model_json", "training_items"]

FOLDS = 5


class CvResult(dict[str, float]):
    """Cross-validation metrics: accuracy, informal/formal accuracy, distress recall."""


def training_items() -> list[NluItem]:
    """The training data: dev set 1 followed by dev set 2."""
    return load_nlu_set(DEV_SET) + load_nlu_set(DEV2_SET)


def model_json(items: Sequence[NluItem]) -> str:
    """Serialise the counts model trained on ``items`` (compact, sorted, reproducible)."""
    counts = train_counts(((normalise(i.text), i.intent) for i in items), INTENTS)
    return json.dumps(counts, separators=(",", ":"), sort_keys=True) + "\n"


def fold_ids(items: Sequence[NluItem], folds: int = FOLDS) -> list[int]:
    """Stratified fold assignment: the k-th item of each intent goes to fold ``k % folds``."""
    seen: Counter[str] = Counter()
    out: list[int] = []
    for item in items:
        out.append(seen[item.intent] % folds)
        seen[item.intent] += 1
    return out


def _predict(item: NluItem, model: NaiveBayes, rules: bool) -> str:
    """The full NLU's intent, or the classifier's alone when ``rules`` is False."""
    if rules:
        return understand_with(item.text, item.today, model).intent
    probs = model.scores(normalise(item.text))
    return max(probs, key=lambda name: probs[name])


def cross_validate(items: Sequence[NluItem], folds: int = FOLDS, rules: bool = True) -> CvResult:
    """K-fold CV of the NLU with a classifier trained on the other folds.

    The rules were written while looking at all dev items, so with ``rules=True`` this
    measures the classifier's held-out contribution on top of rules that have seen the
    data (optimistic); ``rules=False`` scores the classifier alone (pessimistic). The
    held-out set remains the unbiased estimate.

    Args:
        items: Labelled items.
        folds: Number of folds.
        rules: Score the full rules+classifier NLU (True) or the classifier alone.

    Returns:
        Overall, per-style accuracy and distress recall over all held-out folds.
    """
    assignment = fold_ids(items, folds)
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for k in range(folds):
        train = [i for i, f in zip(items, assignment, strict=True) if f != k]
        model = NaiveBayes.from_counts(json.loads(model_json(train)))
        for item, fold in zip(items, assignment, strict=True):
            if fold != k:
                continue
            ok = _predict(item, model, rules) == item.intent
            for key in ("all", item.style, "distress" if item.intent == "distress" else ""):
                totals[key] += 1
                hits[key] += ok
    return CvResult({key: round(hits[key] / totals[key], 4) for key in sorted(totals) if key})


def main(argv: Sequence[str] | None = None) -> int:
    """Train (or ``--check``) the shipped model and print cross-validated accuracy."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="verify the shipped model only")
    parser.add_argument("--no-cv", action="store_true", help="skip cross-validation")
    args = parser.parse_args(argv)
    items = training_items()
    text = model_json(items)
    if args.check:
        same = MODEL_PATH.exists() and MODEL_PATH.read_text(encoding="utf-8") == text
        sys.stdout.write(f"model up to date: {same}\n")
        return 0 if same else 1
    MODEL_PATH.write_text(text, encoding="utf-8")
    sys.stdout.write(f"wrote {MODEL_PATH} ({len(text)} bytes, {len(items)} items)\n")
    if not args.no_cv:
        for name, rules in (("rules+classifier", True), ("classifier only", False)):
            result = json.dumps(cross_validate(items, rules=rules))
            sys.stdout.write(f"{FOLDS}-fold CV, {name}: {result}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
