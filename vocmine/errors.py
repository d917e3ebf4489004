"""Every error vocmine raises on purpose derives from :class:`VocmineError`.

Callers (the CLI, the REST service, flows) catch that one base class and turn it into an exit code,
an HTTP status or a failed task, so a user sees a sentence instead of a traceback.
"""

from __future__ import annotations


class VocmineError(Exception):
    """Base class of all errors vocmine raises deliberately."""


class ConfigError(VocmineError):
    """A config file, source profile or taxonomy is invalid (says which file and which key)."""


class InputError(VocmineError):
    """One value in one row of one input file is not what the profile expects.

    The message reads like "reviews.csv row 17, column 'score': expected 0-10, got 'diez'" so an analyst
    can open the file and fix the cell without reading code.
    """

    def __init__(
        self,
        file: str,
        row: int | None,
        column: str | None,
        expected: str,
        got: object,
    ) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.expected = expected
        self.got = got
        where = file
        if row is not None:
            where += f" row {row}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: expected {expected}, got {_shorten(got)!r}")


class UnreadableFileError(VocmineError):
    """A whole file cannot be read (unknown format, binary data, empty, no header)."""


class ModelNotFoundError(VocmineError):
    """A model's weights are not installed; vocmine never downloads them, it says how to get them."""


class NotFittedError(ValueError, AttributeError, VocmineError):
    """``predict`` was called before ``fit`` (same bases as scikit-learn's, so sklearn code catches it)."""


class UnknownComponentError(VocmineError, KeyError):
    """A registry name does not exist; the message lists the names that do."""

    def __str__(self) -> str:  # KeyError quotes its message; we want the sentence as written
        return str(self.args[0]) if self.args else ""


def _shorten(value: object, limit: int = 60) -> object:
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 1] + "…"
    return value
