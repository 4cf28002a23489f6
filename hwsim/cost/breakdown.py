"""Energy and area: frozen, additive breakdowns by component (what the cost module returns)."""

from __future__ import annotations

import math
from dataclasses import fields
from hwsim.types import Record, record


@record
class EnergyBreakdown(Record):
    """Energy in pJ by component."""

    mac_pj: float = 0.0
    register_pj: float = 0.0
    noc_pj: float = 0.0
    sram_ifmap_pj: float = 0.0
    sram_filter_pj: float = 0.0
    sram_ofmap_pj: float = 0.0
    dram_pj: float = 0.0
    leakage_pj: float = 0.0
    pruning_pj: float = 0.0  # SAT's pruning unit (sorting weights into N:M groups)

    @property
    def total_pj(self) -> float:
        return sum(getattr(self, f.name) for f in fields(self))

    def __add__(self, other: "EnergyBreakdown") -> "EnergyBreakdown":
        return EnergyBreakdown(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})


@record
class AreaBreakdown(Record):
    """Areas in um^2."""

    pe_um2: float  # one PE, its overhead included
    array_um2: float  # all PEs with the array's interconnect and control
    sram_ifmap_um2: float
    sram_filter_um2: float
    sram_ofmap_um2: float
    sorter_um2: float = 0.0  # SAT's pruning unit

    @property
    def sram_um2(self) -> float:
        return self.sram_ifmap_um2 + self.sram_filter_um2 + self.sram_ofmap_um2

    @property
    def total_um2(self) -> float:
        return self.array_um2 + self.sram_um2 + self.sorter_um2

    @property
    def total_mm2(self) -> float:
        return self.total_um2 / 1e6

    @property
    def pe_pitch_mm(self) -> float:
        """Side of a square PE: the length an operand travels per hop."""
        return math.sqrt(self.pe_um2) / 1000

    def rows(self) -> list[dict[str, object]]:
        parts = (("PE (each)", self.pe_um2), ("PE array", self.array_um2), ("SRAM ifmap", self.sram_ifmap_um2),
                 ("SRAM filter", self.sram_filter_um2), ("SRAM ofmap", self.sram_ofmap_um2))
        if self.sorter_um2:
            parts += (("pruning unit", self.sorter_um2),)
        parts += (("total", self.total_um2),)
        return [{"Component": name, "Area um2": um2, "Area mm2": um2 / 1e6,
                 "Share %": 100 * um2 / self.total_um2 if name != "PE (each)" else None} for name, um2 in parts]


@record
class SubAcceleratorArea(Record):
    """Areas in um^2 of one sub-accelerator (hwsim's cost model)."""

    pe_um2: float  # one PE with its L1 and overhead
    array_um2: float  # all PEs with the array's NoC and control
    l2_um2: float

    @property
    def total_um2(self) -> float:
        return self.array_um2 + self.l2_um2

    @property
    def pe_pitch_mm(self) -> float:
        return math.sqrt(self.pe_um2) / 1000
