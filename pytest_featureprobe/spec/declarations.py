"""What an expectation file declares, as data: its model (``ModelDecl``), each expectation as
collected (``ItemSpec``) and the files it names (``DeclaredPath``); and the ``model:`` parser."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import SpecError
from ..features import feature_name
from .context_decl import ContextDecl, context_decl
from .yaml_lines import LineDict

if TYPE_CHECKING:
    from ..baseline.checks import DriftCheck
    from ..expectations import Expectation


@dataclass
class ModelDecl:
    """The ``model:`` section: how to get the model under test."""

    kind: str  # "train", "load" or "fixture"
    values: dict[str, Any]
    features: Any = None
    classes: list[str] | None = None
    outputs: str | None = None
    line: int = 0
    key_lines: dict[str, int] = field(default_factory=dict)  # "load", "train.data", ... -> line
    sha256: str | None = None  # the pinned digest of a loaded model file
    context: ContextDecl | None = None  # the file's default context; None: the space's default


@dataclass
class ItemSpec:
    """One expectation as collected: its id, where it is, its marks, and it or its error."""

    name: str
    line: int
    source: str
    marks: list[tuple[str, tuple, dict]] = field(default_factory=list)
    explicit_name: bool = False
    expectation: Expectation | DriftCheck | None = None
    error: SpecError | None = None
    index: int | None = 0  # position under expect:, None for drift checks
    key_lines: dict[str, int] = field(default_factory=dict)  # top-level keys -> line
    context: ContextDecl | None = None  # its own context (``context:``/``on:``); None: the file's

    def line_of(self, key: str | None) -> int:
        """The line of a key of this expectation (its first line when the key is not there)."""
        top = (key or "").split(".")[0]
        return self.key_lines.get(top, self.line)


@dataclass
class DeclaredPath:
    """A file named in a document: its key, line, the value as written, and the expectation it
    belongs to (None for the model and drift sections, which concern the whole file)."""

    key: str
    line: int
    value: str
    item: ItemSpec | None = None


def model_decl(section: LineDict, path: Path) -> ModelDecl:
    """The ``model:`` section, checked: exactly one source and the keys that go with it."""
    kinds = [k for k in ("train", "load", "fixture") if k in section]
    if len(kinds) != 1:
        raise SpecError(
            "give exactly one of train, load or fixture"
            + (f" (found {', '.join(kinds)})" if kinds else ""),
            path=path,
            line=section.line,
            key="model",
        )
    kind = kinds[0]
    if kind == "train":
        for key in ("features", "classes", "outputs"):
            if key in section:
                raise SpecError(
                    f"{key} belongs inside model.train or is derived from the data",
                    path=path,
                    line=section.key_lines[key],
                    key=f"model.{key}",
                )
    if "sha256" in section and kind != "load":
        raise SpecError(
            f"sha256 pins a model file, so it goes with load: (this model is {kind}:)",
            path=path,
            line=section.key_lines["sha256"],
            key="model.sha256",
        )
    classes = section.get("classes")
    if classes is not None:
        classes = [feature_name(c) for c in classes]
        if len(set(classes)) != len(classes):
            raise SpecError(
                "class names repeat",
                path=path,
                line=section.key_lines["classes"],
                key="model.classes",
            )
    values = section[kind] if kind == "train" else {"target": section[kind]}
    key_lines = dict(section.key_lines)
    if kind == "train":
        key_lines.update({f"train.{k}": v for k, v in section["train"].key_lines.items()})
    return ModelDecl(
        kind,
        dict(values),
        section.get("features"),
        classes,
        section.get("outputs"),
        section.line,
        key_lines,
        section["sha256"].lower() if "sha256" in section else None,
        _model_context(section, path),
    )


def _model_context(section: LineDict, path: Path) -> ContextDecl | None:
    if "context" not in section:
        return None
    line = section.key_lines["context"]
    return context_decl(section["context"], "model.context", line, path)
