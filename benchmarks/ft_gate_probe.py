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

from bench_components import corpus_sentences  # noqa: E402
from bench_end_to_end import build_corpus  # noqa: E402

GATES = [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.97, 0.99, 1.01]


def caching_embed(embedder, texts: list[str], vectors: np.ndarray):  # noqa: ANN001, ANN201
    """``embed(texts) -> vectors`` that reuses the vectors already computed and embeds each other text once
    (the neighbours and development rows the probes read)."""
    cache = dict(zip(texts, vectors, strict=True))

    def embed(wanted: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(wanted) if t not in cache]
        if missing:
            cache.update(zip(missing, embedder.encode(missing), strict=True))
        return np.stack([cache[t] for t in wanted])

    return embed


def context_of(texts: list[str], vectors: np.ndarray, groups: list, embed) -> object:  # noqa: ANN001
    from vocmine.models.context import neighbours, window_vectors

    before, after = neighbours(texts, groups)
    return window_vectors(vectors, before, after, embed)


def blend_views(model, texts: list[str], vectors: np.ndarray,  # noqa: ANN001 - a FineTunedBlend
                context: object = None) -> tuple[dict[str, np.ndarray], float]:
    """A fine-tuned blend's cheap member (probabilities and labels) and its full labels, and the seconds both
    members took."""
    labels = np.asarray(model.labels_)
    started = time.perf_counter()
    log_enc, log_base = model.member_log_proba(texts, vectors, context)
    seconds = time.perf_counter() - started
    full, cheap = model.blend(log_enc, log_base), np.exp(log_base)
    return {"cheap": cheap, "cheap_label": labels[cheap.argmax(1)], "full_label": labels[full.argmax(1)]}, seconds


def emotion_views(texts: list[str], languages: list[str], vectors: np.ndarray) -> tuple[dict[str, np.ndarray], float]:
    """emotion.v2's probabilities and label sets (the cheap model) and emotion.ft's label sets, per text, and
    the seconds emotion.ft took."""
    from vocmine.models.train_emotion import FT_WEIGHTS_DIR, WEIGHTS_DIR, EmotionModel

    ft, v2 = EmotionModel.load(FT_WEIGHTS_DIR), EmotionModel.load(WEIGHTS_DIR)
    n, languages = len(texts), np.asarray(languages)
    views = {"cheap": np.zeros((n, 7), np.float32), "cheap_label": np.empty(n, object),
             "full_label": np.empty(n, object)}
    seconds = 0.0
    for language in ("es", "en"):
        rows = np.flatnonzero(languages == language)
        if not len(rows):
            continue
        chunk = [texts[i] for i in rows]
        started = time.perf_counter()
        full = ft.predict_proba(chunk, language, vectors[rows])
        seconds += time.perf_counter() - started
        cheap = v2.predict_proba(chunk, language, vectors[rows])
        views["cheap"][rows] = cheap
        views["cheap_label"][rows] = [";".join(s) for s in v2.label_sets(cheap, language)]
        views["full_label"][rows] = [";".join(s) for s in ft.label_sets(full, language)]
    return views, seconds


def curve(cheap: np.ndarray, full_labels: np.ndarray, cheap_labels: np.ndarray,
          truth: np.ndarray | None = None) -> list[dict]:
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


def view_curve(views: dict[str, np.ndarray], truth: np.ndarray | None = None) -> list[dict]:
    return curve(views["cheap"], views["full_label"], views["cheap_label"], truth)


def print_curve(title: str, rows: list[dict]) -> None:
    print(f"\n{title}")
    for row in rows:
        print("  " + "  ".join(f"{k}={v}" for k, v in row.items()))


def sentiment_curves(texts, vectors, context, embed) -> dict:  # noqa: ANN001
    from vocmine.models.datasets import load_sentiment
    from vocmine.models.sentiment_ft import FineTunedSentimentModel
    from vocmine.models.train_sentiment import frame_context

    model = FineTunedSentimentModel.load()
    views, seconds = blend_views(model, texts, vectors, context)
    out = {"seconds_both_members": round(seconds, 2), "bench": view_curve(views)}
    print_curve(f"sentiment.ft, bench sentences (n={len(texts)}, {seconds:.1f} s)", out["bench"])
    dev = load_sentiment("semeval16_es", "dev")
    dev_vectors = embed(dev["text"].tolist())
    dev_views, _ = blend_views(model, dev["text"].tolist(), dev_vectors, frame_context(dev, dev_vectors, embed))
    out["semeval16_es_dev"] = view_curve(dev_views, dev["label"].to_numpy())
    print_curve(f"sentiment.ft, SemEval-2016 es dev (n={len(dev)})", out["semeval16_es_dev"])
    return out


def component_curves(texts, vectors) -> dict:  # noqa: ANN001
    from vocmine.models.component_ft import FineTunedComponentModel

    views, seconds = blend_views(FineTunedComponentModel.load(), texts, vectors)
    out = {"seconds_both_members": round(seconds, 2), "bench": view_curve(views)}
    print_curve(f"component.ft, bench sentences ({seconds:.1f} s)", out["bench"])
    return out


def emotion_curves(texts, languages, vectors, embed) -> dict:  # noqa: ANN001
    from vocmine.models.train_emotion import CLASSES, FT_WEIGHTS_DIR, WEIGHTS_DIR, EmotionModel, load_emoevent

    views, seconds = emotion_views(texts, languages, vectors)
    out: dict = {}
    for language in ("es", "en"):
        rows = np.flatnonzero(np.asarray(languages) == language)
        if not len(rows):
            continue
        key = f"bench_{language}"
        out[key] = view_curve({name: view[rows] for name, view in views.items()})
        print_curve(f"emotion.ft vs v2 gate, bench {language} (n={len(rows)}, ft {seconds:.1f} s both languages)",
                    out[key])
    # EmoEvent's single label: the argmax decision of each model.
    ft, v2 = EmotionModel.load(FT_WEIGHTS_DIR), EmotionModel.load(WEIGHTS_DIR)
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

    texts, languages, answers = corpus_sentences(build_corpus(args.n))
    embedder = resolve_embedder("vocmine.e5_small.v1")
    vectors = embedder.encode(texts)
    embed = caching_embed(embedder, texts, vectors)
    context = context_of(texts, vectors, answers, embed)
    result = {"n_responses": args.n, "n_sentences": len(texts),
              "sentiment": sentiment_curves(texts, vectors, context, embed),
              "component": component_curves(texts, vectors),
              "emotion": emotion_curves(texts, languages, vectors, embed)}
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"ft_gate_probe_n{args.n}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
