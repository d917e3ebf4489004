"""A small, real-looking es/en feedback corpus for the theme tests, generated from templates.

Three causes on "delivery" (late, damaged, and praise for speed), two on "staff", a tiny "price"
touchpoint (4 sentences: must get no theme). Spanish dominates late deliveries, English dominates rude
staff, so label language can be checked. Deterministic (fixed seed), ~300 sentences.
"""

from __future__ import annotations

import random

import pandas as pd

LATE_ES = [
    "El pedido llegó {n} días tarde y nadie avisó",
    "Mi paquete llegó con {n} días de retraso",
    "Retraso en la entrega de {n} días, otra vez",
    "La entrega llegó tarde, {n} días después de lo prometido",
    "Esperé {n} días más, el pedido llegó tarde",
    "El envío se retrasó {n} días sin ninguna explicación",
]
LATE_EN = [
    "My order arrived {n} days late",
    "Delivery was {n} days late with no update",
]
DAMAGED_EN = [
    "The box arrived damaged and the {item} was broken",
    "Package came crushed, the {item} inside was broken",
    "My {item} arrived broken in a damaged box",
    "The {item} was broken when the parcel arrived",
    "Damaged packaging, the {item} arrived cracked",
]
DAMAGED_ES = ["La caja llegó rota y el {item_es} estaba dañado", "El {item_es} llegó roto, la caja aplastada"]
FAST_EN = [
    "Super fast delivery, the {item} arrived the next day",
    "Delivery was quick, got my {item} in {n} days",
    "Fast shipping, the {item} came earlier than expected",
    "Really quick delivery of the {item}, well done",
]
RUDE_EN = [
    "The staff at reception were rude to me",
    "Rude staff at the {place}, nobody apologised",
    "The woman at the {place} was very rude",
    "Staff at the {place} were rude and dismissive",
    "Really rude staff member at the {place} today",
    "The guy at the {place} was rude and impatient",
]
RUDE_ES = ["El personal de la {place_es} fue muy grosero", "La chica de la {place_es} fue maleducada conmigo"]
IGNORED_ES = [
    "Nadie me atendió en la {place_es} durante {n} minutos",
    "Esperé {n} minutos y nadie me atendió",
    "Me ignoraron en la {place_es}, nadie me atendió",
    "Estuve {n} minutos sin que nadie me atendiera",
]
PRICE_ES = ["Demasiado caro para lo que es", "El precio subió otra vez", "Muy caro", "Carísimo el envío"]

ITEMS = ["lamp", "phone", "mug", "vase", "monitor", "blender", "mirror", "plate", "speaker", "chair"]
ITEMS_ES = ["jarrón", "móvil", "espejo", "plato", "monitor", "altavoz"]
PLACES = ["reception", "front desk", "counter", "checkout", "store", "till"]
PLACES_ES = ["tienda", "caja", "recepción", "entrada"]
OPENERS_EN = ["", "Honestly, ", "Again, ", "Today ", "Ugh, "]
OPENERS_ES = ["", "Vaya, ", "Otra vez: ", "Sinceramente, ", "Hoy "]


def _fill(templates: list[str], count: int, rng: random.Random, language: str) -> list[str]:
    openers = OPENERS_ES if language == "es" else OPENERS_EN
    out: list[str] = []
    seen: set[str] = set()
    attempts = 0
    while len(out) < count and attempts < count * 50:
        attempts += 1
        opener = rng.choice(openers)
        body = rng.choice(templates).format(
            n=rng.randint(2, 12),
            item=rng.choice(ITEMS),
            item_es=rng.choice(ITEMS_ES),
            place=rng.choice(PLACES),
            place_es=rng.choice(PLACES_ES),
        )
        text = opener + (body[0].lower() + body[1:] if opener and not body.startswith("I ") else body)
        text = text[0].upper() + text[1:] + rng.choice([".", "!", "."])
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


def make_corpus(seed: int = 7) -> pd.DataFrame:
    """One row per sentence with the columns build_themes expects (dates over Jan-Jun 2026)."""
    rng = random.Random(seed)
    spec = [
        ("delivery", "negative", LATE_ES, 50, "es"),
        ("delivery", "negative", LATE_EN, 12, "en"),
        ("delivery", "negative", DAMAGED_EN, 40, "en"),
        ("delivery", "negative", DAMAGED_ES, 8, "es"),
        ("delivery", "positive", FAST_EN, 35, "en"),
        ("staff", "negative", RUDE_EN, 45, "en"),
        ("staff", "negative", RUDE_ES, 8, "es"),
        ("staff", "negative", IGNORED_ES, 40, "es"),
        ("price", "negative", PRICE_ES, 4, "es"),
    ]
    rows = []
    for touchpoint, polarity, templates, count, language in spec:
        for text in _fill(templates, count, rng, language):
            rows.append({"text": text, "language": language, "touchpoint": touchpoint, "polarity": polarity})
    frame = pd.DataFrame(rows)
    order = list(range(len(frame)))
    rng.shuffle(order)
    frame = frame.iloc[order].reset_index(drop=True)
    frame["sentence_id"] = [f"s{i:04d}" for i in range(len(frame))]
    frame["response_id"] = [f"r{i // 2:04d}" for i in range(len(frame))]
    frame["created_at"] = pd.to_datetime("2026-01-01") + pd.to_timedelta(
        [rng.randint(0, 180) for _ in range(len(frame))], unit="D"
    )
    frame["sentiment_score"] = [(-0.8 if p == "negative" else 0.8) for p in frame["polarity"]]
    frame["emotions"] = ["anger" if p == "negative" else "joy" for p in frame["polarity"]]
    frame["component"] = ["rational" if t == "delivery" else "emotional" for t in frame["touchpoint"]]
    return frame


_EMBEDDINGS: dict[int, object] = {}


def corpus_embeddings(corpus: pd.DataFrame, embedder) -> object:  # noqa: ANN001 - any Embedder
    """Embeddings of the corpus, computed once per test session (the slow part of these tests)."""
    key = hash(tuple(corpus["text"]))
    if key not in _EMBEDDINGS:
        _EMBEDDINGS[key] = embedder.encode(corpus["text"].tolist())
    return _EMBEDDINGS[key]
