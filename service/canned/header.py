"""Reading ``queries/<name>.rq``: the ``#+`` YAML header becomes a :class:`CannedQuery`.

Why a strict reader: the header is the query's public contract — its URL, parameters
and output columns feed the HTTP API, the OpenAPI document, the CLI and the README. A
typo there must stop the service at start with the file, line and key named, not
surface later as a confusing 500 or a silently ignored parameter. Everything a request
needs at run time (placeholder offsets, projected variables, the query kind) is
computed once here.

The header format is documented in ``queries/README.md``; in short::

    #+ summary: One line
    #+ params:
    #+   - name: year_from
    #+     type: gYear
    #+ columns:
    #+   - {name: event, type: iri}

and each parameter ``p`` (bound to variable ``?v``, by default ``?p``) has one or more
placeholders ``VALUES ?v { UNDEF }`` in the query (one per sub-query that uses it), which
the service replaces by the validated value(s) (see :mod:`service.canned.params`).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from service.rdf.vocabulary import PREFIXES, curie, expand

#: Scalar parameter types (a ``list`` holds items of one of these).
SCALAR_TYPES = ("iri", "string", "langString", "integer", "decimal", "date", "gYear", "boolean", "enum")
PARAM_TYPES = (*SCALAR_TYPES, "list")
#: Types an output column may declare (a list of them means "any of").
COLUMN_TYPES = ("iri", "bnode", "literal", "string", "langString", "integer", "decimal", "double", "boolean",
                "date", "dateTime", "gYear", "gYearMonth", "any")
HEADER_KEYS = {"summary", "description", "tags", "params", "columns", "federated", "cache", "example"}
PARAM_KEYS = {"name", "type", "var", "description", "required", "default", "example", "class", "values",
              "values_from", "items", "min", "max", "max_length", "lang", "max_items", "bind"}
ITEM_KEYS = {"type", "class", "values", "values_from", "min", "max", "max_length", "lang", "bind"}
COLUMN_KEYS = {"name", "type", "optional", "description"}
#: ``values_from`` may name this setting instead of giving a query: the SERVICE allow-list.
ALLOWLIST_SOURCE = "SERVICE_ALLOWLIST"

#: Appended to "unknown key" messages: the usual cause is an unquoted comma in a {…} mapping.
_COMMA_HINT = " (inside {…} a comma starts a new key: put text containing commas in quotes)"

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
STEM_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
VAR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class CannedQueryError(ValueError):
    """A canned query file is malformed; the message names the file, the line when known, and the problem."""


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


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a canned query, as declared in its header."""

    name: str
    type: str  # one of PARAM_TYPES
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
            out["items"] = _type_public(self.item)
        else:
            out.update(_type_public(self.item))
        out["required"] = self.required
        if self.default is not None:
            out["default"] = self.default
        if self.example is not None:
            out["example"] = self.example
        out["description"] = self.description
        if self.is_list:
            out["max_items"] = self.max_items
        return out


def _type_public(spec: TypeSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"type": spec.type}
    if spec.class_iri:
        out["class"] = curie(spec.class_iri)
    if spec.values is not None:
        out["values"] = [v.key for v in spec.values]
    if spec.values_from is not None:
        out["values_from"] = spec.values_from
    if spec.minimum is not None:
        out["min"] = spec.minimum
    if spec.maximum is not None:
        out["max"] = spec.maximum
    if spec.type == "string":
        out["max_length"] = spec.max_length
    if spec.type == "langString":
        out["lang"] = spec.lang
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
    """Where a parameter's ``VALUES ?v { UNDEF }`` (or ``SERVICE ?v``) sits in the query body."""

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
        out: dict[str, Any] = {}
        for p in self.params:
            if p.example is not None:
                out[p.name] = p.example
        return out


# -- helpers -------------------------------------------------------------------------------


