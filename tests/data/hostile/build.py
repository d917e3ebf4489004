"""Fill a vocmine store with a small, realistic, synthetic es/en data set that includes hostile verbatims.

Used by tests/pipelines/test_report.py, test_exports.py, test_report_browser.py and
benchmarks/bench_report.py. Rows are inserted directly with ``store.upsert`` in the shape the pipeline
stages write (annotations long: target_id, level, task, label, scores JSON), so the report can be tested
before or without those stages. Everything is synthetic and seeded.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
HOSTILE = json.loads((HERE / "verbatims.json").read_text(encoding="utf-8"))

# (theme key, touchpoint, polarity, label es, label en, emotions, component, sentences es, sentences en)
THEMES = [
    ("late", "delivery", "negative", "Pedido que llega tarde", "Late delivery", ["anger"], "rational",
     ["El pedido llegó cinco días tarde.", "El envío tardó dos semanas en llegar.", "Nadie me avisó del retraso."],
     ["My order arrived five days late.", "Delivery took two weeks.", "Nobody told me about the delay."]),
    ("missing", "delivery", "negative", "Faltan artículos en el pedido", "Missing items", ["anger", "surprise"],
     "rational",
     ["Faltaban dos artículos en la caja.", "Llegó el pedido incompleto."],
     ["Two items were missing from the box.", "The parcel arrived incomplete."]),
    ("rude", "staff", "negative", "Trato poco amable del personal", "Rude staff", ["anger", "sadness"], "emotional",
     ["La dependienta fue muy borde conmigo.", "Me sentí ignorado por el vendedor."],
     ["The cashier was really rude to me.", "I felt completely ignored by the seller."]),
    ("queue", "checkout", "negative", "Colas largas en caja", "Long queues at checkout", ["anger"], "rational",
     ["Esperé veinte minutos en la cola de caja.", "Solo había una caja abierta."],
     ["I queued twenty minutes at the till.", "Only one till was open."]),
    ("price", "price", "negative", "Precio demasiado alto", "Too expensive", ["disgust"], "rational",
     ["El precio es demasiado alto para lo que ofrecen.", "Más caro que en la competencia."],
     ["Overpriced for what you get.", "Dearer than the shop next door."]),
    ("app", "website_app", "negative", "La app falla al pagar", "App fails at payment", ["anger", "fear"], "rational",
     ["La app se cierra al pagar.", "No puedo pagar con tarjeta en la web."],
     ["The app crashes when I pay.", "Card payment fails on the website."]),
    ("refund", "after_sales", "negative", "Reembolso lento", "Slow refund", ["sadness", "anger"], "emotional",
     ["Tardaron un mes en devolverme el dinero.", "Nadie contesta a mis reclamaciones."],
     ["The refund took a month.", "Nobody answers my complaints."]),
    ("friendly", "staff", "positive", "Personal amable", "Friendly staff", ["joy"], "emotional",
     ["La atención en la tienda fue excelente, muy amables.", "El vendedor me ayudó muchísimo."],
     ["Staff were lovely and helpful.", "The seller went out of his way to help."]),
    ("fast", "delivery", "positive", "Entrega rápida", "Fast delivery", ["joy", "surprise"], "rational",
     ["El pedido llegó al día siguiente.", "Entrega rapidísima, todo perfecto."],
     ["Delivery was quick and the app is easy to use.", "Arrived the next day, perfect."]),
]
BRANCHES = ["Madrid Centro", "Sevilla Nervión", "Valencia Ruzafa", "Bilbao Abando", "London Soho"]
SELLERS = ["Ana", "Luis", "Marta", "Jorge", "Emma", "<img src=x onerror=alert(2)>Tom"]
START = datetime(2026, 1, 5)


def _sentiment(polarity: str, rng: np.random.Generator) -> tuple[str, dict[str, float]]:
    main = 0.6 + 0.35 * rng.random()
    other = (1 - main) * rng.random()
    rest = 1 - main - other
    if polarity == "negative":
        scores = {"negative": main, "neutral": other, "positive": rest}
    else:
        scores = {"negative": rest, "neutral": other, "positive": main}
    return polarity, {k: round(v, 4) for k, v in scores.items()}


def build_sample_store(
    store,
    n_responses: int = 160,
    seed: int = 0,
    hostile: bool = True,
    with_annotations: bool = True,
    with_themes: bool = True,
    with_drivers: bool = True,
    with_kpis: bool = False,
    with_rejects: bool = True,
) -> dict[str, int]:
    """Insert a seeded synthetic data set; return row counts per table."""
    rng = np.random.default_rng(seed)
    responses, answers, sentences, annotations, assignments = [], [], [], [], []
    hostile_queue = [("es", t) for t in HOSTILE["es"]] + [("en", t) for t in HOSTILE["en"]] if hostile else []
    negative_keys = [t[0] for t in THEMES if t[2] == "negative"]
    by_key = {t[0]: t for t in THEMES}
    for i in range(n_responses):
        language = rng.choice(["es", "en", "pt", "fr"], p=[0.58, 0.36, 0.04, 0.02])
        branch = BRANCHES[int(rng.integers(len(BRANCHES)))]
        seller = SELLERS[int(rng.integers(len(SELLERS)))]
        created = START + timedelta(days=int(rng.integers(0, 230)), hours=int(rng.integers(8, 20)))
        weak_branch = branch == "Sevilla Nervión"
        p_negative = 0.75 if weak_branch else 0.45
        keys: list[str] = []
        if rng.random() < p_negative:
            choices = list(negative_keys)
            if created < START + timedelta(days=170):
                choices.remove("app")  # the app problem only appears in the last two months: emerging
            keys.append(str(rng.choice(choices)))
            if rng.random() < 0.3:
                keys.append(str(rng.choice(choices)))
        if rng.random() < 0.6:
            keys.append(str(rng.choice(["friendly", "fast"])))
        keys = list(dict.fromkeys(keys)) or ["friendly"]
        negative = any(by_key[k][2] == "negative" for k in keys)
        score = int(rng.choice(range(0, 9), p=[.05, .05, .07, .1, .12, .15, .2, .16, .1])) if negative \
            else int(rng.choice([7, 8, 9, 10], p=[.1, .2, .35, .35]))
        nps_class = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
        response_id = f"demo:{i:05d}"
        answer_id = f"{response_id}:comment"
        texts = []
        for position, key in enumerate(keys):
            theme = by_key[key]
            pool = theme[7] if language == "es" else theme[8]
            text = str(rng.choice(pool))
            if hostile_queue and theme[2] == "negative" and language in ("es", "en"):
                lang_hostile = next((h for h in hostile_queue if h[0] == language), None)
                if lang_hostile is not None:
                    hostile_queue.remove(lang_hostile)
                    text = lang_hostile[1]
            if language in ("pt", "fr"):
                text = {"pt": "A entrega demorou muito e ninguém respondeu.",
                        "fr": "La livraison a pris trop de temps."}[language]
            texts.append(text)
            sentence_id = f"{answer_id}:{position}"
            sentences.append({"sentence_id": sentence_id, "answer_id": answer_id, "response_id": response_id,
                              "position": position, "text": text, "language": language})
            if language in ("pt", "fr"):
                for task in ("sentiment", "emotion", "component", "touchpoint"):
                    annotations.append({"target_id": sentence_id, "level": "sentence", "task": task, "label": None,
                                        "scores": "{}", "skip_reason": f"language {language} not modelled",
                                        "model": "fixture", "run_id": "fixture"})
                continue
            label, scores = _sentiment(theme[2], rng)
            emotion_scores = {e: (0.8 if e in theme[5] else 0.05) for e in
                              ("anger", "disgust", "fear", "joy", "sadness", "surprise")}
            annotations += [
                {"target_id": sentence_id, "level": "sentence", "task": "sentiment", "label": label,
                 "scores": json.dumps(scores), "model": "fixture.sentiment.v1", "run_id": "fixture"},
                {"target_id": sentence_id, "level": "sentence", "task": "emotion", "label": ";".join(theme[5]),
                 "scores": json.dumps(emotion_scores), "model": "fixture.emotion.v1", "run_id": "fixture"},
                {"target_id": sentence_id, "level": "sentence", "task": "component", "label": theme[6],
                 "scores": json.dumps({theme[6]: 0.9}), "model": "fixture.component.v1", "run_id": "fixture"},
                {"target_id": sentence_id, "level": "sentence", "task": "touchpoint", "label": theme[1],
                 "scores": json.dumps({theme[1]: 0.9}), "model": "fixture.touchpoint.v1", "run_id": "fixture"},
            ]
            assignments.append({"sentence_id": sentence_id, "response_id": response_id, "theme_id": f"th_{key}",
                                "probability": 0.9, "run_id": "fixture"})
        answers.append({"answer_id": answer_id, "response_id": response_id, "question": "comment", "position": 0,
                        "text": " ".join(texts), "language": language})
        responses.append({"response_id": response_id, "source": "encuesta_tiendas" if i % 3 else "google_reviews",
                          "channel": "survey" if i % 3 else "review", "created_at": created, "language": language,
                          "language_source": "detected", "score": float(score), "score_scale": "0-10",
                          "nps_class": nps_class, "branch": branch, "seller": seller,
                          "metadata": json.dumps({"row": i}), "source_row": i + 2, "source_file": "encuesta.csv"})

    frames = {
        "responses": pd.DataFrame(responses),
        "answers": pd.DataFrame(answers),
        "sentences": pd.DataFrame(sentences),
    }
    if with_annotations:
        frames["annotations"] = pd.DataFrame(annotations)
    response_frame = frames["responses"]
    if with_themes:
        assignment_frame = pd.DataFrame(assignments)
        frames["theme_assignments"] = assignment_frame
        sentence_frame = frames["sentences"].set_index("sentence_id")
        created_by_response = response_frame.set_index("response_id")["created_at"]
        themes = []
        for key, touchpoint, polarity, label_es, _label_en, emotions, component, *_ in THEMES:
            rows = assignment_frame[assignment_frame["theme_id"] == f"th_{key}"]
            if rows.empty:
                continue
            texts = list(dict.fromkeys(sentence_frame.loc[rows["sentence_id"], "text"]))
            hostile_first = sorted(texts, key=lambda t: (not t.startswith(("<", "=", "+", "@", "-", "'", "\t", "\r")),))
            months = Counter(created_by_response.loc[rows["response_id"]].dt.strftime("%Y-%m"))
            themes.append({
                "theme_id": f"th_{key}", "touchpoint": touchpoint, "polarity": polarity, "label": label_es,
                "language": "es", "keywords": label_es.lower().replace(" ", ", "), "size": len(rows),
                "respondents": rows["response_id"].nunique(),
                "share_respondents": rows["response_id"].nunique() / len(response_frame),
                "mean_sentiment": -0.6 if polarity == "negative" else 0.7,
                "dominant_emotions": ";".join(emotions), "rational_share": 0.9 if component == "rational" else 0.2,
                "verbatims": json.dumps(hostile_first[:5], ensure_ascii=False),
                "first_seen": created_by_response.loc[rows["response_id"]].min(),
                "last_seen": created_by_response.loc[rows["response_id"]].max(),
                "counts_per_period": json.dumps(dict(sorted(months.items()))), "status": "active",
                "emerging": key == "app",
                "emerging_evidence": "new in the last 2 months: 0 mentions before 2026-06, "
                                     f"{len(rows)} since" if key == "app" else None,
                "run_id": "fixture",
            })
        frames["themes"] = pd.DataFrame(themes)
        if with_drivers:
            frames["drivers"] = _drivers(response_frame, assignment_frame, frames["themes"], rng)
    if with_kpis:
        from vocmine.config import VocmineConfig
        from vocmine.pipelines.report_data import basic_kpis

        kpis = basic_kpis(response_frame, VocmineConfig())
        overall = kpis["segment"] == "all"
        kpis.loc[overall & (kpis["period"] == "all"), ["segment", "segment_value"]] = ["overall", "overall"]
        periods = overall & (kpis["period"] != "all")
        kpis.loc[periods, "segment_value"] = kpis.loc[periods, "period"]
        kpis.loc[periods, ["segment", "period"]] = ["period", "all"]
        kpis = pd.concat([kpis, pd.DataFrame([
            {"segment": "component", "segment_value": "rational", "period": "all", "n": 40, "promoters": 10,
             "passives": 10, "detractors": 20, "estimate": -25.0, "low": -50.0, "high": 0.0, "small_n": False},
            {"segment": "component", "segment_value": "emotional", "period": "all", "n": 20, "promoters": 2,
             "passives": 4, "detractors": 14, "estimate": -60.0, "low": -85.0, "high": -35.0, "small_n": True},
        ])], ignore_index=True)
        kpis["run_id"] = "fixture-kpis"
        frames["kpis"] = kpis
    if with_rejects:
        frames["rejects"] = pd.DataFrame([
            {"path": "encuesta.csv", "source": "encuesta_tiendas", "row": 17, "column": "score",
             "expected": "0-10", "got": "diez", "message": "encuesta.csv row 17, column 'score': expected 0-10"},
            {"path": "encuesta.csv", "source": "encuesta_tiendas", "row": 18, "column": "score",
             "expected": "0-10", "got": "=1+1", "message": "bad score"},
            {"path": "reviews.xlsx", "source": "google_reviews", "row": 3, "column": "text",
             "expected": "text or score", "got": "<script>alert(3)</script>", "message": "empty row"},
        ])
        frames["sources"] = pd.DataFrame([
            {"path": "encuesta.csv", "file_hash": "a1", "source": "encuesta_tiendas", "rows_read": n_responses,
             "rows_rejected": 2},
            {"path": "reviews.xlsx", "file_hash": "b2", "source": "google_reviews", "rows_read": 40,
             "rows_rejected": 1},
        ])
    with store.transaction():
        for table, frame in frames.items():
            if table == "rejects":  # no primary key: plain insert
                store.con.register("_fixture_rejects", frame)
                store.con.execute("INSERT INTO rejects BY NAME SELECT * FROM _fixture_rejects")
                store.con.unregister("_fixture_rejects")
            else:
                store.upsert(table, frame)
    return {table: len(frame) for table, frame in frames.items()}


def _nps(classes: pd.Series) -> float:
    n = len(classes)
    return 100 * ((classes == "promoter").sum() - (classes == "detractor").sum()) / n if n else 0.0


def _nps_arrays(points: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Row-wise NPS(all) - NPS(not mentioning) for bootstrap matrices of +1/0/-1 points."""
    rest = np.where(~mask, points, 0).sum(axis=1) / np.maximum((~mask).sum(axis=1), 1)
    return 100 * (points.mean(axis=1) - rest)


