"""RDF terms as small hashable tuples, so results from every format compare the same way.

Why our own form rather than rdflib or pyoxigraph terms: the conformance runner must
compare *lexical* forms (``"01"^^xsd:integer`` is not ``"1"^^xsd:integer``), treat a
simple literal and an ``xsd:string`` literal as the same term (RDF 1.1), compare
language tags case-insensitively, and put blank nodes aside for the isomorphism search.
rdflib normalizes literals by default and pyoxigraph terms cannot be built from every
result format, so every parser here produces these tuples:

* ``("I", iri)``
* ``("B", label)``
* ``("L", lexical, datatype, language)`` — datatype ``xsd:string`` for simple literals,
  ``rdf:langString`` with a lower-cased language for tagged ones (language ``""`` otherwise)
* ``("T", s, p, o)`` — an RDF-star triple term
"""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

Term = tuple[Any, ...]


def iri(value: str) -> Term:
    """A named node."""
    return ("I", value)


def bnode(label: str) -> Term:
    """A blank node; the label only matters within one result or graph."""
    return ("B", label)


def literal(lexical: str, datatype: str | None = None, language: str | None = None) -> Term:
    """A literal, normalized so that equal RDF terms give equal tuples."""
    if language:
        return ("L", lexical, RDF_LANGSTRING, language.lower())
    return ("L", lexical, datatype or XSD_STRING, "")


def is_blank(term: Term | None) -> bool:
    """True for a blank node (and for a triple term holding one)."""
    if term is None:
        return False
    if term[0] == "B":
        return True
    if term[0] == "T":
        return any(is_blank(t) for t in term[1:])
    return False


def from_oxigraph(term: Any) -> Term:
    """Convert a pyoxigraph term."""
    if isinstance(term, ox.NamedNode):
        return iri(term.value)
    if isinstance(term, ox.BlankNode):
        return bnode(term.value)
    if isinstance(term, ox.Literal):
        return literal(term.value, term.datatype.value, term.language)
    if isinstance(term, ox.Triple):
        return ("T", from_oxigraph(term.subject), from_oxigraph(term.predicate), from_oxigraph(term.object))
    raise TypeError(f"not an RDF term: {term!r}")


def from_rdflib(term: Any) -> Term:
    """Convert an rdflib term (parsed with literal normalization off)."""
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, URIRef):
        return iri(str(term))
    if isinstance(term, BNode):
        return bnode(str(term))
    if isinstance(term, Literal):
        return literal(str(term), str(term.datatype) if term.datatype else None, term.language)
    raise TypeError(f"not an RDF term: {term!r}")


def to_rdflib(term: Term) -> Any:
    """Convert back to rdflib, for :func:`rdflib.compare.isomorphic`."""
    from rdflib import BNode, Literal, URIRef

    kind = term[0]
    if kind == "I":
        return URIRef(term[1])
    if kind == "B":
        return BNode(term[1])
    if kind == "L":
        _, lexical, datatype, language = term
        if language:
            return Literal(lexical, lang=language, normalize=False)
        return Literal(lexical, datatype=None if datatype == XSD_STRING else URIRef(datatype), normalize=False)
    raise TypeError(f"cannot convert {term!r} to rdflib")


def show(term: Term | None) -> str:
    """A short N-Triples-like rendering for failure messages."""
    if term is None:
        return "UNDEF"
    kind = term[0]
    if kind == "I":
        return f"<{term[1]}>"
    if kind == "B":
        return f"_:{term[1]}" if len(term) > 1 else "_:*"
    if kind == "L":
        _, lexical, datatype, language = term
        text = '"' + lexical.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
        if language:
            return f"{text}@{language}"
        if datatype != XSD_STRING:
            return f"{text}^^<{datatype}>"
        return text
    if kind == "T":
        return "<< " + " ".join(show(t) for t in term[1:]) + " >>"
    if kind == "C":
        return repr(term[1])
    return repr(term)