def blank_non_code(text: str) -> str:
    """``text`` with comments, string contents and IRI contents replaced by spaces/underscores.

    Offsets are kept, so a regular expression run on the result finds keywords and
    placeholders only where SPARQL would read them as code (not inside a comment, a
    string or an IRI), and its match positions apply to the original text.
    """
    out = list(text)
    i, n = 0, len(text)
    iri_re = re.compile(r"<[^<>\"{}|^`\\\x00-\x20]*>")
    while i < n:
        c = text[i]
        if c == "#":
            j = text.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                out[k] = " "
            i = j
        elif c in "\"'":
            quote = c * 3 if text.startswith(c * 3, i) else c
            j = i + len(quote)
            while j < n and not text.startswith(quote, j):
                if text[j] == "\\":
                    j += 1
                elif len(quote) == 1 and text[j] in "\r\n":
                    break
                j += 1
            end = min(j + len(quote), n)
            for k in range(i + len(quote), min(j, n)):
                out[k] = " " if text[k] != "\n" else "\n"
            i = end
        elif c == "<":
            m = iri_re.match(text, i)
            if m:
                for k in range(i + 1, m.end() - 1):
                    out[k] = "_"
                i = m.end()
            else:
                i += 1
        else:
            i += 1
    return "".join(out)


_PLACEHOLDER_RE = re.compile(r"\bVALUES\s+[?$]([A-Za-z_][A-Za-z0-9_]*)\s*\{\s*UNDEF\s*\}", re.I)
_SERVICE_RE = re.compile(r"\bSERVICE\s+(?:SILENT\s+)?(?:(<[^>]*>)|[?$]([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z][\w-]*:\S*))",
                         re.I)


#: Parses a query: (kind, projected variables); raises SyntaxError with the parser's message.
Analyser = Callable[[str], tuple[str, tuple[str, ...]]]


@functools.lru_cache(maxsize=512)
def rdflib_analyse(text: str) -> tuple[str, tuple[str, ...]]:
    """Parse with rdflib's parser (slow, but evaluates nothing): used for federated queries only.

    Why: the other analysers run the query over an empty dataset, and a SERVICE clause
    would still call the remote endpoint.
    """
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        algebra = translateQuery(parseQuery(text)).algebra
    except Exception as exc:  # pyparsing and rdflib raise several types; all mean "not valid SPARQL"
        raise SyntaxError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
    kind = {"SelectQuery": "select", "AskQuery": "ask", "ConstructQuery": "construct",
            "DescribeQuery": "describe"}.get(algebra.name, algebra.name)
    projected = tuple(str(v) for v in algebra.get("PV", ()) or ()) if kind == "select" else ()
    return kind, projected


def construct_or_describe(text: str) -> str:
    """pyoxigraph answers CONSTRUCT and DESCRIBE alike; the first of those keywords in the code tells them apart."""
    match = re.search(r"\b(CONSTRUCT|DESCRIBE)\b", blank_non_code(text), re.I)
    return match.group(1).lower() if match else "construct"


_EMPTY_STORE: Any = None


def pyoxigraph_analyse(text: str) -> tuple[str, tuple[str, ...]]:
    """Parse with pyoxigraph (the engine's own parser) by running the query on an empty in-memory store.

    For offline tools (CLI, README generator, tests). The service uses
    :class:`~service.canned.backend.StoreAnalyser`, which asks the store worker the same way.
    """
    import pyoxigraph as ox

    global _EMPTY_STORE
    if _EMPTY_STORE is None:
        _EMPTY_STORE = ox.Store()
    result = _EMPTY_STORE.query(text)  # SyntaxError on a bad query
    if isinstance(result, ox.QuerySolutions):
        return "select", tuple(v.value for v in result.variables)
    if isinstance(result, ox.QueryBoolean):
        return "ask", ()
    return construct_or_describe(text), ()


# -- the reader ------------------------------------------------------------------------------


