"""The one error type users see.

Every problem with user input is raised as :class:`InputError`, whose ``str`` is a single
line naming where the problem is (file, layer, field) and the offending value. The CLI
prints that line and exits with status 2; nothing else is caught.
"""

from __future__ import annotations

import math


class _Unset:
    """Marks 'no value given' (None can be a real offending value); pickles as itself."""

    def __reduce__(self) -> str:
        return "_UNSET"


_UNSET = _Unset()


class InputError(Exception):
    """Bad user input, reported as one line.

    Parameters
    ----------
    problem
        What is wrong, e.g. ``"must be >= 1"``.
    file, layer, field
        Where, as far as known; the loader fills in ``file`` as the error passes out.
    value
        The offending value, printed with ``repr``.
    """

    def __init__(
        self,
        problem: str,
        file: str | None = None,
        layer: str | None = None,
        field: str | None = None,
        value: object = _UNSET,
    ) -> None:
        super().__init__(problem, file, layer, field, value)
        self.problem = problem
        self.file = file
        self.layer = layer
        self.field = field
        self.value = value

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.layer is not None:
            where.append(f"layer {self.layer!r}")
        if self.field is not None:
            field = f"field {self.field!r}"
            if self.value is not _UNSET:
                field += f" = {_short(self.value)}"
            where.append(field)
        elif self.value is not _UNSET:
            where.append(f"value {_short(self.value)}")
        return ": ".join(where + [self.problem])

    def located(self, *, file: str | None = None, layer: str | None = None) -> "InputError":
        """The same error with the location filled in where it was still unknown."""
        return InputError(
            self.problem,
            file=self.file if self.file is not None else file,
            layer=self.layer if self.layer is not None else layer,
            field=self.field,
            value=self.value,
        )


def whole(value: object, field: str, minimum: int = 1) -> int:
    """``value`` if it is a whole number ``>= minimum`` (``True`` is not a number here); else an :class:`InputError`.

    The one check of counts, shared by the descriptions' ``__post_init__`` and the readers of :mod:`hwsim.io`.
    """
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InputError(f"must be a whole number >= {minimum}", field=field, value=value)
    return value


def positive(value: object, field: str) -> float:
    """``value`` as a float if it is a finite number ``> 0``; else an :class:`InputError` naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise InputError("must be a number > 0", field=field, value=value)
    return float(value)


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
