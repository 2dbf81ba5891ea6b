"""Request values → type-checked RDF terms → a query with those terms bound. Never text splicing.

Why this design (see also the README, "How parameters are bound"):

* Every value is parsed by its declared type (an IRI, a date, an integer …) and turned
  into a pyoxigraph term; anything that does not fit is refused with a 400 naming the
  parameter and what was expected. What reaches the query is a *term*, not the text
  the client sent.
* Terms are bound through a standard SPARQL ``VALUES`` block at the position the query
  author marked with ``VALUES ?v { UNDEF }``. The block is written from the validated
  terms in N-Triples syntax (``<iri>``, ``"text"@en``, ``"2012"^^xsd:gYear``), which
  pyoxigraph produces with every quote, backslash and line break escaped — and each
  term's text is parsed back and compared with the term before use, so a value can
  only ever be one RDF term in that block. No other part of the query changes.
* Why not pyoxigraph's ``substitutions``: it requires every substituted variable to be
  projected (a parameter would become an output column) and ``BOUND(?v)`` is false for a
  substituted variable, so optional parameters ("no filter when absent") cannot be
  written. ``VALUES`` has the standard semantics, takes one value or a list alike, and
  the same text runs on any SPARQL 1.1 engine (the benchmark sends it to the standalone
  Oxigraph server). An absent optional parameter keeps ``VALUES ?v { UNDEF }``: the
  variable is unbound, and queries test it with ``!BOUND(?v) || …``.
* SERVICE endpoints (federated queries) are enums over the SERVICE allow-list: the
  request only *selects* an endpoint, and the IRI written into ``SERVICE <…>`` comes
  from the server's configuration.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from urllib.parse import quote, urlencode

import pyoxigraph as ox

from service.canned.contract import CannedQuery, EnumValue, ParamSpec, TypeSpec
from service.rdf.vocabulary import RESOURCE_NS, XSD, curie, expand

#: Request parameters the service reads itself (never passed to the query).
RESERVED = frozenset({"_format"})
#: Item types whose values cannot contain spaces: one list occurrence may hold several, space-separated.
SPACE_SEPARABLE = frozenset({"iri", "integer", "decimal", "date", "gYear", "boolean"})
MAX_IRI_LENGTH = 2048

#: The whitespace a value may be padded with (HTML forms, pasted text): Python's ``str.isspace``
#: set, spelled out so the OpenAPI patterns (ECMA-262, whose ``\s`` differs) say exactly the same.
SPACE = "".join(chr(code) for code in range(0x3001) if chr(code).isspace())
#: :data:`SPACE` as a regex character class, in the syntax Python and ECMA-262 share.
SPACE_CLASS = "[" + "".join(f"\\u{ord(c):04X}" for c in SPACE) + "]"
_SPACES = re.compile(SPACE_CLASS + "+")

# The IRI grammar values are checked against (RFC 3987, restricted to what is needed: ASCII plus
# the ucschar ranges of the Basic Multilingual Plane, a reg-name host, a numeric port). One regex,
# written in the subset common to Python and ECMA-262, so the OpenAPI document publishes exactly
# the grammar this module enforces (service/web/openapi.py) and generated clients cannot disagree.
_UNRESERVED = r"A-Za-z0-9\-._~\u00A0-\uD7FF\uF900-\uFDCF\uFDF0-\uFFEF"
_SUB_DELIMS = r"!$&'()*+,;="
_PCT = r"%[0-9A-Fa-f]{2}"
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_AUTHORITY = rf"(?:(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*@)?(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*(?::[0-9]*)?"
IRI_GRAMMAR = (rf"[A-Za-z][A-Za-z0-9+.\-]*:(?://{_AUTHORITY}(?:/{_PCHAR}*)*|/?(?:{_PCHAR}+(?:/{_PCHAR}*)*)?)"
               rf"(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?")
#: A bare id (read as ``djr:<id>``).
LOCAL_NAME = r"[A-Za-z0-9][A-Za-z0-9._\-]*"
_ABSOLUTE_IRI = re.compile(IRI_GRAMMAR)
_LOCAL_NAME = re.compile(LOCAL_NAME)
_LANG_SUFFIX = re.compile(r"(.*)@([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)", re.S)
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
#: Plain decimals, and the exponent form JSON numbers are written in (``1.5e+3``), bounded in size.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]{1,31}(?:\.[0-9]{0,20})?|\.[0-9]{1,20})(?:[eE][+-]?[0-9]{1,3})?")
#: The largest magnitude of an integer / a decimal value (what the request grammar above can spell).
MAX_INTEGER = 10**18 - 1
MAX_DECIMAL = 10**30
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_GYEAR = re.compile(r"-?[0-9]{4}")
_BOOLEAN = {"true": "true", "1": "true", "yes": "true", "false": "false", "0": "false", "no": "false"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class ParamError(ValueError):
    """A request value was refused; ``param`` names the parameter, ``detail`` says what was expected."""

    def __init__(self, param: str | None, detail: str) -> None:
        super().__init__(f"parameter {param!r}: {detail}" if param else detail)
        self.param = param
        self.detail = detail


class Lookups(Protocol):
    """Checks that need the data: class membership and enum values drawn from a query."""

    def is_instance(self, iri: str, class_iri: str) -> bool:
        """True when ``iri`` is an instance of ``class_iri`` (or of a subclass) in the store."""

    def enum_values(self, spec: TypeSpec) -> tuple[EnumValue, ...]:
        """The allowed values of an enum whose ``values_from`` is a query or the SERVICE allow-list."""


# -- scalar parsing ---------------------------------------------------------------------------


def parse_iri(text: str) -> str:
    """An IRI from request text: absolute (``https://…``, ``<…>``), prefixed (``djr:rgb``) or a bare id (→ djr:)."""
    # The limit counts the value as sent (padding and <> included), as /openapi.json's maxLength states.
    if len(text) > MAX_IRI_LENGTH:
        raise ValueError(f"expected an IRI of at most {MAX_IRI_LENGTH} characters, got {len(text)}")
    text = text.strip(SPACE)
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    full = expand(text)
    if full is None and _LOCAL_NAME.fullmatch(text):
        full = RESOURCE_NS + text
    if full is None and _ABSOLUTE_IRI.fullmatch(text):
        full = text
    if full is None or not _ABSOLUTE_IRI.fullmatch(full):
        raise ValueError("expected an IRI: absolute (https://…), prefixed (djr:chongryon) or a bare id "
                         "(chongryon); spaces and the characters < > \" { } | ^ ` \\ are not allowed")
    try:
        ox.NamedNode(full)
    except ValueError as exc:
        raise ValueError(f"expected an IRI; {exc}") from exc
    return full


def parse_scalar(spec: TypeSpec, text: str, lookups: Lookups | None) -> Any:
    """One value of a scalar type → a pyoxigraph term; ``ValueError`` says what was expected."""
    parser = _SCALAR_PARSERS.get(spec.type)
    if parser is None:
        raise ValueError(f"unsupported type {spec.type!r}")
    return parser(spec, text, lookups)


def _parse_iri_value(spec: TypeSpec, text: str, lookups: Lookups | None) -> Any:
    iri = parse_iri(text)
    if spec.class_iri and lookups is not None and not lookups.is_instance(iri, spec.class_iri):
        raise ValueError(f"{curie(iri)} is not an instance of {curie(spec.class_iri)} in the graph")
    return ox.NamedNode(iri)


def _parse_text(spec: TypeSpec, text: str, lookups: Lookups | None) -> Any:
    """A ``string``, or a ``langString`` whose text may end in its own ``@lang`` (else the declared one)."""
    if len(text) > spec.max_length:
        raise ValueError(f"expected at most {spec.max_length} characters, got {len(text)}")
    if _CONTROL.search(text):
        raise ValueError("control characters are not allowed")
    if spec.type == "string":
        return ox.Literal(text)
    match = _LANG_SUFFIX.fullmatch(text)
    value, lang = (match.group(1), match.group(2)) if match else (text, spec.lang)
    return ox.Literal(value, language=lang)


def _parse_integer(spec: TypeSpec, text: str, lookups: Lookups | None) -> Any:
    if not _INTEGER.fullmatch(text.strip(SPACE)):
        raise ValueError(f"expected an integer, got {_shown(text)}")
    value = int(text)
    _check_range(spec, value, int)
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))


