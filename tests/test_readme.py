"""README is true: every ```yaml and ```python block of README.md is a file of the repository that
the suite runs, or it is run here.

A block may carry a marker, an HTML comment on the last non-blank line before its fence:

- ``<!-- readme-test: file PATH -->``: the block is the whole of PATH, a file under examples/
  (which ``python -m pytest examples`` runs);
- ``<!-- readme-test: excerpt PATH -->``: the block's lines are lines of PATH, together, in order;
- ``<!-- readme-test: fragment -->``: YAML that is a part of a file, only parsed (our loader);
- ``<!-- readme-test: in FOLDER -->``: Python run in a copy of FOLDER; a ```sh block right after
  it marked ``<!-- readme-test: run after the block above -->`` then has its ``featureprobe`` and
  ``pytest`` commands run there, each of which must succeed;
- ``<!-- readme-test: with SOURCE as NAME -->``: SOURCE (a file or folder) is copied to NAME in
  the folder the block runs in;
- ``<!-- readme-test: skip (reason) -->``: not run; the reason is required, and fewer than
  ``MAX_SKIPPED`` blocks may be skipped.

Unmarked, a YAML block that is part of an examples file is that file's (as ``excerpt``); any
other is loaded with the plugin's ``load_document`` (schema and parse), a list of ``expect:``
entries or a ``drift:`` section inside a minimal file, and no entry may hold an error. A Python
block whose first line is ``# NAME.py`` is a file of a pytester project, together with the file
blocks right after it; the project must pass. Any other Python block is executed.
"""

from __future__ import annotations

import itertools
import re
import shlex
import shutil
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
EXAMPLES = ROOT / "examples"
MAX_SKIPPED = 5  # skipped blocks must stay fewer than this
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")

_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
_MARKER = re.compile(r"^<!--\s*readme-test:\s*(.*?)\s*-->$")
_FILE_HEADER = re.compile(r"^# ([\w./-]+\.py)\s*$")


@dataclass
class Block:
    line: int  # of the opening fence, 1-based
    lang: str
    text: str
    marker: str = ""
    follower: Block | None = None  # the block right after it
    project: list[Block] = field(default_factory=list)  # file blocks run together with it

    @property
    def id(self) -> str:
        return f"README.md:{self.line}-{self.lang}"

    @property
    def kind(self) -> str:
        return self.marker.split(" ", 1)[0] if self.marker else ""

    @property
    def argument(self) -> str:
        return self.marker.split(" ", 1)[1] if " " in self.marker else ""

    @property
    def file_name(self) -> str | None:
        match = _FILE_HEADER.match(self.text.split("\n", 1)[0])
        return match.group(1) if match and self.lang == "python" else None


def readme_blocks(text: str) -> list[Block]:
    """Every fenced block of README, with its marker and the block after it."""
    blocks = []
    for match in _FENCE.finditer(text):
        before = [ln.strip() for ln in text[: match.start()].splitlines() if ln.strip()]
        marker = _MARKER.match(before[-1]) if before else None
        line = text.count("\n", 0, match.start()) + 1
        found = marker.group(1) if marker else ""
        blocks.append(Block(line, match.group(1), match.group(2), found))
    for block, after in itertools.pairwise(blocks):
        block.follower = after
    for n, block in enumerate(blocks):
        previous = blocks[n - 1] if n else None
        if block.file_name and not (previous is not None and previous.file_name):
            block.project = [block]
            for after in blocks[n + 1 :]:
                if not after.file_name or after.marker:
                    break
                block.project.append(after)
    return blocks


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))
TESTED = [b for b in BLOCKS if b.lang in ("yaml", "python")]
# The file blocks after a project's first are run with it.
FOLLOWING = {id(b) for b in TESTED for b in b.project[1:]}
RUN = [b for b in TESTED if id(b) not in FOLLOWING]


def _lines(text: str) -> list[str]:
    return [ln.rstrip() for ln in text.strip("\n").splitlines()]


def _contains(whole: list[str], part: list[str]) -> bool:
    return any(whole[n : n + len(part)] == part for n in range(len(whole) - len(part) + 1))


def _example_holding(block: Block) -> Path | None:
    part = _lines(block.text)
    for path in sorted(EXAMPLES.rglob(f"*.{'yaml' if block.lang == 'yaml' else 'py'}")):
        if _contains(_lines(path.read_text(encoding="utf-8")), part):
            return path
    return None


def _copy_in(block: Block, folder: Path) -> None:
    """What ``in`` and ``with ... as ...`` markers ask for, copied into the block's folder."""
    if block.kind == "in":
        source, name = block.argument, "."
    elif block.kind == "with":
        source, _, name = block.argument.partition(" as ")
    else:
        return
    source_path = ROOT / source.strip()
    assert source_path.exists(), f"{block.id}: {source} does not exist"
    target = folder / name.strip()
    if source_path.is_dir():
        shutil.copytree(source_path, target, dirs_exist_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source_path, target)


