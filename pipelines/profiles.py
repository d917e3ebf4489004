"""Source profiles: how one kind of export's columns map onto vocmine's canonical record.

A profile is a small TOML file (built-in ones live in ``pipelines/profiles/``), validated with
pydantic so a typo ("score_colum") is a :class:`~vocmine.errors.ConfigError` naming the file and the
key instead of a silently ignored setting. CLI flags arrive as :class:`ProfileOverrides` and are laid
on top with :func:`apply_overrides`; a column given on the command line is required, so a misspelt
flag fails loudly instead of ingesting a file without scores.

A column reference is either one name or a list of alternatives (the first one present in the file
wins), so the generic built-in profiles read the usual spellings ("text", "review", "comentario").
Column names match case-insensitively and ignoring extra spaces.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vocmine.errors import ConfigError

Channel = Literal["survey", "review", "social", "interview", "mystery_shopper"]
ColumnRef = str | list[str]

_SCALE = re.compile(r"^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$")


def _check_scale(value: str) -> str:
    value = value.strip()
    if value == "none":
        return value
    match = _SCALE.match(value)
    if not match or float(match.group(1)) >= float(match.group(2)):
        raise ValueError(f"expected 'none' or 'min-max' such as '0-10' or '1-10', got {value!r}")
    return value


def scale_bounds(scale: str) -> tuple[float, float] | None:
    """``"1-10"`` -> ``(1.0, 10.0)``; ``"none"`` -> ``None``."""
    match = _SCALE.match(scale)
    return (float(match.group(1)), float(match.group(2))) if match else None


def slugify(text: str) -> str:
    """A question or column name as an id part: lower-case ASCII joined by "_" ("¿Qué mejorar?" -> que_mejorar)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    return slug or "text"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StepSpec(_Model):
    """One protocol step of a mystery-shopper checklist: a comment column and/or a score column.

    Each step becomes its own answer (question = ``question``) carrying its own ``score``.
    """

    question: str
    text_column: ColumnRef | None = None
    score_column: ColumnRef | None = None
    score_scale: str = "0-10"

    @field_validator("score_scale")
    @classmethod
    def _valid_scale(cls, value: str) -> str:
        return _check_scale(value)

    @model_validator(mode="after")
    def _has_a_column(self) -> StepSpec:
        if self.text_column is None and self.score_column is None:
            raise ValueError(f"step {self.question!r} needs text_column or score_column")
        return self


class SourceProfile(_Model):
    """How the columns of one kind of export map onto a response and its answers."""

    name: str
    description: str = ""
    channel: Channel = "survey"
    #: The ``source`` of every response; ``None`` uses the file name without extension.
    source: str | None = None
    id_column: ColumnRef | None = None
    #: question -> column; a review's title and body, a survey's several open questions.
    text_columns: dict[str, ColumnRef] = Field(default_factory=dict)
    steps: list[StepSpec] = Field(default_factory=list)
    score_column: ColumnRef | None = None
    #: "0-10" (recommend score), "1-10" (Booking-style review score), any "min-max", or "none".
    score_scale: str = "0-10"
    stars_column: ColumnRef | None = None
    date_column: ColumnRef | None = None
    #: strptime formats tried first (e.g. "%m/%d/%Y" for US exports), before the built-in parser.
    date_formats: list[str] = Field(default_factory=list)
    #: How the built-in parser reads 03/04/2021: 3 April (True, es/UK) or March 4 (False, US).
    dayfirst: bool = True
    branch_column: ColumnRef | None = None
    seller_column: ColumnRef | None = None
    language_column: ColumnRef | None = None
    touchpoint_column: ColumnRef | None = None
    product_column: ColumnRef | None = None
    segment_column: ColumnRef | None = None
    #: Answers that mean "no answer" (Booking's "No Negative"), compared case-insensitively.
    placeholders: list[str] = Field(default_factory=list)
    #: Columns that must exist in the file (by name as written in the profile); else the file is refused.
    required_columns: list[str] = Field(default_factory=list)
    #: Strip one pair of literal double quotes wrapping a whole text (Rest-Mex: '"Comida cara"').
    strip_wrapping_quotes: bool = True
    #: Remove HTML tags and entities from texts (review sites export "<br/>" and "&amp;").
    strip_html: bool = True
    #: Worksheet to read in spreadsheets; ``None`` reads the first one.
    sheet: str | None = None

    @field_validator("score_scale")
    @classmethod
    def _valid_scale(cls, value: str) -> str:
        return _check_scale(value)

    @field_validator("text_columns")
    @classmethod
    def _questions_are_distinct(cls, value: dict[str, ColumnRef]) -> dict[str, ColumnRef]:
        slugs = [slugify(question) for question in value]
        if len(set(slugs)) != len(slugs):
            raise ValueError(f"two questions give the same id: {list(value)}")
        return value

    @model_validator(mode="after")
    def _has_something_to_read(self) -> SourceProfile:
        if not self.text_columns and not self.steps and self.score_column is None and self.stars_column is None:
            raise ValueError("a profile needs text_columns, steps, score_column or stars_column")
        return self


