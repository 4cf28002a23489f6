"""Technology tables (format ``hwsim-tech``), node scaling (``hwsim-tech-scaling``) and MAESTRO's coefficients
(``hwsim-maestro-cost``), read into a :class:`hwsim.cost.tech.Technology`.

``load_technology("28nm")`` is the bundled 45 nm table (``hwsim/cost/tables/45nm.json``) times the 28 nm factors of
``tables/scaling.json``; ``load_technology("my.json")`` reads a user's own table, checked on load. Either way the
technology carries the dataflows' actions (``dataflows/*.json``) and MAESTRO's table, which the cost models price.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from hwsim.cost.tech import Technology
from hwsim.errors import InputError
from hwsim.io.checks import number, obj, one_of, positive, string
from hwsim.io.dataflow_spec import bundled_dataflows
from hwsim.io.document import bundled, read_document
from hwsim.types import PRECISIONS

FORMAT = "hwsim-tech"
SCALING_FORMAT = "hwsim-tech-scaling"
MAESTRO_FORMAT = "hwsim-maestro-cost"

_REQUIRED_VALUES = (
    *(("mult", p, q) for p in PRECISIONS for q in ("energy_pj", "area_um2")),
    *(("add", p, q) for p in PRECISIONS for q in ("energy_pj", "area_um2")),
    ("register", "energy_pj_per_bit_access"), ("register", "area_um2_per_bit"), ("register", "leakage_nw_per_bit"),
    ("wire", "energy_pj_per_bit_per_mm"),
    ("sram", "leakage_mw_per_kib"),
    ("dram", "energy_pj_per_byte"),
    ("pe_overhead", "area_fraction"), ("array_overhead", "area_fraction"), ("pe_leakage_nw_per_um2",),
    ("mux2", "area_um2_per_bit"), ("mux2", "energy_pj_per_bit"),
)
_REQUIRED_LAWS = (("sram", "energy_pj_per_64bit_access"), ("sram", "area_mm2"))
_NODE_FACTORS = ("node_nm", "energy_factor", "area_factor", "wire_energy_factor", "dram_energy_factor")
_MAESTRO_COEFFICIENTS = {
    ("energy_mac_units", "mac"): 1, ("energy_mac_units", "l1_access"): 1, ("energy_mac_units", "l2_access"): 1,
    ("area_um2", "pe_mac_per_simd_lane"): 1, ("area_um2", "pe_l1_per_64_bytes"): 1, ("area_um2", "l2_per_32_kib"): 1,
    ("area_um2", "noc"): 3, ("area_um2", "pe_interconnect"): 4,
}
"""MAESTRO's coefficients :mod:`hwsim.cost.template` uses, with how many numbers each ``value`` holds."""


def _bundled_file(name: str) -> tuple[Any, str]:
    return bundled("hwsim.cost", "tables", name), f"hwsim/cost/tables/{name}"


@lru_cache(maxsize=None)
def _scaling() -> Mapping[str, Any]:
    source, file = _bundled_file("scaling.json")
    return read_scaling(source, file=file)


@lru_cache(maxsize=None)
def _bundled_table(name: str) -> Mapping[str, Any]:
    source, file = _bundled_file(f"{name}.json")
    return read_table(source, file=file)


@lru_cache(maxsize=None)
def _maestro() -> Mapping[str, Any]:
    source, file = _bundled_file("maestro.json")
    return read_maestro(source, file=file)


def bundled_nodes() -> tuple[str, ...]:
    """Names ``--tech`` accepts besides a file: the nodes of ``scaling.json``."""
    return tuple(_scaling()["nodes"])


def load_technology(spec: str | Path = "45nm") -> Technology:
    """A bundled node (``"45nm"``, ``"28nm"``, ...) or the path of a user's ``hwsim-tech`` JSON table."""
    text = str(spec)
    scaling = _scaling()
    carried = {"dataflows": bundled_dataflows(), "maestro": _maestro()}
    if text in scaling["nodes"]:
        node = scaling["nodes"][text]
        return Technology(
            name=text, node_nm=float(node["node_nm"]), table=_bundled_table(scaling["base"]),
            energy_factor=float(node["energy_factor"]), area_factor=float(node["area_factor"]),
            wire_energy_factor=float(node["wire_energy_factor"]), dram_energy_factor=float(node["dram_energy_factor"]),
            **carried,
        )
    if not text.endswith(".json"):
        raise InputError(f"expected a bundled node ({', '.join(scaling['nodes'])}) or a .json table", field="tech",
                         value=text)
    table = read_table(text)
    return Technology(name=str(table["name"]), node_nm=float(table["node_nm"]), table=table, **carried)


def read_table(source: Any, *, file: str | None = None) -> dict[str, Any]:
    """A technology table (``hwsim-tech``), checked: every entry the cost models price is there and positive."""
    doc = read_document(source, expect=FORMAT, file=file)
    with doc.located():
        check_table(doc.body)
    return dict(doc.body)


def read_scaling(source: Any, *, file: str | None = None) -> Mapping[str, Any]:
    """A node scaling table (``hwsim-tech-scaling``): the base table's name and each node's positive factors."""
    doc = read_document(source, expect=SCALING_FORMAT, file=file)
    with doc.located():
        string(doc.body.get("base"), "base")
        for name in obj(doc.body.get("nodes"), "nodes"):
            for key in _NODE_FACTORS:
                _positive(doc.body, ("nodes", name, key))
    return doc.body


def read_maestro(source: Any, *, file: str | None = None) -> Mapping[str, Any]:
    """MAESTRO's cost coefficients (``hwsim-maestro-cost``): each one the cost model uses, as numbers."""
    doc = read_document(source, expect=MAESTRO_FORMAT, file=file)
    with doc.located():
        for path, count in _MAESTRO_COEFFICIENTS.items():
            field = ".".join(path + ("value",))
            value = _lookup(doc.body, path + ("value",))
            if count == 1:
                number(value, field)
            elif not isinstance(value, list) or len(value) != count:
                raise InputError(f"must be a list of {count} numbers", field=field, value=value)
            else:
                for i, v in enumerate(value):
                    number(v, f"{field}[{i}]")
    return doc.body


def check_table(table: Mapping[str, Any]) -> None:
    """Raise :class:`InputError` naming the first missing or non-positive entry of a technology table (whose format
    and version :func:`~hwsim.io.document.read_document` has checked)."""
    for key in ("name", "node_nm", "accumulator"):
        if key not in table:
            raise InputError("is required", field=key)
    for precision in PRECISIONS:
        acc = table["accumulator"].get(precision) if isinstance(table["accumulator"], dict) else None
        one_of(acc, f"accumulator.{precision}", PRECISIONS, what="precision")
    for path in _REQUIRED_VALUES:
        _positive(table, path + ("value",))
    for path in _REQUIRED_LAWS:
        _positive(table, path + ("a",))
        number(_lookup(table, path + ("b",)), ".".join(path + ("b",)))


def _lookup(table: Any, path: tuple[str, ...]) -> Any:
    node = table
    for depth, key in enumerate(path):
        if not isinstance(node, dict) or key not in node:
            raise InputError("is required", field=".".join(path[: depth + 1]))
        node = node[key]
    return node


def _positive(table: Any, path: tuple[str, ...]) -> None:
    positive(_lookup(table, path), ".".join(path))
