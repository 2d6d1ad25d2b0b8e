"""The report page's markup: its style sheet, escaped text and a figure embedded as a PNG with
the full name of each label it shortened."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from typing import Any

from .figures import png_bytes, png_size

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1200px; padding: 0 1em; color: #1a202c; }
h1 { font-size: 1.6em; } h2 { border-bottom: 2px solid #e2e8f0; padding-bottom: .2em;
  margin-top: 2em; } h3 { font-size: 1.1em; margin-bottom: .3em; }
table { border-collapse: collapse; margin: .5em 0 1em; font-size: 13px; }
th, td { border: 1px solid #e2e8f0; padding: 3px 8px; text-align: left; }
td { overflow-wrap: anywhere; }  /* a long probe name wraps: no table wider than the page */
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.drift td { background: #fff5f5; } tr.flip td { background: #fed7d7; font-weight: 600; }
.passed { color: #276749; } .failed, .error { color: #c53030; font-weight: 600; }
.xpassed { color: #c05621; font-weight: 600; } .skipped, .xfailed, .not-run { color: #718096; }
.badge { display: inline-block; padding: 0 .5em; border-radius: 3px; color: white; }
.badge.ok { background: #38a169; } .badge.bad { background: #e53e3e; }
.badge.warn { background: #dd6b20; } .badge.none { background: #a0aec0; }
.failure pre { background: #fff5f5; border-left: 3px solid #e53e3e; padding: .5em .8em;
  overflow-x: auto; font-size: 12px; white-space: pre-wrap; }
figure { margin: 1em 0; } figcaption { color: #4a5568; font-size: 13px; }
img { max-width: 100%; height: auto; border: 1px solid #edf2f7; }
details.labels { font-size: 12px; color: #4a5568; } details.labels td { padding: 1px 6px; }
.note { color: #4a5568; font-style: italic; }
"""


def escape(value: Any) -> str:
    return html.escape(str(value))


def figure_html(kind: str, figure: Any, caption: str, key: Sequence[tuple[str, str]] = ()) -> str:
    """A figure as an embedded PNG, with the full name of each label it shortened."""
    data = png_bytes(figure)
    width, height = png_size(data)
    encoded = base64.b64encode(data).decode("ascii")
    labels = ""
    if key:
        rows = "".join(
            f'<tr><td title="{escape(full)}">{escape(short)}</td><td>{escape(full)}</td></tr>'
            for short, full in key
        )
        labels = (
            f'<details class="labels"><summary>Full names of the {len(key)} shortened labels'
            f"</summary><table><tr><th>label</th><th>full name</th></tr>{rows}</table></details>"
        )
    return (
        f'<figure data-kind="{kind}"><img alt="{escape(caption)}" width="{width}" '
        f'height="{height}" src="data:image/png;base64,{encoded}">'
        f"<figcaption>{escape(caption)}</figcaption>{labels}</figure>"
    )
