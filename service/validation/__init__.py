"""SHACL validation of a change in the context of the stored graph, at the cost of the change.

Split as pySHACL splits its concerns: :mod:`.shapes` analyses the shapes graph (what each
shape reads), :mod:`.scope` reads the state after a change and finds what it can touch,
:mod:`.validate` runs pySHACL on exactly that (the only module using pySHACL's internals),
:mod:`.report` turns the results into reports for people and machines; :mod:`.shape_queries`
keeps every SPARQL text of the shapes off the network.

Other packages import only what is exported here.
"""

from service.validation.report import ValidationReport, ValidationResult, short_node, short_text
from service.validation.scope import DataScope
from service.validation.validate import refuse_shape_change, validate_change, validate_store

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
