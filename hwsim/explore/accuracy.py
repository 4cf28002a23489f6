"""Accuracy evaluators: how accurate a network of a search space is.

hwsim cannot train networks, so a co-exploration takes the accuracy from outside:

* :class:`AccuracyTable` -- measured accuracies in a CSV file (``AccuracyTable.from_csv``);
* :func:`callable_evaluator` -- a Python function named ``"module:function"``;
* :func:`synthetic_accuracy_proxy` -- a made-up, deterministic function of a network's size and
  skip connections, for tests and examples only. It is NOT an accuracy; results that use it must
  say so (every evaluator here has a :attr:`source` string; print :func:`accuracy_source`).

A *task* names a network search space (its :attr:`~hwsim.explore.netspace.NetworkSpace.name`,
e.g. ``"resnet9_cifar10"``); a *point* maps that space's choice names to options.
"""

from __future__ import annotations

import csv
import importlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Protocol, runtime_checkable

from hwsim.errors import InputError
from hwsim.explore.netspace import NetworkSpace
from hwsim.workload.network import Network

RESERVED_COLUMNS = ("task", "accuracy", "source")
"""CSV columns that are not hyper-parameters: ``task`` and ``accuracy`` required, ``source`` optional."""

SYNTHETIC_SOURCE = (
    "SYNTHETIC accuracy proxy (hwsim.explore.accuracy.synthetic_accuracy_proxy): a made-up function of MACs, "
    "parameters and skip connections, NOT a measured accuracy; for tests and examples only"
)


@runtime_checkable
class AccuracyEvaluator(Protocol):
    """Anything called as ``evaluator(task, point) -> accuracy`` with the accuracy in [0, 1]."""

    def __call__(self, task: str, point: Mapping[str, object]) -> float: ...


def accuracy_source(evaluator: AccuracyEvaluator) -> str:
    """What the accuracies of ``evaluator`` are: its ``source`` attribute, or its qualified name."""
    source = getattr(evaluator, "source", None)
    if isinstance(source, str) and source:
        return source
    name = getattr(evaluator, "__qualname__", type(evaluator).__qualname__)
    return f"callable {getattr(evaluator, '__module__', '?')}.{name} (user-supplied, not described)"


