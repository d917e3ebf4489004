"""Would a fine-tuned encoder gain from reading a sentence's context as text? A CPU probe, held-out rows only.

sentiment.v1 and sentiment.ft read context as a window of frozen e5 vectors (``models/context.py``). A
fine-tuned encoder could instead read the neighbours themselves: the sentence, then its previous and next
sentence in the answer, as one input. This probe trains the same LoRA recipe twice on the SemEval-2016
training sentences (en + es, the rows that have neighbours), once on the sentence alone and once on
``sentence ||| previous ||| next``, and scores both on the SemEval part of the stratified 15% of the
training rows that sentiment.ft holds out (``train_sentiment._dev_mask``). No test row is read.

CPU recipe (two cores): adapters on the top 6 layers (the bottom 6 cached once, as component.ft trains),
rank 16, 4 epochs, batch 32, learning rate 5e-4, 128 tokens, seed 42; the fourth epoch is scored (no epoch
chosen on the held-out rows). The blend columns add v1 with context refitted without the held-out rows
(``held_out_base_log_proba(context=True)``), weight and temperature cross-fitted over two halves.

Question fixed before any figure: the context input "helps" if, encoder alone, held-out SemEval es rises by
at least 1.0 point and en does not fall. A yes makes context pairs the recipe of the next GPU training of
sentiment.ft's encoder; nothing ships from this probe.

Result (session 18, 28 min on two cores): encoder alone, held-out SemEval es 0.743 (sentence alone) -> 0.734
(with its neighbours as text), en 0.777 -> 0.780: the context input does not help (-0.9 on es). Blended with
v1 (context): es 0.766 / 0.764, en 0.794 / 0.783.

Usage: ``python benchmarks/context_pair_encoder_probe.py``; writes
``benchmarks/results/context_pair_encoder_probe.json``.
"""

import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks" / "finetune_runs"))
RESULT = REPO / "benchmarks" / "results" / "context_pair_encoder_probe.json"
SEED = 42
SEMEVAL = ("semeval16_en", "semeval16_es")
RECIPE = {"epochs": 4, "frozen_layers": 6, "max_length": 128, "batch_size": 32, "learning_rate": 5e-4, "rank": 16}


def pair_text(frame) -> list[str]:
    """The sentence first (so truncation cuts the neighbours, not it), then its previous and next sentence."""
    return [f"{t} ||| {b or '-'} ||| {a or '-'}" for t, b, a in
            zip(frame["text"], frame["context_before"].fillna(""), frame["context_after"].fillna(""), strict=True)]


def main() -> None:
    from sentiment_ft_context_blend import halves

    from vocmine.models import train_sentiment as ts
    from vocmine.models.datasets import SENTIMENT_LABELS
    from vocmine.models.finetune import FineTunedClassifier, FineTuneSettings
    from vocmine.models.heads import blend_proba, log_softmax, tune_blend
    from vocmine.models.metrics import macro_f1
    from vocmine.models.sentiment_ft import held_out_base_log_proba

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    started = time.perf_counter()
    train = ts.build_train_frame(seed=SEED).reset_index(drop=True)
    dev = ts._dev_mask(train, SEED)
    semeval = train["dataset"].isin(SEMEVAL).to_numpy()
    fit, held = train[~dev & semeval], train[dev & semeval]
    labels = np.asarray(SENTIMENT_LABELS)
    truth, datasets = held["label"].to_numpy(), held["dataset"].to_numpy()
    y = np.searchsorted(labels, truth)
    log_base = held_out_base_log_proba(train, dev, SEED, context=True)[semeval[dev]]
    half = halves(np.char.add(datasets.astype(str), truth.astype(str)), SEED)

    def per_language(proba: np.ndarray) -> dict[str, float]:
        predicted = labels[proba.argmax(axis=1)]
        return {name: round(macro_f1(truth[datasets == name], predicted[datasets == name], list(labels)), 4)
                for name in SEMEVAL}

    figures: dict = {"fit_rows": len(fit), "held_out_rows": len(held), "recipe": RECIPE,
                     "v1 with context alone": per_language(np.exp(log_base))}
    for variant, texts in (("sentence alone", lambda f: f["text"].tolist()), ("sentence ||| previous ||| next",
                                                                             pair_text)):
        run_started = time.perf_counter()
        encoder = FineTunedClassifier(list(labels), FineTuneSettings(**RECIPE, seed=SEED)).fit(
            texts(fit), fit["label"].tolist())
        log_encoder = log_softmax(encoder.logits(texts(held)))
        crossed = np.zeros_like(log_base)
        for part in (0, 1):
            tune, score = half != part, half == part
            weight, temperature = tune_blend(log_encoder[tune], log_base[tune], y[tune], datasets[tune])
            crossed[score] = blend_proba(log_encoder[score], log_base[score], weight, temperature)
        figures[variant] = {"encoder alone": per_language(np.exp(log_encoder)),
                            "blend with v1 (context), cross-fitted": per_language(crossed),
                            "history": encoder.history, "seconds": round(time.perf_counter() - run_started, 1)}
        print(variant, json.dumps(figures[variant]), flush=True)
    alone, pair = (figures[v]["encoder alone"] for v in ("sentence alone", "sentence ||| previous ||| next"))
    gains = {name: round(100 * (pair[name] - alone[name]), 2) for name in SEMEVAL}
    figures["gain of the context input, encoder alone, points"] = gains
    figures["helps"] = bool(gains["semeval16_es"] >= 1.0 and gains["semeval16_en"] >= 0)
    figures["seconds"] = round(time.perf_counter() - started, 1)
    RESULT.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
