"""Network search-space files.

::

    {"format": "hwsim-netspace", "version": 1, "family": "resnet9", "name": "resnet9_cifar10",
     "fixed": {"input_size": 32, "depth": [2, 0, 2]},
     "choices": {"channels[1]": [64, 128], "skip[0]": [true, false]},
     "source": "[paper] ...; [assumed] ..."}

``fixed`` holds builder arguments of the family (:data:`hwsim.workload.families.FAMILIES`);
``choices`` maps a choice (``arg`` or ``arg[index]``) to its options, in the order the search
space lists them. Every key is required and no other is allowed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hwsim.errors import InputError
from hwsim.explore.netspace import NetworkSpace
from hwsim.explore.space import Choice, Space
from hwsim.io.checks import keys
from hwsim.io.document import VERSIONS, Document, read_document

FORMAT = "hwsim-netspace"
VERSION = VERSIONS[FORMAT]
KEYS = ("format", "version", "family", "name", "fixed", "choices", "source")


def netspace_from_dict(doc: Any, *, file: str | None = None) -> NetworkSpace:
    """A :class:`NetworkSpace` from a parsed search-space document."""
    return _netspace(read_document(doc, expect=FORMAT, file=file))


def read_netspace(path: str | Path) -> NetworkSpace:
    """Read a search-space file (``workloads/spaces/*.json``)."""
    return _netspace(read_document(path, expect=FORMAT))


def _netspace(doc: Document) -> NetworkSpace:
    with doc.located():
        body = keys(doc.body, KEYS, required=KEYS)
        choices = body["choices"]
        if not isinstance(choices, dict):
            raise InputError("must be an object of choice -> list of options", field="choices", value=choices)
        try:
            space = Space(tuple(Choice(name, options) for name, options in choices.items()))
        except InputError as err:
            raise InputError(err.problem, field=f"choices.{err.field}", value=err.value) from None
        return NetworkSpace(family=body["family"], name=body["name"], fixed=body["fixed"], space=space,
                            source=body["source"])


def netspace_to_dict(space: NetworkSpace) -> dict[str, Any]:
    """The document :func:`netspace_from_dict` reads back to an equal space (tuples as lists)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "family": space.family,
        "name": space.name,
        "fixed": {k: _json(v) for k, v in space.fixed.items()},
        "choices": {c.name: [_json(o) for o in c.options] for c in space.space.choices},
        "source": space.source,
    }


def _json(value: Any) -> Any:
    return [_json(v) for v in value] if isinstance(value, tuple) else value
