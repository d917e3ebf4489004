"""Writes the SYNTHETIC mystery-shopper fixture (visits_es.csv, visits_en.csv). Not real data.

Run: .venv/bin/python tests/data/mystery_shopper/generate.py. Seeded, so the output never changes.
The story baked in: branch "Centro" / "Downtown" is slow at the counter (waiting step), seller
V03 / S03 rushes the closing, and overall visit scores follow the steps' scores plus noise.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
STEPS = ["greeting", "waiting", "needs", "product", "cleanliness", "closing", "farewell"]

LANG = {
    "es": {
        "columns": {
            "id": "id_visita",
            "branch": "sucursal",
            "seller": "vendedor",
            "date": "fecha_visita",
            "overall": "puntuacion_global",
        },
        "step_names": {
            "greeting": "saludo",
            "waiting": "espera",
            "needs": "necesidades",
            "product": "producto",
            "cleanliness": "limpieza",
            "closing": "cierre",
            "farewell": "despedida",
        },
        "branches": ["Centro", "Norte", "Sur", "Aeropuerto", "Puerto"],
        "good": {
            "greeting": [
                "Me saludaron nada más entrar, con una sonrisa.",
                "El vendedor me dio la bienvenida enseguida.",
            ],
            "waiting": ["Me atendieron en menos de dos minutos.", "No había cola y me atendieron al momento."],
            "needs": [
                "Me preguntó para qué lo iba a usar y escuchó con atención.",
                "Hizo buenas preguntas sobre lo que necesitaba.",
            ],
            "product": [
                "Explicó las diferencias entre los modelos con mucha claridad.",
                "Conocía bien el producto y sus garantías.",
            ],
            "cleanliness": ["La tienda estaba limpia y ordenada.", "Los expositores estaban impecables."],
            "closing": ["Me ofreció la financiación y resumió la oferta.", "Propuso cerrar la compra sin presionar."],
            "farewell": [
                "Se despidió con amabilidad y me dio su tarjeta.",
                "Me acompañó a la puerta y me dio las gracias.",
            ],
        },
        "bad": {
            "greeting": ["Nadie me saludó al entrar.", "Tardaron en reconocer que estaba allí."],
            "waiting": [
                "Esperé más de quince minutos sin que nadie me atendiera.",
                "Había una cola enorme y solo una persona en caja.",
            ],
            "needs": ["No me preguntó nada, fue directo a enseñarme lo más caro.", "No escuchó lo que le pedía."],
            "product": [
                "No sabía responder a preguntas básicas del producto.",
                "Confundió las características de dos modelos.",
            ],
            "cleanliness": ["El suelo estaba sucio y había cajas por medio.", "Los probadores estaban desordenados."],
            "closing": [
                "No intentó cerrar la venta ni ofreció nada.",
                "Me metió prisa para decidir y fue muy insistente.",
            ],
            "farewell": ["Ni se despidió.", "Se fue a atender a otro cliente sin despedirse."],
        },
    },
    "en": {
        "columns": {
            "id": "visit_id",
            "branch": "branch",
            "seller": "seller",
            "date": "visit_date",
            "overall": "overall_score",
        },
        "step_names": {s: s for s in STEPS},
        "branches": ["Downtown", "Uptown", "Riverside", "Airport", "Harbour"],
        "good": {
            "greeting": ["I was greeted as soon as I walked in.", "The seller welcomed me with a smile."],
            "waiting": ["I was served within two minutes.", "No queue at all, straight to the counter."],
            "needs": [
                "She asked what I needed it for and listened carefully.",
                "Good questions about how I would use it.",
            ],
            "product": [
                "He explained the differences between models clearly.",
                "Knew the product and warranty inside out.",
            ],
            "cleanliness": ["The store was clean and tidy.", "Displays were spotless."],
            "closing": [
                "Offered financing and summed up the deal.",
                "Suggested closing the purchase without pressure.",
            ],
            "farewell": ["Said goodbye warmly and gave me a card.", "Thanked me and walked me to the door."],
        },
        "bad": {
            "greeting": ["Nobody greeted me when I came in.", "Took ages to acknowledge me."],
            "waiting": [
                "Waited over fifteen minutes before anyone helped me.",
                "Huge queue and only one person at the till.",
            ],
            "needs": [
                "He never asked what I needed, went straight to the priciest one.",
                "Did not listen to what I asked for.",
            ],
            "product": ["Could not answer basic questions about the product.", "Mixed up the features of two models."],
            "cleanliness": ["Floor was dirty and boxes were in the way.", "Fitting rooms were a mess."],
            "closing": ["Made no attempt to close the sale.", "Rushed me to decide and was very pushy."],
            "farewell": ["No goodbye at all.", "Walked off to another customer without a word."],
        },
    },
}


def make(language: str, visits: int = 50, seed: int = 2024) -> list[dict[str, object]]:
    spec = LANG[language]
    rng = random.Random(seed)
    columns = spec["columns"]
    branch_sellers = {
        branch: [f"{'V' if language == 'es' else 'S'}{b * 3 + k + 1:02d}" for k in range(3)]
        for b, branch in enumerate(spec["branches"])
    }
    rows = []
    for i in range(visits):
        branch = spec["branches"][i % len(spec["branches"])]
        seller = rng.choice(branch_sellers[branch])
        scores = {}
        for step in STEPS:
            base = rng.gauss(8.2, 1.4)
            if step == "waiting" and branch == spec["branches"][0]:
                base -= 4.0
            if step == "closing" and seller.endswith("03"):
                base -= 4.5
            scores[step] = max(0, min(10, round(base)))
        mean = sum(scores.values()) / len(scores)
        weighted = mean + 0.35 * (scores["waiting"] - mean) + 0.3 * (scores["closing"] - mean)
        overall = max(0, min(10, round(weighted + rng.gauss(0, 0.8))))
        row: dict[str, object] = {
            columns["id"]: f"{language.upper()}-{i + 1:03d}",
            columns["branch"]: branch,
            columns["seller"]: seller,
            columns["date"]: f"2025-{1 + i % 3:02d}-{1 + (i * 7) % 28:02d}",
            columns["overall"]: overall,
        }
        for step in STEPS:
            name = spec["step_names"][step]
            score_column = f"{name}_puntuacion" if language == "es" else f"{name}_score"
            comment_column = f"{name}_comentario" if language == "es" else f"{name}_comment"
            pool = spec["good"][step] if scores[step] >= 7 else spec["bad"][step]
            row[score_column] = scores[step]
            row[comment_column] = rng.choice(pool) if rng.random() < 0.85 else ""
        rows.append(row)
    return rows


def main() -> None:
    for language in ("es", "en"):
        rows = make(language)
        with (HERE / f"visits_{language}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    main()