def _parse_decimal(spec: TypeSpec, text: str, lookups: Lookups | None) -> Any:
    if not _DECIMAL.fullmatch(text.strip(SPACE)):
        raise ValueError(f"expected a decimal number such as 12.5 or 1.25e1, got {_shown(text)}")
    try:
        number = Decimal(text.strip(SPACE))
    except InvalidOperation as exc:
        raise ValueError(f"expected a decimal number, got {_shown(text)}") from exc
    if abs(number) > MAX_DECIMAL:
        raise ValueError(f"expected a number of magnitude at most 1e30, got {_shown(text)}")
    _check_range(spec, number, Decimal)
    return ox.Literal(format(number, "f"), datatype=ox.NamedNode(XSD + "decimal"))


def _parse_date(spec: TypeSpec, text: str, lookups: Lookups | None) -> Any:
    text = text.strip(SPACE)
    try:
        if not _DATE.fullmatch(text):
            raise ValueError
        day = datetime.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected a date YYYY-MM-DD, got {_shown(text)}") from None
    _check_range(spec, day, datetime.date.fromisoformat)
    return ox.Literal(text, datatype=ox.NamedNode(XSD + "date"))


def _parse_year(spec: TypeSpec, text: str, lookups: Lookups | None) -> Any:
    text = text.strip(SPACE)
    if not _GYEAR.fullmatch(text):
        raise ValueError(f"expected a year YYYY, got {_shown(text)}")
    _check_range(spec, int(text), int)
    return ox.Literal(text, datatype=ox.NamedNode(XSD + "gYear"))


