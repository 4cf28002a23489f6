"""Results of the systolic-array model: the cycle model's counts per layer, their energy and the array's area.

:func:`assemble` prices the counts with the cost module and builds the :class:`Report`; :func:`hwsim.api.simulate`
composes the stages (counts from :func:`hwsim.sim.engine.simulate_layers`, then this).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from hwsim.arch.systolic import SystolicArray
from hwsim.cost import AreaBreakdown, EnergyBreakdown, Technology, layer_energy, systolic_area
from hwsim.errors import InputError
from hwsim.sim.counts import LayerCounts
from hwsim.types import Record, record


COLUMNS = (
    "Layer", "Kind", "Dataflow", "M", "N", "K", "Repeat", "MACs", "Folds", "Compute Cycles", "Stall Cycles", "Total Cycles",
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


def network_metrics(total: LayerCounts, energy: EnergyBreakdown, area: AreaBreakdown,
                    clock_mhz: float) -> dict[str, Any]:
    """:data:`METRICS` of a network's totals (numbers, or arrays with one entry per design as the batch uses)."""
    cycles = total.total_cycles
    with np.errstate(divide="ignore", invalid="ignore"):
        utilization = np.where(cycles > 0, total.macs / (cycles * total.pes), 0.0)
    metrics = {
        "Total Cycles": cycles, "Compute Cycles": total.compute_cycles, "Stall Cycles": total.stall_cycles,
        "Latency us": cycles / clock_mhz, "MACs": total.macs, "Overall Util %": 100 * utilization,
        "SRAM Reads": total.ifmap_sram_reads + total.filter_sram_reads + total.ofmap_sram_reads,
        "SRAM Writes": total.ofmap_sram_writes, "DRAM Bytes": total.dram_bytes,
        "Energy pJ": energy.total_pj, "Energy MAC pJ": energy.mac_pj, "Energy RF pJ": energy.register_pj,
        "Energy NoC pJ": energy.noc_pj,
        "Energy SRAM pJ": energy.sram_ifmap_pj + energy.sram_filter_pj + energy.sram_ofmap_pj,
        "Energy DRAM pJ": energy.dram_pj, "Energy Leakage pJ": energy.leakage_pj, "Area um2": area.total_um2,
    }
    if np.ndim(cycles) == 0:  # one design: plain Python numbers, as reports are written to JSON
        return {name: value.item() if isinstance(value, np.generic | np.ndarray) else value
                for name, value in metrics.items()}
    return metrics


@record
class Report(Record):
    """A network on a systolic array: per-layer cycles and traffic, their energy, and the array's area."""

    network: str
    arch: SystolicArray
    compat: str | None
    layers: tuple[LayerCounts, ...]
    tech: str
    energy: tuple[EnergyBreakdown, ...]
    area: AreaBreakdown
    objective: str | None = None  # set when each layer ran on the mapping best for it ("cycles" or "energy")

    @property
    def dataflow(self) -> str:
        """The array's dataflow, or ``best (cycles)`` when each layer chose its own."""
        return f"best ({self.objective})" if self.objective else self.arch.dataflow.value

    @property
    def total(self) -> LayerCounts:
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
            "Peak TOPS/mm2": self.peak_tops_per_mm2, "Technology": self.tech, "Dataflow": self.dataflow,
        }

    def metrics(self) -> dict[str, float | int]:
        """The whole-network numbers a sweep keeps per design point, keyed by :data:`METRICS`."""
        return network_metrics(self.total, self.total_energy, self.area, self.arch.clock_mhz)

    def latency_us(self, cycles: int | None = None) -> float:
        cycles = self.total.total_cycles if cycles is None else cycles
        return cycles / self.arch.clock_mhz

    def row(self, r: LayerCounts, e: EnergyBreakdown) -> dict[str, Any]:
        cycles = r.total_cycles
        per_cycle = (lambda x: x / cycles) if cycles else (lambda x: 0.0)
        return {
            "Layer": r.layer, "Kind": r.kind, "Dataflow": r.dataflow or None, "M": r.m or None, "N": r.n or None, "K": r.k or None,
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


def assemble(network: str, arch: SystolicArray, layers: tuple[LayerCounts, ...], tech: Technology,
             compat: str | None = None) -> Report:
    """The report of ``layers`` (the counts of ``network`` on ``arch``), priced with ``tech``."""
    area = systolic_area(arch, tech)
    energy = tuple(layer_energy(layer, arch, tech, area) for layer in layers)
    return Report(network=network, arch=arch, compat=compat, layers=layers, tech=tech.name, energy=energy,
                  area=area)


OBJECTIVES = ("cycles", "energy")
"""What a per-layer choice of mapping minimises: a layer's total cycles, or its energy."""


def check_objective(objective: str) -> None:
    """Raise unless ``objective`` is one of :data:`OBJECTIVES`."""
    if objective not in OBJECTIVES:
        raise InputError(f"unknown objective (known: {', '.join(OBJECTIVES)})", field="objective", value=objective)


def assemble_best(network: str, arch: SystolicArray, candidates: dict[str, tuple[LayerCounts | None, ...]],
                  tech: Technology, objective: str = "cycles", compat: str | None = None) -> Report:
    """The report of each layer on the mapping best for it among ``candidates`` (dataflow -> counts per layer,
    ``None`` where the layer does not fit), by ``objective``; ties go to the first candidate.

    The array switches dataflow between layers (as SAT does between ws and os), so its PEs hold what every
    candidate needs: its area is the largest of the candidates' (the switching logic is not priced).
    """
    check_objective(objective)
    archs = {name: replace(arch, dataflow=name) for name in candidates}
    areas = {name: systolic_area(a, tech) for name, a in archs.items()}
    area = max(areas.values(), key=lambda a: a.total_um2)
    layers, energy = [], []
    for options in zip(*candidates.values()):
        fitting = [(name, counts) for name, counts in zip(candidates, options) if counts is not None]
        if objective == "cycles":  # the fastest is found without pricing the others
            fitting = [min(fitting, key=lambda c: c[1].total_cycles)]  # min keeps the first of equals
        priced = [(counts, layer_energy(counts, archs[name], tech, area)) for name, counts in fitting]
        counts, cost = min(priced, key=lambda p: p[1].total_pj)
        layers.append(counts)
        energy.append(cost)
    return Report(network=network, arch=arch, compat=compat, layers=tuple(layers), tech=tech.name,
                  energy=tuple(energy), area=area, objective=objective)
