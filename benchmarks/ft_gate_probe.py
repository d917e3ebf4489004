"""How often the accurate variants' fine-tuned encoders change a label the cheap model is already sure of.

The accurate stack is slow because each fine-tuned variant reads every sentence through its own encoder.
Where the model the variant falls back on (sentiment.v1, emotion.v2, component.v1: heads over the shared e5
vectors) is confident, the blend rarely says otherwise; reading the encoder only below a confidence gate
would save most of its cost. This probe measures, per task and per gate, the share of sentences the encoder
would read and how often the gated labels equal the full variant's, on the speed benchmark's sentences
(Rest-Mex 2022 es + Starbucks NYC en responses; no test split), and the macro-F1 of the gated and full
variants on development rows (SemEval-2016 es dev, EmoEvent en dev). No test split is read.

    .venv/bin/python benchmarks/ft_gate_probe.py --n 400

Prints tables and writes benchmarks/results/ft_gate_probe_n<N>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_end_to_end import build_corpus  # noqa: E402

GATES = [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.97, 0.99, 1.01]


def corpus_sentences(n: int) -> tuple[list[str], list[str], list[tuple[int, int]]]:
    from vocmine.nlp.sentences import split_sentences

    corpus = build_corpus(n)
    texts, languages, answers = [], [], []
    for row, (title, text, language) in enumerate(zip(corpus["title"], corpus["text"], corpus["language"],
                                                      strict=True)):
        for part, answer in enumerate((title, text)):
            for span in split_sentences(answer, language):
                texts.append(span.text)
                languages.append(language)
                answers.append((row, part))
    return texts, languages, answers


def context_of(texts: list[str], vectors: np.ndarray, groups: list, embed) -> object:  # noqa: ANN001
    from vocmine.models.context import neighbours, window_vectors

    before, after = neighbours(texts, groups)
    return window_vectors(vectors, before, after, embed)


def curve(cheap: np.ndarray, full_labels: np.ndarray, cheap_labels: np.ndarray,
          truth: np.ndarray | None = None, full_scores: np.ndarray | None = None) -> list[dict]:
    """Per gate: share read by the encoder, agreement with the full variant, macro-F1 (when ``truth``)."""
    from sklearn.metrics import f1_score

    rows = []
    confident = cheap.max(axis=1)
    for gate in GATES:
        read = confident < gate
        labels = np.where(read, full_labels, cheap_labels)
        row = {"gate": gate, "read": round(float(read.mean()), 3),
               "agree": round(float((labels == full_labels).mean()), 4)}
        if truth is not None:
            row["macro_f1"] = round(float(f1_score(truth, labels, average="macro")), 4)
        rows.append(row)
    return rows


def print_curve(title: str, rows: list[dict]) -> None:
    print(f"\n{title}")
    for row in rows:
        print("  " + "  ".join(f"{k}={v}" for k, v in row.items()))


def sentiment_curves(texts, languages, vectors, context, embed) -> dict:  # noqa: ANN001
    from vocmine.models.sentiment_ft import FineTunedSentimentModel

    model = FineTunedSentimentModel.load()
    labels = np.asarray(model.labels_)
    started = time.perf_counter()
    log_enc, log_base = model.member_log_proba(texts, vectors, context)
    seconds = time.perf_counter() - started
    full = model.blend(log_enc, log_base)
    base = np.exp(log_base)
    out = {"seconds_both_members": round(seconds, 2),
           "bench": curve(base, labels[full.argmax(1)], labels[base.argmax(1)])}
    print_curve(f"sentiment.ft, bench sentences (n={len(texts)}, {seconds:.1f} s)", out["bench"])
    from vocmine.models.datasets import load_sentiment

    dev = load_sentiment("semeval16_es", "dev")
    from vocmine.models.train_sentiment import frame_context

    dev_vectors = embed(dev["text"].tolist())
    dev_context = frame_context(dev, dev_vectors, embed)
    log_enc, log_base = model.member_log_proba(dev["text"].tolist(), dev_vectors, dev_context)
    full = model.blend(log_enc, log_base)
    base = np.exp(log_base)
    out["semeval16_es_dev"] = curve(base, labels[full.argmax(1)], labels[base.argmax(1)], dev["label"].to_numpy())
    print_curve(f"sentiment.ft, SemEval-2016 es dev (n={len(dev)})", out["semeval16_es_dev"])
    return out


def component_curves(texts, vectors) -> dict:  # noqa: ANN001
    from vocmine.models.component_ft import FineTunedComponentModel

    model = FineTunedComponentModel.load()
    labels = np.asarray(model.labels_)
    started = time.perf_counter()
    log_enc, log_base = model.member_log_proba(texts, vectors)
    seconds = time.perf_counter() - started
    full = model.blend(log_enc, log_base)
    base = np.exp(log_base)
    out = {"seconds_both_members": round(seconds, 2),
           "bench": curve(base, labels[full.argmax(1)], labels[base.argmax(1)])}
    print_curve(f"component.ft, bench sentences ({seconds:.1f} s)", out["bench"])
    return out


def emotion_curves(texts, languages, vectors, embed) -> dict:  # noqa: ANN001
    from vocmine.models.train_emotion import CLASSES, FT_WEIGHTS_DIR, WEIGHTS_DIR, EmotionModel, load_emoevent

    ft, v2 = EmotionModel.load(FT_WEIGHTS_DIR), EmotionModel.load(WEIGHTS_DIR)

    def labels_of(model, proba, language):  # noqa: ANN001, ANN202
        return np.asarray([";".join(s) for s in model.label_sets(proba, language)])

    out: dict = {}
    for language in ("es", "en"):
        rows = [i for i, lang in enumerate(languages) if lang == language]
        if not rows:
            continue
        chunk = [texts[i] for i in rows]
        started = time.perf_counter()
        full = ft.predict_proba(chunk, language, vectors[rows])
        seconds = time.perf_counter() - started
        cheap = v2.predict_proba(chunk, language, vectors[rows])
        key = f"bench_{language}"
        out[key] = curve(cheap, labels_of(ft, full, language), labels_of(v2, cheap, language))
        print_curve(f"emotion.ft vs v2 gate, bench {language} (n={len(rows)}, ft {seconds:.1f} s)", out[key])
    dev = load_emoevent("en", "dev")
    dev_texts = dev["text"].tolist()
    dev_vectors = embed(dev_texts)
    full = ft.predict_proba(dev_texts, "en", dev_vectors)
    cheap = v2.predict_proba(dev_texts, "en", dev_vectors)
    single = np.asarray(CLASSES)
    out["emoevent_en_dev"] = curve(cheap, single[full.argmax(1)], single[cheap.argmax(1)], dev["label"].to_numpy())
    print_curve(f"emotion.ft vs v2 gate (argmax), EmoEvent en dev (n={len(dev)})", out["emoevent_en_dev"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="responses of the speed benchmark's corpus")
    args = parser.parse_args()
    from vocmine.models.embedders import resolve_embedder

    texts, languages, answers = corpus_sentences(args.n)
    embedder = resolve_embedder("vocmine.e5_small.v1")
    vectors = embedder.encode(texts)
    cache = dict(zip(texts, vectors, strict=True))

    def embed(wanted: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(wanted) if t not in cache]
        if missing:
            cache.update(zip(missing, embedder.encode(missing), strict=True))
        return np.stack([cache[t] for t in wanted])

    context = context_of(texts, vectors, answers, embed)
    result = {"n_responses": args.n, "n_sentences": len(texts),
              "sentiment": sentiment_curves(texts, languages, vectors, context, embed),
              "component": component_curves(texts, vectors),
              "emotion": emotion_curves(texts, languages, vectors, embed)}
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"ft_gate_probe_n{args.n}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
