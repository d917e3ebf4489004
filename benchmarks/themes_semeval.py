"""Themes per touchpoint on SemEval-2016 restaurant sentences, Spanish and English together.

Touchpoint = the gold ENTITY (food, service, ambience, ...) and polarity = the gold opinion polarity,
because this measures theme building alone, not the classifiers. Train splits only (es train + dev, en
train); the official tests are not read. Prints every theme with its label and writes
benchmarks/results/themes_semeval.json (labels, keywords, sizes, verbatims) for docs/themes.md.

    .venv/bin/python benchmarks/themes_semeval.py
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from vocmine.config import VocmineConfig
from vocmine.models.datasets import load_semeval16
from vocmine.models.embedders import E5Embedder
from vocmine.models.embedding_cache import embed_with_disk_cache
from vocmine.pipelines.topics import build_themes

RESULTS = Path(__file__).resolve().parent / "results"


def semeval_sentences() -> pd.DataFrame:
    rows = []
    for language, split in (("es", "train"), ("es", "dev"), ("en", "train")):
        for record in load_semeval16(language, split).to_dict("records"):
            if not record["text"]:
                continue
            polarity_by_entity: dict[str, Counter] = {}
            for opinion in record["opinions"]:
                entity = opinion["category"].split("#")[0].lower()
                polarity_by_entity.setdefault(entity, Counter())[opinion.get("polarity", "")] += 1
            for entity, counts in sorted(polarity_by_entity.items()):
                polarity, _ = counts.most_common(1)[0]
                if polarity not in ("negative", "positive") or len(counts) > 1:
                    continue  # neutral, or mixed opinions on one entity: no clear polarity
                rows.append(
                    {
                        "sentence_id": f"{language}:{record['sentence_id']}",
                        "response_id": f"{language}:{record['review_id'] or record['sentence_id']}",
                        "text": record["text"],
                        "language": language,
                        "touchpoint": entity,
                        "polarity": polarity,
                        "created_at": pd.NaT,
                    }
                )
    return pd.DataFrame(rows)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    sentences = semeval_sentences()
    embeddings = embed_with_disk_cache(sentences["text"].tolist(), E5Embedder(num_threads=2))
    start = time.perf_counter()
    e5 = E5Embedder(num_threads=2)
    result = build_themes(sentences, embeddings, VocmineConfig(), embed_phrases=e5.encode)
    seconds = time.perf_counter() - start
    themes = result.themes[result.themes["status"] == "active"]
    print(f"{len(sentences)} sentence-touchpoint rows, {len(themes)} themes, {seconds:.1f} s")
    print(result.stats.to_string(index=False))
    for record in themes.sort_values(["touchpoint", "polarity", "size"], ascending=[True, True, False]).to_dict(
        "records"
    ):
        print(f"{record['touchpoint']:10s} {record['polarity']:8s} {record['size']:4d} {record['language']} "
              f"{record['label']!r} / {record['label_alt']!r}  [{record['keywords']}]")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {
        "data": "SemEval-2016 restaurants: es train+dev, en train; gold entity as touchpoint, gold polarity",
        "rows": int(len(sentences)),
        "seconds": round(seconds, 1),
        "stats": result.stats.to_dict("records"),
        "themes": themes.drop(columns=["centroid"]).to_dict("records"),
    }
    path = RESULTS / "themes_semeval.json"
    path.write_text(json.dumps(out, indent=2, default=str, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