def _drivers(responses: pd.DataFrame, assignments: pd.DataFrame, themes: pd.DataFrame,
             rng: np.random.Generator) -> pd.DataFrame:
    """Impact with a small bootstrap and a crude strength (detractor-rate difference): fixture numbers only."""
    classes = responses.set_index("response_id")["nps_class"]
    points = classes.map({"promoter": 1.0, "passive": 0.0, "detractor": -1.0}).to_numpy()
    resample = rng.integers(0, len(points), (200, len(points)))
    rows = []
    for theme in themes.itertuples():
        mentioned = set(assignments.loc[assignments["theme_id"] == theme.theme_id, "response_id"])
        mask = classes.index.isin(mentioned)
        impact = _nps(classes) - _nps(classes[~mask])
        boots = _nps_arrays(points[resample], mask[resample])
        detractors = classes == "detractor"
        # Percentage points, as the NPS stage's average marginal effect.
        strength = 100 * float(detractors[mask].mean() - detractors[~mask].mean()) if mask.any() else 0.0
        rows.append({
            "level": "theme", "key": theme.theme_id, "label": theme.label, "touchpoint": theme.touchpoint,
            "segment": "all", "segment_value": "all", "n": len(classes), "mentions": int(mask.sum()),
            "detractor_mentions": int((detractors & mask).sum()),
            "detractor_share": float((detractors & mask).sum() / max(detractors.sum(), 1)),
            "estimate": impact, "low": float(np.percentile(boots, 2.5)), "high": float(np.percentile(boots, 97.5)),
            "strength": strength, "strength_low": strength - 10, "strength_high": strength + 10,
            "small_n": bool(mask.sum() < 30), "run_id": "fixture",
        })
    frame = pd.DataFrame(rows)
    negative = frame[frame["key"].isin(themes.loc[themes["polarity"] == "negative", "theme_id"])]
    per_touchpoint = negative.groupby("touchpoint", as_index=False).agg(
        estimate=("estimate", "sum"), low=("low", "sum"), high=("high", "sum"), mentions=("mentions", "sum")
    )
    per_touchpoint = per_touchpoint.assign(
        level="touchpoint_negative", key=per_touchpoint["touchpoint"], label=per_touchpoint["touchpoint"],
        segment="all", segment_value="all", n=len(classes), small_n=per_touchpoint["mentions"] < 30, run_id="fixture",
    )
    return pd.concat([frame, per_touchpoint], ignore_index=True)
