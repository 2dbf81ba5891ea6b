"""Name search over the graph: every resource and ontology term by its labels in every language.

Why a package of its own, outside ``web/``: the index, the normalisation of names and the ranking are about the
data, not about HTTP — the search page, its JSON twin and the canned-query forms' autocomplete all ask the same
:class:`~service.search.index.SearchIndex`, and tests exercise it without a server.
"""
