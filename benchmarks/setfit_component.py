"""Does a SetFit-style contrastive step help the rational-vs-emotional head? Cross-validated on train only.

SetFit (Tunstall et al. 2022) first tunes a sentence encoder contrastively on pairs of labelled sentences:
two sentences of one class should come out close, two of different classes far apart (cosine similarity
regressed on 1 / 0). Then it fits a plain classifier on the tuned embeddings. It is meant for small
labelled sets, and the component task is vocmine's smallest (714 training sentences, es + en). Issue 4
names it as a way past frozen embeddings, so this script measures it against the shipped recipe:

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/setfit_component.py

Protocol: 5 folds of the training split, stratified by language x label (seed 42); the test split is never
read. In each fold:
- ``frozen e5``: component.v1's recipe (``fit_component_head``: e5 vector + guideline cue columns,
  calibrated LR, shipped C and cue weight) on the untuned encoder's vectors;
- ``SetFit step``: the same head on vectors from the encoder after the contrastive step: LoRA adapters
  (rank 16) on the top six layers, as ``vocmine.component.ft`` has them (the bottom six are frozen and
  their states computed once), trained for :data:`EPOCHS` epochs over :data:`PAIRS_PER_SENTENCE` positive
  and as many negative pairs per sentence, drawn anew each epoch, with SetFit's cosine-similarity loss.

Both use the float32 torch port, "query: " prefix, up to 64 tokens. Scores: out-of-fold macro-F1 per
language. Writes benchmarks/results/setfit_component.json.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "setfit_component.json"
SEED = 42
FOLDS = 5
EPOCHS = 1
PAIRS_PER_SENTENCE = 2
BATCH_PAIRS = 16
LEARNING_RATE = 5e-4


def pairs_for(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(m, 3) rows of (i, j, same): per sentence, PAIRS_PER_SENTENCE partners of its class and as many of
    another, shuffled (SetFit's pair generation)."""
    rows = []
    for i, label in enumerate(y):
        same, other = np.flatnonzero(y == label), np.flatnonzero(y != label)
        same = same[same != i]
        for _ in range(PAIRS_PER_SENTENCE):
            rows.append((i, rng.choice(same), 1))
            rows.append((i, rng.choice(other), 0))
    pairs = np.array(rows)
    return pairs[rng.permutation(len(pairs))]


def pooled(encoder, states: list, rows: np.ndarray):  # noqa: ANN001, ANN201 - a FineTunedClassifier; a tensor
    """Mean-pooled output of the encoder's top layers for ``rows``, from their cached bottom states."""
    hidden, mask = encoder._pad_states([states[i] for i in rows])
    return encoder.network.top_pooled(hidden, mask, encoder.settings.frozen_layers)


def unit_vectors(encoder, states: list, batch: int = 128) -> np.ndarray:  # noqa: ANN001
    """(n, 384) L2-normalised sentence vectors of every cached text, in inference mode."""
    import torch

    encoder.network.eval()
    with torch.inference_mode():
        parts = [torch.nn.functional.normalize(pooled(encoder, states, np.arange(s, min(s + batch, len(states)))),
                                               dim=-1).numpy() for s in range(0, len(states), batch)]
    encoder.network.train()
    return np.vstack(parts)


def main() -> None:
    import torch
    from sklearn.model_selection import StratifiedKFold

    from vocmine.models.finetune import FineTunedClassifier, FineTuneSettings
    from vocmine.models.metrics import macro_f1_by_group
    from vocmine.models.train_component import COMPONENT_LABELS, fit_component_head, load_component_data
    from vocmine.nlp.rational_emotional import CUE_WEIGHT, component_features

    torch.set_num_threads(2)
    started = time.perf_counter()
    train = load_component_data(split="train")
    texts, y = train["text"].tolist(), train["label"].to_numpy()
    language = train["language"].to_numpy()
    strata = (train["language"] + ":" + train["label"]).to_numpy()
    predicted = {"frozen e5": np.empty(len(y), dtype=object), "SetFit step": np.empty(len(y), dtype=object)}
    history = []
    for fold, (fit_rows, held_rows) in enumerate(StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(
            texts, strata)):
        encoder = FineTunedClassifier(COMPONENT_LABELS, FineTuneSettings(frozen_layers=6, max_length=64, seed=SEED))
        encoder._build()
        network = encoder.network
        states = encoder._bottom_states(texts)

        for name in predicted:
            if name == "SetFit step":
                rng = np.random.default_rng(SEED + fold)
                adapters = [p for n, p in network.named_parameters() if "lora_" in n]
                optimiser = torch.optim.AdamW(adapters, lr=LEARNING_RATE, weight_decay=0.01)
                network.train()
                t0, losses = time.perf_counter(), []
                for _ in range(EPOCHS):
                    pairs = pairs_for(y[fit_rows], rng)
                    steps = math.ceil(len(pairs) / BATCH_PAIRS)
                    for step in range(steps):
                        batch = pairs[step * BATCH_PAIRS:(step + 1) * BATCH_PAIRS]
                        u = pooled(encoder, states, fit_rows[batch[:, 0]])
                        v = pooled(encoder, states, fit_rows[batch[:, 1]])
                        target = torch.tensor(batch[:, 2], dtype=torch.float32)
                        loss = torch.nn.functional.mse_loss(torch.nn.functional.cosine_similarity(u, v), target)
                        optimiser.zero_grad()
                        loss.backward()
                        optimiser.step()
                        losses.append(float(loss.detach()))
                history.append({"fold": fold, "pairs": int(len(pairs)), "seconds": round(time.perf_counter() - t0),
                                "loss_first_50": round(float(np.mean(losses[:50])), 4),
                                "loss_last_50": round(float(np.mean(losses[-50:])), 4)})
                print(f"fold {fold}: {history[-1]}", flush=True)
            X = unit_vectors(encoder, states)
            head = fit_component_head(train.iloc[fit_rows], seed=SEED, embeddings=X[fit_rows])
            proba = head.predict_proba_embeddings(
                component_features([texts[i] for i in held_rows], X[held_rows], CUE_WEIGHT))
            predicted[name][held_rows] = np.asarray(head.labels_)[proba.argmax(axis=1)]
    results = {}
    for name, labels in predicted.items():
        per = macro_f1_by_group(y, labels, language, COMPONENT_LABELS)
        results[name] = {lang: round(float(v), 4) for lang, v in per.items()}
        results[name]["mean"] = round(float(np.mean(list(per.values()))), 4)
        print(f"{name:12s} out-of-fold macro-F1: " + ", ".join(f"{k} {v:.3f}" for k, v in results[name].items()))
    OUT.write_text(json.dumps({"folds": FOLDS, "seed": SEED, "epochs": EPOCHS,
                               "pairs_per_sentence": PAIRS_PER_SENTENCE, "learning_rate": LEARNING_RATE,
                               "results": results, "history": history,
                               "seconds": round(time.perf_counter() - started)}, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
