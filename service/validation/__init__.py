"""SHACL validation in the context of the stored graph: which shapes a change can touch, what they read, pySHACL's
run and the report.
"""
