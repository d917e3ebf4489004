"""Touchpoint taxonomies: the stages of a customer journey that a sentence can be about.

A taxonomy is a TOML file an analyst can edit: each touchpoint has a name, a Spanish and an English
description, optional example phrases and keywords, an optional parent (journey stage) and an optional
calibrated threshold for the zero-shot assigner. One taxonomy serves both languages because the
embedder (multilingual e5) puts Spanish and English in one space, so descriptions and examples in either
language match sentences in the other.

"other" is not a touchpoint: it is the outcome when no touchpoint applies, so the name is reserved.
Three taxonomies ship (``list_taxonomies()``): a general retail/services journey, a hospitality one and
a restaurant one whose touchpoints match the SemEval-2016 restaurant entities.
"""

from __future__ import annotations

import tomllib
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vocmine.errors import ConfigError

#: The label of "no touchpoint applies"; reserved, so no touchpoint may take it.
OTHER = "other"

TAXONOMY_DIR = Path(__file__).resolve().parent / "taxonomies"


class Touchpoint(BaseModel):
    """One stage or contact point of the journey (e.g. "delivery", "staff")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=60)
    description_es: str = Field(min_length=3)
    description_en: str = Field(min_length=3)
    #: Short sentences a customer might write about this touchpoint (either language); they become
    #: prototypes for the zero-shot assigner, so write them as customers write, not as definitions.
    examples: list[str] = Field(default_factory=list)
    #: Words or phrases whose presence (whole word, case- and accent-insensitive) is strong evidence.
    keywords: list[str] = Field(default_factory=list)
    #: Journey stage this touchpoint belongs to: one of the taxonomy's ``stages`` or another touchpoint.
    parent: str | None = None
    #: Zero-shot decision threshold on the calibrated score; ``None`` uses the taxonomy default.
    threshold: float | None = None

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        value = value.strip()
        if value.lower() == OTHER:
            raise ValueError(f"'{OTHER}' is reserved for 'no touchpoint applies'; do not declare it")
        if ";" in value:
            raise ValueError("must not contain ';' (labels are ';'-joined)")
        return value

    @field_validator("examples", "keywords")
    @classmethod
    def _no_blank(cls, values: list[str]) -> list[str]:
        cleaned = [v.strip() for v in values]
        if any(not v for v in cleaned):
            raise ValueError("must not contain empty strings (an empty text embeds close to everything)")
        return cleaned


class Taxonomy(BaseModel):
    """A named, versioned set of touchpoints; names are unique and parents resolve."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    version: int = 1
    description: str = ""
    #: Journey stages that touchpoints may name as ``parent``.
    stages: list[str] = Field(default_factory=list)
    #: Default zero-shot threshold on the calibrated score (see vocmine.nlp.touchpoint).
    default_threshold: float = 0.02
    touchpoints: list[Touchpoint] = Field(min_length=1, alias="touchpoint")

    @model_validator(mode="after")
    def _consistent(self) -> Taxonomy:
        seen: set[str] = set()
        for tp in self.touchpoints:
            key = tp.name.lower()
            if key in seen:
                raise ValueError(f"duplicate touchpoint name {tp.name!r}")
            seen.add(key)
        known = {s.lower() for s in self.stages} | seen
        for tp in self.touchpoints:
            if tp.parent is not None and tp.parent.lower() not in known:
                raise ValueError(
                    f"touchpoint {tp.name!r}: unknown parent {tp.parent!r} "
                    f"(declare it in 'stages' or as a touchpoint)"
                )
        return self

    @cached_property
    def names(self) -> list[str]:
        """Touchpoint names in file order: the column order of every score matrix."""
        return [tp.name for tp in self.touchpoints]

    def get(self, name: str) -> Touchpoint:
        for tp in self.touchpoints:
            if tp.name.lower() == name.lower():
                return tp
        raise KeyError(f"taxonomy {self.name!r} has no touchpoint {name!r}; it has {', '.join(self.names)}")

    def canonical(self, name: str) -> str | None:
        """The declared spelling of ``name`` (case-insensitive), ``OTHER`` for other/none, else None."""
        key = name.strip().lower()
        if key in {OTHER, "none", "ninguno", "otro", "otros"}:
            return OTHER
        for tp in self.touchpoints:
            if tp.name.lower() == key:
                return tp.name
        return None


def list_taxonomies() -> list[str]:
    """Names of the built-in taxonomies."""
    return sorted(p.stem for p in TAXONOMY_DIR.glob("*.toml"))


def load_taxonomy(name_or_path: str | Path | Taxonomy) -> Taxonomy:
    """A built-in taxonomy by name ("retail", "hospitality", "restaurant"), or a TOML file by path.

    Errors are ConfigErrors naming the file and the key, e.g.
    ``my.toml: touchpoint[2] ('delivery').description_es: Field required``.
    """
    if isinstance(name_or_path, Taxonomy):
        return name_or_path
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        builtin = TAXONOMY_DIR / f"{name_or_path}.toml"
        if not builtin.exists():
            raise ConfigError(
                f"unknown taxonomy {str(name_or_path)!r}; built-in taxonomies: {', '.join(list_taxonomies())} "
                "(or give a path to a .toml file)"
            )
        path = builtin
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise ConfigError(f"taxonomy file {path} does not exist") from error
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from error
    return parse_taxonomy(data, source=str(path))


def parse_taxonomy(data: dict, source: str = "<taxonomy>") -> Taxonomy:
    """Validate an already-parsed mapping (what ``load_taxonomy`` does after reading the TOML)."""
    try:
        return Taxonomy.model_validate(data)
    except ValidationError as error:
        raise ConfigError(f"{source}: {_describe(error, data)}") from error


def _describe(error: ValidationError, data: dict) -> str:
    problems = []
    touchpoints = data.get("touchpoint", []) if isinstance(data, dict) else []
    for item in error.errors():
        parts: list[str] = []
        loc = list(item["loc"])
        while loc:
            part = loc.pop(0)
            if part == "touchpoint" and loc and isinstance(loc[0], int):
                index = loc.pop(0)
                name = touchpoints[index].get("name") if index < len(touchpoints) else None
                parts.append(f"touchpoint[{index}]" + (f" ({name!r})" if name else ""))
            else:
                parts.append(str(part))
        message = item["msg"].removeprefix("Value error, ")
        problems.append(f"{'.'.join(parts)}: {message}" if parts else message)
    return "; ".join(problems)
