"""``vocmine evaluate language``'s short-answer figures: one- and two-word answers of real test files."""

from __future__ import annotations

from vocmine.models.train_language import short_answer_rows


def test_short_answers_are_told_by_their_file_far_better_than_alone() -> None:
    """Quality floor on restaurants_es and Booking test answers of at most two words (measured 2026-11-25:
    alone 0.496 es / 0.785 en, with the file 0.983 / 0.966)."""
    figures = {(row["dataset"], "alone" if "alone" in row["model"] else "file"): row for row in short_answer_rows()}
    for dataset, floor in (("restaurants_es_test_answers", 0.95), ("booking_test_answers", 0.93)):
        alone, with_file = figures[(dataset, "alone")], figures[(dataset, "file")]
        assert with_file["n"] == alone["n"] > 200
        assert with_file["value"] >= floor and with_file["value"] > alone["value"] + 0.1
