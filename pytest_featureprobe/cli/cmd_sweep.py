"""``featureprobe sweep MODEL``: print the probe table (text, CSV or JSON)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from ..errors import plural
from .common import (
    EXIT_OK,
    allow_path_option,
    context_options,
    count_arg,
    make_session,
    model_options,
    order_arg,
)
from .sources import load_source, source_sweep

if TYPE_CHECKING:
    from ..sweep import Sweep


def sweep_records(sweep: Sweep) -> list[dict[str, Any]]:
    """One JSON-ready record per probe: features, probabilities, prediction, margin, deltas."""
    from ..sweep import delta_column, interaction_column, prob_column

    table = sweep.table
    classes = sweep.classes
    probs = {c: table[prob_column(c)].tolist() for c in classes}
    deltas = {c: table[delta_column(c)].tolist() for c in classes}
    pairs = {c: table[interaction_column(c)].tolist() for c in classes}
    columns = zip(
        table.index,
        table["order"],
        table["features"],
        table["predicted"],
        table["margin"],
        strict=True,
    )
    records = []
    for i, (name, order, features, predicted, margin) in enumerate(columns):
        record: dict[str, Any] = {
            "probe": str(name),
            "order": int(order),
            "features": list(features),
            "p": {c: probs[c][i] for c in classes},
            "predicted": str(predicted),
            "margin": float(margin),
            "dP": {c: deltas[c][i] for c in classes},
        }
        if order == 2:
            record["interaction"] = {c: pairs[c][i] for c in classes}
        if "unchanged" in table.columns:  # in context
            row = table.iloc[i]
            record["sd_dP"] = {c: float(row[f"sd_dP({c})"]) for c in classes}
            record["share"] = {c: float(row[f"share({c})"]) for c in classes}
            record["rows"] = int(row["rows"])
            record["unchanged"] = int(row["unchanged"])
        records.append(record)
    return records


def _sweep_csv(sweep: Sweep) -> str:
    from ..sweep import delta_column, interaction_column, prob_column

    table = sweep.table
    columns = (
        ["order", "features"]
        + [prob_column(c) for c in sweep.classes]
        + ["predicted", "margin"]
        + [delta_column(c) for c in sweep.classes]
    )
    if sweep.order >= 2:
        columns += [interaction_column(c) for c in sweep.classes]
    if "unchanged" in table.columns:  # in context
        columns += [f"sd_dP({c})" for c in sweep.classes] + [f"share({c})" for c in sweep.classes]
        columns += ["rows", "unchanged"]
    frame = table[columns].copy()
    frame["features"] = [json.dumps(list(f)) for f in frame["features"]]
    return frame.to_csv(float_format="%.6f", lineterminator="\n")


def run(args: argparse.Namespace) -> int:
    session = make_session(args)
    source = load_source(args, session, args.model)
    sweep, context, _ = source_sweep(args, source, session, args.order)
    out = sys.stdout
    if args.format == "json":
        payload = {
            "model": source.model.description,
            "fingerprint": source.model.fingerprint,
            "classes": list(sweep.classes),
            "features": list(sweep.space.features),
            "order": sweep.order,
            "context": sweep.context,
            "probes": sweep_records(sweep),
        }
        out.write(json.dumps(payload, indent=1) + "\n")
    elif args.format == "csv":
        out.write(_sweep_csv(sweep))
    else:
        rows = 0 if context.is_zero else len(context.rows)
        where = f" in the context of {context.name} ({plural(rows, 'row')})" if rows else ""
        out.write(
            f"{source.model.description}: {len(sweep)} probes up to order {sweep.order}{where}, "
            f"classes {', '.join(sweep.classes)}\n"
        )
        out.write(sweep.to_string(max_rows=args.max_rows or None) + "\n")
    return EXIT_OK


def add_parser(commands: Any) -> None:
    sweep = commands.add_parser(
        "sweep",
        help="print a model's probe table",
        description="Print the probe table: the zero probe, each feature alone (and pairs, "
        "triples with --order), class probabilities, predicted class, margin, change from zero.",
    )
    sweep.add_argument("model", metavar="MODEL", help="a .keras file or an expectation .yaml file")
    sweep.add_argument(
        "--order", type=order_arg, default=1, metavar="N", help="highest probe order (default 1)"
    )
    sweep.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sweep.add_argument(
        "--max-rows",
        type=count_arg,
        default=60,
        metavar="N",
        help="rows of the table format (default 60; 0: all)",
    )
    context_options(sweep)
    model_options(sweep)
    allow_path_option(sweep)
    sweep.set_defaults(run=run)
