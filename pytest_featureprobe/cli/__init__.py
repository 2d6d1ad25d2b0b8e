"""The ``featureprobe`` command: explore a probe table, put a gate on a model, compare, calibrate.

Subcommands (each with ``--help``), one module each on the shared pieces of ``common``:

- ``train`` (``cmd_train``): train the dense classifier from a data file, save it with its sidecar
- ``sweep`` (``cmd_sweep``): print the probe table of a ``.keras`` model or a file's model
- ``check`` (``cmd_check``): run expectation files without pytest, through the same runner
- ``record`` (``cmd_record``): write an expectation file (and baseline) of today's behaviour
- ``diff`` (``cmd_diff``): compare a baseline with another baseline or with a model
- ``calibrate`` (``cmd_calibrate``): train a file's calibration seeds and write its baseline

Exit codes: 0 ok, 1 drift or failure, 2 usage error (bad arguments, a missing or malformed file).
Progress goes to stderr, and only when stderr is a terminal (``progress``). Nothing heavy is
imported until a subcommand needs it, so ``--help`` is instant. The command uses the core and the
runner, as the pytest layer does; it never imports the pytest layer.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .. import __version__
from ..errors import FeatureProbeError, display_path
from . import cmd_calibrate, cmd_check, cmd_diff, cmd_record, cmd_sweep, cmd_train
from .common import EXIT_DRIFT, EXIT_USAGE, PROG, CommandError

COMMANDS = (cmd_train, cmd_sweep, cmd_check, cmd_record, cmd_diff, cmd_calibrate)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Probe a classifier: print its probe table, record its behaviour as an "
        "expectation file, compare baselines, calibrate the retraining gate.",
        epilog="exit status: 0 ok, 1 drift or failure, 2 usage error. "
        "MODEL is a .keras file (its space and classes from the sidecar ProbeModel.save writes, "
        "or --features/--classes) or an expectation file whose model is train: or load:.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def _error(message: str) -> None:
    text = " ".join(str(message).split("\n"))
    print(f"{PROG}: error: {text}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) and argument errors (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args.run(args)
    except CommandError as exc:
        _error(str(exc))
    except FeatureProbeError as exc:
        _error(exc.describe(Path.cwd()))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `featureprobe sweep m.keras | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_DRIFT
    except OSError as exc:  # a file system's refusal no check foresaw: one line, not a traceback
        where = f"{display_path(exc.filename)}: " if exc.filename else ""
        _error(f"{where}{(exc.strerror or str(exc)).lower()}")
    except RuntimeError as exc:  # a symbolic link loop met by pathlib
        _error(str(exc))
    return EXIT_USAGE
