"""The HTML report: per model, pictures of its sweep and of its drift against the baseline.

- ``entry``: ``ReportEntry``, one model's section as plain data (the runner fills it)
- ``figures``: the matplotlib figures (heatmap, attribution bars, interactions, drift) as PNG
- ``page``: the self-contained HTML page, ``write_report`` and ``render_report``

``write_report(directory, entries)`` writes ``directory/index.html``; ``pytest
--featureprobe-report DIR`` writes the report of the models a run probed (the pytest layer's
``report_plugin``). Figures are drawn with matplotlib (the ``report`` extra), imported only when a
report is written. Imports the sweep and the baseline; never the runner or pytest.
"""

from .entry import ReportEntry
from .figures import (
    MAX_BAR_FEATURES,
    MAX_HEATMAP_PROBES,
    MAX_MATRIX_FEATURES,
    attribution_pixels,
    drift_pixels,
    heatmap_pixels,
    heatmap_probes,
    interaction_matrix,
    interaction_pixels,
    png_size,
    single_features,
)
from .page import INSTALL_HINT, ReportUnavailable, render_report, require_matplotlib, write_report

__all__ = [
    "INSTALL_HINT",
    "MAX_BAR_FEATURES",
    "MAX_HEATMAP_PROBES",
    "MAX_MATRIX_FEATURES",
    "ReportEntry",
    "ReportUnavailable",
    "attribution_pixels",
    "drift_pixels",
    "heatmap_pixels",
    "heatmap_probes",
    "interaction_matrix",
    "interaction_pixels",
    "png_size",
    "render_report",
    "require_matplotlib",
    "single_features",
    "write_report",
]
