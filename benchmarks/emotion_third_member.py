"""Would vocmine.emotion.ft gain from v2's e5 logistic regression as a third blend member?

vocmine.emotion.ft blends a TF-IDF + LR member with a fine-tuned e5; vocmine.emotion.v2 blends the TF-IDF
member with an LR over the frozen e5 vectors that the pipeline computes anyway, so a third member would
cost no encoder pass. This script scores every blend ``w_encoder * log p_encoder + w_e5 * log p_e5 +
(1 - w_encoder - w_e5) * log p_tfidf`` on a 0.1 grid on the tuning rows (es: the 10% split of es/train;
en: en/dev), the rows that chose emotion.ft's blend, with the decision rule of ``fit_emotion_model``
(argmax, then temperature and per-class biases per language). No test row is read:

    VOCMINE_FT_BACKEND=torch .venv/bin/python benchmarks/emotion_third_member.py

``VOCMINE_FT_BACKEND=torch`` scores the encoder as when emotion.ft's blend was chosen (it finds the shipped
weight, 0.7); the default int8 encoder finds 0.9 and the same answer about the third member.
Writes benchmarks/results/emotion_third_member.json.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    from vocmine.models.heads import fit_temperature, log_softmax, softmax
    from vocmine.models.metrics import macro_f1
    from vocmine.models.train_emotion import (
        CLASSES,
        FT_WEIGHTS_DIR,
        LANGUAGES,
        WEIGHTS_DIR,
        EmotionModel,
        _e5_vectors,
        emotion_splits,
        tune_bias,
    )

    fine_tuned, v2 = EmotionModel.load(FT_WEIGHTS_DIR), EmotionModel.load(WEIGHTS_DIR)
    splits = emotion_splits(seed=42)
    members = {}
    for language in LANGUAGES:
        texts = splits[language]["tune"]["text"].tolist()
        truth = np.array([CLASSES.index(c) for c in splits[language]["tune"]["label"]])
        members[language] = (truth, log_softmax(fine_tuned.tfidf_logits(texts)),
                             log_softmax(fine_tuned.encoder_logits(texts)),
                             log_softmax(v2.member_logits(_e5_vectors(texts))))

    def blended(language: str, w_encoder: float, w_e5: float) -> np.ndarray:
        _, tfidf, encoder, e5 = members[language]
        return w_encoder * encoder + w_e5 * e5 + (1.0 - w_encoder - w_e5) * tfidf

    grid = np.round(np.linspace(0.0, 1.0, 11), 2)
    pairs = [(float(a), float(b)) for a, b in itertools.product(grid, grid) if a + b <= 1.0 + 1e-9]
    classes = list(range(len(CLASSES)))
    scores = {pair: {lang: macro_f1(members[lang][0], blended(lang, *pair).argmax(1), classes) for lang in LANGUAGES}
              for pair in pairs}

    def mean(pair: tuple[float, float]) -> float:
        return float(np.mean(list(scores[pair].values())))

    best_two = max((pair for pair in scores if pair[1] == 0.0), key=lambda pair: (mean(pair), pair[0]))
    best_three = max(scores, key=lambda pair: (mean(pair), pair[0]))
    result: dict = {"encoder_backend": os.environ.get("VOCMINE_FT_BACKEND", "onnx-int8")}
    for name, pair in (("TF-IDF + fine-tuned e5 (shipped members)", best_two), ("+ frozen e5 LR", best_three)):
        biased = {}
        for language in LANGUAGES:
            truth = members[language][0]
            logits = blended(language, *pair)
            log_p = np.log(softmax(logits / fit_temperature(logits, truth)) + 1e-12)
            biased[language] = macro_f1(truth, (log_p + tune_bias(log_p, truth)).argmax(1), classes)
        result[name] = {"weights": {"encoder": pair[0], "e5": pair[1]}, "argmax": scores[pair],
                        "argmax_mean": mean(pair), "with_biases": biased}
        print(f"{name:42s} weights {pair}: tuning macro-F1 argmax mean {mean(pair):.4f} "
              + ", ".join(f"{lang} {scores[pair][lang]:.4f} / biased {biased[lang]:.4f}" for lang in LANGUAGES))
    out = REPO / "benchmarks" / "results" / "emotion_third_member.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
