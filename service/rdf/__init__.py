"""RDF without a web or a command line: the vocabulary, terms, formats, parsing of untrusted input, the bundled
graph and what is derived from it.
"""
