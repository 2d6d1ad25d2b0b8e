"""Expectation files: YAML (safe loader, with line numbers) -> validated ``Document`` objects.

- ``yaml_lines``: the loader (YAML 1.2 scalars, alias-bomb guard, line numbers), key paths
- ``schema``: the JSON Schema layer (structure; the file editors read)
- ``declarations``: ``ModelDecl``, ``ItemSpec``, ``DeclaredPath`` and the ``model:`` parser
- ``entries`` and ``marks``: ``expect:`` entries as expectations with ids; their pytest marks
- ``drift``: the ``drift:`` section and its gates
- ``document``: ``load_document``, the whole file

Validation runs in two layers: the JSON Schema checks structure, the parsers here add meaning
(which keys go together, contradictory bounds, duplicate names). Every error is a ``SpecError``
carrying file, line and key. Imports expectations and the baseline's gates; never the runner or
pytest.
"""

from .declarations import DeclaredPath, ItemSpec, ModelDecl
from .document import Document, load_document
from .drift import DriftDecl
from .entries import item_id
from .schema import schema, schema_errors
from .yaml_lines import (
    MAX_ALIAS_EXPANSION,
    LineDict,
    LineList,
    key_path,
    line_of,
    load_yaml,
    plain_data,
)

__all__ = [
    "MAX_ALIAS_EXPANSION",
    "DeclaredPath",
    "Document",
    "DriftDecl",
    "ItemSpec",
    "LineDict",
    "LineList",
    "ModelDecl",
    "item_id",
    "key_path",
    "line_of",
    "load_document",
    "load_yaml",
    "plain_data",
    "schema",
    "schema_errors",
]