class ProfileOverrides(_Model):
    """The CLI flags of ``vocmine ingest`` (SPEC's CLI contract), laid over a profile."""

    source: str | None = None
    id_column: str | None = None
    text_columns: list[str] = Field(default_factory=list)
    score_column: str | None = None
    score_scale: str | None = None
    stars_column: str | None = None
    date_column: str | None = None
    date_formats: list[str] = Field(default_factory=list)
    branch_column: str | None = None
    seller_column: str | None = None
    language_column: str | None = None
    touchpoint_column: str | None = None
    product_column: str | None = None
    segment_column: str | None = None
    channel: Channel | None = None
    sheet: str | None = None


_COLUMN_FLAGS = (
    "id_column", "score_column", "stars_column", "date_column", "branch_column", "seller_column",
    "language_column", "touchpoint_column", "product_column", "segment_column",
)


def apply_overrides(profile: SourceProfile, overrides: ProfileOverrides | None) -> SourceProfile:
    """Return ``profile`` with every flag that was given replacing the profile's setting.

    ``--text-column`` (repeatable) replaces all the profile's text columns; each column becomes a
    question named after it. Columns named by flags become required.
    """
    if overrides is None:
        return profile
    update: dict[str, object] = {}
    required = list(profile.required_columns)
    for name in _COLUMN_FLAGS:
        value = getattr(overrides, name)
        if value is not None:
            update[name] = value
            required.append(value)
    if overrides.text_columns:
        update["text_columns"] = {column: column for column in overrides.text_columns}
        update["steps"] = []
        required.extend(overrides.text_columns)
    if overrides.score_column is not None and overrides.score_scale is None and profile.score_scale == "none":
        update["score_scale"] = "0-10"
    for name in ("source", "score_scale", "channel", "sheet"):
        value = getattr(overrides, name)
        if value is not None:
            update[name] = value
    if overrides.date_formats:
        update["date_formats"] = list(overrides.date_formats)
    update["required_columns"] = list(dict.fromkeys(required))
    try:
        return SourceProfile.model_validate({**profile.model_dump(), **update})
    except ValidationError as error:
        raise ConfigError(f"profile {profile.name!r} with command-line flags: {_problems(error)}") from error


# -- loading ---------------------------------------------------------------------------------------
def _builtin_dir() -> Path:
    return Path(str(resources.files("vocmine.pipelines") / "profiles"))


def list_profiles() -> list[str]:
    """Names of the built-in profiles (``pipelines/profiles/*.toml``), sorted."""
    return sorted(path.stem for path in _builtin_dir().glob("*.toml"))


def load_profile(name_or_path: str | Path | SourceProfile) -> SourceProfile:
    """Load a built-in profile by name, or a TOML file by path; errors name the file and the key."""
    if isinstance(name_or_path, SourceProfile):
        return name_or_path
    candidate = Path(name_or_path)
    if isinstance(name_or_path, str) and not name_or_path.endswith(".toml") and "/" not in name_or_path:
        builtin = _builtin_dir() / f"{name_or_path}.toml"
        if not builtin.exists():
            raise ConfigError(
                f"unknown profile {name_or_path!r}; built-in profiles: {', '.join(list_profiles())} "
                "(or give the path of a .toml file)"
            )
        candidate = builtin
    return profile_from_file(candidate)


def profile_from_file(path: Path) -> SourceProfile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(f"profile file {path} does not exist") from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from error
    data.setdefault("name", path.stem)
    try:
        return SourceProfile.model_validate(data)
    except ValidationError as error:
        raise ConfigError(f"{path}: {_problems(error)}") from error


def _problems(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in item['loc']) or 'profile'}: {item['msg']}" for item in error.errors()
    )


# -- resolving columns against a file --------------------------------------------------------------
def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def resolve_column(ref: ColumnRef | None, columns: Sequence[str]) -> str | None:
    """The file's column for a profile reference: exact name first, then case/space-insensitive."""
    if ref is None:
        return None
    candidates = [ref] if isinstance(ref, str) else list(ref)
    by_key = {_key(column): column for column in reversed(columns)}
    for candidate in candidates:
        if candidate in columns:
            return candidate
        found = by_key.get(_key(candidate))
        if found is not None:
            return found
    return None


def missing_required(profile: SourceProfile, columns: Sequence[str]) -> list[str]:
    """Required columns of ``profile`` that the file lacks."""
    return [name for name in profile.required_columns if resolve_column(name, columns) is None]
