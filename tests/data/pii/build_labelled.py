"""Build labelled.jsonl from the hand-written dev.txt and test.txt (gold PII marked as [[TYPE:value]]).

Run from the repository root: ``.venv/bin/python tests/data/pii/build_labelled.py``. Offsets are computed
here so nobody counts characters by hand; the checksums of the gold cards, IBANs, DNIs and NIEs are checked
with code independent of ``nlp/pii.py``, so the gold set cannot inherit a bug of the detector.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
MARK = re.compile(r"\[\[([A-Z]+):(.+?)\]\]")
TYPES = {"EMAIL", "PHONE", "CARD", "IBAN", "DNI", "NIE", "URL", "HANDLE"}
LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _check(kind: str, value: str) -> None:
    compact = re.sub(r"[ .-]", "", value).upper()
    if kind == "CARD":
        total = sum(
            (int(c) if i % 2 == 0 else (2 * int(c) - 9 if 2 * int(c) > 9 else 2 * int(c)))
            for i, c in enumerate(reversed(compact))
        )
        assert total % 10 == 0 and 13 <= len(compact) <= 19, value
    elif kind == "IBAN":
        number = int("".join(str(int(c, 36)) for c in compact[4:] + compact[:4]))
        assert number % 97 == 1, value
    elif kind == "DNI":
        assert LETTERS[int(compact[:8]) % 23] == compact[8], value
    elif kind == "NIE":
        assert LETTERS[int(str("XYZ".index(compact[0])) + compact[1:8]) % 23] == compact[8], value


def parse(line: str) -> tuple[str, str, list[dict[str, object]]]:
    lang, marked = line.rstrip("\n").split("\t", 1)
    text, spans, cursor = "", [], 0
    for match in MARK.finditer(marked):
        kind, value = match.group(1), match.group(2)
        assert kind in TYPES, kind
        _check(kind, value)
        text += marked[cursor : match.start()]
        spans.append({"type": kind, "start": len(text), "end": len(text) + len(value), "text": value})
        text += value
        cursor = match.end()
    text += marked[cursor:]
    return lang, text, spans


def main() -> None:
    rows = []
    for split in ("dev", "test"):
        lines = (HERE / f"{split}.txt").read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(line for line in lines if line.strip() and not line.startswith("#")):
            lang, text, spans = parse(line)
            rows.append({"id": f"{split}-{number:03d}", "split": split, "lang": lang, "text": text, "spans": spans})
    with (HERE / "labelled.jsonl").open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
