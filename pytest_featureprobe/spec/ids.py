"""Item ids: an entry's name folded to what ``pytest -k`` parses (``P(Gentoo) high`` is
``P-Gentoo-high``), cut to ``ID_WIDTH`` characters and a digest of the whole name when longer,
and numbered when two entries fold to one id. pytest's items and ``featureprobe check`` print
the same ids, so a line of either can be pasted into ``-k``."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

ID_WIDTH = 120  # characters of an id before the digest of the name
NOT_IN_IDS = re.compile(r"[^\w+.\-]+")  # what -k cannot parse in a name (and ``[]``, ``:``, ``/``)


def item_ids(names: Iterable[str]) -> list[str]:
    """The ids of a file's entries, in order: each name as ``pytest_id`` folds it, and ``-2``,
    ``-3`` on a repeat (one pass: a counter per id, so linear in the entries)."""
    ids: list[str] = []
    taken: set[str] = set()
    next_number: dict[str, int] = {}
    for name in names:
        found = base = pytest_id(name)
        if found in taken:
            number = next_number.get(base, 2)
            while f"{base}-{number}" in taken:
                number += 1
            found, next_number[base] = f"{base}-{number}", number + 1
        taken.add(found)
        ids.append(found)
    return ids


def pytest_id(name: str) -> str:
    """A name as ``-k`` can take it: each run of other characters one ``-``; over ``ID_WIDTH``
    characters, cut and followed by 8 hex digits of the whole name's SHA-256."""
    folded = NOT_IN_IDS.sub("-", name).strip("-") or "expect"
    if len(folded) <= ID_WIDTH:
        return folded
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{folded[:ID_WIDTH].rstrip('-')}-{digest}"
