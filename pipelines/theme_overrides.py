"""Analyst overrides of themes: rename, merge, split. Kept in a small file that every later run honours.

Clustering is statistics; an analyst knows that "Late Flight" and "Delayed departure" are one cause for
their business, or that "price" hides two. Overrides act on stable theme ids (pipelines/theme_ids.py),
after matching to the previous run, so a rename made once keeps applying while the cause persists.

TOML::

    [rename]
    "service/neg/1a2b3c4d" = "Camareros lentos"

    [[merge]]
    into = "service/neg/1a2b3c4d"          # the id that stays
    ids = ["service/neg/9f8e7d6c"]
    label = "Servicio lento"               # optional

    [[split]]
    theme = "price/neg/0a1b2c3d"
    rules = [{ label = "Precio de las bebidas", keywords = ["bebida", "copa", "vino"] }]

CSV (header ``action,theme_id,value,label``): ``rename,<id>,,<label>`` / ``merge,<into>,<id>,<label>`` /
``split,<id>,<kw1;kw2>,<label>``. A split moves every sentence of the theme that contains one of the
keywords (case- and accent-insensitive, whole words) into a child theme ``<id>~<label slug>``.
"""

from __future__ import annotations

import csv
import logging
import re
import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vocmine.errors import ConfigError
from vocmine.pipelines.theme_ids import slug

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MergeRule:
    into: str
    ids: tuple[str, ...]
    label: str | None = None


@dataclass(frozen=True, slots=True)
class SplitRule:
    label: str
    keywords: tuple[str, ...]

    def child_id(self, theme_id: str) -> str:
        return f"{theme_id}~{slug(self.label)}"


@dataclass(frozen=True, slots=True)
class ThemeOverrides:
    renames: dict[str, str] = field(default_factory=dict)
    merges: tuple[MergeRule, ...] = ()
    splits: dict[str, tuple[SplitRule, ...]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.renames or self.merges or self.splits)


def _fold(text: str) -> str:
    stripped = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in stripped if not unicodedata.combining(c))


def _keyword_pattern(keywords: Sequence[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(_fold(k.strip())) for k in keywords if k.strip())
    return re.compile(rf"\b(?:{alternatives})\b") if alternatives else re.compile(r"(?!x)x")


def load_overrides(path: Path | str | None) -> ThemeOverrides:
    """Read a TOML or CSV override file; ``None`` or a missing default file gives no overrides."""
    if path is None:
        return ThemeOverrides()
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"theme override file {path} does not exist")
    if path.suffix.lower() == ".csv":
        return _load_csv(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from error
    try:
        renames = {str(k): str(v) for k, v in data.get("rename", {}).items()}
        merges = tuple(
            MergeRule(into=str(m["into"]), ids=tuple(str(i) for i in m["ids"]), label=m.get("label"))
            for m in data.get("merge", [])
        )
        splits: dict[str, tuple[SplitRule, ...]] = {}
        for s in data.get("split", []):
            rules = tuple(SplitRule(label=str(r["label"]), keywords=tuple(r["keywords"])) for r in s["rules"])
            splits[str(s["theme"])] = splits.get(str(s["theme"]), ()) + rules
    except (KeyError, TypeError) as error:
        raise ConfigError(f"{path}: malformed override ({error}); see vocmine.pipelines.theme_overrides") from error
    return ThemeOverrides(renames=renames, merges=merges, splits=splits)


def _load_csv(path: Path) -> ThemeOverrides:
    renames: dict[str, str] = {}
    merges: list[MergeRule] = []
    splits: dict[str, tuple[SplitRule, ...]] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row_number, row in enumerate(csv.DictReader(handle), start=2):
            action = (row.get("action") or "").strip().lower()
            theme_id = (row.get("theme_id") or "").strip()
            value = (row.get("value") or "").strip()
            label = (row.get("label") or "").strip() or None
            if action == "rename" and theme_id and label:
                renames[theme_id] = label
            elif action == "merge" and theme_id and value:
                merges.append(MergeRule(into=theme_id, ids=(value,), label=label))
            elif action == "split" and theme_id and value and label:
                rule = SplitRule(label=label, keywords=tuple(k for k in value.split(";") if k.strip()))
                splits[theme_id] = splits.get(theme_id, ()) + (rule,)
            else:
                raise ConfigError(
                    f"{path} row {row_number}: expected rename/merge/split with theme_id, value, label; got {row}"
                )
    return ThemeOverrides(renames=renames, merges=tuple(merges), splits=splits)


def apply_membership_overrides(
    members: dict[str, list[int]],
    texts: Sequence[str],
    overrides: ThemeOverrides,
) -> tuple[dict[str, list[int]], dict[str, str], dict[str, str]]:
    """Apply merges then splits to ``members`` (theme id -> row indices into ``texts``).

    Returns the new membership, the labels the overrides impose (merge labels, split labels, renames),
    and ``merged_away`` (old id -> id it was merged into) so the caller can record where a theme went.
    Rules naming ids that do not exist in this run are skipped with a log line, never an error: the
    cause may simply be absent from this batch.
    """
    members = {k: list(v) for k, v in members.items()}
    forced: dict[str, str] = {}
    merged_away: dict[str, str] = {}
    for rule in overrides.merges:
        if rule.into not in members:
            present = [i for i in rule.ids if i in members]
            if not present:
                logger.info("merge into %s skipped: none of its themes is present", rule.into)
                continue
            members[rule.into] = []
        for other in rule.ids:
            if other == rule.into or other not in members:
                continue
            members[rule.into].extend(members.pop(other))
            merged_away[other] = rule.into
        members[rule.into].sort()
        if rule.label:
            forced[rule.into] = rule.label
    for theme_id, rules in overrides.splits.items():
        if theme_id not in members:
            logger.info("split of %s skipped: theme not present in this run", theme_id)
            continue
        remaining = members[theme_id]
        for rule in rules:
            pattern = _keyword_pattern(rule.keywords)
            taken = [i for i in remaining if pattern.search(_fold(texts[i]))]
            if taken:
                child = rule.child_id(theme_id)
                members[child] = sorted(members.get(child, []) + taken)
                forced[child] = rule.label
                remaining = [i for i in remaining if i not in set(taken)]
        if remaining:
            members[theme_id] = remaining
        else:
            del members[theme_id]
    for theme_id, label in overrides.renames.items():
        forced[theme_id] = label
    return members, forced, merged_away
