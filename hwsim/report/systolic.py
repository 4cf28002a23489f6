"""Results of the systolic-array model: one frozen row per layer, totals by ``+``."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from hwsim.arch.systolic import SystolicArray
from hwsim.report.cost import AreaBreakdown, EnergyBreakdown


@dataclass(frozen=True)
class LayerReport:
    """One layer on one array. Counts are for the whole batch; SRAM counts are in elements, DRAM in bytes."""

    layer: str
    kind: str
    m: int
    n: int
    k: int
    repeat: int
    macs: int
    folds: int
    compute_cycles: int
    stall_cycles: int
    prefetch_cycles: int
    drain_cycles: int
    pes: int
    used_pe_folds: float  # sum over folds of used PEs / PEs: mapping efficiency x folds
    busy_pe_folds: float  # sum over folds of compute util: compute util x folds
    ifmap_sram_reads: int
    filter_sram_reads: int
    ofmap_sram_writes: int
    ofmap_sram_reads: int
    ifmap_dram_read_bytes: int
    filter_dram_read_bytes: int
    ofmap_dram_write_bytes: int
    ofmap_dram_read_bytes: int

    @property
    def total_cycles(self) -> int:
        return self.compute_cycles + self.stall_cycles

    @property
    def total_cycles_with_prefetch(self) -> int:
        return self.total_cycles + self.prefetch_cycles + self.drain_cycles

    @property
    def utilization(self) -> float:
        """MACs per PE per cycle, stalls included."""
        return self.macs / (self.total_cycles * self.pes) if self.total_cycles else 0.0

    @property
    def mapping_efficiency(self) -> float:
        return self.used_pe_folds / self.folds if self.folds else 0.0

    @property
    def compute_util(self) -> float:
        return self.busy_pe_folds / self.folds if self.folds else 0.0

    @property
    def dram_bytes(self) -> int:
        return (self.ifmap_dram_read_bytes + self.filter_dram_read_bytes + self.ofmap_dram_write_bytes
                + self.ofmap_dram_read_bytes)

    @property
    def bound(self) -> str:
        """``memory`` when the layer waited on DRAM, else ``compute``."""
        return "memory" if self.stall_cycles > 0 else "compute"

    def __add__(self, other: "LayerReport") -> "LayerReport":
        if self.pes != other.pes:
            raise ValueError("reports of different arrays do not add")
        summed = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)
                  if f.name not in ("layer", "kind", "m", "n", "k", "repeat", "pes")}
        return LayerReport(layer="total", kind="", m=0, n=0, k=0, repeat=0, pes=self.pes, **summed)


COLUMNS = (
    "Layer", "Kind", "M", "N", "K", "Repeat", "MACs", "Folds", "Compute Cycles", "Stall Cycles", "Total Cycles",
    "Total Cycles (incl. prefetch)", "Overall Util %", "Mapping Efficiency %", "Compute Util %", "Bound",
    "SRAM IFMAP Reads", "SRAM Filter Reads", "SRAM OFMAP Writes", "SRAM OFMAP Reads",
    "DRAM IFMAP Read Bytes", "DRAM Filter Read Bytes", "DRAM OFMAP Write Bytes", "DRAM OFMAP Read Bytes",
    "Avg IFMAP SRAM BW", "Avg FILTER SRAM BW", "Avg OFMAP SRAM BW",
    "Avg IFMAP DRAM Bytes/Cycle", "Avg FILTER DRAM Bytes/Cycle", "Avg OFMAP DRAM Bytes/Cycle", "Latency us",
    "Energy pJ", "Energy MAC pJ", "Energy RF pJ", "Energy NoC pJ", "Energy SRAM IFMAP pJ", "Energy SRAM Filter pJ",
    "Energy SRAM OFMAP pJ", "Energy DRAM pJ", "Energy Leakage pJ", "pJ/MAC",
)
"""Report columns; where SCALE-Sim reports the same quantity the name is its name (SRAM counts in
elements, bandwidths in elements or bytes per cycle as the name says)."""

METRICS = (
    "Total Cycles", "Compute Cycles", "Stall Cycles", "Latency us", "MACs", "Overall Util %", "SRAM Reads",
    "SRAM Writes", "DRAM Bytes", "Energy pJ", "Energy MAC pJ", "Energy RF pJ", "Energy NoC pJ", "Energy SRAM pJ",
    "Energy DRAM pJ", "Energy Leakage pJ", "Area um2",
)
"""What :meth:`Report.metrics` gives for a whole network: the columns of a sweep's result rows."""

TABLE_COLUMNS = ("Layer", "Kind", "M", "N", "K", "MACs", "Total Cycles", "Stall Cycles", "Overall Util %",
                 "Mapping Efficiency %", "Bound", "Energy uJ", "pJ/MAC")


