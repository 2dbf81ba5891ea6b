"""The canned query contract as data: a query, its parameters, their types, its columns, its placeholders.

Why a module of its own: the header reader (:mod:`service.canned.header`) builds these values and
the parameter parser (:mod:`service.canned.params`) checks request values against them; both
import this module and neither imports the other back, so there is no import circle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.rdf.vocabulary import curie


@dataclass(frozen=True)
class EnumValue:
    """One allowed value of an enum: how it is written in requests, and the term it binds."""

    key: str  # the canonical spelling (CURIE for IRIs, lexical form for literals)
    kind: str  # "iri" | "string"
    value: str  # full IRI or lexical form
    label: str | None = None


@dataclass(frozen=True)
class TypeSpec:
    """What a single value must look like: a scalar type and its constraints."""

    type: str
    class_iri: str | None = None
    values: tuple[EnumValue, ...] | None = None
    values_from: str | None = None
    minimum: Any = None
    maximum: Any = None
    max_length: int = 200
    lang: str = "en"

    def public(self) -> dict[str, Any]:
        """The type and its constraints as clients see them (JSON listing, OpenAPI, README)."""
        out: dict[str, Any] = {"type": self.type}
        if self.class_iri:
            out["class"] = curie(self.class_iri)
        if self.values is not None:
            out["values"] = [v.key for v in self.values]
        if self.values_from is not None:
            out["values_from"] = self.values_from
        if self.minimum is not None:
            out["min"] = self.minimum
        if self.maximum is not None:
            out["max"] = self.maximum
        if self.type == "string":
            out["max_length"] = self.max_length
        if self.type == "langString":
            out["lang"] = self.lang
        return out


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a canned query, as declared in its header."""

    name: str
    type: str  # one of header.PARAM_TYPES
    var: str
    item: TypeSpec  # the scalar type (of the value, or of each list item)
    description: str = ""
    required: bool = False
    default: Any = None  # raw text (or list of raw texts for lists), None if absent
    example: Any = None
    max_items: int = 50
    service_endpoint: bool = False  # the variable names a SERVICE endpoint (federated queries)

    @property
    def is_list(self) -> bool:
        return self.type == "list"

    def public(self) -> dict[str, Any]:
        """The parameter as clients see it (JSON listing, OpenAPI, README)."""
        out: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.is_list:
            out["items"] = self.item.public()
        else:
            out.update(self.item.public())
        out["required"] = self.required
        if self.default is not None:
            out["default"] = self.default
        if self.example is not None:
            out["example"] = self.example
        out["description"] = self.description
        if self.is_list:
            out["max_items"] = self.max_items
        return out


@dataclass(frozen=True)
class ColumnSpec:
    """One output column (a projected variable) and the RDF term types it may hold."""

    name: str
    types: tuple[str, ...]
    optional: bool = False
    description: str = ""

    def public(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.types[0] if len(self.types) == 1 else list(self.types),
                "optional": self.optional, "description": self.description}


@dataclass(frozen=True)
class Placeholder:
    """Where a parameter's ``VALUES ?v { UNDEF }`` (or the ``?v`` of ``SERVICE ?v``) sits in the query body."""

    var: str
    start: int
    end: int
    kind: str  # "values" | "service"


@dataclass(frozen=True)
class CannedQuery:
    """A loaded canned query: its contract (header) and its prepared SPARQL body."""

    name: str
    path: Path
    summary: str
    description: str
    tags: tuple[str, ...]
    params: tuple[ParamSpec, ...]
    columns: tuple[ColumnSpec, ...]
    kind: str  # "select" | "ask" | "construct" | "describe"
    body: str  # the query without its header
    placeholders: tuple[Placeholder, ...] = field(repr=False)
    federated: bool = False
    cache: bool = True

    @property
    def is_graph(self) -> bool:
        """True for CONSTRUCT/DESCRIBE (RDF output), False for SELECT/ASK (results output)."""
        return self.kind in ("construct", "describe")

    def example_params(self) -> dict[str, Any]:
        """The parameters of the documented example: each parameter that has an example, with it."""
        return {p.name: p.example for p in self.params if p.example is not None}
