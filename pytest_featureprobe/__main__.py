"""``python -m pytest_featureprobe``: the ``featureprobe`` command."""

from .cli import main

raise SystemExit(main())
