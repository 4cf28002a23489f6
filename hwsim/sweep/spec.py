"""What a sweep evaluates: design points x workloads, each pair with a stable id.

A :class:`Point` is one design with every parameter resolved (no "use the default" left in it), so two ways of
writing the same design (``"array": "64x64"`` or ``"rows": 64, "cols": 64``; a default left out or written) are
the same point with the same id. A point with ``sparsity`` runs on SAT (:mod:`hwsim.sim.training`), any other
on a systolic array (:mod:`hwsim.sim.engine`).

The id of a point on a workload is a hash of the point's canonical parameters and the workload's identity (a
bundled network's name, or the SHA-256 of the workload file): resuming a sweep is keyed by id, never by position.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import MISSING, dataclass, fields
from typing import Any, Callable, Mapping

from hwsim.arch.sat import SatArray
from hwsim.arch.systolic import SystolicArray
from hwsim.errors import InputError, positive, whole
from hwsim.report.systolic import METRICS
from hwsim.types import PRECISIONS, ArrayShape, Dataflow
from hwsim.workload.sparsity import NMSparsity
from hwsim.workload.training import Scheme

SYSTOLIC_PARAMETERS = (
    "array", "rows", "cols", "dataflow", "precision", "ifmap_sram_kib", "filter_sram_kib", "ofmap_sram_kib",
    "dram_bandwidth_bytes_per_cycle", "clock_mhz", "tech", "batch",
)
"""Parameters every point has; in a results row they are columns of the same names."""

SAT_PARAMETERS = ("sparsity", "scheme", "train")
"""Parameters of SAT points only (``sparsity`` makes a point a SAT point)."""

PARAMETERS = SYSTOLIC_PARAMETERS + SAT_PARAMETERS
"""Every key a point may have in a sweep file, in the canonical order (the order of expansion)."""

SAT_METRICS = ("Executed MACs", "Dense Cycles", "Speed-up", "FF Cycles", "BP Cycles", "WU Cycles",
               "Energy Pruning pJ")
"""Result columns only SAT points fill (see :func:`hwsim.sweep.evaluate.sat_metrics`)."""

ID_COLUMNS = ("id", "workload")
ERROR_COLUMN = "Error"

_SYSTOLIC_DEFAULTS = {f.name: f.default for f in fields(SystolicArray)
                      if f.name in PARAMETERS and f.default is not MISSING and f.name != "dataflow"}
_SAT_ARRAY = SatArray().array  # SAT's assumed array (hwsim.arch.sat.SAT_ASSUMPTIONS)
_SAT_DEFAULTS = {name: getattr(_SAT_ARRAY, name) for name in ("rows", "cols", "precision", "ifmap_sram_kib",
                                                               "filter_sram_kib", "ofmap_sram_kib",
                                                               "dram_bandwidth_bytes_per_cycle", "clock_mhz")}
DEFAULT_TECH = "45nm"


@dataclass(frozen=True)
class WorkloadRef:
    """A workload of a sweep.

    Parameters
    ----------
    label
        As the sweep names it (a bundled name or the path as written); the ``workload`` column of its rows.
    source
        What :func:`hwsim.io.load.load_workload` takes: the bundled name or the absolute path.
    identity
        ``zoo:<name>`` or ``sha256:<digest of the file>``: what the ids hash, so a moved file keeps its ids and an
        edited one gets new ones.
    """

    label: str
    source: str
    identity: str

    def __post_init__(self) -> None:
        for name in ("label", "source", "identity"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise InputError("must be a non-empty string", field=f"workload.{name}", value=getattr(self, name))


@dataclass(frozen=True)
class TechRef:
    """A technology of a sweep: ``label`` as written, ``source`` for :func:`hwsim.io.tech.load_technology`
    (a bundled node or an absolute path), ``identity`` the node's name or ``sha256:<digest of the table>``."""

    label: str
    source: str
    identity: str

    @classmethod
    def bundled(cls, node: str) -> "TechRef":
        return cls(node, node, node)