class _Reader:
    """Turns one file's text into a :class:`CannedQuery`, raising errors that name file and line."""

    def __init__(self, path: Path, text: str, allowlist: Mapping[str, Any], analyse: Analyser) -> None:
        self.path = path
        self.text = text
        self.allowlist = allowlist
        self.analyse = analyse
        self.header_lines: dict[str, int] = {}

    def fail(self, message: str, line: int | None = None) -> CannedQueryError:
        where = f"{self.path.parent.name}/{self.path.name}"
        return CannedQueryError(f"{where}{f':{line}' if line else ''}: {message}")

    def line_of(self, key: str) -> int | None:
        """The file line where a top-level header key is written (for messages)."""
        return self.header_lines.get(key)

    def split(self) -> tuple[str, int, str]:
        """The YAML header, the number of lines it spans, and the query body."""
        lines = self.text.splitlines(keepends=True)
        header: list[str] = []
        count = 0
        for line in lines:
            stripped = line.rstrip("\r\n")
            if stripped.startswith("#+"):
                content = stripped[2:]
                header.append(content[1:] if content.startswith(" ") else content)
                count += 1
                key = re.match(r"([A-Za-z_]+)\s*:", header[-1])
                if key:
                    self.header_lines.setdefault(key.group(1), count)
            elif not stripped.strip() and not header:
                count += 1
            else:
                break
        body = "".join(lines[count:])
        if not header:
            raise self.fail("no header: the file must start with '#+' lines (YAML) giving at least 'summary'", 1)
        for offset, line in enumerate(body.splitlines()):
            if line.lstrip().startswith("#+"):
                raise self.fail("a '#+' header line after the query has started: the header must come first",
                                count + offset + 1)
        return "\n".join(header), count, body

    def read(self) -> CannedQuery:
        name = self.path.stem
        if not STEM_RE.match(name):
            raise self.fail(f"the file name {name!r} cannot be an operation name: use letters, digits, '-' and '_'")
        header_text, _, body = self.split()
        try:
            meta = yaml.safe_load(header_text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            problem = getattr(exc, "problem", None) or str(exc)
            raise self.fail(f"the header is not valid YAML: {problem}", mark.line + 1 if mark else None) from exc
        if not isinstance(meta, dict):
            raise self.fail("the header must be a YAML mapping (key: value lines)", 1)
        unknown = sorted(set(meta) - HEADER_KEYS)
        if unknown:
            raise self.fail(f"unknown header key(s) {', '.join(map(repr, unknown))}; allowed: "
                            f"{', '.join(sorted(HEADER_KEYS))}", self.line_of(unknown[0]))
        summary = meta.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            raise self.fail("'summary' is required and must be a non-empty string", self.line_of("summary") or 1)
        description = meta.get("description") or ""
        if not isinstance(description, str):
            raise self.fail("'description' must be a string", self.line_of("description"))
        tags = meta.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise self.fail("'tags' must be a list of strings", self.line_of("tags"))
        federated = meta.get("federated", False)
        if not isinstance(federated, bool):
            raise self.fail("'federated' must be true or false", self.line_of("federated"))
        cache = meta.get("cache", not federated)
        if not isinstance(cache, bool):
            raise self.fail("'cache' must be true or false", self.line_of("cache"))

        params = self.read_params(meta.get("params"))
        placeholders = self.find_placeholders(body, params, federated)  # before parsing: refuses stray SERVICE
        try:
            kind, projected = (rdflib_analyse if federated else self.analyse)(self.text)
        except SyntaxError as exc:
            raise self.fail(f"the query is not valid SPARQL: {exc}") from exc
        columns = self.read_columns(meta.get("columns"), kind, projected)
        endpoints = {p.var for p in placeholders if p.kind == "service"}
        params = [dataclasses.replace(p, service_endpoint=p.var in endpoints) for p in params]
        return CannedQuery(
            name=name, path=self.path, summary=summary.strip(), description=description.strip(),
            tags=tuple(tags), params=tuple(params), columns=tuple(columns), kind=kind, body=body,
            placeholders=tuple(placeholders), federated=federated, cache=cache,
        )

    # -- params ---------------------------------------------------------------------------

    def read_params(self, raw: Any) -> list[ParamSpec]:
        line = self.line_of("params")
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise self.fail("'params' must be a list of mappings (each with name and type)", line)
        params: list[ParamSpec] = []
        seen_names: set[str] = set()
        seen_vars: set[str] = set()
        for index, entry in enumerate(raw):
            where = f"params[{index}]"
            if not isinstance(entry, dict):
                raise self.fail(f"{where} must be a mapping with at least 'name' and 'type'", line)
            name = entry.get("name")
            if not isinstance(name, str) or not NAME_RE.match(name):
                raise self.fail(f"{where}.name must be lower-case letters, digits and '_' (starting with a letter), "
                                f"got {name!r}", line)
            where = f"parameter {name!r}"
            unknown = sorted(set(entry) - PARAM_KEYS)
            if unknown:
                raise self.fail(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; allowed: "
                                f"{', '.join(sorted(PARAM_KEYS))}{_COMMA_HINT}", line)
            if name in seen_names:
                raise self.fail(f"{where} is declared twice", line)
            seen_names.add(name)
            ptype = entry.get("type")
            if ptype not in PARAM_TYPES:
                raise self.fail(f"{where}: type {ptype!r} is not one of {', '.join(PARAM_TYPES)}", line)
            var = entry.get("var", name)
            if not isinstance(var, str) or not VAR_RE.match(var):
                raise self.fail(f"{where}: var {var!r} is not a SPARQL variable name", line)
            if var in seen_vars:
                raise self.fail(f"{where}: variable ?{var} is bound by two parameters", line)
            seen_vars.add(var)
            if ptype == "list":
                items = entry.get("items")
                if isinstance(items, str):
                    items = {"type": items}
                if not isinstance(items, dict):
                    raise self.fail(f"{where}: a list needs 'items' (an item type, e.g. 'items: iri' or "
                                    "'items: {type: iri, class: dj:Issue}')", line)
                unknown = sorted(set(items) - ITEM_KEYS)
                if unknown:
                    raise self.fail(f"{where}: unknown key(s) in items: {', '.join(map(repr, unknown))}", line)
                item = self.read_type(items, where + " items", line)
                stray = sorted(k for k in ITEM_KEYS - {"type"} if k in entry)
                if stray:
                    raise self.fail(f"{where}: {', '.join(stray)} belong under 'items' for a list", line)
            else:
                item = self.read_type(entry, where, line)
            required = entry.get("required", False)
            if not isinstance(required, bool):
                raise self.fail(f"{where}: 'required' must be true or false", line)
            default = entry.get("default")
            example = entry.get("example")
            max_items = entry.get("max_items", 50)
            if not isinstance(max_items, int) or isinstance(max_items, bool) or max_items < 1:
                raise self.fail(f"{where}: 'max_items' must be a positive integer", line)
            description = entry.get("description") or ""
            if not isinstance(description, str):
                raise self.fail(f"{where}: 'description' must be a string", line)
            if required and default is not None:
                raise self.fail(f"{where}: a required parameter cannot have a default", line)
            spec = ParamSpec(name=name, type=ptype, var=var, item=item, description=description.strip(),
                             required=required, default=_text_value(default, ptype == "list"),
                             example=_text_value(example, ptype == "list"), max_items=max_items)
            self.check_literal_values(spec, line)
            params.append(spec)
        return params

    def read_type(self, entry: dict[str, Any], where: str, line: int | None) -> TypeSpec:
        ptype = entry.get("type")
        if ptype not in SCALAR_TYPES:
            raise self.fail(f"{where}: type {ptype!r} is not one of {', '.join(SCALAR_TYPES)}", line)
        class_iri = entry.get("class")
        if class_iri is not None:
            if ptype != "iri":
                raise self.fail(f"{where}: 'class' applies to type iri only", line)
            class_iri = self.iri(class_iri, f"{where}.class", line)
        values = entry.get("values")
        values_from = entry.get("values_from")
        bind = entry.get("bind")
        if ptype == "enum":
            if (values is None) == (values_from is None):
                raise self.fail(f"{where}: an enum needs exactly one of 'values' (a list) or 'values_from' "
                                f"(a SPARQL SELECT of ?value [?label], or {ALLOWLIST_SOURCE})", line)
            if bind not in (None, "iri", "string"):
                raise self.fail(f"{where}: 'bind' must be iri or string", line)
            if values is not None:
                values = self.enum_values(values, bind or "string", where, line)
            elif not isinstance(values_from, str) or not values_from.strip():
                raise self.fail(f"{where}: 'values_from' must be a SPARQL SELECT query or {ALLOWLIST_SOURCE}", line)
            else:
                values_from = values_from.strip()
                if values_from != ALLOWLIST_SOURCE:
                    try:
                        kind, projected = self.analyse(values_from)
                    except SyntaxError as exc:
                        raise self.fail(f"{where}: values_from is not valid SPARQL: {exc}", line) from exc
                    if kind != "select" or "value" not in projected:
                        raise self.fail(f"{where}: values_from must be a SELECT projecting ?value (and optionally "
                                        "?label)", line)
        elif values is not None or values_from is not None or bind is not None:
            raise self.fail(f"{where}: 'values', 'values_from' and 'bind' apply to type enum only", line)
        minimum, maximum = entry.get("min"), entry.get("max")
        for key, bound in (("min", minimum), ("max", maximum)):
            if bound is not None and ptype not in ("integer", "decimal", "gYear", "date"):
                raise self.fail(f"{where}: '{key}' applies to integer, decimal, gYear and date only", line)
            if bound is not None and ptype in ("integer", "gYear") and (not isinstance(bound, int)
                                                                       or isinstance(bound, bool)):
                raise self.fail(f"{where}: '{key}' must be an integer", line)
        max_length = entry.get("max_length", 200)
        if not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 1:
            raise self.fail(f"{where}: 'max_length' must be a positive integer", line)
        lang = entry.get("lang", "en")
        if not isinstance(lang, str) or not re.fullmatch(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*", lang):
            raise self.fail(f"{where}: 'lang' must be a language tag such as en", line)
        return TypeSpec(type=ptype, class_iri=class_iri, values=values, values_from=values_from,
                        minimum=str(minimum) if isinstance(minimum, int | float) and ptype == "decimal" else minimum,
                        maximum=str(maximum) if isinstance(maximum, int | float) and ptype == "decimal" else maximum,
                        max_length=max_length, lang=lang)

    def iri(self, text: Any, where: str, line: int | None) -> str:
        if not isinstance(text, str):
            raise self.fail(f"{where}: expected an IRI or prefixed name, got {text!r}", line)
        full = expand(text) or (text if re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|^`\\]*", text) else None)
        if not full:
            raise self.fail(f"{where}: {text!r} is not an IRI or a prefixed name with a known prefix "
                            f"({', '.join(PREFIXES)})", line)
        return full

    def enum_values(self, raw: Any, bind: str, where: str, line: int | None) -> tuple[EnumValue, ...]:
        if not isinstance(raw, list) or not raw:
            raise self.fail(f"{where}: 'values' must be a non-empty list", line)
        out: list[EnumValue] = []
        for item in raw:
            label = None
            if isinstance(item, dict):
                label = item.get("label")
                item = item.get("value")
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                raise self.fail(f"{where}: enum value {item!r} must be a string", line)
            text = str(item)
            if bind == "iri":
                full = self.iri(text, where, line)
                out.append(EnumValue(key=curie(full), kind="iri", value=full, label=label))
            else:
                out.append(EnumValue(key=text, kind="string", value=text, label=label))
        keys = [v.key for v in out]
        if len(set(keys)) != len(keys):
            raise self.fail(f"{where}: enum values must be distinct", line)
        return tuple(out)

    def check_literal_values(self, spec: ParamSpec, line: int | None) -> None:
        """Defaults and examples must themselves pass the parameter's type check (enums from data: later)."""
        from service.canned.params import ParamError, parse_param

        if spec.item.values_from is not None:
            return  # the allowed values come from the data (or the allow-list): checked per request
        for key in ("default", "example"):
            value = getattr(spec, key)
            if value is None:
                continue
            try:
                parse_param(spec, value if isinstance(value, list) else [value], lookups=None)
            except ParamError as exc:
                raise self.fail(f"parameter {spec.name!r}: its {key} {value!r} is invalid: {exc.detail}", line) \
                    from exc

    # -- columns ----------------------------------------------------------------------------

    def read_columns(self, raw: Any, kind: str, projected: tuple[str, ...]) -> list[ColumnSpec]:
        line = self.line_of("columns")
        if kind != "select":
            if raw:
                raise self.fail(f"'columns' applies to SELECT queries only (this is a {kind.upper()} query)", line)
            return []
        if not isinstance(raw, list) or not raw:
            raise self.fail("'columns' is required for a SELECT query: list each projected variable with its type",
                            line or 1)
        columns: list[ColumnSpec] = []
        for index, entry in enumerate(raw):
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise self.fail(f"columns[{index}] must be a mapping with 'name' and 'type'", line)
            unknown = sorted(set(entry) - COLUMN_KEYS)
            if unknown:
                raise self.fail(f"column {entry['name']!r}: unknown key(s) {', '.join(map(repr, unknown))}"
                                f"{_COMMA_HINT}", line)
            types = entry.get("type")
            types = [types] if isinstance(types, str) else types
            if not isinstance(types, list) or not types or any(t not in COLUMN_TYPES for t in types):
                raise self.fail(f"column {entry['name']!r}: type must be one of {', '.join(COLUMN_TYPES)} (or a "
                                f"list of them), got {entry.get('type')!r}", line)
            optional = entry.get("optional", False)
            if not isinstance(optional, bool):
                raise self.fail(f"column {entry['name']!r}: 'optional' must be true or false", line)
            columns.append(ColumnSpec(entry["name"], tuple(types), optional, (entry.get("description") or "").strip()))
        declared = tuple(c.name for c in columns)
        if declared != projected:
            raise self.fail(f"'columns' {list(declared)} do not match the variables the query projects "
                            f"{list(projected)} (same names, same order)", line)
        return columns

    # -- placeholders ------------------------------------------------------------------------

    def find_placeholders(self, body: str, params: list[ParamSpec], federated: bool) -> list[Placeholder]:
        code = blank_non_code(body)
        body_line0 = self.text[: len(self.text) - len(body)].count("\n")
        by_var = {p.var: p for p in params}
        found: list[Placeholder] = []
        for match in _PLACEHOLDER_RE.finditer(code):
            var = match.group(1)
            line = body_line0 + code.count("\n", 0, match.start()) + 1
            if var not in by_var:
                raise self.fail(f"'VALUES ?{var} {{ UNDEF }}' has no parameter: declare a parameter with "
                                f"var {var} (or name {var}) or remove the placeholder", line)
            found.append(Placeholder(var, match.start(), match.end(), "values"))
        services: list[Placeholder] = []
        for match in _SERVICE_RE.finditer(code):
            line = body_line0 + code.count("\n", 0, match.start()) + 1
            if not federated:
                raise self.fail("the query uses SERVICE but its header does not say 'federated: true'", line)
            iri_text, var, prefixed = match.groups()
            if var:
                param = by_var.get(var)
                if param is None or param.type != "enum" or param.item.values_from != ALLOWLIST_SOURCE:
                    raise self.fail(f"SERVICE ?{var}: ?{var} must be bound by an enum parameter with "
                                    f"'values_from: {ALLOWLIST_SOURCE}'", line)
                services.append(Placeholder(var, match.start(2) - 1, match.end(2), "service"))
            else:
                iri = body[match.start(1) + 1: match.end(1) - 1] if iri_text else (expand(prefixed) or prefixed)
                if iri not in self.allowlist:
                    raise self.fail(f"SERVICE <{iri}> is not in the SERVICE allow-list (setting SERVICE_ALLOWLIST: "
                                    f"{', '.join(self.allowlist) or 'empty'})", line)
        for param in params:
            count = sum(1 for p in found if p.var == param.var)
            service_count = sum(1 for p in services if p.var == param.var)
            if service_count:
                if param.is_list:
                    raise self.fail(f"parameter {param.name!r}: a SERVICE endpoint cannot be a list")
                if not param.required and param.default is None:
                    raise self.fail(f"parameter {param.name!r} names the SERVICE endpoint: it must be required "
                                    "or have a default")
                continue
            if count < 1:
                raise self.fail(f"parameter {param.name!r}: the query must contain a placeholder "
                                f"'VALUES ?{param.var} {{ UNDEF }}' where its value is bound (one per scope that "
                                "uses it)")
        return sorted(found + services, key=lambda p: p.start)


def _text_value(value: Any, is_list: bool) -> Any:
    """Header defaults/examples as request text: YAML may read 2012 as int or true as bool."""
    if value is None:
        return None
    if is_list:
        items = value if isinstance(value, list) else [value]
        return [_scalar_text(v) for v in items]
    return _scalar_text(value)


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def read_query(path: Path, allowlist: Mapping[str, Any] | None = None, analyse: Analyser | None = None) -> CannedQuery:
    """Read and check one ``.rq`` file; raises :class:`CannedQueryError` naming the file and problem.

    ``analyse`` parses the SPARQL (default: pyoxigraph on an empty in-memory store).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CannedQueryError(f"{path.parent.name}/{path.name}: cannot be read: {exc}") from exc
    return _Reader(path, text, allowlist or {}, analyse or pyoxigraph_analyse).read()


def query_files(folder: Path) -> list[Path]:
    """The canned query files of a folder, in name order."""
    return sorted(folder.glob("*.rq")) if folder.is_dir() else []


def load_queries(folder: Path, allowlist: Mapping[str, Any] | None = None,
                 analyse: Analyser | None = None) -> dict[str, CannedQuery]:
    """Every ``*.rq`` of ``folder`` by operation name; the first malformed file raises."""
    return {q.name: q for q in (read_query(path, allowlist, analyse) for path in query_files(folder))}
