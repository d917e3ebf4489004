"""Would a Spanish-only sentiment encoder help vocmine.sentiment.ft on Spanish? Held-out rows only.

The call-6 GPU runs ``sent_es`` and ``sent_es_s1`` trained an encoder on the Spanish training rows alone
(``exps_call6.txt``). ``language_only_check.py`` compares the encoders by themselves; the shipped model,
however, is a blend of an encoder with the shipped v1 blend. So this script blends each encoder with the v1
recipe refitted without the held-out rows (:func:`vocmine.models.sentiment_ft.held_out_base_log_proba`), on
the Spanish part of the stratified 15% that sentiment.ft holds out. It tunes the weight and temperature
on those rows for every encoder alike, and reports the mean macro-F1 over the Spanish data sets. The shipped
multilingual encoder is scored the same way, and with its shipped weight too. No test row is read.

Usage: ``python benchmarks/finetune_runs/spanish_sentiment_blend.py ENCODER_DIR ...`` (the shipped encoder is
always included); the figures go to ``benchmarks/results/finetune_runs/spanish_sentiment_blend.json``.
"""

import json
import sys
from pathlib import Path

import numpy as np

from vocmine.models import train_sentiment as ts
from vocmine.models.datasets import SENTIMENT_LABELS
from vocmine.models.finetune import FineTunedClassifier
from vocmine.models.heads import blend_proba, log_softmax, tune_blend
from vocmine.models.metrics import argmax_mean_macro_f1
from vocmine.models.sentiment_ft import FT_WEIGHTS_DIR, FineTunedSentimentModel, held_out_base_log_proba

SEED = 42
LANGUAGE = "es"
RESULT = Path(__file__).resolve().parents[1] / "results" / "finetune_runs" / "spanish_sentiment_blend.json"


def main() -> None:
    train = ts.build_train_frame(seed=SEED).reset_index(drop=True)
    dev = ts._dev_mask(train, SEED)
    held = train[dev]
    spanish = (held["language"] == LANGUAGE).to_numpy()
    rows = held[spanish]
    datasets = rows["dataset"].to_numpy()
    labels = np.asarray(SENTIMENT_LABELS)
    y = np.searchsorted(labels, rows["label"].to_numpy())
    log_base = held_out_base_log_proba(train, dev, SEED)[spanish]

    def score(scores: np.ndarray) -> float:
        return round(argmax_mean_macro_f1(rows["label"].tolist(), scores, labels, datasets), 4)

    shipped = FineTunedSentimentModel.load(FT_WEIGHTS_DIR)  # its encoder is the shipped e5_lora
    encoders = {"weights/sentiment_ft/e5_lora": shipped.encoder,
                **{"/".join(Path(a).parts[-3:]): FineTunedClassifier.load(a) for a in sys.argv[1:]}}
    figures = {"rows": int(spanish.sum()), "datasets": sorted(set(datasets)),
               "v1 refit alone": score(log_base)}
    for name, encoder in encoders.items():
        log_encoder = log_softmax(encoder.logits(rows["text"].tolist()))
        weight, temperature = tune_blend(log_encoder, log_base, y, datasets)
        figures[name] = {"encoder alone": score(log_encoder), "blend tuned on these rows": score(
            blend_proba(log_encoder, log_base, weight)), "weight": weight, "temperature": round(temperature, 4)}
        if encoder is shipped.encoder:
            figures[name]["blend with the shipped weight"] = score(
                blend_proba(log_encoder, log_base, shipped.weight))
        print(name, figures[name], flush=True)
    RESULT.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
