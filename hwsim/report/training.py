"""A SAT training step priced: per GEMM its cycles, stalls and energy, the dense step beside it, the area.

:func:`assemble` prices :class:`hwsim.sim.training.TrainingCounts` with the cost module: the array's actions and
DRAM bytes (:func:`hwsim.cost.layer_energy`; the GEMM's traffic, the index metadata fetched with sparse weights and
the master-weight update's, leakage over the cycles stalls included) plus SAT's own (:mod:`hwsim.cost.sat`): the
index metadata read from the filter SRAM with every sparse weight, the multiplexer and the wider operand window of
every sparse MAC, and the pruning unit's sorting.

Stalls are reported per pass: the FF, BP and WU GEMMs' (the memory model's plus the metadata's) and the weight
update's; they add up to the step's (:meth:`TrainingReport.stalls`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from hwsim.arch.sat import SatArray
from hwsim.cost import AreaBreakdown, EnergyBreakdown, Technology, layer_energy
from hwsim.cost.sat import sat_area, sorter_energy_pj, sparse_mac_overhead_pj
from hwsim.sim.counts import LayerCounts
from hwsim.sim.training import PassCounts, TrainingCounts
from hwsim.workload.sparsity import NMSparsity, index_bits
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
    cycles: int  # the GEMM's compute cycles
    stall_cycles: int  # the GEMM's memory stalls, its index metadata's included
    dense_cycles: int  # the same GEMM dense on the same hardware, scheduled the same way, stalls included
    update_cycles: int
    update_stall_cycles: int
    pruning_cycles: int
    dram_bytes: int  # the GEMM's, its index metadata's and its layer's update's (on the WU GEMM)
    metadata_bytes: int
    update_dram_bytes: int
    energy: EnergyBreakdown

    @property
    def gemm_cycles(self) -> int:
        return self.cycles + self.stall_cycles

    @property
    def total_cycles(self) -> int:
        return self.gemm_cycles + self.update_cycles + self.update_stall_cycles + self.pruning_cycles


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

    def stalls(self) -> dict[str, int]:
        """Stall cycles by pass: the FF, BP and WU GEMMs' and the weight update's (``"update"``, charged to the WU
        pass's cycles); they add up to :meth:`stall_cycles`."""
        out = {p.value: sum(r.stall_cycles for r in self.passes if r.pass_ is p) for p in Pass}
        out["update"] = sum(r.update_stall_cycles for r in self.passes)
        return out

    def stall_cycles(self) -> int:
        return sum(self.stalls().values())

    def dram_bytes(self, pass_: Pass | None = None) -> int:
        return sum(p.dram_bytes for p in self.passes if pass_ is None or p.pass_ is pass_)

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
                "GEMM Cycles": p.cycles, "Stall Cycles": p.stall_cycles, "Update Cycles": p.update_cycles,
                "Update Stall Cycles": p.update_stall_cycles, "Pruning Cycles": p.pruning_cycles,
                "Total Cycles": p.total_cycles, "Dense Cycles": p.dense_cycles,
                "Speed-up": p.dense_cycles / p.gemm_cycles if p.gemm_cycles else None,
                "Utilization %": 100 * p.executed_macs / (p.gemm_cycles * pes) if p.gemm_cycles else None,
                "DRAM Bytes": p.dram_bytes, "Metadata Bytes": p.metadata_bytes,
                "Update DRAM Bytes": p.update_dram_bytes,
                "Energy pJ": p.energy.total_pj,
            })
        return rows

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Network": self.network, "Scheme": self.scheme.value,
                               "Sparsity": str(self.sparsity) if self.sparsity else "dense"}
        for pass_ in Pass:
            out[f"{pass_.value.upper()} Cycles"] = self.cycles(pass_)
            out[f"{pass_.value.upper()} Speed-up"] = self.speedup(pass_)
        for name, stall in self.stalls().items():
            out[f"{'Update' if name == 'update' else name.upper()} Stall Cycles"] = stall
        out.update({"Total Cycles": self.cycles(), "Stall Cycles": self.stall_cycles(), "Speed-up": self.speedup(),
                    "DRAM Bytes": self.dram_bytes(),
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
    g, c, m, u = p.gemm, p.chosen.counts, p.chosen.memory, p.update
    arch = replace(sat.array, dataflow=p.dataflow)
    metadata = p.chosen.metadata_bytes
    # Only totals are priced: the update's reads (master weights, gradient) ride on the filter field, its writes
    # on the ofmap's.
    layer = LayerCounts(
        layer=g.layer, kind=g.kind, dataflow=p.dataflow.value, m=g.gemm.m, n=g.gemm.n, k=g.gemm.k, repeat=g.gemm.repeat,
        macs=p.executed_macs, folds=c.folds, compute_cycles=c.cycles + u.cycles + p.pruning_cycles,
        stall_cycles=p.chosen.stall_cycles + u.stall_cycles, prefetch_cycles=m.prefetch_cycles,
        drain_cycles=m.drain_cycles, pes=arch.pes, used_pe_folds=c.mapping_efficiency * c.folds,
        busy_pe_folds=c.compute_util * c.folds, ifmap_sram_reads=c.ifmap_reads, filter_sram_reads=c.filter_reads,
        ofmap_sram_writes=c.ofmap_writes, ofmap_sram_reads=c.ofmap_reads,
        ifmap_dram_read_bytes=m.ifmap_dram_read_bytes,
        filter_dram_read_bytes=m.filter_dram_read_bytes + metadata + u.read_bytes,
        ofmap_dram_write_bytes=m.ofmap_dram_write_bytes + u.write_bytes, ofmap_dram_read_bytes=m.ofmap_dram_read_bytes,
    )
    sorting = p.sorting
    energy = replace(layer_energy(layer, arch, tech, area),
                     pruning_pj=sorting.masks * sorter_energy_pj(sorting.weights, sorting.m, tech))
    if g.sparsity is not None and g.sparsity.n < g.sparsity.m:
        sram_metadata = c.filter_reads * tech.sram_energy_pj(arch.filter_sram_kib, index_bits(g.sparsity.m))
        mux, window = sparse_mac_overhead_pj(p.executed_macs, g.sparsity.m, arch.ifmap_bits, tech)
        energy = replace(energy, sram_filter_pj=energy.sram_filter_pj + sram_metadata, mac_pj=energy.mac_pj + mux,
                         register_pj=energy.register_pj + window)
    return PassReport(
        layer=g.layer, pass_=g.pass_, m=g.gemm.m, n=g.gemm.n, k=g.gemm.k, repeat=g.gemm.repeat,
        sparsity=str(g.sparsity) if g.sparsity else "dense", dataflow=p.dataflow.value, macs=g.gemm.macs,
        executed_macs=p.executed_macs, cycles=c.cycles, stall_cycles=p.chosen.stall_cycles,
        dense_cycles=p.dense_cycles, update_cycles=u.cycles, update_stall_cycles=u.stall_cycles,
        pruning_cycles=p.pruning_cycles, dram_bytes=layer.dram_bytes, metadata_bytes=metadata,
        update_dram_bytes=u.read_bytes + u.write_bytes, energy=energy,
    )
