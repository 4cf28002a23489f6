"""Technology tables (format ``hwsim-tech``), node scaling (``hwsim-tech-scaling``) and MAESTRO's coefficients
(``hwsim-maestro-cost``), read into a :class:`hwsim.cost.tech.Technology`.

``load_technology("28nm")`` is the bundled 45 nm table (``hwsim/cost/tables/45nm.json``) times the 28 nm factors of
``tables/scaling.json``; ``load_technology("my.json")`` reads a user's own table, checked on load. Either way the
technology carries the dataflows' actions (``dataflows/*.json``) and MAESTRO's table, which the cost models price.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from hwsim.cost.tech import Technology
from hwsim.errors import InputError
from hwsim.io.checks import number, one_of, positive
from hwsim.io.dataflow_spec import bundled_dataflows
from hwsim.io.document import read_document
from hwsim.types import PRECISIONS

FORMAT = "hwsim-tech"

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


@lru_cache(maxsize=None)
def _bundled(name: str, fmt: str) -> Mapping[str, Any]:
    source = resources.files("hwsim.cost").joinpath("tables", name)
    return read_document(source, expect=fmt, file=f"hwsim/cost/tables/{name}").body


def _scaling() -> Mapping[str, Any]:
    return _bundled("scaling.json", "hwsim-tech-scaling")


def bundled_nodes() -> tuple[str, ...]:
    """Names ``--tech`` accepts besides a file: the nodes of ``scaling.json``."""
    return tuple(_scaling()["nodes"])


def load_technology(spec: str | Path = "45nm") -> Technology:
    """A bundled node (``"45nm"``, ``"28nm"``, ...) or the path of a user's ``hwsim-tech`` JSON table."""
    text = str(spec)
    scaling = _scaling()
    carried = {"dataflows": bundled_dataflows(), "maestro": _bundled("maestro.json", "hwsim-maestro-cost")}
    if text in scaling["nodes"]:
        node = scaling["nodes"][text]
        base = f"{scaling['base']}.json"
        return Technology(
            name=text, node_nm=float(node["node_nm"]), table=_bundled(base, FORMAT),
            energy_factor=float(node["energy_factor"]), area_factor=float(node["area_factor"]),
            wire_energy_factor=float(node["wire_energy_factor"]), dram_energy_factor=float(node["dram_energy_factor"]),
            **carried,
        )
    if not text.endswith(".json"):
        raise InputError(f"expected a bundled node ({', '.join(scaling['nodes'])}) or a .json table", field="tech",
                         value=text)
    doc = read_document(text, expect=FORMAT)
    with doc.located():
        check_table(doc.body)
    return Technology(name=str(doc.body["name"]), node_nm=float(doc.body["node_nm"]), table=dict(doc.body), **carried)


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
