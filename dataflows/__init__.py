"""Declarative dataflows and templates (``*.json``), read by :mod:`hwsim.io` through ``importlib.resources``.

A regular package, not a namespace one, so the files resolve in every install mode.
"""
