"""Both ends of the pipe to the store worker: the client, the worker process, its operations and the guarded writes
with their update delta.
"""
