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
    if equals and key and len(value) <= limit // 2:  # the key's start, then the value
        room = max(limit - len(value) - 2, 1)
        return (key if len(key) <= room + 1 else key[:room] + "…") + "=" + value
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


def _around(text: str, start: int, limit: int) -> str:
    """``text`` from ``start``, with a short value after its last ``=`` kept at the end."""
    if len(text) <= limit:
        return text
    value = text.rpartition("=")[2] if "=" in text else ""
    tail = "…=" + value if 0 < len(value) <= limit // 3 else "…"
    return "…" + text[start : start + max(limit - 1 - len(tail), 3)] + tail


def _apart(texts: Sequence[str], limit: int, wider: Sequence[int]) -> list[list[str]]:
    """Ways to write ``texts`` (names whose short labels clash) that may tell them apart: a
    little longer (by each of ``wider``), then from just before where they start to differ."""
    ways = [[short(t, limit + more) for t in texts] for more in wider]
    common = 0
    while all(len(t) > common and t[common] == texts[0][common] for t in texts):
        common += 1
    ways.append([_around(t, max(common - 3, 0), limit) for t in texts])
    return ways


def _unique(texts: Sequence[str], limit: int, wider: Sequence[int] = (6, 12)) -> list[str]:
    """Each of ``texts`` ``short``; where two would read alike, a little longer or from where
    they differ, else numbered in the order of their full names."""
    labels = [short(t, limit) for t in texts]
    groups: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(label, []).append(i)
    taken = set(labels)
    for label, group in groups.items():
        if len(group) == 1:
            continue
        for longer in _apart([texts[i] for i in group], limit, wider):
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


def short_labels(names: Sequence[object], limit: int = LABEL_LIMIT) -> list[str]:
    """The labels of ``names`` (probes) in a figure, told apart: a name that fits is kept; a
    longer single feature is shortened (``_unique``); a longer pair or triple is the short
    labels of its features, each its share of ``limit``, so a feature reads the same in every
    probe of the figure. Not yet escaped for matplotlib (``plain``)."""
    texts = [str(n) for n in names]
    labels = list(texts)
    by_size: dict[int, list[int]] = {}
    for i, text in enumerate(texts):
        if len(text) > limit:
            by_size.setdefault(text.count(SEPARATOR) + 1, []).append(i)
    for size, rows in by_size.items():
        if size == 1:
            for i, label in zip(rows, _unique([texts[i] for i in rows], limit), strict=True):
                labels[i] = label
            continue
        share = max((limit - size + 1) // size, 6)
        features = sorted({f for i in rows for f in texts[i].split(SEPARATOR)})
        short_of = dict(zip(features, _unique(features, share, ()), strict=True))
        for i in rows:
            labels[i] = SEPARATOR.join(short_of[f] for f in texts[i].split(SEPARATOR))
    if len(set(labels)) < len(labels):  # e.g. a shortened single reads as a full name
        return _unique(texts, limit)
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
