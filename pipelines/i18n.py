"""Spanish and English UI strings of the report, and the rule that picks one.

Strings live in one table so a missing translation is a test failure, not a half-English page. The
report's language comes from ``config.report.language``; "auto" follows the data (the majority language
among the responses we model), because a Spanish CX team reading Spanish verbatims wants Spanish headings.
"""

from __future__ import annotations

from collections.abc import Mapping

SUPPORTED = ("es", "en")
DEFAULT_LANGUAGE = "en"

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Voice of the customer: root-cause report",
        "generated": "Generated",
        "store": "Store",
        "contents": "Contents",
        "overview": "Overview",
        "trend": "NPS over time",
        "root_causes": "Root causes per touchpoint",
        "emotions": "Emotions and rational vs emotional",
        "branches": "Branches",
        "sellers": "Sellers",
        "emerging": "Emerging themes",
        "data_quality": "Data quality",
        "responses": "Responses",
        "sources": "Sources",
        "languages": "Languages",
        "period": "Period",
        "nps": "NPS",
        "satisfaction": "Satisfaction index (0–10)",
        "top2box": "top-2-box",
        "ci": "95% CI",
        "to": "to",
        "with_score": "with a score",
        "not_computed": "Not computed yet.",
        "no_scores": "No response has a score or stars: NPS cannot be computed.",
        "too_few": "too few responses",
        "too_few_title": "n is below {min_n}: treat this figure as indicative only",
        "touchpoint": "Touchpoint",
        "cause": "Root cause",
        "size": "Sentences",
        "respondents": "Respondents",
        "detractor_share": "Detractors mentioning it",
        "impact": "NPS impact (points)",
        "impact_help": (
            "Impact = NPS of everyone − NPS of those who did not mention it. A NEGATIVE impact means the theme "
            "costs NPS points (it costs promoters and adds detractors); a positive one means it adds points."
        ),
        "strength": "Driver strength",
        "strength_help": (
            "Change in the chance of being a detractor when it is mentioned, in percentage points (pp), "
            "from one model over all themes at once."
        ),
        "pp": "pp",
        "nps_by_component": "NPS by rational vs emotional comment",
        "nps_by_emotion": "NPS by dominant emotion",
        "tp_impact": "NPS impact of the touchpoint",
        "sentiment": "Sentiment",
        "mean_sentiment": "Mean sentiment",
        "dominant_emotions": "Dominant emotions",
        "trend_short": "Trend",
        "verbatims": "Verbatims",
        "examples": "Example negative sentences",
        "no_themes": "No themes for this touchpoint: too few negative sentences.",
        "no_themes_at_all": "No themes computed yet (run the topics stage); negative sentences are shown instead.",
        "no_sentences": "No sentences analysed yet (run `vocmine analyze`).",
        "no_touchpoints": "No touchpoint annotations yet: all sentences are shown under one group.",
        "impact_chart": "NPS impact of the top root causes, with 95% intervals",
        "impact_no_interval": "interval not computed (driver model not run yet)",
        "rational": "Rational",
        "emotional": "Emotional",
        "component": "Rational / emotional",
        "sentences": "Sentences",
        "negative": "negative",
        "neutral": "neutral",
        "positive": "positive",
        "heatmap_caption": "Share of each touchpoint's sentences expressing each emotion",
        "branch": "Branch",
        "seller": "Seller",
        "stands_out": "Stands out",
        "below_rest": "below the rest",
        "above_rest": "above the rest",
        "homogeneity": "Homogeneity",
        "homogeneous": "No evidence that they are evaluated differently",
        "heterogeneous": "They are not evaluated alike",
        "homogeneity_test": (
            "chi-square test of promoter/passive/detractor shares (permutation p-value when counts are small)"
        ),
        "homogeneity_too_few": "Too few groups, or answers of one class only: homogeneity cannot be tested.",
        "no_branches": "The data has no branch column.",
        "no_sellers": "The data has no seller column.",
        "groups_tested": "groups with classified responses",
        "emerging_none": "No emerging themes.",
        "evidence": "Evidence",
        "first_seen": "First seen",
        "rejected_rows": "Rows rejected at ingest",
        "rejected_none": "No rows were rejected.",
        "reason": "Reason",
        "column": "Column",
        "count": "Count",
        "file": "File",
        "rows_read": "Rows read",
        "rows_rejected": "Rows rejected",
        "not_analysed": "Languages not analysed",
        "not_analysed_none": "Every response is in a modelled language.",
        "language": "Language",
        "skipped": "Texts skipped by the models",
        "expected": "Expected",
        "got": "Got",
        "source_files": "Source files",
        "unknown": "unknown",
        "share": "Share",
        "n": "n",
        "promoters": "Promoters",
        "passives": "Passives",
        "detractors": "Detractors",
        "footer": "Verbatims are shown as written by customers, with personal data redacted.",
        "anger": "anger",
        "disgust": "disgust",
        "fear": "fear",
        "joy": "joy",
        "sadness": "sadness",
        "surprise": "surprise",
        "rational_share": "Rational share",
        "emerging_flag": "emerging",
        "tp_all": "all sentences",
        "task": "Task",
        "hollow_note": "Hollow points: too few responses (n < {min_n}); the shaded band is the 95% interval.",
        "chart_capped": "The chart shows the 20 highest and the 20 lowest; the table lists all.",
        "tp_unassigned": "no touchpoint",
    },
    "es": {
        "title": "Voz del cliente: informe de causas raíz",
        "generated": "Generado",
        "store": "Almacén",
        "contents": "Contenido",
        "overview": "Resumen",
        "trend": "NPS en el tiempo",
        "root_causes": "Causas raíz por punto de contacto",
        "emotions": "Emociones y componente racional frente a emocional",
        "branches": "Sucursales",
        "sellers": "Vendedores",
        "emerging": "Temas emergentes",
        "data_quality": "Calidad de los datos",
        "responses": "Respuestas",
        "sources": "Fuentes",
        "languages": "Idiomas",
        "period": "Periodo",
        "nps": "NPS",
        "satisfaction": "Índice de satisfacción (0–10)",
        "top2box": "top-2-box",
        "ci": "IC 95 %",
        "to": "a",
        "with_score": "con puntuación",
        "not_computed": "Aún no calculado.",
        "no_scores": "Ninguna respuesta tiene puntuación ni estrellas: no se puede calcular el NPS.",
        "too_few": "pocas respuestas",
        "too_few_title": "n es menor que {min_n}: cifra solo orientativa",
        "touchpoint": "Punto de contacto",
        "cause": "Causa raíz",
        "size": "Frases",
        "respondents": "Clientes",
        "detractor_share": "Detractores que la mencionan",
        "impact": "Impacto en el NPS (puntos)",
        "impact_help": (
            "Impacto = NPS de todos − NPS de quienes no lo mencionan. Un impacto NEGATIVO significa que el tema "
            "le cuesta puntos al NPS (resta promotores y suma detractores); uno positivo, que le suma puntos."
        ),
        "strength": "Fuerza como impulsor",
        "strength_help": (
            "Cambio en la probabilidad de ser detractor al mencionarla, en puntos porcentuales (pp), "
            "según un modelo con todos los temas a la vez."
        ),
        "pp": "pp",
        "nps_by_component": "NPS según comentario racional o emocional",
        "nps_by_emotion": "NPS según la emoción dominante",
        "tp_impact": "Impacto en el NPS del punto de contacto",
        "sentiment": "Sentimiento",
        "mean_sentiment": "Sentimiento medio",
        "dominant_emotions": "Emociones dominantes",
        "trend_short": "Tendencia",
        "verbatims": "Comentarios literales",
        "examples": "Ejemplos de frases negativas",
        "no_themes": "Sin temas para este punto de contacto: muy pocas frases negativas.",
        "no_themes_at_all": "Aún no hay temas (ejecute la etapa de temas); se muestran frases negativas.",
        "no_sentences": "Aún no se han analizado frases (ejecute `vocmine analyze`).",
        "no_touchpoints": "Aún no hay puntos de contacto anotados: todas las frases van en un grupo.",
        "impact_chart": "Impacto en el NPS de las principales causas raíz, con intervalos del 95 %",
        "impact_no_interval": "intervalo no calculado (modelo de impulsores aún no ejecutado)",
        "rational": "Racional",
        "emotional": "Emocional",
        "component": "Racional / emocional",
        "sentences": "Frases",
        "negative": "negativo",
        "neutral": "neutro",
        "positive": "positivo",
        "heatmap_caption": "Proporción de frases de cada punto de contacto que expresan cada emoción",
        "branch": "Sucursal",
        "seller": "Vendedor",
        "stands_out": "Destaca",
        "below_rest": "por debajo del resto",
        "above_rest": "por encima del resto",
        "homogeneity": "Homogeneidad",
        "homogeneous": "No hay evidencia de que se les evalúe de forma distinta",
        "heterogeneous": "No se les evalúa por igual",
        "homogeneity_test": (
            "prueba chi-cuadrado de las proporciones de promotores/pasivos/detractores "
            "(valor p por permutación cuando los recuentos son pequeños)"
        ),
        "homogeneity_too_few": "Muy pocos grupos, o respuestas de una sola clase: no se puede probar la homogeneidad.",
        "no_branches": "Los datos no tienen columna de sucursal.",
        "no_sellers": "Los datos no tienen columna de vendedor.",
        "groups_tested": "grupos con respuestas clasificadas",
        "emerging_none": "No hay temas emergentes.",
        "evidence": "Evidencia",
        "first_seen": "Visto por primera vez",
        "rejected_rows": "Filas rechazadas en la carga",
        "rejected_none": "No se rechazó ninguna fila.",
        "reason": "Motivo",
        "column": "Columna",
        "count": "Cantidad",
        "file": "Archivo",
        "rows_read": "Filas leídas",
        "rows_rejected": "Filas rechazadas",
        "not_analysed": "Idiomas no analizados",
        "not_analysed_none": "Todas las respuestas están en un idioma modelado.",
        "language": "Idioma",
        "skipped": "Textos omitidos por los modelos",
        "expected": "Esperado",
        "got": "Recibido",
        "source_files": "Archivos de origen",
        "unknown": "desconocido",
        "share": "Proporción",
        "n": "n",
        "promoters": "Promotores",
        "passives": "Pasivos",
        "detractors": "Detractores",
        "footer": "Los comentarios se muestran tal como los escribieron los clientes, sin datos personales.",
        "anger": "ira",
        "disgust": "asco",
        "fear": "miedo",
        "joy": "alegría",
        "sadness": "tristeza",
        "surprise": "sorpresa",
        "rational_share": "Proporción racional",
        "emerging_flag": "emergente",
        "tp_all": "todas las frases",
        "task": "Tarea",
        "hollow_note": "Puntos huecos: pocas respuestas (n < {min_n}); la banda sombreada es el intervalo del 95 %.",
        "chart_capped": "El gráfico muestra los 20 más altos y los 20 más bajos; la tabla los lista todos.",
        "tp_unassigned": "sin punto de contacto",
    },
}


def choose_language(setting: str, language_counts: Mapping[str | None, int]) -> str:
    """The report language: the configured one, or under "auto" the majority of es/en responses.

    Languages we do not translate the UI into do not vote; with no es/en responses at all we fall back to
    English, the language a mixed international team most likely shares.
    """
    if setting in SUPPORTED:
        return setting
    votes = {lang: int(language_counts.get(lang, 0) or 0) for lang in SUPPORTED}
    if not any(votes.values()):
        return DEFAULT_LANGUAGE
    # Ties go to English (max keeps the first maximum, and English is listed after Spanish: sort explicitly).
    return max(sorted(votes, key=lambda lang: lang != DEFAULT_LANGUAGE), key=lambda lang: votes[lang])


def translator(language: str) -> dict[str, str]:
    """The string table of one language (unknown keys fall back to English when rendering)."""
    table = dict(STRINGS[DEFAULT_LANGUAGE])
    table.update(STRINGS.get(language, {}))
    return table
