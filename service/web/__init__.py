"""The HTTP face: the app factory, one blueprint per concern, request parsing, negotiation, the access policy, the
error map, the query fast path, admission and the production server.
"""
