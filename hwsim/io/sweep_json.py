"""Reading sweep files (format ``hwsim-sweep``, version 1).

A sweep file names workloads and design parameters::

    {"format": "hwsim-sweep", "version": 1, "name": "arrays",
     "workloads": ["mobilenet_v1", "nets/my_net.json"],
     "mode": "product",
     "parameters": {"array": ["8x8", "32x32"], "dataflow": ["ws", "os"], "tech": "45nm"}}

``"mode": "product"`` takes the cross product of ``parameters`` (each a value or a list of values);
``"mode": "list"`` takes ``"points"``, a list of objects of single values. The parameter keys are those of
:data:`hwsim.sweep.spec.PARAMETERS`. Workloads are bundled names or paths; paths (of workloads and of ``tech``
tables) are relative to the sweep file. Every check is strict: an unknown key, a value of the wrong type or out of
range is one :class:`~hwsim.errors.InputError` naming the field (``parameters.dataflow[1]``, ``points[3].array``)
and the value.
"""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path
from typing import Any, Mapping

from hwsim.errors import InputError
from hwsim.io.checks import keys, one_of, string
from hwsim.io.document import VERSIONS, read_document
from hwsim.sweep.spec import PARAMETERS, Point, SweepSpec, TechRef, WorkloadRef, check_keys, check_value, make_point

FORMAT = "hwsim-sweep"
VERSION = VERSIONS[FORMAT]
KEYS = ("format", "version", "name", "description", "workloads", "mode", "parameters", "points")
MODES = ("product", "list")


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and check a sweep file; relative paths inside it are relative to its folder."""
    path = Path(path)
    doc = read_document(path, expect=FORMAT)
    with doc.located():
        return sweep_from_dict(doc.body, base=path.parent, name=path.stem, file_format=True)


def sweep_from_dict(doc: Any, *, base: str | Path = ".", name: str = "sweep", file_format: bool = False) -> SweepSpec:
    """A :class:`SweepSpec` from a parsed sweep document (a file's, or a dict written in Python).

    Parameters
    ----------
    base
        The folder relative paths are relative to.
    name
        The sweep's name when the document gives none.
    file_format
        Require ``format`` and ``version`` (a file must say what it is; a dict in a notebook may leave them out).
    """
    base = Path(base)
    if isinstance(doc, Mapping) and not file_format:
        doc = {"format": FORMAT, "version": VERSION, **doc}
    doc = read_document(doc, expect=FORMAT).body
    keys(doc, KEYS)
    name = string(doc.get("name", name), "name")
    if not isinstance(doc.get("description", ""), str):
        raise InputError("must be a string", field="description", value=doc["description"])
    workloads = _workloads(doc.get("workloads"), base)
    mode = one_of(doc.get("mode"), "mode", MODES)
    if mode == "product":
        if "points" in doc:
            raise InputError("belongs to mode 'list'; a product takes 'parameters'", field="points")
        points = _product(doc.get("parameters"), base)
    else:
        if "parameters" in doc:
            raise InputError("belongs to mode 'product'; a list takes 'points'", field="parameters")
        points = _points(doc.get("points"), base)
    return SweepSpec(name=name, workloads=workloads, points=points)


def _workloads(value: Any, base: Path) -> tuple[WorkloadRef, ...]:
    if not isinstance(value, list) or not value:
        raise InputError("expected a non-empty list of bundled network names or workload files", field="workloads",
                         value=value)
    refs = []
    for i, text in enumerate(value):
        refs.append(workload_ref(text, base, field=f"workloads[{i}]"))
    labels = [r.label for r in refs]
    for i, label in enumerate(labels):
        if label in labels[:i]:
            raise InputError("is listed twice", field=f"workloads[{i}]", value=label)
    return tuple(refs)


def workload_ref(text: Any, base: str | Path = ".", *, field: str = "workload") -> WorkloadRef:
    """A bundled network by name, or a workload file (relative to ``base``) identified by its contents."""
    from hwsim.workload.zoo import ZOO

    if not isinstance(text, str) or not text:
        raise InputError("expected a bundled network name or a workload file", field=field, value=text)
    if text in ZOO:
        return WorkloadRef(label=text, source=text, identity=f"zoo:{text}")
    path = Path(base) / text
    if not path.is_file():
        raise InputError(f"is neither a bundled network ({', '.join(sorted(ZOO))}) nor a file", field=field,
                         value=text)
    return WorkloadRef(label=text, source=str(path.resolve()), identity=f"sha256:{_digest(path)}")


def tech_ref(text: Any, base: str | Path = ".", *, field: str = "tech") -> TechRef:
    """A bundled node, or a technology table file (relative to ``base``, checked now) identified by its contents."""
    from hwsim.io.tech import bundled_nodes, load_technology

    if isinstance(text, TechRef):
        return text
    if isinstance(text, str) and text in bundled_nodes():
        return TechRef.bundled(text)
    if not isinstance(text, str) or not text.endswith(".json"):
        raise InputError(f"expected a bundled node ({', '.join(bundled_nodes())}) or a .json table", field=field,
                         value=text)
    path = Path(base) / text
    if not path.is_file():
        raise InputError("no such technology table", field=field, value=text)
    load_technology(path)
    return TechRef(label=text, source=str(path.resolve()), identity=f"sha256:{_digest(path)}")


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", file=str(path)) from None


def _value(name: str, value: Any, field: str, base: Path) -> object:
    value = check_value(name, value, field)
    return tech_ref(value, base, field=field) if name == "tech" else value


def _product(params: Any, base: Path) -> tuple[Point, ...]:
    if not isinstance(params, Mapping):
        raise InputError("expected an object of parameter: value or [values]", field="parameters", value=params)
    for key in params:
        if key not in PARAMETERS:
            raise InputError(f"unknown parameter (known: {', '.join(PARAMETERS)})", field=f"parameters.{key}")
    axes: dict[str, list[object]] = {}
    for key in PARAMETERS:  # canonical order: the expansion does not depend on the file's key order
        if key not in params:
            continue
        raw = params[key]
        if isinstance(raw, list):
            if not raw:
                raise InputError("must not be empty", field=f"parameters.{key}", value=raw)
            axes[key] = [_value(key, v, f"parameters.{key}[{i}]", base) for i, v in enumerate(raw)]
        else:
            axes[key] = [_value(key, raw, f"parameters.{key}", base)]
    check_keys(set(axes), "parameters.")
    return tuple(make_point(dict(zip(axes, combo)), "parameters.") for combo in itertools.product(*axes.values()))


def _points(points: Any, base: Path) -> tuple[Point, ...]:
    if not isinstance(points, list) or not points:
        raise InputError("expected a non-empty list of points (objects of parameter: value)", field="points",
                         value=points)
    out = []
    for i, point in enumerate(points):
        prefix = f"points[{i}]."
        if not isinstance(point, Mapping):
            raise InputError("expected an object of parameter: value", field=f"points[{i}]", value=point)
        values: dict[str, object] = {}
        for key, raw in point.items():
            if key not in PARAMETERS:
                raise InputError(f"unknown parameter (known: {', '.join(PARAMETERS)})", field=f"{prefix}{key}")
            if isinstance(raw, list):
                raise InputError("one value per point in mode 'list' (lists of values are for mode 'product')",
                                 field=f"{prefix}{key}", value=raw)
            values[key] = _value(key, raw, f"{prefix}{key}", base)
        out.append(make_point(values, prefix))
    return tuple(out)
