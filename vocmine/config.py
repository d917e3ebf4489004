"""One typed configuration, read from ``vocmine.toml`` and passed down as an argument.

No module reads environment variables on its own: the CLI (or the caller of the Python API) builds a
:class:`VocmineConfig`, applies its flags on top, and hands it to the pipelines.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from vocmine.errors import ConfigError, VocmineError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NpsConfig(_Section):
    """Where promoter/passive/detractor start on each scale (SPEC: score 9-10 / 7-8 / 0-6; stars 5 / 4 / 1-3)."""

    score_promoter_min: float = 9.0
    score_passive_min: float = 7.0
    stars_promoter_min: float = 5.0
    stars_passive_min: float = 4.0
    #: Booking-style 1-10 review scores are decimals (8.8): floored before the 0-10 cut by default.
    review10_promoter_min: float = 9.0
    review10_passive_min: float = 7.0
    review10_floor: bool = True
    #: Below this many respondents a figure is flagged "too few responses".
    min_n: int = 30
    confidence: float = 0.95
    bootstrap_samples: int = 1000


#: The annotator of each per-sentence task when a config names none (``vocmine.*.ft`` are the slower,
#: more accurate variants: see the model cards).
DEFAULT_ANNOTATORS = {
    "sentiment": "vocmine.sentiment.v1",
    "emotion": "vocmine.emotion.v2",
    "component": "vocmine.component.v1",
    "touchpoint": "vocmine.touchpoint.v1",
}


class AnalysisConfig(_Section):
    """Which steps run, and which named components they use (registry names, see vocmine.registry)."""

    steps: list[str] = Field(
        default_factory=lambda: [
            "language",
            "sentences",
            "nps_status",
            "sentiment",
            "emotion",
            "component",
            "touchpoint",
            "themes",
            "kpis",
            "drivers",
        ]
    )
    #: Which annotator (registry name) fills each per-sentence task; a step named like a key runs it. A
    #: config names only the tasks it changes (e.g. ``emotion = "vocmine.emotion.ft"``, the accurate variant);
    #: the others keep their defaults.
    annotators: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_ANNOTATORS))
    #: Extra constructor arguments per task, e.g. {"touchpoint": {"head": "path/to/trained"}}.
    annotator_params: dict[str, dict[str, object]] = Field(default_factory=dict)

    @field_validator("annotators")
    @classmethod
    def _keep_default_annotators(cls, value: dict[str, str]) -> dict[str, str]:
        return {**DEFAULT_ANNOTATORS, **value}

    #: The embedder of the themes step (clustering and theme labels): a registry name or a local model
    #: folder. The classifier heads do not use it: each reads the e5 vectors it was trained on.
    embedder: str = "vocmine.e5_small.v1"

    @field_validator("embedder")
    @classmethod
    def _known_embedder(cls, value: str) -> str:
        """Checked here, without loading a model, so a typo fails before the labelling steps run for
        minutes, not when the themes step first needs the embedder."""
        from vocmine.models.embedders import locate_embedder

        try:
            locate_embedder(value)
        except VocmineError as error:
            raise ValueError(str(error)) from error
        return value
    languages: list[str] = Field(default_factory=lambda: ["es", "en"])
    taxonomy: str = "retail"
    batch_size: int = 256


class ReportConfig(_Section):
    language: Literal["auto", "es", "en"] = "auto"
    max_verbatims: int = 5
    export_formats: list[Literal["csv", "parquet", "xlsx"]] = Field(
        default_factory=lambda: ["csv", "parquet", "xlsx"]
    )


class ThemeSettings(_Section):
    """Knobs of theme building. Defaults are reasoned choices, not yet tuned on a dev split (docs/themes.md)."""

    min_theme_abs: int = 5
    min_theme_rel: float = 0.01
    min_group_sentences: int = 15
    umap_neighbors: int = 15
    umap_components: int = 5
    hdbscan_min_samples: int | None = None
    cluster_selection_method: str = "eom"
    reduce_outliers: bool = True
    #: An outlier joins its nearest theme if its cosine to the centroid reaches this quantile of the
    #: theme members' own cosines (0.1: as close as the theme's 10% least typical members).
    outlier_quantile: float = 0.1
    max_verbatims: int = 5
    match_min_cosine: float = 0.95  # same as pipelines.theme_ids.DEFAULT_MIN_COSINE
    emerging_alpha: float = 0.01
    period: str = "auto"
    alt_label_min_sentences: int = 3
    overrides_file: Path | None = None


class VocmineConfig(_Section):
    store: Path = Path("vocmine.duckdb")
    seed: int = 42
    nps: NpsConfig = Field(default_factory=NpsConfig)
    analysis: AnalysisConfig = Field(default_factory=AnalysisConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    themes: ThemeSettings = Field(default_factory=ThemeSettings)

    @field_validator("seed")
    @classmethod
    def _seed_non_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("seed must be >= 0")
        return value


def load_config(path: Path | str | None = None) -> VocmineConfig:
    """Read a TOML config file; ``None`` gives the defaults.

    Errors name the file and the offending key, because a scheduler log is often all a user sees.
    """
    if path is None:
        return VocmineConfig()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(f"config file {path} does not exist") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from error
    try:
        return VocmineConfig.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in error.errors()
        )
        raise ConfigError(f"{path}: {problems}") from error
