"""Canned queries as data with a contract header: parsing the header and parameters, running and caching, the
backends, the README section.
"""
