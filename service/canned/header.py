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
the service replaces by the validated value(s) (see :mod:`service.canned.params`). The
placeholders and ``SERVICE`` clauses are found with the one SPARQL lexer
(:mod:`service.sparql.lexer`), so text inside a string, an IRI or a comment never counts.
The values this reader builds are defined in :mod:`service.canned.contract`.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from service.canned.contract import CannedQuery, ColumnSpec, EnumValue, ParamSpec, Placeholder, TypeSpec
from service.canned.params import ParamError, parse_param
from service.rdf.vocabulary import PREFIXES, curie, expand
from service.sparql.lexer import Token, query_kind, read_prologues, tokenize

#: Scalar parameter types (a ``list`` holds items of one of these).
SCALAR_TYPES = ("iri", "string", "langString", "integer", "decimal", "date", "gYear", "boolean", "enum")
PARAM_TYPES = (*SCALAR_TYPES, "list")
#: Types an output column may declare (a list of them means "any of").
COLUMN_TYPES = ("iri", "bnode", "literal", "string", "langString", "integer", "decimal", "double", "boolean",
                "date", "dateTime", "gYear", "gYearMonth", "any")
#: PyYAML's safe loader, libyaml's C implementation when installed (the same documents, read several times
#: faster: every app start reads every query's header).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

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
#: Types whose values may be bounded by ``min``/``max``; the first two take integer bounds only.
_BOUNDED_TYPES = ("integer", "decimal", "gYear", "date")
_INTEGER_BOUNDED_TYPES = ("integer", "gYear")


class CannedQueryError(ValueError):
    """A canned query file is malformed; the message names the file, the line when known, and the problem."""


# -- analysing the SPARQL ------------------------------------------------------------------


#: Parses a query: (kind, projected variables); raises SyntaxError with the parser's message.
Analyser = Callable[[str], tuple[str, tuple[str, ...]]]


#: rdflib's analysis of the bundled federated queries, by the SHA-256 of each file's text:
#: ``{digest: [kind, [projected variables]]}``. Written by ``python scripts/canned_analysis.py``;
#: tests/canned/test_canned_analysis.py fails when it differs from what rdflib answers for ``queries/``.
ANALYSIS_TABLE = Path(__file__).with_name("rdflib-analysis.json")


