"""Should vocmine.sentiment.ft's blend member read sentence context, as v1 now does? Held-out rows only.

sentiment.ft blends the fine-tuned encoder with v1, but with v1 *without* its context member (the blend was
tuned before v1 read context). This script scores, on the stratified 15% of the training rows that the
shipped encoder never saw, the blend of the shipped encoder with the v1 recipe refitted without those rows
(:func:`vocmine.models.sentiment_ft.held_out_base_log_proba`), once without and once with context. The
weight and temperature are cross-fitted: the held-out rows are split in two halves (stratified by data set
and label), each half is scored with the weight tuned on the other, so no row scores a weight it chose.
No test row is read.

Decision rule (committed before any figure): context is adopted for sentiment.ft (its base member reads
context, weight and temperature re-tuned on the held-out rows as ``vocmine train sentiment --finetune``
does) if, cross-fitted, SemEval-2016 es gains at least +1.0 macro-F1, SemEval-2016 en does not fall, and no
other data set with at least 100 held-out rows falls by more than 0.5 (semeval15_en has 6 and sfu_es 50:
one sentence moves them by points).

Usage: ``python benchmarks/finetune_runs/sentiment_ft_context_blend.py``; the figures go to
``benchmarks/results/finetune_runs/sentiment_ft_context_blend.json``.
"""

import json
import time
from pathlib import Path

import numpy as np

from vocmine.models import train_sentiment as ts
from vocmine.models.datasets import SENTIMENT_LABELS
from vocmine.models.heads import blend_proba, log_softmax, tune_blend
from vocmine.models.metrics import macro_f1
from vocmine.models.sentiment_ft import FT_WEIGHTS_DIR, FineTunedSentimentModel, held_out_base_log_proba

SEED = 42
RESULT = Path(__file__).resolve().parents[1] / "results" / "finetune_runs" / "sentiment_ft_context_blend.json"


def halves(strata: np.ndarray, seed: int) -> np.ndarray:
    """0/1 per row: a random half of every stratum each."""
    rng = np.random.default_rng(seed)
    half = np.zeros(len(strata), dtype=int)
    for value in np.unique(strata):
        index = rng.permutation(np.flatnonzero(strata == value))
        half[index[len(index) // 2:]] = 1
    return half


def per_dataset(truth: np.ndarray, proba: np.ndarray, datasets: np.ndarray) -> dict[str, float]:
    labels = np.asarray(SENTIMENT_LABELS)
    predicted = labels[proba.argmax(axis=1)]
    figures = {name: round(macro_f1(truth[datasets == name], predicted[datasets == name], list(labels)), 4)
               for name in sorted(set(datasets))}
    figures["mean"] = round(float(np.mean(list(figures.values()))), 4)
    return figures


def main() -> None:
    started = time.perf_counter()
    train = ts.build_train_frame(seed=SEED).reset_index(drop=True)
    dev = ts._dev_mask(train, SEED)
    held = train[dev]
    datasets = held["dataset"].to_numpy()
    truth = held["label"].to_numpy()
    y = np.searchsorted(np.asarray(SENTIMENT_LABELS), truth)
    half = halves(np.char.add(datasets.astype(str), truth.astype(str)), SEED)
    shipped = FineTunedSentimentModel.load(FT_WEIGHTS_DIR)
    log_encoder = log_softmax(shipped.encoder.logits(held["text"].tolist()))
    figures: dict = {"held_out_rows": int(dev.sum()),
                     "rows_per_dataset": {k: int(v) for k, v in held.groupby("dataset").size().items()},
                     "encoder alone": per_dataset(truth, np.exp(log_encoder), datasets)}
    for variant, context in (("v1 without context (shipped)", False), ("v1 with context", True)):
        log_base = held_out_base_log_proba(train, dev, SEED, context=context)
        crossed = np.zeros_like(log_base)
        weights = []
        for part in (0, 1):
            tune, score = half != part, half == part
            weight, temperature = tune_blend(log_encoder[tune], log_base[tune], y[tune], datasets[tune])
            crossed[score] = blend_proba(log_encoder[score], log_base[score], weight, temperature)
            weights.append(weight)
        weight, temperature = tune_blend(log_encoder, log_base, y, datasets)
        figures[variant] = {
            "base alone": per_dataset(truth, np.exp(log_base), datasets),
            "blend, cross-fitted": per_dataset(truth, crossed, datasets), "cross-fitted weights": weights,
            "blend, tuned on all held-out rows": per_dataset(
                truth, blend_proba(log_encoder, log_base, weight, temperature), datasets),
            "weight": weight, "temperature": round(temperature, 4)}
        print(variant, json.dumps(figures[variant]), flush=True)
    before, after = (figures[v]["blend, cross-fitted"] for v in ("v1 without context (shipped)", "v1 with context"))
    gains = {name: round(100 * (after[name] - before[name]), 2) for name in before}
    es, en = "semeval16_es", "semeval16_en"
    figures["gain, points (cross-fitted)"] = gains
    sizes = figures["rows_per_dataset"]
    figures["adopt"] = bool(gains[es] >= 1.0 and gains[en] >= 0 and all(
        gains[name] >= -0.5 for name, n in sizes.items() if name not in (es, en) and n >= 100))
    figures["seconds"] = round(time.perf_counter() - started, 1)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
