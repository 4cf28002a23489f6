"""A SAT training step priced: per GEMM its cycles and energy, the dense step beside it, the accelerator's area.

:func:`assemble` prices :class:`hwsim.sim.training.TrainingCounts` with the cost module: the array's actions
(:func:`hwsim.cost.layer_energy`) plus SAT's own (:mod:`hwsim.cost.sat`): the index metadata read with every sparse
weight, the multiplexer and the wider operand window of every sparse MAC, and the pruning unit's sorting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from hwsim.arch.sat import SatArray
from hwsim.cost import AreaBreakdown, EnergyBreakdown, Technology, layer_energy
from hwsim.cost.sat import sat_area, sorter_energy_pj, sparse_mac_overhead_pj
from hwsim.sim.counts import LayerCounts
from hwsim.sim.training import PassCounts, TrainingCounts
from hwsim.workload.sparsity import NMSparsity
from hwsim.workload.training import Pass, Scheme


@dataclass(frozen=True)
class PassReport:
    """One GEMM (or a layer's update work) of the training step."""

    layer: str
    pass_: Pass
    m: int
    n: int
    k: int
    repeat: int
    sparsity: str
    dataflow: str
    macs: int  # dense-equivalent MACs of the GEMM
    executed_macs: int  # MACs the PEs perform (non-zero weights only)
    cycles: int
    dense_cycles: int  # the same GEMM dense on the same hardware, scheduled the same way
    update_cycles: int
    pruning_cycles: int
    energy: EnergyBreakdown

    @property
    def total_cycles(self) -> int:
        return self.cycles + self.update_cycles + self.pruning_cycles


@dataclass(frozen=True)
class TrainingReport:
    network: str
    sat: SatArray
    scheme: Scheme
    sparsity: NMSparsity | None
    passes: tuple[PassReport, ...]
    dense: "TrainingReport | None"
    area: AreaBreakdown
    tech: str

    def cycles(self, pass_: Pass | None = None) -> int:
        return sum(p.total_cycles for p in self.passes if pass_ is None or p.pass_ is pass_)

    def energy_pj(self, pass_: Pass | None = None) -> float:
        return sum(p.energy.total_pj for p in self.passes if pass_ is None or p.pass_ is pass_)

    def speedup(self, pass_: Pass | None = None) -> float:
        """Dense training's cycles over this scheme's, on the same hardware (1.0 for the dense scheme)."""
        if self.dense is None:
            return 1.0
        return self.dense.cycles(pass_) / self.cycles(pass_)

    def rows(self) -> list[dict[str, Any]]:
        pes = self.sat.array.pes
        rows = []
        for p in self.passes:
            rows.append({
                "Layer": p.layer, "Pass": p.pass_.value, "M": p.m, "N": p.n, "K": p.k, "Repeat": p.repeat,
                "Sparsity": p.sparsity, "Dataflow": p.dataflow, "MACs": p.macs, "Executed MACs": p.executed_macs,
                "GEMM Cycles": p.cycles, "Update Cycles": p.update_cycles, "Pruning Cycles": p.pruning_cycles,
                "Total Cycles": p.total_cycles, "Dense Cycles": p.dense_cycles,
                "Speed-up": p.dense_cycles / p.cycles if p.cycles else None,
                "Utilization %": 100 * p.executed_macs / (p.cycles * pes) if p.cycles else None,
                "Energy pJ": p.energy.total_pj,
            })
        return rows

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Network": self.network, "Scheme": self.scheme.value,
                               "Sparsity": str(self.sparsity) if self.sparsity else "dense"}
        for pass_ in Pass:
            out[f"{pass_.value.upper()} Cycles"] = self.cycles(pass_)
            out[f"{pass_.value.upper()} Speed-up"] = self.speedup(pass_)
        out.update({"Total Cycles": self.cycles(), "Speed-up": self.speedup(),
                    "Latency ms": self.cycles() / self.sat.array.clock_mhz / 1e3,
                    "Energy mJ": self.energy_pj() / 1e9, "Area mm2": self.area.total_mm2, "Technology": self.tech})
        return out



def assemble(counts: TrainingCounts, tech: Technology) -> TrainingReport:
    """The training step of ``counts`` priced with ``tech`` (and its dense step, if counted)."""
    area = sat_area(counts.sat, tech)
    return TrainingReport(
        network=counts.network, sat=counts.sat, scheme=counts.scheme, sparsity=counts.sparsity,
        passes=tuple(_priced(p, counts.sat, tech, area) for p in counts.passes),
        dense=assemble(counts.dense, tech) if counts.dense is not None else None, area=area, tech=tech.name,
    )


def _priced(p: PassCounts, sat: SatArray, tech: Technology, area: AreaBreakdown) -> PassReport:
    g, c = p.gemm, p.counts
    arch = replace(sat.array, dataflow=p.dataflow)
    cycles = c.cycles + p.update_cycles + p.pruning_cycles
    layer = LayerCounts(
        layer=g.layer, kind=g.kind, dataflow=p.dataflow.value, m=g.gemm.m, n=g.gemm.n, k=g.gemm.k, repeat=g.gemm.repeat,
        macs=p.executed_macs, folds=c.folds, compute_cycles=cycles, stall_cycles=0, prefetch_cycles=0,
        drain_cycles=0, pes=arch.pes, used_pe_folds=c.mapping_efficiency * c.folds,
        busy_pe_folds=c.compute_util * c.folds, ifmap_sram_reads=c.ifmap_reads, filter_sram_reads=c.filter_reads,
        ofmap_sram_writes=c.ofmap_writes, ofmap_sram_reads=c.ofmap_reads, ifmap_dram_read_bytes=0,
        filter_dram_read_bytes=0, ofmap_dram_write_bytes=0, ofmap_dram_read_bytes=0,
    )
    sorting = p.sorting
    energy = replace(layer_energy(layer, arch, tech, area),
                     pruning_pj=sorting.masks * sorter_energy_pj(sorting.weights, sorting.m, tech))
    if g.sparsity is not None and g.sparsity.n < g.sparsity.m:
        index_bits = math.ceil(math.log2(g.sparsity.m))
        metadata = c.filter_reads * tech.sram_energy_pj(arch.filter_sram_kib, index_bits)
        mux, window = sparse_mac_overhead_pj(p.executed_macs, g.sparsity.m, arch.ifmap_bits, tech)
        energy = replace(energy, sram_filter_pj=energy.sram_filter_pj + metadata, mac_pj=energy.mac_pj + mux,
                         register_pj=energy.register_pj + window)
    return PassReport(
        layer=g.layer, pass_=g.pass_, m=g.gemm.m, n=g.gemm.n, k=g.gemm.k, repeat=g.gemm.repeat,
        sparsity=str(g.sparsity) if g.sparsity else "dense", dataflow=p.dataflow.value, macs=g.gemm.macs,
        executed_macs=p.executed_macs, cycles=c.cycles, dense_cycles=p.dense_cycles, update_cycles=p.update_cycles,
        pruning_cycles=p.pruning_cycles, energy=energy,
    )
