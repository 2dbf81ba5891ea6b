"""SHACL validation of a change in the context of the stored graph, at the cost of the change.

Split as pySHACL splits its concerns: :mod:`.shapes` analyses the shapes graph (what each
shape reads), :mod:`.scope` reads the state after a change and finds what it can touch,
:mod:`.validate` runs pySHACL on exactly that (the only module using pySHACL's internals),
:mod:`.report` turns the results into reports for people and machines; :mod:`.shape_queries`
keeps every SPARQL text of the shapes off the network.

Other packages import only what is exported here. The names are loaded at first use (PEP 562): the web
tier reads and renders reports (:mod:`.report`, free of rdflib) but never validates — the store worker
does — so it must not hold rdflib, pySHACL and the shapes analysis in memory for nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from service.validation.report import ValidationReport, ValidationResult, short_node, short_text
    from service.validation.scope import DataScope
    from service.validation.validate import refuse_shape_change, validate_change, validate_store

#: Each exported name and the module that defines it.
_HOMES = {
    "DataScope": "scope",
    "ValidationReport": "report",
    "ValidationResult": "report",
    "refuse_shape_change": "validate",
    "short_node": "report",
    "short_text": "report",
    "validate_change": "validate",
    "validate_store": "validate",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value
    return value

__all__ = [
    "DataScope",
    "ValidationReport",
    "ValidationResult",
    "refuse_shape_change",
    "short_node",
    "short_text",
    "validate_change",
    "validate_store",
]