def _check_accuracy(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if 0.0 <= value <= 1.0 else None


def canonical(value: object) -> str:
    """The text a table cell must hold to match ``value``: ``true``/``false``, integers without a
    decimal point, other numbers by ``repr``, strings as they are."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    return str(value)


def _canonical_cell(text: str) -> str:
    text = text.strip()
    if text.lower() in ("true", "false"):
        return text.lower()
    try:
        return str(int(text))
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    return canonical(number) if math.isfinite(number) else text


def _key(task: str, point: Mapping[str, object]) -> tuple[str, frozenset[tuple[str, str]]]:
    return task, frozenset((name, canonical(value)) for name, value in point.items())


def _describe(point: Mapping[str, object]) -> str:
    return "{" + ", ".join(f"{k}={canonical(v)}" for k, v in point.items()) + "}"


@dataclass(frozen=True)
class AccuracyTable:
    """Accuracies looked up by task and point; a point without a row is an error, never a default.

    Parameters
    ----------
    entries
        ``(task, {hyper-parameter: value}, accuracy)`` rows; values as Python values or table text.
    source
        What the accuracies are (measured how, or synthetic); printed with every result.
    file
        The CSV file the table came from, for error messages.
    """

    entries: tuple[tuple[str, Mapping[str, object], float], ...]
    source: str
    file: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.source, str) or not self.source.strip():
            raise InputError("must say what the accuracies are", file=self.file, field="source", value=self.source)
        lookup: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
        entries = []
        for task, point, accuracy in self.entries:
            if not isinstance(task, str) or not task:
                raise InputError("must be a non-empty task name", file=self.file, field="task", value=task)
            checked = _check_accuracy(accuracy)
            if checked is None:
                raise InputError(f"must be a number in [0, 1] (task {task!r}, point {_describe(point)})",
                                 file=self.file, field="accuracy", value=accuracy)
            point = {k: _canonical_cell(v) if isinstance(v, str) else canonical(v) for k, v in point.items()}
            key = (task, frozenset(point.items()))
            if key in lookup:
                raise InputError(f"task {task!r} at point {_describe(point)} has two rows", file=self.file,
                                 field="task", value=task)
            lookup[key] = checked
            entries.append((task, point, checked))
        object.__setattr__(self, "entries", tuple(entries))
        object.__setattr__(self, "_lookup", lookup)

    @classmethod
    def from_csv(cls, path: str | Path) -> "AccuracyTable":
        """Read a table: columns ``task``, the hyper-parameters (named as the choices of the task's
        network space), ``accuracy`` in [0, 1], and optionally ``source`` (what each row is).

        A row leaves a hyper-parameter cell empty when that column is not a choice of its task.
        """
        file = str(path)
        try:
            with open(path, newline="") as handle:
                rows = list(csv.reader(handle))
        except OSError as err:
            raise InputError(f"cannot read: {err.strerror}", file=file) from None
        except (csv.Error, UnicodeDecodeError) as err:
            raise InputError(f"malformed CSV: {err}", file=file) from None
        if not rows:
            raise InputError("is empty; expected a header with task, hyper-parameters and accuracy", file=file)
        header = [cell.strip() for cell in rows[0]]
        for column in ("task", "accuracy"):
            if column not in header:
                raise InputError("is a required column", file=file, field=column)
        for i, column in enumerate(header):
            if not column:
                raise InputError(f"column {i + 1} has no name", file=file, field="header")
            if header.index(column) != i:
                raise InputError("names two columns", file=file, field=column)
        entries = []
        sources = []
        for line, row in enumerate(rows[1:], start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise InputError(f"line {line} has {len(row)} cells for {len(header)} columns", file=file)
            cells = dict(zip(header, (cell.strip() for cell in row)))
            try:
                accuracy = float(cells["accuracy"])
            except ValueError:
                raise InputError(f"line {line}: expected a number", file=file, field="accuracy",
                                 value=cells["accuracy"]) from None
            if not 0.0 <= accuracy <= 1.0:
                raise InputError(f"line {line}: must be in [0, 1] (a fraction, not a percentage)", file=file,
                                 field="accuracy", value=cells["accuracy"])
            point = {k: v for k, v in cells.items() if k not in RESERVED_COLUMNS and v != ""}
            entries.append((cells["task"], point, accuracy))
            if cells.get("source"):
                sources.append(cells["source"])
        if not entries:
            raise InputError("has no rows", file=file)
        described = "; ".join(dict.fromkeys(sources))
        source = f"accuracy table {file}" + (f" ({described})" if described else "")
        return cls(tuple(entries), source, file)

    def to_csv(self, path: str | Path, *, row_source: str | None = None) -> None:
        """Write the table in the form :meth:`from_csv` reads (``row_source`` fills a source column)."""
        columns: dict[str, None] = {}
        for _, point, _ in self.entries:
            columns.update(dict.fromkeys(point))
        header = ["task", *columns, "accuracy"] + (["source"] if row_source else [])
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            for task, point, accuracy in self.entries:
                row = [task, *(point.get(c, "") for c in columns), repr(accuracy)]
                writer.writerow(row + ([row_source] if row_source else []))

    def __call__(self, task: str, point: Mapping[str, object]) -> float:
        """The accuracy of ``task`` at ``point``; an :class:`InputError` naming both if there is no row."""
        try:
            return self._lookup[_key(task, point)]  # type: ignore[attr-defined]
        except KeyError:
            raise InputError(f"has no row for task {task!r} at point {_describe(point)}",
                             file=self.file or "accuracy table") from None


@dataclass(frozen=True)
class CallableAccuracy:
    """A user function ``function(task, point) -> accuracy``, its results checked to be in [0, 1]."""

    spec: str
    function: Callable[[str, Mapping[str, object]], float]

    @property
    def source(self) -> str:
        return f"callable {self.spec} (user-supplied accuracy evaluator)"

    def __call__(self, task: str, point: Mapping[str, object]) -> float:
        value = self.function(task, dict(point))
        checked = _check_accuracy(value)
        if checked is None:
            raise InputError(f"returned {value!r} for task {task!r} at point {_describe(point)}; an accuracy "
                             "must be a number in [0, 1]", field="accuracy evaluator", value=self.spec)
        return checked


def callable_evaluator(spec: str) -> CallableAccuracy:
    """Load ``"package.module:function"`` (or ``module:Class.method``) as an accuracy evaluator."""
    module_name, sep, attr = spec.partition(":") if isinstance(spec, str) else ("", "", "")
    if not sep or not module_name or not attr:
        raise InputError("expected 'module:function'", field="accuracy evaluator", value=spec)
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as err:
        raise InputError(f"cannot import module {module_name!r}: {err}", field="accuracy evaluator",
                         value=spec) from None
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise InputError(f"module {module_name!r} has no attribute {attr!r}", field="accuracy evaluator",
                             value=spec) from None
    if not callable(target):
        raise InputError(f"{attr!r} is not callable", field="accuracy evaluator", value=spec)
    return CallableAccuracy(spec, target)


# -- the synthetic proxy --------------------------------------------------------------------------

_FLOOR, _CEILING = 0.10, 0.95  # the proxy's range: chance for 10 classes up to a made-up ceiling
_AT_REFERENCE = 2.2  # logit of the reference network: 0.10 + 0.85 * sigmoid(2.2) = 0.865
_PER_DOUBLING = 0.8  # logit per doubling of (MACs * parameters) ** 0.5
_PER_SKIP = 0.15  # logit per skip connection (residual add or U-Net concatenation)


def _skips(network: Network) -> int:
    return sum(1 for layer in network.layers
               if layer.kind == "concat" or (layer.kind == "eltwise" and getattr(layer, "op", None) == "add"))


def synthetic_proxy_accuracy(network: Network, reference: Network) -> float:
    """A SYNTHETIC stand-in for accuracy, NOT a measurement: for tests and examples only.

    A logistic curve in the network's size relative to ``reference``: with ``c`` the mean of
    log2(MACs ratio) and log2(parameters ratio) and ``s`` the difference in skip connections
    (residual adds and concatenations), ``0.10 + 0.85 * sigmoid(2.2 + 0.8 c + 0.15 s)``, rounded
    to 4 decimals. It rises and saturates with size and favours skips, the rough shape measured
    accuracies have, so searches face a real accuracy/cost trade-off; every constant is made up
    [assumed].
    """
    capacity = 0.5 * math.log2(max(network.macs, 1) / max(reference.macs, 1)) + 0.5 * math.log2(
        max(network.params, 1) / max(reference.params, 1))
    logit = _AT_REFERENCE + _PER_DOUBLING * capacity + _PER_SKIP * (_skips(network) - _skips(reference))
    return round(_FLOOR + (_CEILING - _FLOOR) / (1.0 + math.exp(-logit)), 4)


class SyntheticAccuracyProxy:
    """The accuracy evaluator of :func:`synthetic_proxy_accuracy` over some network spaces.

    NOT a measured accuracy (see :data:`SYNTHETIC_SOURCE`, its :attr:`source`). Each task's
    reference network is its space's :meth:`~hwsim.explore.netspace.NetworkSpace.reference`.
    Results are cached per point.
    """

    source = SYNTHETIC_SOURCE

    def __init__(self, spaces: Mapping[str, NetworkSpace]) -> None:
        self.spaces = dict(spaces)
        for task, space in self.spaces.items():
            if not isinstance(space, NetworkSpace):
                raise InputError("must be a NetworkSpace", field=f"spaces.{task}", value=space)
        self._references: dict[str, Network] = {}
        self._cache: dict[tuple[str, tuple[int, ...]], float] = {}

    def __call__(self, task: str, point: Mapping[str, object]) -> float:
        try:
            space = self.spaces[task]
        except KeyError:
            raise InputError(f"unknown task (known: {', '.join(self.spaces)})", field="task", value=task) from None
        key = (task, space.space.indices(point))
        if key not in self._cache:
            if task not in self._references:
                self._references[task] = space.reference()
            self._cache[key] = synthetic_proxy_accuracy(space.build(point), self._references[task])
        return self._cache[key]

    def table(self) -> AccuracyTable:
        """Every point of every space with its proxy value, as a (synthetic) :class:`AccuracyTable`."""
        entries = [(task, point, self(task, point)) for task, space in self.spaces.items() for point in space.space]
        return AccuracyTable(tuple(entries), self.source)


def synthetic_accuracy_proxy(spaces: Mapping[str, NetworkSpace] | Iterable[NetworkSpace]) -> SyntheticAccuracyProxy:
    """The SYNTHETIC accuracy proxy over ``spaces`` (a mapping task -> space, or spaces keyed by their
    names). NOT a measured accuracy: for tests and examples only; print its ``source``."""
    if not isinstance(spaces, Mapping):
        spaces = {space.name: space for space in spaces}
    return SyntheticAccuracyProxy(spaces)
