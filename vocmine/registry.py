"""A registry of named, versioned components, as spaCy's ``registry`` does it.

Config files name components by string (``"vocmine.e5_small.v1"``) and annotations store that string,
so a result can always be traced to the code that produced it. Bump the ``.vN`` suffix whenever a
component's behaviour changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from vocmine.errors import UnknownComponentError

F = TypeVar("F", bound=Callable[..., Any])

_REGISTRY: dict[str, dict[str, Callable[..., Any]]] = {}

#: Modules imported on first lookup so their ``@register`` decorators run.
_PROVIDERS: dict[str, list[str]] = {
    "embedder": ["vocmine.models.embedders"],
    "classifier": ["vocmine.models.heads"],
    "step": ["vocmine.pipelines.steps"],
    "redactor": ["vocmine.nlp.pii"],
    "task": [
        "vocmine.models.train_sentiment",
        "vocmine.models.train_emotion",
        "vocmine.models.train_component",
        "vocmine.models.train_touchpoints",
        "vocmine.models.train_language",
    ],
    "annotator": [
        "vocmine.nlp.sentiment",
        "vocmine.nlp.emotion",
        "vocmine.nlp.rational_emotional",
        "vocmine.nlp.touchpoint",
    ],
}


def register(kind: str, name: str) -> Callable[[F], F]:
    """Register a factory under ``kind``/``name``; re-registering a name is a programming error."""

    def decorator(factory: F) -> F:
        table = _REGISTRY.setdefault(kind, {})
        existing = table.get(name)
        if existing is not None and existing is not factory:
            qualname = getattr(existing, "__qualname__", existing)
            raise ValueError(f"{kind} {name!r} is already registered by {qualname}")
        table[name] = factory
        return factory

    return decorator


def _load_providers(kind: str) -> None:
    import importlib

    for module in _PROVIDERS.get(kind, []):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            # A provider that does not exist yet is fine; a provider failing on its own import is not.
            if error.name != module:
                raise


def get(kind: str, name: str) -> Callable[..., Any]:
    """Return the factory registered as ``kind``/``name``, listing the valid names if it is unknown."""
    if name not in _REGISTRY.get(kind, {}):
        _load_providers(kind)
    table = _REGISTRY.get(kind, {})
    if name not in table:
        choices = ", ".join(sorted(table)) or "none"
        raise UnknownComponentError(f"unknown {kind} {name!r}; registered {kind}s: {choices}")
    return table[name]


def names(kind: str) -> list[str]:
    """All registered names of one kind, sorted."""
    _load_providers(kind)
    return sorted(_REGISTRY.get(kind, {}))


def create(kind: str, name: str, **params: Any) -> Any:
    """Build a component by registry name."""
    return get(kind, name)(**params)