@dataclass(frozen=True)
class Report:
    """A network on a systolic array: per-layer cycles and traffic, their energy, and the array's area."""

    network: str
    arch: SystolicArray
    compat: str | None
    layers: tuple[LayerReport, ...]
    tech: str
    energy: tuple[EnergyBreakdown, ...]
    area: AreaBreakdown

    @property
    def total(self) -> LayerReport:
        total = self.layers[0]
        for layer in self.layers[1:]:
            total = total + layer
        return total

    @property
    def total_energy(self) -> EnergyBreakdown:
        total = EnergyBreakdown()
        for energy in self.energy:
            total = total + energy
        return total

    @property
    def tops_per_watt(self) -> float:
        """Operations (2 per MAC) per pJ, which is TOPS/W."""
        return 2 * self.total.macs / self.total_energy.total_pj

    @property
    def peak_tops_per_mm2(self) -> float:
        """Peak operations per second at the array's clock, per mm^2."""
        return 2 * self.arch.pes * self.arch.clock_mhz * 1e6 / 1e12 / self.area.total_mm2

    def summary(self) -> dict[str, Any]:
        total, energy = self.total, self.total_energy
        return {
            "Total Cycles": total.total_cycles, "Latency us": self.latency_us(), "MACs": total.macs,
            "Overall Util %": 100 * total.utilization, "Energy uJ": energy.total_pj / 1e6,
            "pJ/MAC": energy.total_pj / total.macs if total.macs else None, "TOPS/W": self.tops_per_watt,
            "Area mm2": self.area.total_mm2, "Peak TOPS": 2 * self.arch.pes * self.arch.clock_mhz / 1e6,
            "Peak TOPS/mm2": self.peak_tops_per_mm2, "Technology": self.tech,
        }

    def metrics(self) -> dict[str, float | int]:
        """The whole-network numbers a sweep keeps per design point, keyed by :data:`METRICS`."""
        total, energy = self.total, self.total_energy
        return {
            "Total Cycles": total.total_cycles, "Compute Cycles": total.compute_cycles,
            "Stall Cycles": total.stall_cycles, "Latency us": self.latency_us(), "MACs": total.macs,
            "Overall Util %": 100 * total.utilization,
            "SRAM Reads": total.ifmap_sram_reads + total.filter_sram_reads + total.ofmap_sram_reads,
            "SRAM Writes": total.ofmap_sram_writes, "DRAM Bytes": total.dram_bytes,
            "Energy pJ": energy.total_pj, "Energy MAC pJ": energy.mac_pj, "Energy RF pJ": energy.register_pj,
            "Energy NoC pJ": energy.noc_pj,
            "Energy SRAM pJ": energy.sram_ifmap_pj + energy.sram_filter_pj + energy.sram_ofmap_pj,
            "Energy DRAM pJ": energy.dram_pj, "Energy Leakage pJ": energy.leakage_pj,
            "Area um2": self.area.total_um2,
        }

    def latency_us(self, cycles: int | None = None) -> float:
        cycles = self.total.total_cycles if cycles is None else cycles
        return cycles / self.arch.clock_mhz

    def row(self, r: LayerReport, e: EnergyBreakdown) -> dict[str, Any]:
        cycles = r.total_cycles
        per_cycle = (lambda x: x / cycles) if cycles else (lambda x: 0.0)
        return {
            "Layer": r.layer, "Kind": r.kind, "M": r.m or None, "N": r.n or None, "K": r.k or None,
            "Repeat": r.repeat or None, "MACs": r.macs, "Folds": r.folds, "Compute Cycles": r.compute_cycles,
            "Stall Cycles": r.stall_cycles, "Total Cycles": cycles,
            "Total Cycles (incl. prefetch)": r.total_cycles_with_prefetch,
            "Overall Util %": 100 * r.utilization, "Mapping Efficiency %": 100 * r.mapping_efficiency,
            "Compute Util %": 100 * r.compute_util, "Bound": r.bound,
            "SRAM IFMAP Reads": r.ifmap_sram_reads, "SRAM Filter Reads": r.filter_sram_reads,
            "SRAM OFMAP Writes": r.ofmap_sram_writes, "SRAM OFMAP Reads": r.ofmap_sram_reads,
            "DRAM IFMAP Read Bytes": r.ifmap_dram_read_bytes, "DRAM Filter Read Bytes": r.filter_dram_read_bytes,
            "DRAM OFMAP Write Bytes": r.ofmap_dram_write_bytes, "DRAM OFMAP Read Bytes": r.ofmap_dram_read_bytes,
            "Avg IFMAP SRAM BW": per_cycle(r.ifmap_sram_reads), "Avg FILTER SRAM BW": per_cycle(r.filter_sram_reads),
            "Avg OFMAP SRAM BW": per_cycle(r.ofmap_sram_writes),
            "Avg IFMAP DRAM Bytes/Cycle": per_cycle(r.ifmap_dram_read_bytes),
            "Avg FILTER DRAM Bytes/Cycle": per_cycle(r.filter_dram_read_bytes),
            "Avg OFMAP DRAM Bytes/Cycle": per_cycle(r.ofmap_dram_write_bytes),
            "Latency us": self.latency_us(cycles),
            "Energy pJ": e.total_pj, "Energy uJ": e.total_pj / 1e6, "Energy MAC pJ": e.mac_pj,
            "Energy RF pJ": e.register_pj, "Energy NoC pJ": e.noc_pj, "Energy SRAM IFMAP pJ": e.sram_ifmap_pj,
            "Energy SRAM Filter pJ": e.sram_filter_pj, "Energy SRAM OFMAP pJ": e.sram_ofmap_pj,
            "Energy DRAM pJ": e.dram_pj, "Energy Leakage pJ": e.leakage_pj,
            "pJ/MAC": e.total_pj / r.macs if r.macs else None,
        }

    def rows(self) -> list[dict[str, Any]]:
        """One row per layer, then the total row."""
        return [self.row(r, e) for r, e in zip(self.layers, self.energy)] + [self.row(self.total, self.total_energy)]

    def to_dict(self) -> dict[str, Any]:
        rows = self.rows()
        return {"network": self.network, "arch": self.arch.to_dict(), "compat": self.compat, "summary": self.summary(),
                "area": self.area.rows(), "layers": rows[:-1], "total": rows[-1]}