def _check_yaml(block: Block, tmp_path: Path) -> None:
    from pytest_featureprobe.spec import yaml_lines
    from pytest_featureprobe.spec.document import load_document

    data = yaml_lines.load_yaml(block.text, block.id)
    if block.kind == "fragment":
        return
    if isinstance(data, list):
        text = "model:\n  train: {data: d.csv, features: f, label: y}\nexpect:\n"
        text += textwrap.indent(block.text, "  ")
    elif isinstance(data, dict) and "model" not in data:
        assert set(data) == {"drift"}, f"{block.id}: neither a file nor a part we know; mark it"
        text = "model:\n  train: {data: d.csv, features: f, label: y}\n"
        text += "expect:\n  - biased_toward: A\n" + block.text
    else:
        text = block.text
    path = tmp_path / "featureprobe_readme.yaml"
    path.write_text(text, encoding="utf-8")
    document = load_document(path)
    errors = [item.error for item in document.items if item.error is not None]
    assert not errors, f"{block.id}: {errors[0]}"


def _run_project(block: Block, pytester: pytest.Pytester) -> None:
    for member in block.project:
        path = pytester.path / member.file_name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(member.text, encoding="utf-8")
    names = [m.file_name for m in block.project if Path(m.file_name).name.startswith("test_")]
    result = pytester.runpytest(*QUIET, *names)
    assert result.ret == 0, f"{block.id}: the project fails:\n{result.stdout.str()}"
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 1 and not outcomes.get("failed"), outcomes


def _run_commands(block: Block, pytester: pytest.Pytester) -> None:
    """The ``featureprobe`` and ``pytest`` commands of a ```sh block, in pytester's folder."""
    from pytest_featureprobe.cli import main

    commands = [shlex.split(ln, comments=True) for ln in block.text.splitlines()]
    commands = [c for c in commands if c]
    assert commands, f"{block.id}: no commands"
    for command in commands:
        if command[0] == "featureprobe":
            assert main(command[1:]) == 0, f"{block.id}: {shlex.join(command)} failed"
        elif command[0] == "pytest":
            result = pytester.runpytest(*QUIET, *command[1:])
            assert result.ret == 0, f"{block.id}: {shlex.join(command)}:\n{result.stdout.str()}"
        else:
            pytest.fail(f"{block.id}: only featureprobe and pytest commands run: {command[0]}")


def _run_python(block: Block, pytester: pytest.Pytester) -> None:
    code = compile(block.text, block.id, "exec")
    exec(code, {"__name__": "__readme__"})
    after = block.follower
    if after is not None and after.lang == "sh" and after.marker == "run after the block above":
        _run_commands(after, pytester)


@pytest.mark.parametrize("block", RUN, ids=[b.id for b in RUN])
def test_readme_block_is_true(block: Block, pytester: pytest.Pytester) -> None:
    kind = block.kind
    if kind == "skip":
        assert re.fullmatch(r"\(.+\)", block.argument), f"{block.id}: a skip needs a (reason)"
        pytest.skip(f"{block.id}: {block.argument}")
    assert kind in ("", "file", "excerpt", "fragment", "in", "with"), f"{block.id}: {kind}?"
    if kind in ("file", "excerpt"):
        path = ROOT / block.argument
        assert path.is_file(), f"{block.id}: {block.argument} is not a file"
        assert path.resolve().is_relative_to(EXAMPLES), f"{block.id}: not a file the suite runs"
        whole, part = _lines(path.read_text(encoding="utf-8")), _lines(block.text)
        if kind == "file":
            assert part == whole, f"{block.id}: not the whole of {block.argument}"
        else:
            assert _contains(whole, part), f"{block.id}: not in {block.argument}"
        return
    _copy_in(block, pytester.path)
    if block.lang == "yaml":
        if kind == "" and _example_holding(block) is not None:
            return
        _check_yaml(block, pytester.path)
    elif block.project:
        _run_project(block, pytester)
    else:
        _run_python(block, pytester)


def test_few_blocks_are_skipped_and_every_skip_says_why() -> None:
    skipped = [b for b in TESTED if b.kind == "skip"]
    assert len(skipped) < MAX_SKIPPED, [b.id for b in skipped]
    assert all(re.fullmatch(r"\(.+\)", b.argument) for b in skipped)


def test_every_marker_is_on_a_block() -> None:
    text = README.read_text(encoding="utf-8")
    markers = re.findall(r"^<!--\s*readme-test:.*-->$", text, re.M)
    assert len(markers) == len([b for b in BLOCKS if b.marker])


def test_the_quick_start_example_passes(pytester: pytest.Pytester) -> None:
    """README's quick start routes 1 and 2, as the files of examples/quickstart."""
    shutil.copytree(EXAMPLES / "quickstart", pytester.path, dirs_exist_ok=True)
    pytester.runpytest(*QUIET).assert_outcomes(passed=7)
