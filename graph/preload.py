"""Imported once by the fork server that starts newsgraph's worker processes (see :mod:`newsgraph.workers`).

It loads the default model and the extractor, so each worker forked from the
server starts with them loaded, sharing their memory copy-on-write, instead
of spending a second or two loading its own.
"""
from .pipeline import warm

warm()
