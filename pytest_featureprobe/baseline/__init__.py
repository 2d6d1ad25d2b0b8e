"""Baselines and the retraining gate.

- ``record``: ``Baseline`` (a stored sweep and what is needed to trust a comparison) and its format
- ``store``: baseline files on disk: path, read, atomic write, compatibility with today's model
- ``seed_band``: ``SeedBand`` and its score, the gate calibrated on retrains with other seeds
- ``drift``: flips, probability moves and pair interactions against a baseline; ``drift_rows``
- ``rank``: agreement of attribution rankings
- ``checks``: ``DriftCheck``, the gates a file's ``drift:`` section declares, run as test items

Imports the sweep, expectations' ``Outcome`` and provenance; never the spec, runner or pytest.
"""

from .checks import (
    BandLimit,
    DriftCheck,
    FlipLimit,
    InteractionTolerance,
    ProbabilityTolerance,
    RankAgreement,
)
from .drift import (
    DISPLAY_TOLERANCE,
    check_flips,
    check_interaction_drift,
    check_probability_drift,
    display_tolerances,
    drift_rows,
    probe_tolerances,
)
from .rank import check_rank_agreement, rank_correlation
from .record import FORMAT_VERSION, PRECISION, Baseline, BaselineError, model_facts
from .seed_band import BAND_FACTOR, SeedBand, band_distances, check_band
from .store import baseline_path, check_compatible, read_baseline, write_baseline

__all__ = [
    "BAND_FACTOR",
    "DISPLAY_TOLERANCE",
    "FORMAT_VERSION",
    "PRECISION",
    "BandLimit",
    "Baseline",
    "BaselineError",
    "DriftCheck",
    "FlipLimit",
    "InteractionTolerance",
    "ProbabilityTolerance",
    "RankAgreement",
    "SeedBand",
    "band_distances",
    "baseline_path",
    "check_band",
    "check_compatible",
    "check_flips",
    "check_interaction_drift",
    "check_probability_drift",
    "check_rank_agreement",
    "display_tolerances",
    "drift_rows",
    "model_facts",
    "probe_tolerances",
    "rank_correlation",
    "read_baseline",
    "write_baseline",
]
