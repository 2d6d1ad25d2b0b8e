"""What every subcommand shares: exit codes, the usage error, argument types, the shared option
groups, the session and how paths are shown."""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import plural
from ..files import unreadable, unwritable

if TYPE_CHECKING:
    from ..memo import ProbeSession

#: How the command's messages say to write a baseline anew and to allow a folder.
UPDATE_HINT = "featureprobe check --update (or pytest --featureprobe-update)"
ALLOW_HINT = "--allow-path DIR"

EXIT_OK = 0
EXIT_DRIFT = 1
EXIT_USAGE = 2
PROG = "featureprobe"
YAML_SUFFIXES = (".yaml", ".yml")
COLLECTED = ("featureprobe_*.yaml", "featureprobe_*.yml")


class CommandError(Exception):
    """A usage mistake found by the command itself: one line on stderr, exit status 2."""


def sha256_arg(text: str) -> str:
    if not re.fullmatch(r"[0-9a-fA-F]{64}", text):
        raise argparse.ArgumentTypeError(f"not a SHA-256 digest (64 hex digits): {text!r}")
    return text.lower()


def csv_list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    items = [item.strip() for item in text.split(",")]
    if not all(items):
        raise CommandError(f"empty name in {text!r}: give names separated by commas")
    return items


def existing(path_text: str, what: str) -> Path:
    path = Path(path_text)
    problem = unreadable(path, what, path_text)
    if problem is not None:
        raise CommandError(problem)
    return path


def refuse_to_replace(paths: Sequence[Path], force: bool, what: str) -> None:
    """Before any work: a path where no file can be written is refused; an existing file is
    replaced only with ``--force``, and the refusal names what would be lost."""
    from ..errors import display_path

    for path in paths:
        problem = unwritable(path, "output", display_path(path))
        if problem is not None:
            raise CommandError(f"{problem}; nothing was written")
    present = [path for path in paths if os.path.lexists(path)]
    if present and not force:
        held = " and ".join(_held(path) for path in present)
        raise CommandError(
            f"{held} {'exists' if len(present) == 1 else 'exist'}; pass --force to replace "
            f"{what} (what {'it holds' if len(present) == 1 else 'they hold'} now is lost)"
        )


def _held(path: Path) -> str:
    """An existing file and what it holds, as a refusal to replace it says."""
    from ..errors import display_path

    try:
        with open(path, "rb") as stream:
            head = stream.read(1 << 20)
        size = os.stat(path).st_size
    except OSError:
        return display_path(path)
    lines = head.count(b"\n") + (0 if head.endswith(b"\n") or not head else 1)
    more = "+" if size > len(head) else ""
    return f"{display_path(path)} ({plural(size, 'byte')}, {lines}{more} line{'s' * (lines != 1)})"


def write_failure(error: OSError, path: Path) -> str:
    """One line: why ``path`` (or the file the error names) could not be written."""
    from ..errors import display_path

    where = display_path(error.filename) if error.filename else display_path(path)
    return f"cannot write {where}: {(error.strerror or str(error)).lower()}"


def make_session(args: argparse.Namespace) -> ProbeSession:
    """The command's ProbeSession, caching weights under ``--cache-dir`` when given; it says
    on stderr when a model trains where stderr is a terminal (as progress does)."""
    from ..memo import ProbeSession, stream_notice
    from .progress import is_terminal

    notice = stream_notice(sys.stderr) if is_terminal(sys.stderr) else None
    return ProbeSession(getattr(args, "cache_dir", None), notice=notice)


def bounded(kind: type, low: float, high: float | None, what: str):
    """An argparse type: a ``kind`` number from ``low`` to ``high`` (None: no upper bound)."""

    def parse(value: str):
        try:
            number = kind(value)
        except ValueError:
            noun = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"not {noun}: {value!r}") from None
        if not math.isfinite(number):  # nan compares false with every bound: refuse it here
            raise argparse.ArgumentTypeError(f"{what}, not {value}")
        if number < low or (high is not None and number > high):
            raise argparse.ArgumentTypeError(f"{what}, not {value}")
        return number

    return parse


