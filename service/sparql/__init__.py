"""SPARQL text in, SPARQL text out: the one lexer, the guard every text passes, the federated-query client and the
result writers; no HTTP, no store.
"""
