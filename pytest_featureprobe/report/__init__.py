"""The HTML report: per model, pictures of its sweep and of its drift against the baseline.

- ``entry``: ``ReportEntry``, one model's section as plain data (the runner fills it)
- ``figures``: the matplotlib figures (heatmap, attribution bars, interactions, drift, band) as PNG
- ``ranking``: which probes and features the figures show, ranked by how much they move
- ``labels``: shortened labels and their full names, mathtext-safe text, counts, colours
- ``results``: the tests' outcomes counted as pytest counts them, the worst outcome, failure text
- ``page``: the self-contained HTML page, ``write_report`` and ``render_report``

``write_report(directory, entries)`` writes ``directory/index.html``; ``pytest
--featureprobe-report DIR`` writes the report of the models a run probed (the pytest layer's
``report_plugin``). Figures are drawn with matplotlib (the ``report`` extra), imported only when a
report is written. Imports the sweep and the baseline; never the runner or pytest.
"""

from .entry import ReportEntry
from .figures import (
    MAX_BAR_FEATURES,
    MAX_MATRIX_FEATURES,
    attribution_pixels,
    color_limit,
    drift_pixels,
    heatmap_pixels,
    interaction_matrix,
    interaction_pixels,
    png_size,
)
from .labels import count, label_key, plain, short_labels
from .page import INSTALL_HINT, ReportUnavailable, render_report, require_matplotlib, write_report
from .ranking import MAX_HEATMAP_PROBES, heatmap_probes, ranked, single_features
from .results import outcome_counts, worst_outcome

__all__ = [
    "INSTALL_HINT",
    "MAX_BAR_FEATURES",
    "MAX_HEATMAP_PROBES",
    "MAX_MATRIX_FEATURES",
    "ReportEntry",
    "ReportUnavailable",
    "attribution_pixels",
    "color_limit",
    "count",
    "drift_pixels",
    "heatmap_pixels",
    "heatmap_probes",
    "interaction_matrix",
    "interaction_pixels",
    "label_key",
    "outcome_counts",
    "plain",
    "png_size",
    "ranked",
    "render_report",
    "require_matplotlib",
    "short_labels",
    "single_features",
    "worst_outcome",
    "write_report",
]