order_arg = bounded(int, 0, 4, "the order is 0 to 4")
fraction_arg = bounded(float, 0, 1, "a number from 0 to 1")
count_arg = bounded(int, 0, None, "a non-negative integer")


#: The most calibration seeds ``--seeds`` takes: drift.calibrate.seeds' bound in the schema.
MAX_SEEDS = 100


def seed_count_arg(value: str) -> int:
    number = count_arg(value)
    if number < 2:
        raise argparse.ArgumentTypeError("the seed band needs at least 2 seeds")
    if number > MAX_SEEDS:  # as drift.calibrate.seeds; a huge count would only overflow
        shown = value if len(value) <= 30 else f"{value[:12]}...({len(value)} digits)"
        raise argparse.ArgumentTypeError(f"at most {MAX_SEEDS} calibration seeds, not {shown}")
    return number


def model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("a .keras model saved without featureprobe's sidecar")
    names = group.add_mutually_exclusive_group()
    names.add_argument(
        "--features", metavar="FILE", help="feature space JSON file (FeatureSpace.to_json)"
    )
    names.add_argument(
        "--feature-names", metavar="A,B,C", help="feature names in input order, comma-separated"
    )
    group.add_argument("--classes", metavar="A,C", help="class names in output order")
    group.add_argument(
        "--sha256",
        metavar="HEX",
        type=sha256_arg,
        help="refuse the .keras file unless its SHA-256 is HEX (checked before loading)",
    )
    group.add_argument(
        "--outputs",
        choices=("probabilities", "logits"),
        help="what the model returns (logits get a softmax; default: from the sidecar, else "
        "probabilities)",
    )
    cache_dir_option(parser)


def cache_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="cache trained weights here (e.g. .pytest_cache/d/featureprobe, pytest's own); "
        "default: train in memory",
    )


def allow_path_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-path",
        action="append",
        metavar="DIR",
        help="let an expectation file name files under DIR (besides the working directory and "
        "its own folder; repeatable)",
    )


def context_options(parser: argparse.ArgumentParser) -> None:
    """``--context`` and ``--sample``: what probes are applied to (sweep, record, diff)."""
    parser.add_argument(
        "--context",
        metavar="zero|training|FILE",
        default=None,
        help="what probes are applied to: the zero vector, the training rows of a train: model, "
        "or the rows of a data file; in context the table holds means over rows (default: an "
        "expectation file's own context, which for categorical columns is the training rows; "
        "zero for a .keras file)",
    )
    parser.add_argument(
        "--sample",
        type=count_arg,
        default=None,
        metavar="N",
        help="in a context of rows: N of them, drawn with seed 0",
    )


def confined_input(args: argparse.Namespace, given: str, what: str) -> Path:
    """A file the command reads, as an absolute path: refused when it cannot be read or lies
    outside the working directory and the ``--allow-path`` folders (as the files an
    expectation file names are)."""
    from ..files import resolved

    _refuse_url(given)
    return _confined(args, given, resolved(existing(given, what)))


def confined_output(args: argparse.Namespace, given: str) -> Path:
    """A file the command writes, as typed (a URL is seen before pathlib folds its ``//``):
    refused when it lies outside the working directory and the ``--allow-path`` folders, the
    rule pytest applies to what an expectation file makes it write (a file written elsewhere
    names paths its own pytest run would refuse)."""
    _refuse_url(given)
    return _confined(args, given, Path(given))


def _refuse_url(given: str) -> None:
    from ..confinement import is_url, url_refusal

    if is_url(given):
        raise CommandError(url_refusal(given))


def _confined(args: argparse.Namespace, given: str, path: Path) -> Path:
    from ..confinement import outside, outside_refusal
    from ..errors import ALLOW_HINT as ALLOW_HINT_CORE

    roots = [Path.cwd(), *(Path(p) for p in getattr(args, "allow_path", None) or [])]
    if outside(path, roots):
        raise CommandError(outside_refusal(given, roots).replace(ALLOW_HINT_CORE, ALLOW_HINT))
    return path
