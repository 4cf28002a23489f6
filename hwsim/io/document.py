"""The one reader of hwsim's input documents: JSON parsed, ``format`` and ``version`` checked, old versions upgraded.

Every hwsim input file is a JSON object that says what it is and in which version::

    {"format": "hwsim-workload", "version": 1, ...}

:func:`read_document` reads one (a path, a bundled file, or a dict already parsed), refuses a format other than the
reader expects and a version it does not know, and carries a document of an older version up to the current one
through :data:`UPGRADERS`, one function per old version applied in turn (Timeloop front end's scheme). Each reader
of :mod:`hwsim.io` then checks its own fields and builds its description. Every problem is one
:class:`~hwsim.errors.InputError` line naming the file, the field and the value.
"""

from __future__ import annotations

import importlib
import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Protocol

from hwsim.arch import systolic
from hwsim.errors import InputError
from hwsim.types import Record, record

VERSIONS: dict[str, int] = {
    "hwsim-workload": 1,
    systolic.FORMAT: systolic.VERSION,
    "hwsim-sweep": 1,
    "hwsim-explore": 1,
    "hwsim-netspace": 1,
    "hwsim-template": 1,
    "hwsim-dataflow": 1,
    "hwsim-tech": 1,
    "hwsim-tech-scaling": 1,
    "hwsim-maestro-cost": 1,
}
"""Each format this hwsim reads, with the version it reads (and writes)."""

Upgrader = Callable[[dict[str, Any]], dict[str, Any]]
"""Carries a document from one version to the next; :func:`read_document` sets the new ``version``."""

UPGRADERS: dict[str, dict[int, Upgrader]] = {fmt: {} for fmt in VERSIONS}
"""Per format, per old version: the function that carries a document of that version one version up. Empty while
every format is at its first version."""


def bundled(package: str, *parts: str) -> Path:
    """A data file shipped inside one of hwsim's packages (``bundled("dataflows", "ws.json")``).

    The packages are installed as folders (a wheel or an editable install), so the file is a path beside the package's
    ``__init__.py``; reading it directly keeps :mod:`importlib.resources` (and the zipfile machinery it imports) out
    of every command's start-up.
    """
    return Path(importlib.import_module(package).__file__).parent.joinpath(*parts)


class Readable(Protocol):
    """A file, or a file bundled in the package (:func:`importlib.resources.files`)."""

    def read_text(self, encoding: str | None = ...) -> str: ...


@record
class Document(Record):
    """A document whose format and version are checked, upgraded to the version this hwsim reads.

    Parameters
    ----------
    format
        One of the formats the reader expected.
    body
        The whole JSON object, ``format`` and ``version`` included.
    file
        Where it came from, for messages (``None`` for a dict built in Python).
    """

    format: str
    body: Mapping[str, Any]
    file: str | None

    @contextmanager
    def located(self) -> Iterator[None]:
        """Errors raised inside (by the field checks or a description's ``__post_init__``) name this file."""
        try:
            yield
        except InputError as err:
            raise err.located(file=self.file) from None


def read_json(source: str | Path | Readable, file: str | None = None) -> Any:
    """The parsed JSON of a file; a file that cannot be read or parsed is one :class:`InputError` line."""
    label = file if file is not None else str(source)
    try:
        text = (Path(source) if isinstance(source, str) else source).read_text()
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", file=label) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"malformed JSON at line {err.lineno} column {err.colno}: {err.msg}", file=label) from None


def read_document(source: str | Path | Readable | Mapping[str, Any], *, expect: str | tuple[str, ...],
                  file: str | None = None, versions: Mapping[str, int] = VERSIONS,
                  upgraders: Mapping[str, Mapping[int, Upgrader]] = UPGRADERS) -> Document:
    """Read ``source`` and check that it is a document of a format in ``expect``, in a version this hwsim reads.

    Parameters
    ----------
    source
        A path, a bundled file, or a JSON object already parsed (a dict).
    expect
        The format, or formats, the caller reads.
    file
        The name messages give ``source`` (default: the path; a dict has none).
    versions, upgraders
        The current version of each format and the upgraders of old ones (default: :data:`VERSIONS`,
        :data:`UPGRADERS`).

    Raises
    ------
    InputError
        The file cannot be read or parsed, is not a JSON object, is of another format, or of a version that is
        not this hwsim's and that no upgrader carries up to it.
    """
    expected = (expect,) if isinstance(expect, str) else tuple(expect)
    if isinstance(source, Mapping):
        doc: Any = source
    else:
        file = file if file is not None else str(source)
        doc = read_json(source, file)
    if not isinstance(doc, Mapping):
        raise InputError(f"expected a JSON object with format {_either(expected)}", file=file,
                         value=type(doc).__name__)
    fmt = doc.get("format")
    if fmt not in expected:
        raise InputError(f"expected {_either(expected)}", file=file, field="format", value=fmt)
    current = versions[fmt]
    version = doc.get("version")
    steps = upgraders.get(fmt, {})
    while version != current:
        if isinstance(version, bool) or not isinstance(version, int) or version not in steps:
            raise InputError(f"unsupported version; this hwsim reads version {current}", file=file,
                             field="version", value=version)
        doc = {**steps[version](dict(doc)), "version": version + 1}
        version += 1
    return Document(format=fmt, body=doc, file=file)


def _either(formats: tuple[str, ...]) -> str:
    return " or ".join(repr(f) for f in formats)