def _parse_boolean(spec: TypeSpec, text: str, lookups: Lookups | None) -> Any:
    value = _BOOLEAN.get(text.strip(SPACE).lower())
    if value is None:
        raise ValueError(f"expected true or false, got {_shown(text)}")
    return ox.Literal(value, datatype=ox.NamedNode(XSD + "boolean"))


def _parse_enum(spec: TypeSpec, text: str, lookups: Lookups | None) -> Any:
    """One of the declared values, or of those the data (or the SERVICE allow-list) gives through ``lookups``."""
    if spec.values is None and lookups is None:
        raise LookupError("the allowed values come from the data: a store is needed to check this value")
    values = spec.values if spec.values is not None else lookups.enum_values(spec)  # type: ignore[union-attr]
    chosen = match_enum(values, text)
    if chosen is None:
        keys = [v.key for v in values]
        listed = ", ".join(keys[:25]) + (f", … ({len(keys)} in all)" if len(keys) > 25 else "")
        raise ValueError(f"unknown value {_shown(text)}; expected one of: {listed}")
    return ox.NamedNode(chosen.value) if chosen.kind == "iri" else ox.Literal(chosen.value)


#: The parser of each scalar type (the header's SCALAR_TYPES): spec, request text, lookups → a term.
_SCALAR_PARSERS: dict[str, Callable[[TypeSpec, str, Lookups | None], Any]] = {
    "iri": _parse_iri_value,
    "string": _parse_text,
    "langString": _parse_text,
    "integer": _parse_integer,
    "decimal": _parse_decimal,
    "date": _parse_date,
    "gYear": _parse_year,
    "boolean": _parse_boolean,
    "enum": _parse_enum,
}


def match_enum(values: Sequence[EnumValue], text: str) -> EnumValue | None:
    """The enum value ``text`` denotes: its key, its full IRI, or (for djr: IRIs) its bare id."""
    text = text.strip(SPACE)
    for value in values:
        if text == value.key or text == value.value:
            return value
        if value.kind == "iri":
            if text.startswith("<") and text.endswith(">") and text[1:-1] == value.value:
                return value
            if expand(text) == value.value or (value.value.startswith(RESOURCE_NS)
                                               and text == value.value[len(RESOURCE_NS):]):
                return value
    return None


