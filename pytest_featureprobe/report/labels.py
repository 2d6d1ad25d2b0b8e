"""What the report's figures write: labels short enough for a tick yet told apart (the page lists
each shortened one in full), text matplotlib never reads as mathtext, counts with separators, and
the one colour convention for "raises" and "lowers". No matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..probes import SEPARATOR

LABEL_LIMIT = 28
RAISES = "#2166ac"  # blue: raises P(class), in every figure
LOWERS = "#b2182b"  # red: lowers P(class)
DIVERGING = "RdBu"  # matplotlib's red-to-blue map: negative red, positive blue, as above
RAISES_LOWERS = "blue raises P(class), red lowers it"


def count(n: int) -> str:
    """A count with thousands separators: 2604376 -> 2,604,376."""
    return f"{int(n):,}"


def plain(text: object) -> str:
    """``text`` as matplotlib should draw it: every ``$`` escaped, so a name like
    ``$HOME/x_$USER`` is drawn as written, never parsed as mathtext."""
    return str(text).replace("$", r"\$")


def _middle(text: str, limit: int) -> str:
    """``text`` cut in the middle to ``limit`` characters, its start and end kept."""
    if len(text) <= limit:
        return text
    limit = max(limit, 2)
    head = limit // 2
    tail = limit - 1 - head
    return text[:head] + "…" + (text[-tail:] if tail else "")


def _cut(part: str, limit: int) -> str:
    """One feature's name cut to ``limit``; a value after ``=`` kept whole where it fits, so
    ``flipper_length_mm=low`` and ``flipper_length_mm=high`` stay apart."""
    if len(part) <= limit:
        return part
    key, equals, value = part.rpartition("=")
    if equals and key and len(value) <= limit // 2:
        return _middle(key, limit - len(value) - 1) + "=" + value
    return _middle(part, limit)


def short(text: object, limit: int = LABEL_LIMIT) -> str:
    """``text`` in at most about ``limit`` characters: each feature of a probe (``a+b+c``) cut
    in the middle to its share, the short ones giving their room to the long ones."""
    text = str(text)
    if len(text) <= limit:
        return text
    parts = text.split(SEPARATOR)
    budget = max(limit - (len(parts) - 1), 4 * len(parts))
    shares = {}
    for left, i in enumerate(sorted(range(len(parts)), key=lambda k: len(parts[k]))):
        shares[i] = min(len(parts[i]), budget // (len(parts) - left))
        budget -= shares[i]
    return SEPARATOR.join(_cut(p, max(shares[i], 4)) for i, p in enumerate(parts))


def short_labels(names: Sequence[object], limit: int = LABEL_LIMIT) -> list[str]:
    """The labels of ``names`` in a figure: each ``short``; where two would read alike, a little
    longer, else numbered in the order of their full names. Not yet escaped (``plain``)."""
    texts = [str(n) for n in names]
    labels = [short(t, limit) for t in texts]
    groups: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(label, []).append(i)
    taken = set(labels)
    for label, group in groups.items():
        if len(group) == 1:
            continue
        for wider in (limit + 6, limit + 12):
            longer = [short(texts[i], wider) for i in group]
            if len(set(longer)) == len(group) and not taken.intersection(longer):
                break
        else:
            order = sorted(group, key=lambda k: texts[k])
            longer = [
                label if texts[i] == label else f"{label} [{order.index(i) + 1}]" for i in group
            ]
        for i, new in zip(group, longer, strict=True):
            labels[i] = new
        taken.update(longer)
    return labels


def tick_labels(names: Sequence[object], limit: int = LABEL_LIMIT) -> list[str]:
    """``short_labels`` ready for matplotlib."""
    return [plain(label) for label in short_labels(names, limit)]


def label_key(names: Sequence[object], limit: int = LABEL_LIMIT) -> list[tuple[str, str]]:
    """(label drawn, full name) of each name a figure shortened, in the figure's order."""
    return [
        (label, str(name))
        for label, name in zip(short_labels(names, limit), names, strict=True)
        if label != str(name)
    ]
