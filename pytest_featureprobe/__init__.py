"""pytest-featureprobe: probe sweeps, declarative expectations and retraining gates for classifiers.

This package is imported by pytest in every run of an environment where it is installed, so this
module and ``plugin`` import nothing heavy. Layers, each importing only those above it in this
list (README, "Where things are"; ``tests/test_layers.py`` enforces it):

1. the core, which imports neither pytest nor the layers below it: ``errors``, ``files``,
   ``provenance``, ``keras_runtime``, ``confinement``; ``features``, ``data``, ``probes``;
   ``models/``, ``sweep``, ``contexts``, ``training``, ``model_cache``; ``expectations/``,
   ``baseline/``; ``spec/``; ``memo``; ``report/``
2. ``runner/``: a document plus models -> outcomes, baselines written, report entries
3. ``plugin/``: the pytest layer, adapting the runner to pytest
4. ``cli/``: the ``featureprobe`` command, on the same runner
"""

__version__ = "0.1.0"

#: Folder beside each expectation file that holds its baseline (ini featureprobe_baseline_dir).
DEFAULT_BASELINE_FOLDER = "__featureprobe__"
