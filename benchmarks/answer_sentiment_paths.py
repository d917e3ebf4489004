"""How good is the sentiment the pipeline gives a whole answer? Two paths, measured on star-rated reviews.

``vocmine evaluate sentiment`` scores a review as one text (its first 60 words through
``vocmine.sentiment.v1``). The ``analyze`` pipeline labels an answer differently: it splits the answer into
sentences, labels each, and averages their probabilities weighted by sentence length
(``pipelines.steps.combine_sentence_annotations``). This script measures both paths on the same reviews,
with the e5 backend the pipeline uses (``default_e5_backend()``, onnx-int8 unless configured):

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/answer_sentiment_paths.py

- ``whole``: the whole answer (title + body, not cut) as one text;
- ``sentences``: the pipeline's path, the answer's sentences (``split_sentences``) labelled one by one, each
  with its neighbours in the answer as context (since session 17, as the pipeline does), and combined.

Review sets, each at its natural class balance (stars 1-2 negative / 3 neutral / 4-5 positive):
- ``starbucks_en, unused train``: 2,000 Starbucks NYC Google reviews from the train split that the
  sentiment model never saw (it trained on 1,000 per class); a held-out set for any choice between paths;
- ``restaurants_es, test``: the whole test split that ``vocmine evaluate sentiment`` reports on;
- ``starbucks_en, test``: 2,000 reviews sampled from the test split.

Figures: 3-class macro-F1 and negative-vs-positive macro-F1 (gold-polar rows, p_negative vs p_positive),
each with its 95% bootstrap interval. Writes benchmarks/results/answer_sentiment_paths.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "answer_sentiment_paths.json"
SAMPLE = 2000
SEED = 42


def review_sets() -> dict[str, pd.DataFrame]:
    """{name: frame with text, label, language}: the three review sets of the module docstring."""
    from vocmine.models.datasets import load_sentiment
    from vocmine.models.train_sentiment import build_train_frame

    seen = set(build_train_frame(seed=SEED)["text"].str.lower())
    starbucks_train = load_sentiment("starbucks_en", "train")
    capped_unseen = ~starbucks_train["text"].str.lower().isin(seen)
    whole_train = load_sentiment("starbucks_en", "train", max_words=None)
    if len(whole_train) != len(starbucks_train):
        raise RuntimeError("the capped and uncapped Starbucks train frames do not align")
    unused = whole_train[capped_unseen.to_numpy()]
    starbucks_test = load_sentiment("starbucks_en", "test", max_words=None)
    return {
        "starbucks_en, unused train": unused.sample(n=SAMPLE, random_state=SEED).reset_index(drop=True),
        "restaurants_es, test": load_sentiment("restaurants_es", "test", max_words=None),
        "starbucks_en, test": starbucks_test.sample(n=SAMPLE, random_state=SEED).reset_index(drop=True),
    }


def figures(frame: pd.DataFrame, proba: np.ndarray, path: str) -> dict[str, object]:
    """3-class and negative-vs-positive macro-F1 with their 95% bootstrap intervals, computed by
    ``vocmine evaluate sentiment``'s own rows (``train_sentiment._figures_for``)."""
    from vocmine.models.train_sentiment import _figures_for

    rows = {row["metric"]: row for row in _figures_for(frame, proba, path, with_ece=False)}
    three, pos_neg = rows["macro_f1"], rows["macro_f1_pos_neg"]
    return {"macro_f1": three["value"], "ci": [three["ci_low"], three["ci_high"]], "pos_neg": pos_neg["value"],
            "pos_neg_ci": [pos_neg["ci_low"], pos_neg["ci_high"]], "n": three["n"], "n_polar": pos_neg["n"]}


def main() -> None:
    from vocmine.models.context import annotate_in_context
    from vocmine.models.datasets import SENTIMENT_LABELS
    from vocmine.models.embedders import E5Embedder, default_e5_backend
    from vocmine.models.embedding_cache import embed_with_disk_cache
    from vocmine.nlp.sentences import split_sentences
    from vocmine.nlp.sentiment import SentimentAnnotator
    from vocmine.pipelines.steps import combine_sentence_annotations

    started = time.perf_counter()
    backend = default_e5_backend()
    embedder = E5Embedder(backend=backend)
    annotator = SentimentAnnotator()
    results: dict[str, dict] = {}
    for name, frame in review_sets().items():
        texts, languages = frame["text"].tolist(), frame["language"].tolist()
        whole = annotator.annotate(texts, embed_with_disk_cache(texts, embedder), languages)
        pieces = [[span.text for span in split_sentences(text, lang)] or [text] for text, lang in
                  zip(texts, languages, strict=True)]
        flat = [sentence for answer in pieces for sentence in answer]
        owner = [i for i, answer in enumerate(pieces) for _ in answer]
        flat_languages = [languages[i] for i in owner]
        per_sentence = annotate_in_context(annotator, flat, embed_with_disk_cache(flat, embedder), flat_languages,
                                           groups=owner)
        combined, start = [], 0
        for answer in pieces:
            combined.append(combine_sentence_annotations(answer, per_sentence[start:start + len(answer)], False))
            start += len(answer)
        results[name] = {"sentences": len(flat)}
        for path, labelled in (("whole", whole), ("sentences", combined)):
            proba = np.array([[a.scores[label] for label in SENTIMENT_LABELS] for a in labelled])
            row = figures(frame, proba, path)
            results[name][path] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
            results[name][path]["ci"] = [round(v, 4) for v in row["ci"]]
            results[name][path]["pos_neg_ci"] = [round(v, 4) for v in row["pos_neg_ci"]]
            print(f"{name:28s} {path:9s} 3-class {row['macro_f1']:.3f} [{row['ci'][0]:.3f}, {row['ci'][1]:.3f}]  "
                  f"pos/neg {row['pos_neg']:.3f} [{row['pos_neg_ci'][0]:.3f}, {row['pos_neg_ci'][1]:.3f}]  "
                  f"(n={row['n']}, {len(flat)} sentences)", flush=True)
    OUT.write_text(json.dumps({"backend": backend, "seed": SEED, "results": results,
                               "seconds": round(time.perf_counter() - started)}, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
