"""Is a file's text one we can read: UTF-8 (checked in chunks, without a copy), not UTF-16 or
UTF-32 or binary (named, with the command that converts it), and, for JSON, no escape of a lone
surrogate (which json reads but no file, cache entry or report can then write). Used by the data,
baseline and sidecar readers; imports nothing of ours.
"""

from __future__ import annotations

import re
from pathlib import Path

UTF8_CHUNK = 1 << 22


def check_utf8(raw: bytes) -> None:
    """Raise UnicodeDecodeError (positions in ``raw``) unless ``raw`` is UTF-8, decoding it in
    chunks so that no copy of the whole text is made."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(raw)
    for start in range(0, len(raw), UTF8_CHUNK):
        try:
            decoder.decode(view[start : start + UTF8_CHUNK], final=start + UTF8_CHUNK >= len(raw))
        except UnicodeDecodeError:
            raw.decode("utf-8")  # the same error, its position in the whole file
            raise
    if not raw:
        decoder.decode(b"", final=True)


#: Byte order marks of the encodings that are not UTF-8 but look like binary to a UTF-8 reader
#: (UTF-32's before UTF-16's: FF FE 00 00 starts with FF FE).
_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32", "UTF-32LE"),
    (b"\x00\x00\xfe\xff", "UTF-32", "UTF-32BE"),
    (b"\xff\xfe", "UTF-16", "UTF-16LE"),
    (b"\xfe\xff", "UTF-16", "UTF-16BE"),
)


def encoding_problem(head: bytes, shown: str) -> str | None:
    """Why the start of a file is not UTF-8 text: UTF-16 or UTF-32 (by its byte order mark, or
    ASCII text with a NUL byte between letters), with how to convert it; other NUL bytes are
    binary. None when it may be UTF-8."""
    found = next(((name, exact) for bom, name, exact in _BOMS if head.startswith(bom)), None)
    if found is None and b"\0" in head:
        even, odd = head[0::2], head[1::2]
        if head[:64] and not odd.strip(b"\0") and even.strip(b"\0"):
            found = ("UTF-16", "UTF-16LE")  # text without a byte order mark
        elif head[:64] and not even.strip(b"\0") and odd.strip(b"\0"):
            found = ("UTF-16", "UTF-16BE")
    if found is not None:
        name, exact = found
        how = "a byte order mark" if head.startswith(_bom_of(exact)) else "no byte order mark"
        return (
            f"{name} text ({exact}, {how}), not UTF-8; convert it, e.g. iconv -f {exact} "
            f"-t UTF-8 {shown} > utf8{Path(shown).suffix}, or save it as UTF-8"
        )
    if b"\0" in head:  # pandas would read some binary files as text
        line = head.count(b"\n", 0, head.index(b"\0")) + 1
        return f"binary, not text (a NUL byte on line {line})"
    return None


def _bom_of(exact: str) -> bytes:
    return next(bom for bom, _, name in _BOMS if name == exact)


_SURROGATE_ESCAPE = re.compile(r"(\\+)u([dD][89a-fA-F][0-9a-fA-F]{2})")


def lone_surrogate(text: str) -> tuple[int, str] | None:
    """The line and text of the first JSON escape of a lone surrogate (``\\ud800`` not paired
    with a low half): json reads it as a string that no file, cache entry or report can then
    write. None when there is none (UTF-8 text holds surrogates only as such escapes)."""
    paired_at = -1  # where the low half of the last pair starts
    for found in _SURROGATE_ESCAPE.finditer(text):
        if len(found.group(1)) % 2 == 0:
            continue  # an escaped backslash, then plain text
        start = found.start(2) - 2  # the escape's backslash
        if int(found.group(2), 16) < 0xDC00:
            after = text[found.end() : found.end() + 6]
            if re.match(r"\\u[dD][c-fC-F][0-9a-fA-F]{2}", after):
                paired_at = found.end()
                continue
        elif start == paired_at:
            continue
        return text.count("\n", 0, start) + 1, text[start : found.end()]
    return None


def surrogate_problem(text: str) -> tuple[int, str] | None:
    """The line of JSON ``text``'s first lone surrogate escape and what to say about it
    (``holds the escape \\ud800, half of a UTF-16 pair, ...``): the one wording of the data,
    feature space, sidecar and baseline readers. None when there is none."""
    lone = lone_surrogate(text)
    if lone is None:
        return None
    line, escape = lone
    return line, (
        f"line {line} holds the escape {escape}, half of a UTF-16 pair, which no file can store "
        "as text (a lone surrogate)"
    )
