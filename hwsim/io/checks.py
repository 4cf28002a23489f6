"""Field checks shared by the readers of :mod:`hwsim.io`: each takes a value and the field it came from and
returns the value (normalised) or raises one :class:`~hwsim.errors.InputError` naming the field and the value.

:func:`whole` and :func:`positive` live in :mod:`hwsim.errors` because the descriptions' ``__post_init__`` checks
use them too.
"""

from __future__ import annotations

import math
from typing import Any, Collection, Mapping

from hwsim.errors import InputError, positive, whole

__all__ = ["keys", "number", "obj", "one_of", "positive", "string", "whole"]


def number(value: object, field: str) -> float:
    """A finite number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError("must be a number", field=field, value=value)
    return float(value)


def string(value: object, field: str) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value:
        raise InputError("must be a non-empty string", field=field, value=value)
    return value


def one_of(value: object, field: str, known: Collection[Any], *, what: str | None = None) -> Any:
    """One of ``known``; the message lists them (``unknown <what> (known: ...)``, or ``must be one of ...``)."""
    if isinstance(value, (list, dict)) or value not in known:  # a list or dict cannot be looked up in a dict
        listed = ", ".join(str(k) for k in known)
        raise InputError(f"unknown {what} (known: {listed})" if what else f"must be one of {listed}", field=field,
                         value=value)
    return value


def obj(value: object, field: str) -> Mapping[str, Any]:
    """A JSON object."""
    if not isinstance(value, Mapping):
        raise InputError("must be an object", field=field, value=value)
    return value


def keys(value: object, known: Collection[str], *, field: str = "", required: Collection[str] = ()
         ) -> Mapping[str, Any]:
    """A JSON object with no key outside ``known`` and every key of ``required``; ``field`` is its path
    (``""`` for the top level), the path of a key in a message is ``field.key``."""
    doc = obj(value, field or "(top level)")
    prefix = f"{field}." if field else ""
    for key in doc:
        if key not in known:
            raise InputError(f"unknown key (known: {', '.join(known)})", field=f"{prefix}{key}")
    for key in required:
        if key not in doc:
            raise InputError("is required", field=f"{prefix}{key}")
    return doc
