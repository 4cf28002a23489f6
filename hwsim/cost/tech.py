"""Technology: energy per action and area per component at one node, each number with its source.

The numbers come from a table (format ``hwsim-tech``; the bundled ``tables/45nm.json`` holds the 45 nm numbers,
Horowitz ISSCC 2014 and the sources it names) scaled by a node's factors (``tables/scaling.json``).
:func:`hwsim.io.tech.load_technology` reads them, with the actions of each dataflow (``dataflows/*.json``) and
MAESTRO's coefficients (``tables/maestro.json``) that the cost models price, into one :class:`Technology`.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any, Mapping

from hwsim.cost.actions import DataflowSpec
from hwsim.errors import InputError
from hwsim.types import Record, record


@record
class Technology(Record):
    """Prices of actions and areas of components at one technology node.

    The node's factors scale the base table: ``energy_factor`` every logic and SRAM energy (leakage included),
    ``wire_energy_factor`` the energy of a wire per mm (it follows the supply voltage squared, not the device),
    ``dram_energy_factor`` DRAM (off-chip, not scaled with the logic node), ``area_factor`` every area. All are 1
    for a table read as it is.

    ``dataflows`` holds the actions each systolic dataflow performs (by :class:`~hwsim.types.Dataflow` value) and
    ``maestro`` MAESTRO's cost coefficients (:mod:`hwsim.cost.template`). Like ``table``, neither takes part in
    equality or the hash: a technology is identified by its name, node and factors.
    """

    name: str
    node_nm: float
    table: dict[str, Any] = field(repr=False, compare=False)
    energy_factor: float = 1.0
    area_factor: float = 1.0
    wire_energy_factor: float = 1.0
    dram_energy_factor: float = 1.0
    dataflows: Mapping[str, DataflowSpec] = field(default_factory=dict, repr=False, compare=False)
    maestro: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def actions(self, dataflow: str) -> DataflowSpec:
        """What ``dataflow`` (a :class:`~hwsim.types.Dataflow` value) does per MAC, to be priced."""
        if dataflow not in self.dataflows:
            raise InputError(f"no action description for this dataflow (known: {', '.join(self.dataflows)})",
                             field="dataflow", value=dataflow)
        return self.dataflows[dataflow]

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
