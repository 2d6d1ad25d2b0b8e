"""``featureprobe train DATA --features COL --label COL -o model.keras``: train the dense classifier
that ``model: train:`` trains, and save it with its sidecar, outside pytest.

The options are the ``train:`` keys (``--hidden``, ``--seed``, ...); their ranges are
``TrainSpec``'s, checked there, so the command and an expectation file refuse the same values.
The model and its sidecar are written together or not at all (``ProbeModel.save``), and checked
to be writable before any training."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from ..errors import FeatureProbeError, display_path, plural
from .common import (
    EXIT_OK,
    CommandError,
    cache_dir_option,
    confined_input,
    confined_output,
    csv_list,
    make_session,
    refuse_to_replace,
    write_failure,
)

#: The training options, as (option, TrainSpec key, argparse type, metavar, help).
TRAIN_OPTIONS = (
    ("--hidden", "hidden", str, "N,N", "hidden layer sizes, comma-separated (default 32,32)"),
    ("--activation", "activation", str, "NAME", "of the hidden layers (default relu)"),
    ("--epochs", "epochs", int, "N", "passes over the data (default 300)"),
    ("--steps", "steps", int, "N", "optimizer steps; beats --epochs when given"),
    ("--learning-rate", "learning_rate", float, "F", "Adam's learning rate (default 0.01)"),
    ("--batch-size", "batch_size", int, "N", "rows per step (default 32)"),
    ("--seed", "seed", int, "N", "seeds the initial weights and the data order (default 0)"),
)
OPTION_OF = {key: option for option, key, *_ in TRAIN_OPTIONS}
OPTION_OF.update({"data": "DATA", "features": "--features", "label": "--label"})


def _features(args: argparse.Namespace) -> Any:
    """``--features`` and ``--categorical`` as the ``features:`` key declares them."""
    categorical = csv_list(args.categorical)
    if args.features is None and not categorical:
        raise CommandError("name the input: --features COLUMN (tokens) or --categorical A,B")
    if not categorical:
        return args.features
    if args.features is None:
        return {"categorical": categorical}
    return {"tokens": args.features, "categorical": categorical}


def _spec(args: argparse.Namespace) -> dict[str, Any]:
    """The training options given, as ``train:`` keys: parsed here (one line, not argparse's
    usage text, for a value that is not a number); TrainSpec checks their ranges."""
    spec: dict[str, Any] = {}
    for option, key, kind, *_ in TRAIN_OPTIONS:
        text = getattr(args, key)
        if text is None:
            continue
        try:
            if key == "hidden":
                value: Any = [int(size) for size in csv_list(text) or []]
            else:
                value = kind(text)
        except (ValueError, CommandError):
            what = "layer sizes are integers" if key == "hidden" else _NOUN[kind]
            raise CommandError(f"{option}: {what}, not {text!r}") from None
        spec[key] = value
    return spec


_NOUN = {int: "an integer", float: "a number", str: "a name"}


def _option_error(exc: FeatureProbeError, args: argparse.Namespace, data: Path) -> CommandError:
    """A spec or data error, named by the option that gave the value (a column by
    ``--features`` or ``--categorical``), a data file's own error by the file."""
    key = (exc.key or "").split(".")[0]
    if key == args.features:
        key = "features"
    elif key in (csv_list(args.categorical) or []):
        key = "categorical"
    if key == "categorical" or OPTION_OF.get(key, "").startswith("--"):
        option = OPTION_OF.get(key, "--categorical")
        return CommandError(f"{option}: {exc.message.replace(' in the data', f' in {data.name}')}")
    message = exc.describe(Path.cwd())
    shown = display_path(data)
    return CommandError(message if shown in message else f"{shown}: {message}")


def run(args: argparse.Namespace) -> int:
    from ..keras_runtime import start_keras_quietly
    from ..models.sidecar import SIDECAR_SUFFIX

    out = Path(args.output)
    if out.suffix != ".keras":
        raise CommandError(f"--output must be a .keras file, not {args.output}")
    data = confined_input(args, args.data, "data file")
    features, spec = _features(args), _spec(args)
    sidecar = Path(f"{out}{SIDECAR_SUFFIX}")
    for written in (args.output, str(sidecar)):
        confined_output(args, written)
    refuse_to_replace([out, sidecar], args.force, "the model and its sidecar")
    session = make_session(args)
    started = time.monotonic()
    try:
        from ..training import TrainSpec

        TrainSpec.from_mapping(spec)  # the options' ranges, before the data is read
        rows = len(session.frame(data, None)[0])
        start_keras_quietly()
        model = session.train(data, features, args.label, **spec)
    except FeatureProbeError as exc:
        raise _option_error(exc, args, data) from None
    try:
        model.save(out)
    except OSError as exc:
        raise CommandError(f"{write_failure(exc, out)}; nothing was written") from None
    _print_trained(model, data, out, sidecar, rows, time.monotonic() - started)
    return EXIT_OK


def _print_trained(
    model: Any, data: Path, out: Path, sidecar: Path, rows: int, seconds: float
) -> None:
    from ..errors import preview

    info = model.info
    print(
        f"trained {display_path(out)}: {plural(len(model.space), 'feature')}, classes "
        f"{preview(list(model.classes))}, on {plural(rows, 'row')} of {display_path(data)} "
        f"(seed {info['spec']['seed']}, {plural(info['steps'], 'step', grouped=True)}, "
        f"training accuracy {info['training_accuracy']:.3f}, {seconds:.1f} s"
        f"{', weights from the cache' if info.get('from_cache') else ''})"
    )
    print(f"sidecar {display_path(sidecar)} (its feature space and classes)")
    print(f"next: featureprobe record {display_path(out)} -o featureprobe_{out.stem}.yaml")


def add_parser(commands: Any) -> None:
    train = commands.add_parser(
        "train",
        help="train the dense classifier from a data file and save it with its sidecar",
        description="Train the dense classifier that an expectation file's model: train: "
        "trains (the same options, ranges and weights) and save it as a .keras file with its "
        "sidecar (<model>.keras.featureprobe.json: feature space and classes), written "
        "together or not at all.",
    )
    train.add_argument("data", metavar="DATA", help="a CSV or JSON data file")
    train.add_argument(
        "--features", metavar="COLUMN", help='a column of tokens ("free offer" or "[a, b]")'
    )
    train.add_argument(
        "--categorical", metavar="A,B", help="categorical columns (one feature column=value each)"
    )
    train.add_argument("--label", required=True, metavar="COLUMN", help="the class column")
    train.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="the .keras file to write"
    )
    for option, key, _kind, metavar, text in TRAIN_OPTIONS:
        train.add_argument(option, dest=key, metavar=metavar, help=text)
    train.add_argument(
        "-f", "--force", action="store_true", help="replace an existing model and its sidecar"
    )
    cache_dir_option(train)
    train.add_argument(
        "--allow-path",
        action="append",
        metavar="DIR",
        help="let DATA lie under DIR (besides the working directory; repeatable)",
    )
    train.set_defaults(run=run)
