"""The toy model of the report's tests (three classes over six features, with one interaction)
and a reader of the images a report page embeds."""

from __future__ import annotations

import base64
import io
import re

import numpy as np

from pytest_featureprobe.features import FeatureSpace
from pytest_featureprobe.models import from_callable

QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
FEATURES = ["a", "b", "c", "d", "e", "f"]
CLASSES = ["A", "B", "C"]
# Logits of each feature alone toward A, B, C; "e" leans to C.
WEIGHTS = [[2, -1, -1], [1, 0, -1], [-1, 2, -1], [0, 1, 0], [-1, -1, 2], [0.5, 0, 0]]
IMAGE = re.compile(
    r'<figure data-kind="(\w+)"><img alt="[^"]*" width="(\d+)" height="(\d+)" '
    r'src="data:image/png;base64,([A-Za-z0-9+/=]+)">'
)


def logits_model(weights=WEIGHTS, pair_bonus: float = 1.5):
    """Three classes over six features, with an interaction: a and c together lean to B."""
    w = np.array(weights, dtype=np.float64)

    def forward(x):
        logits = x @ w
        logits[:, 1] += pair_bonus * x[:, 0] * x[:, 2]
        return logits

    return from_callable(
        forward, FeatureSpace.from_names(FEATURES), CLASSES, outputs="logits", description="toy"
    )


def images(page: str) -> list[tuple[str, int, int, bytes]]:
    return [(k, int(w), int(h), base64.b64decode(d)) for k, w, h, d in IMAGE.findall(page)]


def decoded(data: bytes) -> np.ndarray:
    """Decode the PNG with matplotlib's reader: (height, width, channels)."""
    from matplotlib.image import imread

    return imread(io.BytesIO(data), format="png")