def _check_range(spec: TypeSpec, value: Any, convert: Any) -> None:
    if spec.minimum is not None and value < convert(str(spec.minimum)):
        raise ValueError(f"expected at least {spec.minimum}, got {value}")
    if spec.maximum is not None and value > convert(str(spec.maximum)):
        raise ValueError(f"expected at most {spec.maximum}, got {value}")


def _shown(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


# -- parameters and bindings --------------------------------------------------------------------


def parse_param(spec: ParamSpec, raw: Sequence[str], lookups: Lookups | None) -> tuple[Any, ...]:
    """The terms of one parameter from its raw request values (one, or several for a list)."""
    items: list[str] = []
    for text in raw:
        if spec.is_list and spec.item.type in SPACE_SEPARABLE:
            items.extend(item for item in _SPACES.split(text) if item)
        elif text.strip(SPACE) or (spec.item.type in ("string", "langString") and text):
            items.append(text)
    if not spec.is_list and len(items) > 1:
        raise ParamError(spec.name, f"takes one value, got {len(items)}")
    if spec.is_list and len(items) > spec.max_items:
        raise ParamError(spec.name, f"takes at most {spec.max_items} values, got {len(items)}")
    terms: list[Any] = []
    for text in items:
        try:
            term = parse_scalar(spec.item, text, lookups)
        except ValueError as exc:
            raise ParamError(spec.name, str(exc)) from exc
        if term not in terms:
            terms.append(term)
    return tuple(terms)


@dataclass(frozen=True)
class Binding:
    """The validated terms of one request, by variable; empty tuple = left unbound."""

    query: CannedQuery
    values: tuple[tuple[str, tuple[Any, ...]], ...]

    def terms(self, var: str) -> tuple[Any, ...]:
        return dict(self.values).get(var, ())

    @property
    def key(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """A hashable, canonical form (cache key): equal terms give equal keys however they were spelled."""
        return tuple((var, tuple(term_text(t) for t in terms)) for var, terms in self.values)

    def public(self) -> dict[str, Any]:
        """The bound values as request text (CURIEs where possible), for links and pages."""
        out: dict[str, Any] = {}
        for param in self.query.params:
            terms = self.terms(param.var)
            if terms:
                shown = [curie(t.value) if isinstance(t, ox.NamedNode) else _literal_text(t) for t in terms]
                out[param.name] = shown if param.is_list else shown[0]
        return out

    def sparql(self) -> str:
        """The query body with every placeholder replaced by the bound terms (or left as UNDEF)."""
        body = self.query.body
        pieces: list[str] = []
        position = 0
        for placeholder in self.query.placeholders:
            pieces.append(body[position:placeholder.start])
            terms = self.terms(placeholder.var)
            if placeholder.kind == "service":
                pieces.append(term_text(terms[0]))
            elif terms:
                pieces.append(f"VALUES ?{placeholder.var} {{ {' '.join(term_text(t) for t in terms)} }}")
            else:
                pieces.append(body[placeholder.start:placeholder.end])
            position = placeholder.end
        pieces.append(body[position:])
        return "".join(pieces)


def _literal_text(term: Any) -> str:
    if isinstance(term, ox.Literal) and term.language:
        return f"{term.value}@{term.language}"
    return term.value


def term_text(term: Any) -> str:
    """A validated term in N-Triples syntax, proved to denote exactly that term by parsing it back."""
    if not isinstance(term, ox.NamedNode | ox.Literal):
        raise TypeError(f"only IRIs and literals can be bound, got {term!r}")
    text = str(term)
    parsed = next(iter(ox.parse(f"<urn:x:s> <urn:x:p> {text} .".encode(), format=ox.RdfFormat.N_TRIPLES)))
    if parsed.object != term:  # pragma: no cover - would be a pyoxigraph serialization bug
        raise ValueError(f"the term {text} does not round-trip")
    return text


def bind(query: CannedQuery, args: Mapping[str, Sequence[str]], lookups: Lookups | None) -> Binding:
    """Check a request's parameters against the query's header and bind them.

    Raises :class:`ParamError` for an unknown parameter name, a missing required one, or
    a value of the wrong type — the message names the parameter and what was expected.
    Without ``lookups`` (no store at hand) class memberships are not checked, and an enum
    whose values come from the data raises ``LookupError``.
    """
    known = {p.name for p in query.params}
    unknown = sorted(name for name in args if name not in known and name not in RESERVED)
    if unknown:
        takes = ", ".join(sorted(known)) if known else "no parameters"
        raise ParamError(unknown[0], f"unknown parameter for query {query.name!r} (it takes: {takes})")
    values: list[tuple[str, tuple[Any, ...]]] = []
    for spec in query.params:
        raw = list(args.get(spec.name, ()))
        terms = parse_param(spec, raw, lookups) if raw else ()
        if not terms and spec.default is not None:
            default = spec.default if isinstance(spec.default, list) else [spec.default]
            terms = parse_param(spec, default, lookups)
        if not terms and spec.required:
            shown = spec.example[0] if isinstance(spec.example, list) else spec.example
            example = f" (for example {spec.name}={shown})" if shown is not None else ""
            raise ParamError(spec.name, f"is required{example}")
        values.append((spec.var, terms))
    return Binding(query, tuple(values))


def json_args(query: CannedQuery, body: Any) -> dict[str, list[str]]:
    """A JSON object body → the request text of each parameter, each value of its declared JSON type.

    Why typed: the OpenAPI document describes a JSON body with JSON types (an integer parameter
    is a JSON integer, a boolean ``true``/``false``, a list an array); accepting ``"5"`` or ``0``
    in their place would make the document lie about what is valid. Query strings and forms are
    text by nature and keep their text grammar. Unknown names are left to :func:`bind` to refuse.
    """
    if not isinstance(body, dict):
        raise ParamError(None, "a JSON body must be an object of parameter names to values (or arrays of values)")
    specs = {p.name: p for p in query.params}
    out: dict[str, list[str]] = {}
    for name, value in body.items():
        spec = specs.get(name)
        if spec is None:
            if name in RESERVED and not isinstance(value, str):
                raise ParamError(name, "expected a string")
            out[name] = [value if isinstance(value, str) else ""]  # keeps the name for bind() to refuse
            continue
        if spec.is_list != isinstance(value, list):
            raise ParamError(name, "expected an array of values" if spec.is_list else "takes one value, not an array")
        out[name] = [_json_text(spec, item) for item in (value if isinstance(value, list) else [value])]
    return out


def _json_text(spec: ParamSpec, value: Any) -> str:
    """One JSON value → its request text, refused unless it is of the JSON type the parameter's schema declares."""
    kind = spec.item.type
    if kind == "boolean":
        if isinstance(value, bool):
            return "true" if value else "false"
        raise ParamError(spec.name, f"expected true or false (a JSON boolean), got {_shown(repr(value))}")
    if kind in ("integer", "decimal"):
        number_ok = isinstance(value, int | float) and not isinstance(value, bool)
        if kind == "integer" and number_ok and (isinstance(value, int) or value.is_integer()):
            return str(int(value))
        if kind == "decimal" and number_ok:
            return repr(value)
        raise ParamError(spec.name, f"expected a JSON {'integer' if kind == 'integer' else 'number'}, "
                                    f"got {_shown(repr(value))}")
    if not isinstance(value, str):
        raise ParamError(spec.name, f"expected a JSON string, got {_shown(repr(value))}")
    if spec.is_list and kind in SPACE_SEPARABLE and _SPACES.search(value.strip(SPACE)):
        raise ParamError(spec.name, "one value per array item (spaces separate values only in forms and URLs)")
    return value


def query_string(params: Mapping[str, Any]) -> str:
    """``?name=value&…`` for ``params`` (a list value repeats its name), or ``""`` when empty.

    Why one function: the catalogue, the query pages, the OpenAPI page and the README all
    show query URLs and must spell them alike; ``:`` stays unescaped so prefixed names
    (``djr:…``) remain readable, everything else is percent-encoded.
    """
    pairs = [(name, item) for name, value in params.items() for item in (value if isinstance(value, list) else [value])]
    return "?" + urlencode(pairs, quote_via=quote, safe=":") if pairs else ""
