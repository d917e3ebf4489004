from __future__ import annotations

import pytest

from vocmine import registry
from vocmine.errors import UnknownComponentError


def test_registry_unknown_name_lists_choices():
    with pytest.raises(UnknownComponentError, match="vocmine.e5_small.v1"):
        registry.get("embedder", "vocmine.nope.v9")


def test_registry_duplicate_registration_is_an_error():
    @registry.register("test-kind", "thing.v1")
    def thing() -> int:
        return 1

    assert registry.create("test-kind", "thing.v1") == 1
    with pytest.raises(ValueError, match="already registered"):

        @registry.register("test-kind", "thing.v1")
        def other() -> int:
            return 2
