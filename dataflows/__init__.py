"""Declarative dataflow descriptions (``*.json``), read by the cost model through ``importlib.resources``.

A regular package, not a namespace one, so the files resolve in every install mode.
"""
