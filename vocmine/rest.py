"""The REST service (``vocmine api``): analyse texts on demand, read KPIs and themes from the store.

- Models load once, at start-up (the app's lifespan), never per request: the e5 embedder and every
  registered annotator. An annotator that cannot load leaves its task ``unavailable`` (listed in every
  response and in ``/healthz``) instead of taking the service down.
- Texts are PII-redacted before anything else, so nothing the service returns carries an e-mail, phone
  or card number. Verbatims are returned as JSON strings, never HTML.
- Limits protect a shared machine: too many texts, a too-long text or too many characters in total get
  413 with a sentence saying which limit; an empty text or a malformed body gets 422.
- The store is opened read-only per request: the scheduled flow (the one writer) keeps working; while it
  holds the write lock the read endpoints answer 503 and the client retries.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from vocmine.config import VocmineConfig
from vocmine.protocols import Annotation

logger = logging.getLogger(__name__)

TASKS = ("sentiment", "emotion", "component", "touchpoint")


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-request limits. 64 short texts embed in ~1 s on 2 cores; 5,000 characters is a long review."""

    max_texts: int = 64
    max_chars_per_text: int = 5_000
    max_total_chars: int = 100_000
    max_body_bytes: int = 1_000_000


# -- request and response bodies ---------------------------------------------------------------------
class TextIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="The customer's comment.")
    language: str | None = Field(None, description="Language code (es, es-MX, spa or Spanish); detected when missing.")


class AnalyzeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"example": {"texts": [{"text": "El pedido llegó tarde.",
                                                                        "language": "es"}]}})

    texts: list[TextIn]


class Prediction(BaseModel):
    label: str | None = Field(description="The label; ';'-joined labels for emotion and touchpoint.")
    labels: list[str] = Field(default_factory=list, description="The label(s) as a list.")
    scores: dict[str, float] = Field(default_factory=dict)
    skip_reason: str | None = None


class SentenceOut(BaseModel):
    text: str
    start: int
    end: int
    language: str | None
    predictions: dict[str, Prediction]


class TextOut(BaseModel):
    text: str = Field(description="The text as analysed, PII redacted.")
    language: str | None
    predictions: dict[str, Prediction]
    sentences: list[SentenceOut]


class AnalyzeResponse(BaseModel):
    results: list[TextOut]
    models: dict[str, str]
    unavailable: dict[str, str] = Field(description="Tasks that could not be loaded, with the reason.")


# -- the analyser (loaded once) -----------------------------------------------------------------------
class TextAnalyzer:
    """Redact, detect language, split, embed once, run every available annotator, roll up per text."""

    def __init__(self, config: VocmineConfig) -> None:
        from vocmine.pipelines.classify import TextClassifierStack

        self.config = config
        self.stack = TextClassifierStack.load(config)
        self.annotators = self.stack.annotators
        self.unavailable = {task: "not configured" for task in TASKS if task not in config.analysis.annotators}
        self.unavailable.update(self.stack.unavailable)
        self.warm_up()

    @property
    def models(self) -> dict[str, str]:
        return {task: annotator.name for task, annotator in self.annotators.items()}

    def warm_up(self) -> None:
        """Load lazily-loaded weights now, so the first request is not the slow one."""
        if self.annotators:
            self.analyze([("Gracias.", "es")])

    def analyze(self, items: Sequence[tuple[str, str | None]]) -> list[TextOut]:
        from vocmine.pipelines.classify import label_texts

        labelled = label_texts([text for text, _ in items], self.stack, [language for _, language in items])
        return [
            TextOut(
                text=result.text, language=result.language,
                predictions={task: _prediction(annotation) for task, annotation in result.labels.items()},
                sentences=[
                    SentenceOut(text=span.text, start=span.start, end=span.end, language=language,
                                predictions={task: _prediction(annotations[k])
                                             for task, annotations in result.sentence_labels.items()})
                    for k, (span, language) in enumerate(zip(result.sentences, result.sentence_languages,
                                                             strict=True))
                ],
            )
            for result in labelled
        ]


def _prediction(annotation: Annotation) -> Prediction:
    labels = [part for part in (annotation.label or "").split(";") if part]
    return Prediction(label=annotation.label, labels=labels,
                      scores={k: round(float(v), 6) for k, v in annotation.scores.items()},
                      skip_reason=annotation.skip_reason)


# -- store reads ------------------------------------------------------------------------------------
def _open_store(path: Path):  # noqa: ANN202 - Store
    from vocmine.store import Store, StoreError

    if not path.exists():
        raise HTTPException(404, f"no store at {path}: run `vocmine ingest` and `vocmine analyze` first")
    try:
        return Store(path, read_only=True)
    except StoreError as error:
        raise HTTPException(503, f"store busy or unreadable, retry shortly: {error}") from error


def _records(frame: Any) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records", date_format="iso"))


def read_kpis(path: Path, touchpoint: str | None, branch: str | None, period: str | None) -> list[dict[str, Any]]:
    """KPI rows: the segment asked for (branch or touchpoint; else all segments), one period or all."""
    clauses, params = [], []
    if branch is not None:
        clauses.append("segment = 'branch' AND segment_value = ?")
        params.append(branch)
    if touchpoint is not None:
        clauses.append("segment = 'touchpoint' AND segment_value = ?")
        params.append(touchpoint)
    if period is not None:
        clauses.append("period = ?")
        params.append(period)
    where = " WHERE " + " AND ".join(clauses) if clauses else ""
    with _open_store(path) as store:
        frame = store.df(f"SELECT * EXCLUDE (run_id) FROM kpis{where} ORDER BY segment, segment_value, period", params)
    return _records(frame)