@dataclass(frozen=True)
class Point:
    """One design, every parameter resolved.

    Parameters
    ----------
    rows, cols, dataflow, precision, ifmap_sram_kib, filter_sram_kib, ofmap_sram_kib, dram_bandwidth_bytes_per_cycle,
    clock_mhz
        The array, as :class:`hwsim.arch.systolic.SystolicArray` takes them. ``dataflow`` is ``None`` on SAT points
        (SAT schedules ws or os per GEMM).
    tech
        The technology that prices energy and area.
    batch
        Samples per inference or training step; ``None`` keeps the workload's.
    sparsity
        ``None`` for a systolic-array point; ``"dense"`` or ``"N:M"`` for a point on SAT.
    scheme
        SAT only: which passes are sparse (``bdwp``, ``forward``, ``dense``; always ``dense`` for dense sparsity).
    train
        SAT only: a whole training step (FF, BP, WU) rather than the forward pass.
    """

    rows: int
    cols: int
    dataflow: str | None
    precision: str
    ifmap_sram_kib: float
    filter_sram_kib: float
    ofmap_sram_kib: float
    dram_bandwidth_bytes_per_cycle: float
    clock_mhz: float
    tech: TechRef
    batch: int | None = None
    sparsity: str | None = None
    scheme: str | None = None
    train: bool | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.tech, TechRef):
            raise InputError("must be a TechRef", field="tech", value=self.tech)
        if self.batch is not None:
            whole(self.batch, "batch")
        for name in ("ifmap_sram_kib", "filter_sram_kib", "ofmap_sram_kib", "dram_bandwidth_bytes_per_cycle",
                     "clock_mhz"):
            object.__setattr__(self, name, positive(getattr(self, name), name))  # 64 and 64.0: one point, one id
        if self.sparsity is None:
            for name in ("scheme", "train"):
                if getattr(self, name) is not None:
                    raise InputError("needs 'sparsity' (sparse and training points run on SAT)", field=name,
                                     value=getattr(self, name))
            if self.dataflow is None:
                raise InputError("is required on a systolic-array point", field="dataflow", value=None)
        else:
            if self.dataflow is not None:
                raise InputError("SAT points (those with 'sparsity') choose ws or os per GEMM themselves; leave "
                                 "dataflow out", field="dataflow", value=self.dataflow)
            object.__setattr__(self, "sparsity", _sparsity(self.sparsity, "sparsity"))
            object.__setattr__(self, "scheme", _scheme(self.scheme, "scheme"))
            if self.sparsity == "dense":
                object.__setattr__(self, "scheme", Scheme.DENSE.value)  # nothing is pruned under any scheme
            if not isinstance(self.train, bool):
                raise InputError("must be true or false", field="train", value=self.train)
        self.systolic_array()  # SystolicArray checks the rest and names the field

    @property
    def is_sat(self) -> bool:
        return self.sparsity is not None

    @property
    def array(self) -> str:
        return f"{self.rows}x{self.cols}"

    def systolic_array(self) -> SystolicArray:
        """The array; on a SAT point its ``dataflow`` is a placeholder SAT's scheduler ignores."""
        return SystolicArray(
            self.rows, self.cols, dataflow=Dataflow(self.dataflow or "ws"), precision=self.precision,
            ifmap_sram_kib=self.ifmap_sram_kib, filter_sram_kib=self.filter_sram_kib,
            ofmap_sram_kib=self.ofmap_sram_kib, dram_bandwidth_bytes_per_cycle=self.dram_bandwidth_bytes_per_cycle,
            clock_mhz=self.clock_mhz,
        )

    def sat_array(self) -> SatArray:
        """SAT with this point's array and every other SAT default (:data:`hwsim.arch.sat.SAT_ASSUMPTIONS`)."""
        return SatArray(array=self.systolic_array())

    def canonical(self) -> dict[str, Any]:
        """The parameters that identify the point; values left unset (``None``) are left out, so adding an optional
        parameter in a later version keeps the ids of points that do not use it."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            out[f.name] = value.identity if isinstance(value, TechRef) else value
        return out

    def parameters(self) -> dict[str, Any]:
        """The point's parameter columns (``batch`` is filled in with the workload's when unset)."""
        row: dict[str, Any] = {"array": self.array}
        for name in PARAMETERS[1:]:
            value = getattr(self, name)
            row[name] = value.label if isinstance(value, TechRef) else value
        return row


@dataclass(frozen=True)
class Task:
    """One row to compute: a point on a workload, with its id."""

    id: str
    workload: WorkloadRef
    point: Point


@dataclass(frozen=True)
class SweepSpec:
    """A sweep: its points, evaluated on every workload.

    Parameters
    ----------
    name
        For messages and plots.
    workloads
        The workloads, in the order their rows are reported.
    points
        The design points (a product already expanded, or an explicit list).
    """

    name: str
    workloads: tuple[WorkloadRef, ...]
    points: tuple[Point, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "workloads", tuple(self.workloads))
        object.__setattr__(self, "points", tuple(self.points))
        if not self.workloads:
            raise InputError("a sweep needs at least one workload", field="workloads", value=[])
        if not self.points:
            raise InputError("a sweep needs at least one point", field="points", value=[])
        labels = [w.label for w in self.workloads]
        for label in labels:
            if labels.count(label) > 1:
                raise InputError("is listed twice", field="workloads", value=label)

    @property
    def has_sat(self) -> bool:
        return any(p.is_sat for p in self.points)

    def columns(self) -> tuple[str, ...]:
        """The results file's columns: id, workload, parameters, metrics, Error (SAT's only when there are SAT
        points)."""
        sat = self.has_sat
        return (ID_COLUMNS + SYSTOLIC_PARAMETERS + (SAT_PARAMETERS if sat else ()) + METRICS
                + (SAT_METRICS if sat else ()) + (ERROR_COLUMN,))

    def tasks(self) -> tuple[Task, ...]:
        """Every point on every workload, workload by workload; a point listed twice appears once."""
        seen: set[str] = set()
        tasks = []
        for workload in self.workloads:
            for point in self.points:
                task_id = point_id(point, workload)
                if task_id not in seen:
                    seen.add(task_id)
                    tasks.append(Task(task_id, workload, point))
        return tuple(tasks)

    @property
    def duplicates(self) -> int:
        """Points listed more than once (after resolving defaults), which are evaluated once."""
        return len(self.points) - len({json.dumps(p.canonical(), sort_keys=True) for p in self.points})


def point_id(point: Point, workload: WorkloadRef) -> str:
    """16 hex digits of the SHA-256 of the point's canonical parameters and the workload's identity."""
    text = json.dumps({"point": point.canonical(), "workload": workload.identity}, sort_keys=True,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# -- one parameter at a time: each check names the field (a caller prefixes its path) --------------------------


def _array(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise InputError("expected ROWSxCOLS, e.g. \"64x64\"", field=field, value=value)
    return str(ArrayShape.parse(value, field=field))


def _dataflow(value: object, field: str) -> str:
    known = tuple(d.value for d in (Dataflow.WEIGHT_STATIONARY, Dataflow.OUTPUT_STATIONARY, Dataflow.INPUT_STATIONARY))
    if not isinstance(value, str) or value.lower() not in known:
        raise InputError(f"unknown dataflow (known: {', '.join(known)})", field=field, value=value)
    return value.lower()


def _precision(value: object, field: str) -> str:
    if not isinstance(value, str) or value not in PRECISIONS:
        raise InputError(f"unknown precision (known: {', '.join(PRECISIONS)})", field=field, value=value)
    return str(value)


def _tech(value: object, field: str) -> object:
    if isinstance(value, TechRef):
        return value
    if not isinstance(value, str) or not value:
        raise InputError("expected a bundled node (e.g. \"45nm\") or a .json table", field=field, value=value)
    return value


def _sparsity(value: object, field: str) -> str:
    if value == "dense":
        return "dense"
    if not isinstance(value, str) or ":" not in value:
        raise InputError("expected \"dense\" or N:M, e.g. \"2:8\"", field=field, value=value)
    try:
        return str(NMSparsity.parse(value))
    except InputError as err:
        raise InputError(err.problem, field=field, value=value) from None


def _scheme(value: object, field: str) -> str:
    known = tuple(s.value for s in Scheme)
    if value not in known:
        raise InputError(f"unknown scheme (known: {', '.join(known)})", field=field, value=value)
    return str(value)


def _train(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise InputError("must be true or false", field=field, value=value)
    return value


CHECKS: dict[str, Callable[[object, str], object]] = {
    "array": _array, "rows": whole, "cols": whole, "dataflow": _dataflow, "precision": _precision,
    "ifmap_sram_kib": positive, "filter_sram_kib": positive, "ofmap_sram_kib": positive,
    "dram_bandwidth_bytes_per_cycle": positive, "clock_mhz": positive, "tech": _tech, "batch": whole,
    "sparsity": _sparsity, "scheme": _scheme, "train": _train,
}
"""Per parameter: check one value and return it normalised, or raise naming ``field``."""


def check_value(name: str, value: object, field: str | None = None) -> object:
    """One parameter value, normalised; an unknown name or a bad value raises naming ``field`` (default ``name``)."""
    field = field or name
    if name not in CHECKS:
        raise InputError(f"unknown parameter (known: {', '.join(PARAMETERS)})", field=field)
    return CHECKS[name](value, field)


def check_keys(keys: set[str], prefix: str) -> None:
    """Checks on which parameters appear together (the same for every point of a product)."""
    if "array" in keys and keys & {"rows", "cols"}:
        name = "rows" if "rows" in keys else "cols"
        raise InputError("give either 'array' or 'rows' and 'cols'", field=f"{prefix}{name}")
    if ("rows" in keys) != ("cols" in keys):
        raise InputError("needs 'cols' too" if "rows" in keys else "needs 'rows' too",
                         field=f"{prefix}{'rows' if 'rows' in keys else 'cols'}")
    if "sparsity" not in keys:
        for name in ("scheme", "train"):
            if name in keys:
                raise InputError("needs 'sparsity' (sparse and training points run on SAT)", field=f"{prefix}{name}")
        if "array" not in keys and "rows" not in keys:
            raise InputError("is required (e.g. \"64x64\") unless the point runs on SAT (has 'sparsity')",
                             field=f"{prefix}array")
    elif "dataflow" in keys:
        raise InputError("SAT points (those with 'sparsity') choose ws or os per GEMM themselves; leave dataflow out",
                         field=f"{prefix}dataflow")


def make_point(params: Mapping[str, object], prefix: str = "") -> Point:
    """A :class:`Point` from checked, normalised parameters (see :func:`check_value`), defaults filled in:
    the systolic array's (:class:`hwsim.arch.systolic.SystolicArray`), or for SAT points SAT's assumed array.
    ``tech`` must already be a :class:`TechRef` when given."""
    check_keys(set(params), prefix)
    sat = "sparsity" in params
    values: dict[str, Any] = dict(_SAT_DEFAULTS if sat else _SYSTOLIC_DEFAULTS)
    if not sat:
        values["dataflow"] = Dataflow.WEIGHT_STATIONARY.value
    else:
        values["dataflow"] = None
        values["scheme"] = "dense" if params["sparsity"] == "dense" else Scheme.BDWP.value
        values["train"] = False
    values["tech"] = TechRef.bundled(DEFAULT_TECH)
    for name, value in params.items():
        if name == "array":
            shape = ArrayShape.parse(str(value))
            values.update(rows=shape.rows, cols=shape.cols)
        else:
            values[name] = value
    try:
        return Point(**values)
    except InputError as err:
        raise InputError(err.problem, field=f"{prefix}{err.field}" if err.field else None, value=err.value) from None
