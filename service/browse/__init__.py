"""Browsing the graph without SPARQL: the classes with their instance counts, a class's instances with facet
counts, filters, sorting and paging (:mod:`service.browse.facets`), and the ontology's documentation
(:mod:`service.browse.ontology_doc`).

Why a package of its own, between the web tier and the store: the pages (``/browse``, ``/ontology``) and their
JSON twins are HTTP; which SPARQL answers them, how facet counts and filters agree, and how a term's shapes are
found are engine questions, tested without Flask and reusable by the CLI.
"""