def read_themes(path: Path, touchpoint: str | None, branch: str | None, period: str | None) -> list[dict[str, Any]]:
    """Themes, optionally of one touchpoint; with branch or period, only themes mentioned there, with the
    mentions and respondents counted there."""
    columns = ("theme_id, touchpoint, polarity, label, label_alt, language, keywords, size, respondents, "
               "share_respondents, mean_sentiment, dominant_emotions, rational_share, verbatims, first_seen, "
               "last_seen, emerging, status")
    clauses, params = [], []
    if touchpoint is not None:
        clauses.append("t.touchpoint = ?")
        params.append(touchpoint)
    scoped = branch is not None or period is not None
    if scoped:
        inner, inner_params = [], []
        if branch is not None:
            inner.append("r.branch = ?")
            inner_params.append(branch)
        if period is not None:
            inner.append("(strftime(r.created_at, '%Y-%m') = ? OR strftime(r.created_at, '%Y') = ? "
                         "OR strftime(r.created_at, '%G-W%V') = ?)")
            inner_params.extend([period, period, period])
        sql = (f"SELECT {', '.join('t.' + c.strip() for c in columns.split(','))}, count(*) AS scoped_mentions, "
               "count(DISTINCT a.response_id) AS scoped_respondents FROM themes t "
               "JOIN theme_assignments a ON a.theme_id = t.theme_id JOIN responses r ON r.response_id = a.response_id "
               f"WHERE {' AND '.join(inner + clauses)} GROUP BY ALL ORDER BY scoped_respondents DESC, t.theme_id")
        params = inner_params + params
    else:
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        sql = f"SELECT {columns} FROM themes t{where} ORDER BY respondents DESC, theme_id"
    with _open_store(path) as store:
        frame = store.df(sql, params)
    records = _records(frame)
    for record in records:
        if isinstance(record.get("verbatims"), str):
            record["verbatims"] = json.loads(record["verbatims"])
    return records


# -- the app -----------------------------------------------------------------------------------------
def create_app(config: VocmineConfig | None = None, limits: Limits | None = None,
               analyzer: TextAnalyzer | None = None) -> FastAPI:
    """The FastAPI app. ``analyzer`` lets a test share one loaded analyser between apps."""
    config = config or VocmineConfig()
    limits = limits or Limits()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.analyzer = analyzer or TextAnalyzer(config)
        logger.info("models loaded: %s; unavailable: %s", app.state.analyzer.models, app.state.analyzer.unavailable)
        yield

    app = FastAPI(title="vocmine", version="1", lifespan=lifespan,
                  description="Voice-of-the-customer analysis: per-text labels, KPIs and root-cause themes.")
    app.state.config = config
    app.state.limits = limits

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Any) -> Any:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limits.max_body_bytes:
            return JSONResponse({"detail": f"request body over {limits.max_body_bytes} bytes"}, status_code=413)
        return await call_next(request)

    @app.get("/healthz")
    def healthz(request: Request) -> dict[str, Any]:
        """Liveness and what the service can do: loaded models and unavailable tasks."""
        current: TextAnalyzer = request.app.state.analyzer
        return {"status": "ok", "models": current.models, "unavailable": current.unavailable,
                "store": str(config.store), "store_exists": Path(config.store).exists()}

    @app.post("/v1/analyze", response_model=AnalyzeResponse)
    def analyze(body: AnalyzeRequest, request: Request) -> AnalyzeResponse:
        """Sentiment, emotions, component and touchpoints of each text, per sentence and per text."""
        if not body.texts:
            raise HTTPException(422, "texts is empty: send at least one text")
        if len(body.texts) > limits.max_texts:
            raise HTTPException(413, f"{len(body.texts)} texts in one request; the limit is {limits.max_texts}")
        for index, item in enumerate(body.texts):
            if not item.text.strip():
                raise HTTPException(422, f"texts[{index}].text is empty")
            if len(item.text) > limits.max_chars_per_text:
                raise HTTPException(413, f"texts[{index}].text has {len(item.text)} characters; the limit is "
                                         f"{limits.max_chars_per_text}")
        total = sum(len(item.text) for item in body.texts)
        if total > limits.max_total_chars:
            raise HTTPException(413, f"{total} characters in one request; the limit is {limits.max_total_chars}")
        current: TextAnalyzer = request.app.state.analyzer
        results = current.analyze([(item.text, item.language) for item in body.texts])
        return AnalyzeResponse(results=results, models=current.models, unavailable=current.unavailable)

    @app.get("/v1/kpis")
    def kpis(touchpoint: str | None = Query(None), branch: str | None = Query(None),
             period: str | None = Query(None, description="'all', 'YYYY-MM' or 'YYYY-Www'")) -> dict[str, Any]:
        """NPS and satisfaction per segment and period, with intervals and the small-n flag."""
        return {"kpis": read_kpis(Path(config.store), touchpoint, branch, period)}

    @app.get("/v1/themes")
    def themes(touchpoint: str | None = Query(None), branch: str | None = Query(None),
               period: str | None = Query(None, description="'YYYY', 'YYYY-MM' or 'YYYY-Www'")) -> dict[str, Any]:
        """Root-cause themes with label, keywords, size and verbatims (JSON strings, redacted)."""
        return {"themes": read_themes(Path(config.store), touchpoint, branch, period)}

    return app


def serve_api(config: VocmineConfig, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the app with uvicorn (what ``vocmine api`` calls)."""
    import uvicorn

    uvicorn.run(create_app(config), host=host, port=port, log_level="warning")
