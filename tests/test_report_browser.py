"""The HTML report in a real browser: headless Chromium opens the page ``--featureprobe-report``
writes, every figure loads and nothing is wider than the window (1280 and 800 px), and a
screenshot is taken; a deliberately broken page shows that the check can fail.

The check is a script added to a copy of the report (the report itself has none): on load it
writes its verdict (images, the ones that did not load, the page's scroll width, the elements
wider than the window) into the DOM, which ``chromium --dump-dom`` prints. Skipped, with the
install line, where no Chromium is installed; ``.ci/run`` installs Debian's ``chromium``.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_featureprobe.report import png_size

from .plugin.test_report_plugin import CONFTEST
from .report_toy import CLASSES, QUIET, WEIGHTS

pytestmark = pytest.mark.system

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL = "apt-get install chromium"
# Long names, as `column=value` features have: shortened in the figures, whole in the tables.
FEATURES = [f"customer_segment=enterprise_platinum_tier_{c}" for c in "abcdef"]
EXPECTATIONS = f"""\
model:
  fixture: featureprobe_model
expect:
  - alone: {FEATURES[0]}
    predicts: A
  - alone: {FEATURES[4]}
    predicts: C
drift:
  order: 2
  max_abs_delta: 0.05
  max_flips: 0
"""
CHECK = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var width = window.innerWidth;
  var hidden = function (e) { var d = e.closest("details"); return d && !d.open && e !== d; };
  var clipped = function (e) {  // inside a box that scrolls or clips its content
    for (var a = e; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== "visible") { return true; }
    }
    return false;
  };
  var right = function (e) {  // where its box, or the content that spills out of it, ends
    var r = e.getBoundingClientRect();
    return Math.max(r.right, r.left + e.scrollWidth);
  };
  var wide = Array.prototype.slice.call(document.body.querySelectorAll("*"))
    .filter(function (e) { return !hidden(e) && !clipped(e) && right(e) > width + 0.5; })
    .slice(0, 10)
    .map(function (e) { return e.tagName.toLowerCase() + "." + e.className; });
  var verdict = {
    images: images.length,
    broken: images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
      .map(function (i) { return i.alt; }),
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: width,
    wide: wide
  };
  var out = document.createElement("pre");
  out.id = "featureprobe-verdict";
  out.textContent = JSON.stringify(verdict);
  document.body.appendChild(out);
});
</script>"""
VERDICT = re.compile(r'<pre id="featureprobe-verdict">(.*?)</pre>', re.S)


def browser() -> str:
    found = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if found is None:
        pytest.skip(f"no headless Chromium on PATH for the browser check: {INSTALL}")
    return found


def chromium(program: str, profile: Path, width: int, *arguments: str) -> str:
    """Run headless Chromium (no network, no first-run work) and return its stdout."""
    command = [
        program,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={width},2000",
        "--virtual-time-budget=5000",
        *arguments,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def verdict(program: str, page: Path, width: int) -> dict:
    """What the check script found in ``page`` (a copy with the script added) at ``width``."""
    checked = page.with_name(f"checked-{width}.html")
    checked.write_text(page.read_text(encoding="utf-8").replace("</body>", CHECK + "</body>"))
    dom = chromium(program, page.parent / "profile", width, "--dump-dom", checked.as_uri())
    found = VERDICT.search(dom)
    assert found, f"the check script wrote no verdict:\n{dom[-2000:]}"
    return json.loads(html.unescape(found.group(1)))


def pytest_run(folder: Path, *arguments: str) -> None:
    command = [sys.executable, "-m", "pytest", *QUIET, "-p", "no:xdist", "-q", *arguments]
    subprocess.run(command, cwd=folder, capture_output=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of a run whose retrained model drifts and fails (figures, failures, drift)."""
    pytest.importorskip("matplotlib")
    folder = tmp_path_factory.mktemp("browser")
    conftest = folder / "conftest.py"
    conftest.write_text(CONFTEST.format(weights=WEIGHTS, features=FEATURES, classes=CLASSES))
    (folder / "featureprobe_toy.yaml").write_text(EXPECTATIONS)
    pytest_run(folder, "--featureprobe-update")
    changed = [*WEIGHTS[:4], [2, -1, -1], WEIGHTS[5]]  # e now leans to A: flips, failures
    conftest.write_text(CONFTEST.format(weights=changed, features=FEATURES, classes=CLASSES))
    pytest_run(folder, "--featureprobe-report", "out")
    page = folder / "out" / "index.html"
    assert page.exists(), "--featureprobe-report wrote no page"
    return page


@pytest.mark.parametrize("width", [1280, 800])
def test_every_figure_loads_and_nothing_overflows_the_window(report, width):
    found = verdict(browser(), report, width)
    assert found["images"] == 4, found  # heatmap, attribution, interaction, drift
    assert found["broken"] == [], found
    assert found["innerWidth"] == width, found
    assert found["scrollWidth"] <= width, found
    assert found["wide"] == [], found


def test_a_screenshot_of_the_report_is_a_png_of_the_window(report):
    shot = report.with_name("screenshot.png")
    program = browser()
    chromium(program, report.parent / "profile", 1280, f"--screenshot={shot}", report.as_uri())
    data = shot.read_bytes()
    assert png_size(data) == (1280, 2000)
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.std() > 0.05  # the page drawn, not a blank window


def test_a_broken_image_and_a_wide_element_fail_the_check(report):
    broken = report.with_name("broken.html")
    damage = (
        f'<img alt="bad data" src="data:image/png;base64,AAAA"><p>{"unbreakable" * 300}</p></body>'
    )
    broken.write_text(report.read_text(encoding="utf-8").replace("</body>", damage))
    found = verdict(browser(), broken, 800)
    assert found["images"] == 5, found
    assert found["broken"] == ["bad data"], found
    assert found["scrollWidth"] > found["innerWidth"] == 800, found
    assert "p." in found["wide"], found
