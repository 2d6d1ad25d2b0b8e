"""Expectations: declared statements over a model's sweep that pass or fail, with explanations.

- ``outcome``: ``CheckContext`` (what a check reads) and ``Outcome`` (what it returns)
- ``probe``: predicts / probability / margin on selected probes (``EveryProbe`` quantifies)
- ``adding``: a feature raises, lowers or does not move a class probability
- ``ranking``: the top-k features toward a class
- ``names``: unknown features and classes, found at collection

Each kind knows which probes it needs (so one sweep serves a whole file) and checks itself against
a ``CheckContext``. A failed check explains itself: the probe, what was expected, what was observed
(every class probability) and by how much it missed. Imports the sweep's column names; never the
spec, the runner or pytest.
"""

from .adding import DIRECTION_TOLERANCE, AddingExpectation
from .names import Expectation, check_names
from .outcome import MAX_LISTED, CheckContext, Outcome, format_probs, text_table
from .probe import EveryProbe, ProbeExpectation
from .ranking import RankingExpectation

__all__ = [
    "DIRECTION_TOLERANCE",
    "MAX_LISTED",
    "AddingExpectation",
    "CheckContext",
    "EveryProbe",
    "Expectation",
    "Outcome",
    "ProbeExpectation",
    "RankingExpectation",
    "check_names",
    "format_probs",
    "text_table",
]
