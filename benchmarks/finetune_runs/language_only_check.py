"""Held-out figures of the shipped multilingual encoders on one language's rows (run here, on CPU).

The call-6 GPU runs (``exps_call6.txt``) trained an encoder on one language only: sentiment on the Spanish
training rows, emotion on the English ones. Their epoch was picked on that language's held-out rows, and
``run.py`` records that score. This script scores the shipped encoders on the same rows, so the two can be
compared without reading a test row:
- sentiment: the Spanish part of the stratified 15% that ``vocmine.sentiment.ft`` holds out;
- emotion: EmoEvent en dev, the tuning rows of ``vocmine.emotion.ft``.

Usage: ``python benchmarks/finetune_runs/language_only_check.py [ENCODER_DIR ...]``. Without arguments it
scores the shipped encoders (into ``benchmarks/results/finetune_runs/language_only_check.json``); give
encoder folders (e.g. the runs' ``encoder/``) to score those instead (printed only).
"""

import json
import sys
from pathlib import Path

from vocmine.models import train_emotion as te
from vocmine.models import train_sentiment as ts
from vocmine.models.datasets import SENTIMENT_LABELS
from vocmine.models.finetune import FineTunedClassifier
from vocmine.models.metrics import argmax_mean_macro_f1
from vocmine.models.sentiment_ft import FT_WEIGHTS_DIR as SENTIMENT_FT_DIR
from vocmine.models.train_emotion import FT_WEIGHTS_DIR as EMOTION_FT_DIR

SEED = 42
RESULT = Path(__file__).resolve().parents[1] / "results" / "finetune_runs" / "language_only_check.json"


def sentiment_held_out(encoder_dir: Path, language: str = "es") -> float:
    """Mean macro-F1 over ``language``'s data sets of the encoder's argmax on its held-out rows."""
    train = ts.build_train_frame(seed=SEED).reset_index(drop=True)
    dev = ts._dev_mask(train, SEED)
    rows = train[dev & (train["language"] == language).to_numpy()]
    logits = FineTunedClassifier.load(encoder_dir).logits(rows["text"].tolist())
    return argmax_mean_macro_f1(rows["label"].tolist(), logits, SENTIMENT_LABELS, rows["dataset"].to_numpy())


def emotion_tuning(encoder_dir: Path, language: str = "en") -> float:
    """Macro-F1 of the encoder's argmax on ``language``'s emotion tuning rows."""
    tune = te.emotion_splits(seed=SEED)[language]["tune"]
    logits = FineTunedClassifier.load(encoder_dir).logits(tune["text"].tolist())
    return argmax_mean_macro_f1(tune["label"].tolist(), logits, te.CLASSES)


def main() -> None:
    if len(sys.argv) > 1:
        folders = [Path(a) for a in sys.argv[1:]]
    else:
        folders = [SENTIMENT_FT_DIR / "e5_lora", EMOTION_FT_DIR / "e5_lora"]
    figures = {}
    for folder in folders:
        name = "/".join(folder.parts[-3:])
        task = json.loads((folder / "finetune.json").read_text(encoding="utf-8"))["labels"]
        if list(task) == list(SENTIMENT_LABELS):
            figures[name] = {"sentiment_held_out_es": round(sentiment_held_out(folder), 4)}
        else:
            figures[name] = {"emotion_tuning_en": round(emotion_tuning(folder), 4)}
        print(name, figures[name], flush=True)
    if len(sys.argv) == 1:
        RESULT.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
