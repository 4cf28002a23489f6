"""Small shared vocabulary: dataflows, operands, array shapes, tensor shapes."""

from __future__ import annotations

import dataclasses
import enum
import re
from dataclasses import dataclass

from hwsim.errors import InputError, whole


class Record:
    """Base of hwsim's records (descriptions and results): frozen dataclasses whose equality, hash, repr and
    immutability are written once here, made with :func:`record`.

    Equal to another of the same class whose compared fields are equal, hashed by them, shown as
    ``Name(field=value, ...)``, and immutable: a field is set once, by ``__init__`` (``__post_init__`` may still fill
    a derived field with ``object.__setattr__``), and never assigned or deleted after. That is what
    ``@dataclass(frozen=True)`` gives; generating those methods for every class with ``exec`` was half of ``hwsim
    run``'s start-up of its own (``benchmarks/bench_startup.py``), so they are inherited instead.
    """

    __slots__ = ()

    def _compared(self) -> tuple:
        names = _COMPARED.get(type(self))
        if names is None:
            names = _COMPARED[type(self)] = tuple(f.name for f in dataclasses.fields(self) if f.compare)
        return tuple(getattr(self, name) for name in names)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._compared() == other._compared()  # type: ignore[attr-defined]
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._compared())

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self) if f.repr)
        return f"{type(self).__qualname__}({shown})"

    def __setattr__(self, name: str, value: object) -> None:
        if name in self.__dict__:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


_COMPARED: dict[type, tuple[str, ...]] = {}


def record(cls: type | None = None, /, **options: object):
    """``@record`` or ``@record(kw_only=True)`` on a :class:`Record` subclass: a frozen dataclass (see Record)."""
    wrap = dataclass(eq=False, repr=False, **options)
    return wrap if cls is None else wrap(cls)


Shape = tuple[int, ...]
"""A tensor's shape for one sample (the batch is the network's, never part of a shape)."""


PRECISIONS = {"int8": 8, "int16": 16, "int32": 32, "fp16": 16, "bf16": 16, "fp32": 32}
"""MAC operand precisions, with their widths in bits."""


class Dataflow(str, enum.Enum):
    """Which operand stays in the PEs while the others stream past."""

    WEIGHT_STATIONARY = "ws"
    OUTPUT_STATIONARY = "os"
    INPUT_STATIONARY = "is"
    ROW_STATIONARY = "rs"

    @classmethod
    def parse(cls, text: str, *, field: str = "dataflow") -> "Dataflow":
        try:
            return cls(text.lower())
        except ValueError:
            known = ", ".join(d.value for d in cls)
            raise InputError(f"unknown dataflow (known: {known})", field=field, value=text) from None


class Operand(str, enum.Enum):
    """The three GEMM operands, in SCALE-Sim's words."""

    IFMAP = "ifmap"
    FILTER = "filter"
    OFMAP = "ofmap"


_ARRAY_RE = re.compile(r"^\s*(-?\d+)\s*[xX]\s*(-?\d+)\s*$")


@record
class ArrayShape(Record):
    """Rows x columns of a PE array."""

    rows: int
    cols: int

    def __post_init__(self) -> None:
        for name in ("rows", "cols"):
            whole(getattr(self, name), name)

    @classmethod
    def parse(cls, text: str, *, field: str = "array") -> "ArrayShape":
        """Parse ``"64x64"`` (rows x columns)."""
        match = _ARRAY_RE.match(text)
        if not match:
            raise InputError("expected ROWSxCOLS, e.g. 64x64", field=field, value=text)
        rows, cols = int(match.group(1)), int(match.group(2))
        if rows < 1 or cols < 1:
            raise InputError("rows and columns must both be >= 1", field=field, value=text)
        return cls(rows, cols)

    @property
    def pes(self) -> int:
        return self.rows * self.cols

    def __str__(self) -> str:
        return f"{self.rows}x{self.cols}"