@functools.lru_cache(maxsize=1)
def _analysed() -> dict[str, list[Any]]:
    try:
        return json.loads(ANALYSIS_TABLE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def text_digest(text: str) -> str:
    """The key of ``text`` in :data:`ANALYSIS_TABLE`."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=512)
def rdflib_analyse(text: str) -> tuple[str, tuple[str, ...]]:
    """rdflib's analysis of ``text``: from :data:`ANALYSIS_TABLE` when it holds this exact text, else parsed.

    Why the table: rdflib and pyparsing take about 10 MB in the web process for as long as it
    lives, and would be imported at every start only to analyse the bundled federated queries.
    The table holds only what rdflib answered for those exact texts, so every answer is
    rdflib's own; any other text (an edited file, a user's query) is parsed as before, with
    the same errors.
    """
    known = _analysed().get(text_digest(text))
    if known is not None:
        return known[0], tuple(known[1])
    return rdflib_parse(text)


def rdflib_parse(text: str) -> tuple[str, tuple[str, ...]]:
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


def analysis_table(folder: Path) -> dict[str, list[Any]]:
    """What :data:`ANALYSIS_TABLE` must hold for the federated queries of ``folder``, parsed by rdflib now."""
    table: dict[str, list[Any]] = {}
    for path in query_files(folder):
        text = path.read_text(encoding="utf-8")
        reader = _Reader(path, text, {}, rdflib_parse)
        if reader.read_switches(reader.load_header(reader.split()[0]))[0]:
            kind, projected = rdflib_parse(text)
            table[text_digest(text)] = [kind, list(projected)]
    return table


def construct_or_describe(text: str) -> str:
    """pyoxigraph answers CONSTRUCT and DESCRIBE alike; the query form the lexer reads tells them apart."""
    return "describe" if query_kind(text) == "describe" else "construct"


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


def _values_placeholder(tokens: list[Token], i: int) -> str | None:
    """The variable of ``VALUES ?v { UNDEF }`` when ``tokens[i]`` starts one, else ``None``."""
    shape = tokens[i:i + 5]
    if (len(shape) == 5 and shape[0].is_word("VALUES") and shape[1].kind == "var" and shape[2].text == "{"
            and shape[3].is_word("UNDEF") and shape[4].text == "}"):
        return shape[1].text[1:]
    return None


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
        """The whole file as a :class:`CannedQuery`: header keys, parameters, placeholders, the SPARQL, columns."""
        name = self.path.stem
        if not STEM_RE.match(name):
            raise self.fail(f"the file name {name!r} cannot be an operation name: use letters, digits, '-' and '_'")
        header_text, _, body = self.split()
        meta = self.load_header(header_text)
        summary, description, tags = self.read_texts(meta)
        federated, cache = self.read_switches(meta)
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
            name=name, path=self.path, summary=summary, description=description,
            tags=tags, params=tuple(params), columns=tuple(columns), kind=kind, body=body,
            placeholders=tuple(placeholders), federated=federated, cache=cache,
        )

    def load_header(self, header_text: str) -> dict[str, Any]:
        """The header as a YAML mapping of known keys."""
        try:
            meta = yaml.load(header_text, Loader=SAFE_LOADER)  # noqa: S506 - a safe loader
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
        return meta

    def read_texts(self, meta: dict[str, Any]) -> tuple[str, str, tuple[str, ...]]:
        """``summary`` (required), ``description`` and ``tags``."""
        summary = meta.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            raise self.fail("'summary' is required and must be a non-empty string", self.line_of("summary") or 1)
        description = meta.get("description") or ""
        if not isinstance(description, str):
            raise self.fail("'description' must be a string", self.line_of("description"))
        tags = meta.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise self.fail("'tags' must be a list of strings", self.line_of("tags"))
        return summary.strip(), description.strip(), tuple(tags)

    def read_switches(self, meta: dict[str, Any]) -> tuple[bool, bool]:
        """``federated`` (default false) and ``cache`` (default: true unless federated)."""
        federated = meta.get("federated", False)
        if not isinstance(federated, bool):
            raise self.fail("'federated' must be true or false", self.line_of("federated"))
        cache = meta.get("cache", not federated)
        if not isinstance(cache, bool):
            raise self.fail("'cache' must be true or false", self.line_of("cache"))
        return federated, cache

    # -- params ---------------------------------------------------------------------------

    def read_params(self, raw: Any) -> list[ParamSpec]:
        """The ``params`` list: each entry read and checked, names and variables distinct."""
        line = self.line_of("params")
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise self.fail("'params' must be a list of mappings (each with name and type)", line)
        names: set[str] = set()
        variables: set[str] = set()
        return [self.read_param(index, entry, line, names, variables) for index, entry in enumerate(raw)]

    def read_param(self, index: int, entry: Any, line: int | None, names: set[str], variables: set[str]) -> ParamSpec:
        """One ``params`` entry; ``names`` and ``variables`` (those of the entries before) grow by its own."""
        name = self.param_name(index, entry, line, names)
        where = f"parameter {name!r}"
        ptype = entry.get("type")
        if ptype not in PARAM_TYPES:
            raise self.fail(f"{where}: type {ptype!r} is not one of {', '.join(PARAM_TYPES)}", line)
        var = entry.get("var", name)
        if not isinstance(var, str) or not VAR_RE.match(var):
            raise self.fail(f"{where}: var {var!r} is not a SPARQL variable name", line)
        if var in variables:
            raise self.fail(f"{where}: variable ?{var} is bound by two parameters", line)
        variables.add(var)
        item = self.read_items(entry, where, line) if ptype == "list" else self.read_type(entry, where, line)
        spec = ParamSpec(name=name, type=ptype, var=var, item=item,
                         **self.read_param_options(entry, ptype == "list", where, line))
        self.check_literal_values(spec, line)
        return spec

    def param_name(self, index: int, entry: Any, line: int | None, names: set[str]) -> str:
        """The entry's ``name``, checked for spelling, unknown sibling keys and repetition."""
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
        if name in names:
            raise self.fail(f"{where} is declared twice", line)
        names.add(name)
        return name

    def read_items(self, entry: dict[str, Any], where: str, line: int | None) -> TypeSpec:
        """The item type of a list parameter (``items: iri`` or ``items: {type: iri, …}``)."""
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
        return item

    def read_param_options(self, entry: dict[str, Any], is_list: bool, where: str,
                           line: int | None) -> dict[str, Any]:
        """``required``, ``default``, ``example``, ``max_items`` and ``description``, as :class:`ParamSpec` fields."""
        required = entry.get("required", False)
        if not isinstance(required, bool):
            raise self.fail(f"{where}: 'required' must be true or false", line)
        default = entry.get("default")
        max_items = entry.get("max_items", 50)
        if not isinstance(max_items, int) or isinstance(max_items, bool) or max_items < 1:
            raise self.fail(f"{where}: 'max_items' must be a positive integer", line)
        description = entry.get("description") or ""
        if not isinstance(description, str):
            raise self.fail(f"{where}: 'description' must be a string", line)
        if required and default is not None:
            raise self.fail(f"{where}: a required parameter cannot have a default", line)
        return {"description": description.strip(), "required": required, "default": _text_value(default, is_list),
                "example": _text_value(entry.get("example"), is_list), "max_items": max_items}

    def read_type(self, entry: dict[str, Any], where: str, line: int | None) -> TypeSpec:
        """A scalar type and its constraints (of a parameter, or of a list's items)."""
        ptype = entry.get("type")
        if ptype not in SCALAR_TYPES:
            raise self.fail(f"{where}: type {ptype!r} is not one of {', '.join(SCALAR_TYPES)}", line)
        class_iri = entry.get("class")
        if class_iri is not None:
            if ptype != "iri":
                raise self.fail(f"{where}: 'class' applies to type iri only", line)
            class_iri = self.iri(class_iri, f"{where}.class", line)
        values, values_from = self.read_enum(entry, ptype, where, line)
        minimum, maximum = self.read_bounds(entry, ptype, where, line)
        max_length = entry.get("max_length", 200)
        if not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 1:
            raise self.fail(f"{where}: 'max_length' must be a positive integer", line)
        lang = entry.get("lang", "en")
        if not isinstance(lang, str) or not re.fullmatch(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*", lang):
            raise self.fail(f"{where}: 'lang' must be a language tag such as en", line)
        return TypeSpec(type=ptype, class_iri=class_iri, values=values, values_from=values_from,
                        minimum=minimum, maximum=maximum, max_length=max_length, lang=lang)

    def read_enum(self, entry: dict[str, Any], ptype: str, where: str,
                  line: int | None) -> tuple[tuple[EnumValue, ...] | None, str | None]:
        """An enum's ``values`` (read with its ``bind``) or ``values_from``; neither for other types."""
        values = entry.get("values")
        values_from = entry.get("values_from")
        bind = entry.get("bind")
        if ptype != "enum":
            if values is not None or values_from is not None or bind is not None:
                raise self.fail(f"{where}: 'values', 'values_from' and 'bind' apply to type enum only", line)
            return None, None
        if (values is None) == (values_from is None):
            raise self.fail(f"{where}: an enum needs exactly one of 'values' (a list) or 'values_from' "
                            f"(a SPARQL SELECT of ?value [?label], or {ALLOWLIST_SOURCE})", line)
        if bind not in (None, "iri", "string"):
            raise self.fail(f"{where}: 'bind' must be iri or string", line)
        if values is not None:
            return self.enum_values(values, bind or "string", where, line), None
        return None, self.values_query(values_from, where, line)

    def values_query(self, values_from: Any, where: str, line: int | None) -> str:
        """``values_from``: :data:`ALLOWLIST_SOURCE`, or a SELECT projecting ``?value`` (checked by the analyser)."""
        if not isinstance(values_from, str) or not values_from.strip():
            raise self.fail(f"{where}: 'values_from' must be a SPARQL SELECT query or {ALLOWLIST_SOURCE}", line)
        values_from = values_from.strip()
        if values_from == ALLOWLIST_SOURCE:
            return values_from
        try:
            kind, projected = self.analyse(values_from)
        except SyntaxError as exc:
            raise self.fail(f"{where}: values_from is not valid SPARQL: {exc}", line) from exc
        if kind != "select" or "value" not in projected:
            raise self.fail(f"{where}: values_from must be a SELECT projecting ?value (and optionally ?label)", line)
        return values_from

    def read_bounds(self, entry: dict[str, Any], ptype: str, where: str, line: int | None) -> tuple[Any, Any]:
        """``min`` and ``max`` (decimal bounds kept as text, so that they are exact)."""
        bounds = []
        for key in ("min", "max"):
            bound = entry.get(key)
            if bound is not None and ptype not in _BOUNDED_TYPES:
                raise self.fail(f"{where}: '{key}' applies to integer, decimal, gYear and date only", line)
            if bound is not None and ptype in _INTEGER_BOUNDED_TYPES and (not isinstance(bound, int)
                                                                          or isinstance(bound, bool)):
                raise self.fail(f"{where}: '{key}' must be an integer", line)
            bounds.append(str(bound) if isinstance(bound, int | float) and ptype == "decimal" else bound)
        return bounds[0], bounds[1]

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
        """Where each parameter is bound in ``body``, read with the SPARQL lexer; refuses what cannot be bound."""
        tokens = tokenize(body)
        by_var = {p.var: p for p in params}
        found = self.values_placeholders(body, tokens, by_var)
        services = self.service_placeholders(body, tokens, by_var, federated)
        for param in params:
            self.check_bound(param, found, services)
        return sorted(found + services, key=lambda p: p.start)

    def body_line(self, body: str, offset: int) -> int:
        """The file line of a character offset in the query body (for messages)."""
        return self.text[: len(self.text) - len(body)].count("\n") + body.count("\n", 0, offset) + 1

    def values_placeholders(self, body: str, tokens: list[Token], by_var: dict[str, ParamSpec]) -> list[Placeholder]:
        """Every ``VALUES ?v { UNDEF }`` of the code; each must belong to a parameter."""
        found: list[Placeholder] = []
        for i, token in enumerate(tokens):
            var = _values_placeholder(tokens, i)
            if var is None:
                continue
            if var not in by_var:
                line = self.body_line(body, token.start)
                raise self.fail(f"'VALUES ?{var} {{ UNDEF }}' has no parameter: declare a parameter with "
                                f"var {var} (or name {var}) or remove the placeholder", line)
            found.append(Placeholder(var, token.start, tokens[i + 4].end, "values"))
        return found

    def service_placeholders(self, body: str, tokens: list[Token], by_var: dict[str, ParamSpec],
                             federated: bool) -> list[Placeholder]:
        """The ``?v`` of each ``SERVICE ?v``; a ``SERVICE <iri>`` must be on the allow-list.

        The endpoint IRI is resolved against the query's own BASE and PREFIX declarations,
        as the guard does when the query runs (:func:`service.sparql.guard.find_services`).
        """
        prologue = read_prologues(tokens)
        services: list[Placeholder] = []
        for i, token in enumerate(tokens):
            if not token.is_word("SERVICE"):
                continue
            line = self.body_line(body, token.start)
            if not federated:
                raise self.fail("the query uses SERVICE but its header does not say 'federated: true'", line)
            j = i + 1 + (1 if i + 1 < len(tokens) and tokens[i + 1].is_word("SILENT") else 0)
            source = tokens[j] if j < len(tokens) else None
            if source is not None and source.kind == "var":
                var = source.text[1:]
                param = by_var.get(var)
                if param is None or param.type != "enum" or param.item.values_from != ALLOWLIST_SOURCE:
                    raise self.fail(f"SERVICE ?{var}: ?{var} must be bound by an enum parameter with "
                                    f"'values_from: {ALLOWLIST_SOURCE}'", line)
                services.append(Placeholder(var, source.start, source.end, "service"))
            elif source is not None and source.kind in ("iri", "pname"):
                iri = prologue.resolve(source) or source.text
                if iri not in self.allowlist:
                    raise self.fail(f"SERVICE <{iri}> is not in the SERVICE allow-list (setting SERVICE_ALLOWLIST: "
                                    f"{', '.join(self.allowlist) or 'empty'})", line)
            # anything else after SERVICE is a syntax error, which the parser reports
        return services

    def check_bound(self, param: ParamSpec, found: list[Placeholder], services: list[Placeholder]) -> None:
        """A parameter names a SERVICE endpoint (single, always given) or has at least one VALUES placeholder."""
        if any(p.var == param.var for p in services):
            if param.is_list:
                raise self.fail(f"parameter {param.name!r}: a SERVICE endpoint cannot be a list")
            if not param.required and param.default is None:
                raise self.fail(f"parameter {param.name!r} names the SERVICE endpoint: it must be required "
                                "or have a default")
        elif not any(p.var == param.var for p in found):
            raise self.fail(f"parameter {param.name!r}: the query must contain a placeholder "
                            f"'VALUES ?{param.var} {{ UNDEF }}' where its value is bound (one per scope that "
                            "uses it)")


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
