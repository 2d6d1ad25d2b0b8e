"""pytest-featureprobe: probe sweeps, declarative expectations and retraining gates for classifiers.

This package is imported by pytest in every run of an environment where it is installed, so this
module and ``plugin`` import nothing heavy. The library lives in its submodules:

- ``features``: the feature space and multi-hot encoding
- ``training``: the deterministic dense classifier and its on-disk cache
- ``models``: loading and adapting models (Keras files, callables, ``predict_proba`` objects)
- ``probes`` / ``sweep``: probe generation and the batched sweep
- ``session``: one place that trains, loads and sweeps each model once
"""

__version__ = "0.1.0"

#: Folder beside each expectation file that holds its baseline (ini featureprobe_baseline_dir).
DEFAULT_BASELINE_FOLDER = "__featureprobe__"
