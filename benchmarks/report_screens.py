"""Screenshots of the HTML report (issue 17): each example passing, the retraining gate failing on
changed data (a drift failure) and a 250-feature order-3 model.

    python -m benchmarks.report_screens [OUT]        # default: build/report-screens/

Each report is written with ``--featureprobe-report`` (the 250-feature one with
``report.write_report``) into ``OUT/<name>/index.html``: one pytest run per example folder, on
copies of the examples in a temporary folder (the repository is never written). When
``chromium`` (or ``chromium-browser``, ``google-chrome``) is on PATH, each page is also shot
headless at 1280 px wide as ``OUT/<name>.png``; without one the pages are left to open by hand.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
QUIET = ("-q", "-p", "no:cacheprovider", "-p", "no:randomly")


def pytest_report(folder: Path, out: Path, *extra: str) -> int:
    """Run pytest on ``folder`` with the report written into ``out``; its exit status."""
    command = [sys.executable, "-m", "pytest", str(folder), *QUIET, "--featureprobe-report"]
    started = time.perf_counter()
    done = subprocess.run([*command, str(out), *extra], cwd=folder, check=False)
    print(f"{out.name}: pytest exit {done.returncode} in {time.perf_counter() - started:.1f} s")
    if not (out / "index.html").exists():
        print(f"{out.name}: no report was written")
    return done.returncode


def failing_gate(work: Path) -> Path:
    """A copy of the retraining gate on changed data: row [1, 4, 5] relabelled C -> A."""
    gate = work / "retrain_gate"
    shutil.copytree(EXAMPLES / "retrain_gate", gate)
    csv = gate / "problems.csv"
    text = csv.read_text(encoding="utf-8")
    changed = text.replace('"[1, 4, 5]",C', '"[1, 4, 5]",A')
    if changed == text:
        raise SystemExit("examples/retrain_gate/problems.csv no longer has the row [1, 4, 5]")
    csv.write_text(changed, encoding="utf-8")
    return gate


def wide_model_report(out: Path, n: int = 250, order: int = 3) -> None:
    """The report of a small ReLU network over ``n`` features swept to ``order``."""
    import numpy as np

    from pytest_featureprobe import report
    from pytest_featureprobe.features import FeatureSpace
    from pytest_featureprobe.models import from_callable

    rng = np.random.default_rng(0)
    # Small weights: a few features matter, most move little (as in a trained model), so the
    # figures are not all saturation.
    first = rng.normal(0, 1, (n, 64)) * (rng.random((n, 1)) < 0.1) + rng.normal(0, 0.05, (n, 64))
    second = rng.normal(0, 0.5, (64, 3))

    def forward(x):
        return np.maximum(x @ first, 0) @ second

    names = [f"feature_{i:03d}" for i in range(n)]
    space = FeatureSpace.from_names(names)
    description = f"ReLU network, {n} features"
    model = from_callable(
        forward, space, ["A", "B", "C"], outputs="logits", description=description
    )
    started = time.perf_counter()
    path = report.write_report(out, [model.sweep(order=order)])
    print(f"{out.name}: written in {time.perf_counter() - started:.1f} s: {path}")


def browser() -> str | None:
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def screenshot(program: str, page: Path, image: Path, height: int) -> None:
    command = [
        program,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--screenshot={image}",
        f"--window-size=1280,{height}",
        page.resolve().as_uri(),
    ]
    subprocess.run(command, check=False, capture_output=True, timeout=120)
    print(f"screenshot: {image}" if image.exists() else f"no screenshot of {page}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=ROOT / "build" / "report-screens", type=Path)
    parser.add_argument(
        "--height",
        type=int,
        default=5000,
        help="screenshot height in pixels (5000: the whole of the failing gate's and the "
        "order-3 page, their drift, band and interaction figures included)",
    )
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="featureprobe-screens-") as tmp:
        work = Path(tmp)
        shutil.copytree(EXAMPLES, work / "examples")
        names = []
        for folder in sorted(p for p in (work / "examples").iterdir() if p.is_dir()):
            if any(folder.glob("featureprobe_*.yaml")):  # one run each: each its own models
                names.append(f"examples-{folder.name}")
                pytest_report(folder, out / names[-1])
        pytest_report(failing_gate(work), out / "failing-gate")
    wide_model_report(out / "wide-order-3")
    program = browser()
    pages = [out / name / "index.html" for name in [*names, "failing-gate", "wide-order-3"]]
    if program is None:
        print("no chromium on PATH: open these pages instead:", *pages, sep="\n  ")
        return 0
    for page in pages:
        if page.exists():
            screenshot(program, page, out / f"{page.parent.name}.png", args.height)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
