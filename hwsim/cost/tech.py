"""Technology tables: energy per action and area per component, each number with its source.

A table is a JSON file (format ``hwsim-tech``); the bundled ``tables/45nm.json`` holds the 45 nm numbers
(Horowitz, ISSCC 2014, and the sources it names), and ``tables/scaling.json`` the factors that carry them to other
nodes. ``load_technology("28nm")`` is the 45 nm table times the 28 nm factors; ``load_technology("my.json")``
reads a user's own table, checked on load.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from hwsim.errors import InputError
from hwsim.io.jsonfile import read_json
from hwsim.types import PRECISIONS


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


@dataclass(frozen=True)
class Technology:
    """Prices of actions and areas of components at one technology node.

    The node's factors scale the base table: ``energy_factor`` every logic and SRAM energy (leakage included),
    ``wire_energy_factor`` the energy of a wire per mm (it follows the supply voltage squared, not the device),
    ``dram_energy_factor`` DRAM (off-chip, not scaled with the logic node), ``area_factor`` every area. All are 1
    for a table read as it is.
    """

    name: str
    node_nm: float
    table: dict[str, Any] = field(repr=False, compare=False)
    energy_factor: float = 1.0
    area_factor: float = 1.0
    wire_energy_factor: float = 1.0
    dram_energy_factor: float = 1.0

    def _value(self, *path: str) -> float:
        node: Any = self.table
        for key in path:
            node = node[key]
        return float(node["value"])

    # -- energy (pJ) -----------------------------------------------------------------------------------

    def mac_energy_pj(self, precision: str) -> float:
        """One multiply and its accumulation (in the table's accumulator precision)."""
        acc = self.table["accumulator"][precision]
        return self.energy_factor * (self._value("mult", precision, "energy_pj") + self._value("add", acc, "energy_pj"))

    def register_energy_pj(self, bits: float) -> float:
        return self.energy_factor * self._value("register", "energy_pj_per_bit_access") * bits

    def wire_energy_pj(self, bits: float, mm: float) -> float:
        return self.wire_energy_factor * self._value("wire", "energy_pj_per_bit_per_mm") * bits * mm

    def sram_energy_pj(self, capacity_kib: float, width_bits: float) -> float:
        """One access of ``width_bits`` to an SRAM of ``capacity_kib``."""
        law = self.table["sram"]["energy_pj_per_64bit_access"]
        return self.energy_factor * float(law["a"]) * capacity_kib ** float(law["b"]) * width_bits / 64

    def dram_energy_pj(self, nbytes: float) -> float:
        return self.dram_energy_factor * self._value("dram", "energy_pj_per_byte") * nbytes

    def sram_leakage_mw(self, capacity_kib: float) -> float:
        return self.energy_factor * self._value("sram", "leakage_mw_per_kib") * capacity_kib

    def pe_leakage_mw(self, precision: str, register_bits: float) -> float:
        """One PE: its registers' leakage plus its logic's (multiplier, adder, overhead), at the logic density.

        The areas are the base table's, so a node's leakage scales by its energy factor alone.
        """
        acc = self.table["accumulator"][precision]
        logic_um2 = (self._value("mult", precision, "area_um2") + self._value("add", acc, "area_um2")) * (
            1 + self.pe_overhead)
        nw = (self._value("register", "leakage_nw_per_bit") * register_bits
              + self._value("pe_leakage_nw_per_um2") * logic_um2)
        return self.energy_factor * nw * 1e-6

    def mux_energy_pj(self, inputs: int, bits: float) -> float:
        """One selection by an ``inputs``:1 multiplexer of ``bits`` bits (``inputs - 1`` 2:1 cells per bit)."""
        return self.energy_factor * self._value("mux2", "energy_pj_per_bit") * (inputs - 1) * bits

    def add_energy_pj(self, precision: str) -> float:
        return self.energy_factor * self._value("add", precision, "energy_pj")

    # -- area (um^2) ---------------------------------------------------------------------------------

    def mac_area_um2(self, precision: str) -> float:
        acc = self.table["accumulator"][precision]
        return self.area_factor * (self._value("mult", precision, "area_um2") + self._value("add", acc, "area_um2"))

    def register_area_um2(self, bits: float) -> float:
        return self.area_factor * self._value("register", "area_um2_per_bit") * bits

    def mux_area_um2(self, inputs: int, bits: float) -> float:
        return self.area_factor * self._value("mux2", "area_um2_per_bit") * (inputs - 1) * bits

    def add_area_um2(self, precision: str) -> float:
        return self.area_factor * self._value("add", precision, "area_um2")

    def sram_area_um2(self, capacity_kib: float) -> float:
        law = self.table["sram"]["area_mm2"]
        return self.area_factor * float(law["a"]) * capacity_kib ** float(law["b"]) * 1e6

    @property
    def pe_overhead(self) -> float:
        return self._value("pe_overhead", "area_fraction")

    @property
    def array_overhead(self) -> float:
        return self._value("array_overhead", "area_fraction")


@lru_cache(maxsize=None)
def _bundled(name: str) -> dict[str, Any]:
    return json.loads(resources.files("hwsim.cost").joinpath("tables", name).read_text())


def bundled_nodes() -> tuple[str, ...]:
    """Names ``--tech`` accepts besides a file: the nodes of ``scaling.json``."""
    return tuple(_bundled("scaling.json")["nodes"])


def load_technology(spec: str | Path = "45nm") -> Technology:
    """A bundled node (``"45nm"``, ``"28nm"``, ...) or the path of a user's ``hwsim-tech`` JSON table."""
    text = str(spec)
    scaling = _bundled("scaling.json")
    if text in scaling["nodes"]:
        node = scaling["nodes"][text]
        base = _bundled(f"{scaling['base']}.json")
        return Technology(
            name=text, node_nm=float(node["node_nm"]), table=base,
            energy_factor=float(node["energy_factor"]), area_factor=float(node["area_factor"]),
            wire_energy_factor=float(node["wire_energy_factor"]), dram_energy_factor=float(node["dram_energy_factor"]),
        )
    if not text.endswith(".json"):
        raise InputError(f"expected a bundled node ({', '.join(scaling['nodes'])}) or a .json table", field="tech",
                         value=text)
    table = read_json(spec)
    try:
        check_table(table)
    except InputError as err:
        raise err.located(file=text) from None
    return Technology(name=str(table["name"]), node_nm=float(table["node_nm"]), table=table)


def check_table(table: Any) -> None:
    """Raise :class:`InputError` naming the first missing or non-positive entry of a technology table."""
    if not isinstance(table, dict) or table.get("format") != "hwsim-tech":
        raise InputError("expected a JSON object with format 'hwsim-tech'", field="format",
                         value=table.get("format") if isinstance(table, dict) else type(table).__name__)
    if table.get("version") != 1:
        raise InputError("unsupported version; this hwsim reads version 1", field="version", value=table.get("version"))
    for key in ("name", "node_nm", "accumulator"):
        if key not in table:
            raise InputError("is required", field=key)
    for precision in PRECISIONS:
        acc = table["accumulator"].get(precision) if isinstance(table["accumulator"], dict) else None
        if acc not in PRECISIONS:
            raise InputError(f"must name a precision ({', '.join(PRECISIONS)})", field=f"accumulator.{precision}",
                             value=acc)
    for path in _REQUIRED_VALUES:
        _positive(table, path, ("value",))
    for path in _REQUIRED_LAWS:
        _positive(table, path, ("a",))
        _number(table, path + ("b",))


def _lookup(table: Any, path: tuple[str, ...]) -> Any:
    node = table
    for depth, key in enumerate(path):
        if not isinstance(node, dict) or key not in node:
            raise InputError("is required", field=".".join(path[: depth + 1]))
        node = node[key]
    return node


def _number(table: Any, path: tuple[str, ...]) -> float:
    value = _lookup(table, path)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError("must be a number", field=".".join(path), value=value)
    return float(value)


def _positive(table: Any, path: tuple[str, ...], leaf: tuple[str, ...]) -> None:
    if _number(table, path + leaf) <= 0:
        raise InputError("must be > 0", field=".".join(path + leaf), value=_lookup(table, path + leaf))
