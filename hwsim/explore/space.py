"""Discrete design spaces: named choices, each from a list of options.

A point of a :class:`Space` is a dict ``{choice name: option}``; its *indices* are the positions
of those options in their lists. Searches work on indices (small integer arrays NumPy can mutate
and sample) and hand points to the evaluator. A hardware space and one space per network join
into one with ``+`` (or :meth:`Space.product`); names must stay unique, so each part can be
:meth:`~Space.prefixed` first.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Sequence

from hwsim.errors import InputError


def same_option(a: object, b: object) -> bool:
    """Option equality that keeps ``True`` and ``1`` apart (Python's ``==`` does not)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class Choice:
    """One decision of a design: a name and the options it may take.

    Parameters
    ----------
    name
        Unique within its space, e.g. ``"pe_split"`` or ``"cifar.channels[1]"``.
    options
        The values, in a fixed order (a list or tuple; stored as a tuple). At least one, no
        option twice.
    """

    name: str
    options: tuple[Any, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InputError("a choice needs a non-empty name", field="name", value=self.name)
        if not isinstance(self.options, (list, tuple)):
            raise InputError("the options must be a list", field=self.name, value=self.options)
        options = tuple(self.options)
        if not options:
            raise InputError("the options must not be empty", field=self.name, value=[])
        for i, option in enumerate(options):
            if any(same_option(option, earlier) for earlier in options[:i]):
                raise InputError("lists an option twice", field=self.name, value=option)
        object.__setattr__(self, "options", options)

    def index(self, option: object) -> int:
        """Position of ``option`` in :attr:`options`, or an :class:`InputError` naming the choice."""
        for i, candidate in enumerate(self.options):
            if same_option(candidate, option):
                return i
        raise InputError(f"is not one of the options {list(self.options)!r}", field=self.name, value=option)


@dataclass(frozen=True)
class Space:
    """The cross product of some choices.

    Parameters
    ----------
    choices
        The choices, in a fixed order: that order is the order of a point's indices and of
        iteration (the last choice varies fastest). Names must be unique. No choices at all is a
        space of one empty point.
    """

    choices: tuple[Choice, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.choices, (list, tuple)):
            raise InputError("must be a list of choices", field="choices", value=self.choices)
        choices = tuple(self.choices)
        seen: set[str] = set()
        for choice in choices:
            if not isinstance(choice, Choice):
                raise InputError("must be a Choice", field="choices", value=choice)
            if choice.name in seen:
                raise InputError("names two choices", field=choice.name, value=choice.name)
            seen.add(choice.name)
        object.__setattr__(self, "choices", choices)

    @classmethod
    def of(cls, options: Mapping[str, Sequence[Any]]) -> "Space":
        """A space from ``{name: [options...]}``, in the mapping's order."""
        return cls(tuple(Choice(name, values) for name, values in options.items()))

    @classmethod
    def product(cls, *spaces: "Space") -> "Space":
        """All the spaces' choices in one space (their points are the joined points)."""
        return cls(tuple(choice for space in spaces for choice in space.choices))

    def __add__(self, other: "Space") -> "Space":
        if not isinstance(other, Space):
            return NotImplemented
        return Space.product(self, other)

    def prefixed(self, prefix: str) -> "Space":
        """The same space with every choice name prefixed, e.g. ``"cifar."``."""
        return Space(tuple(Choice(prefix + c.name, c.options) for c in self.choices))

    @property
    def names(self) -> tuple[str, ...]:
        """The choice names, in order."""
        return tuple(c.name for c in self.choices)

    @property
    def shape(self) -> tuple[int, ...]:
        """The number of options of each choice, in order."""
        return tuple(len(c.options) for c in self.choices)

    @property
    def size(self) -> int:
        """The number of points (the product of :attr:`shape`)."""
        return math.prod(self.shape)

    def point(self, indices: Sequence[int]) -> dict[str, Any]:
        """The point at ``indices`` (one option position per choice), as ``{name: option}``."""
        values = tuple(indices)
        if len(values) != len(self.choices):
            raise InputError(f"expected {len(self.choices)} indices, one per choice", field="indices",
                             value=list(values))
        point = {}
        for choice, i in zip(self.choices, values):
            if isinstance(i, bool) or not hasattr(i, "__index__"):
                raise InputError("must be a whole number", field=choice.name, value=i)
            i = int(i.__index__())
            if not 0 <= i < len(choice.options):
                raise InputError(f"index out of range 0..{len(choice.options) - 1}", field=choice.name, value=i)
            point[choice.name] = choice.options[i]
        return point

    def indices(self, point: Mapping[str, Any]) -> tuple[int, ...]:
        """The option positions of ``point``; it must name every choice and nothing else."""
        for name in point:
            if name not in self.names:
                raise InputError(f"is not a choice of this space (choices: {', '.join(self.names)})", field=name)
        result = []
        for choice in self.choices:
            if choice.name not in point:
                raise InputError("is missing from the point", field=choice.name)
            result.append(choice.index(point[choice.name]))
        return tuple(result)

    def iter_indices(self) -> Iterator[tuple[int, ...]]:
        """Every point's indices, in the fixed order (the last choice varies fastest)."""
        return itertools.product(*(range(n) for n in self.shape))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Every point, in the order of :meth:`iter_indices`."""
        return (self.point(ix) for ix in self.iter_indices())
