"""RDF terms as plain tuples, so they can cross the pipe to the store worker.

Why: pyoxigraph terms cannot be pickled, and the store lives in its own process (so a
runaway query can be killed). Tuples are cheap to pickle and easy to test:

* ``("I", iri)`` — a named node
* ``("B", id)`` — a blank node
* ``("L", lexical, datatype_iri, language_or_None)`` — a literal
* ``("D",)`` — the default graph
* ``("T", s, p, o)`` — an RDF-star triple term
"""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox

from service.rdf.vocabulary import XSD_STRING

Encoded = tuple[Any, ...]


def encode(term: Any) -> Encoded | None:
    """Encode a pyoxigraph term (or ``None`` for an unbound variable)."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return ("I", term.value)
    if isinstance(term, ox.BlankNode):
        return ("B", term.value)
    if isinstance(term, ox.Literal):
        return ("L", term.value, term.datatype.value, term.language)
    if isinstance(term, ox.DefaultGraph):
        return ("D",)
    if isinstance(term, ox.Triple):
        return ("T", encode(term.subject), encode(term.predicate), encode(term.object))
    raise TypeError(f"not an RDF term: {term!r}")


def decode(value: Encoded | None) -> Any:
    """Turn an encoded tuple back into a pyoxigraph term."""
    if value is None:
        return None
    kind = value[0]
    if kind == "I":
        return ox.NamedNode(value[1])
    if kind == "B":
        return ox.BlankNode(value[1])
    if kind == "L":
        _, lexical, datatype, language = value
        if language:
            return ox.Literal(lexical, language=language)
        return ox.Literal(lexical, datatype=ox.NamedNode(datatype))
    if kind == "D":
        return ox.DefaultGraph()
    if kind == "T":
        return ox.Triple(decode(value[1]), decode(value[2]), decode(value[3]))
    raise ValueError(f"unknown encoded term kind {kind!r}")


def to_rdflib(term: Any) -> Any:
    """Convert a pyoxigraph term to the equivalent rdflib term (for pySHACL and rdflib users).

    Literals keep their lexical form exactly (``normalize=False``): a validator must see the
    value as written, not rdflib's canonical spelling of it.
    """
    from rdflib import BNode, Literal, URIRef

    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language, normalize=False)
        datatype = term.datatype.value
        if datatype == XSD_STRING:
            return Literal(term.value, normalize=False)
        return Literal(term.value, datatype=URIRef(datatype), normalize=False)
    raise TypeError(f"cannot convert {term!r} to rdflib (RDF-star triple terms are not supported)")


def from_rdflib(term: Any) -> Any:
    """Convert an rdflib term to the equivalent pyoxigraph term."""
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"cannot convert {term!r} to pyoxigraph")
