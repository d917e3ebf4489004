"""Would the rational-vs-emotional head gain from each sentence's context, as sentiment did?

component.v1 reads a sentence's e5 vector and the guideline's cue columns. "Fuimos un martes" or "Pedimos
el menú del día" is rational or emotional by what surrounds it; sentiment.v1 gained about 3 points of
held-out macro-F1 from a window vector (the mean of the sentence's and its neighbours' vectors,
``models/context.py``). Every labelled component sentence comes from a known answer (``source``, ``row_id``),
so its neighbours can be found: the answer is split with vocmine's own splitter, as the pipeline does, and
the labelled sentence located in it (SemEval-2016 sentences take their neighbours from
``datasets.semeval16_with_neighbours``). A sentence not found, or alone in its answer, gets its own vector as
context, as in the pipeline.

Rule, fixed before any figure (committed with this file): on the TRAIN split only (the test split is not
read), 5-fold cross-validation stratified by language and label, 3 repeats, the shipped recipe (C 4, the
shipped cue weight, balanced classes) with and without the window vector appended to its features. The
context variant becomes the next component.v1 (with C re-chosen by the same cross-validation) only if
out-of-fold macro-F1 rises by at least +1.0 point in Spanish and falls by no more than 0.5 in English;
otherwise component.v1 is unchanged.

    .venv/bin/python benchmarks/component_context_cv.py

Writes benchmarks/results/component_context_cv.json.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
SAMPLER = REPO / "models" / "data" / "component" / "sample_sentences.py"
MIN_ES_GAIN, MIN_EN_CHANGE = 0.010, -0.005


def _sampler():  # noqa: ANN202 - the module that drew the labelled sentences (it knows each source's rows)
    spec = importlib.util.spec_from_file_location("component_sampler", SAMPLER)
    module = importlib.util.module_from_spec(spec)
    sys.modules["component_sampler"] = module
    spec.loader.exec_module(module)
    return module


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", str(text)).strip().strip('"').strip(" -").lower()


def neighbours_of(train) -> tuple[list[str], list[str], dict[str, int]]:  # noqa: ANN001 - a DataFrame
    """Each labelled sentence's previous and next sentence in its answer ("" when none), and match counts."""
    from vocmine.models.datasets import semeval16_with_neighbours, shared_data_dir
    from vocmine.nlp.sentences import split_sentences

    sampler = _sampler()
    data = shared_data_dir()
    before, after = [""] * len(train), [""] * len(train)
    counts = {"found": 0, "not found": 0}
    frames: dict[str, object] = {}
    semeval: dict[str, dict[str, tuple[str, str]]] = {}
    for i, row in enumerate(train.itertuples(index=False)):
        wanted = _norm(row.text)
        if row.source.startswith("semeval16_"):
            language = row.source.split("_")[1]
            if language not in semeval:
                table = {}
                for split in ("train", "dev", "test") if language == "es" else ("train", "test"):
                    frame = semeval16_with_neighbours(language, split, data)
                    for text, b, a in zip(frame["text"], frame["context_before"], frame["context_after"],
                                          strict=True):
                        table.setdefault(_norm(text), (str(b or ""), str(a or "")))
                semeval[language] = table
            hit = semeval[language].get(wanted)
            if hit is None:
                counts["not found"] += 1
                continue
            before[i], after[i] = hit
            counts["found"] += 1
            continue
        if row.source not in frames:
            load, text_col, _ = sampler.SOURCES[row.source]
            frame = load(data)
            frames[row.source] = (dict(zip(frame["row_id"].astype(str), frame[text_col], strict=True)))
        answer = frames[row.source].get(str(row.row_id))
        spans = [s.text for s in split_sentences(str(answer), row.language)] if answer is not None else []
        keys = [_norm(s) for s in spans]
        index = next((k for k, key in enumerate(keys) if key == wanted), None)
        if index is None:
            index = next((k for k, key in enumerate(keys) if wanted in key or (key and key in wanted)), None)
        if index is None:
            counts["not found"] += 1
            continue
        counts["found"] += 1
        before[i] = spans[index - 1] if index > 0 else ""
        after[i] = spans[index + 1] if index + 1 < len(spans) else ""
    counts["with a neighbour"] = sum(1 for b, a in zip(before, after, strict=True) if b or a)
    return before, after, counts


def main() -> None:
    from vocmine.models.context import window_vectors, with_context
    from vocmine.models.train_component import DEFAULT_C, LANGUAGES, _embed, cross_validate, load_component_data
    from vocmine.nlp.rational_emotional import CUE_WEIGHT

    train = load_component_data(split="train")
    before, after, counts = neighbours_of(train)
    print(f"{len(train)} train sentences: {counts}")
    X = _embed(train["text"].tolist())
    context = window_vectors(X, before, after, lambda wanted: _embed(list(wanted)))
    variants = {"shipped recipe": X, "with window vector": with_context(X, context.vectors)}
    scores = {}
    for name, vectors in variants.items():
        # The shipped recipe's own cross-validation (5-fold x 3, stratified by language and label, seed 42).
        row = cross_validate(train, (DEFAULT_C,), (CUE_WEIGHT,), embeddings=vectors).iloc[0]
        scores[name] = {lang: round(float(row[lang]), 4) for lang in LANGUAGES}
        print(f"{name:<20} out-of-fold macro-F1 {scores[name]}")
    gain = {lang: round(scores["with window vector"][lang] - scores["shipped recipe"][lang], 4) for lang in LANGUAGES}
    adopted = gain["es"] >= MIN_ES_GAIN and gain["en"] >= MIN_EN_CHANGE
    result = {"rule": f"adopt if es gain >= {MIN_ES_GAIN} and en change >= {MIN_EN_CHANGE} (out of fold, train split)",
              "matching": counts, "out_of_fold_macro_f1": scores, "gain": gain, "adopted": adopted}
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "component_context_cv.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
