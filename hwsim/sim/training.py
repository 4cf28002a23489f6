"""One training step on SAT: every layer's FF, BP and WU GEMMs, dense or N:M sparse, plus pruning and update.

Per GEMM (:func:`hwsim.workload.training.training_gemms`):

* **Offline scheduling** runs the closed-form model (:func:`hwsim.sim.compute.gemm_compute` for dense,
  :func:`hwsim.sim.sparse.sparse_gemm_compute` for N:M sparse weights) for each of SAT's modes (ws, os) and keeps
  the one with the fewest cycles; ties go to ws.
* **Interleave mapping** overlaps consecutive folds: the next fold's stationary load and stream start as soon as
  the current fold's last streamed value has entered, so a GEMM of ``F`` folds of ``L = 2R + C + T - 2`` cycles
  takes ``F (R + T) + (R + C - 2)`` instead of ``F L``: the fill/drain bubble is paid once. (The paper names the
  idea; this overlap model is ours, see :data:`hwsim.arch.sat.SAT_ASSUMPTIONS`.)
* **Pruning** (SORE): each step the pruning unit makes the FF mask (and for BDWP the BP mask) of every weight
  tensor: ``ceil(groups / lanes) * M`` cycles each. With pre-generation it runs during the layer's weight update and
  only what the update does not cover shows; without it, all of it shows.
* **Weight update**: the FP32 master weights are updated as vector work, ``ceil(weights / update_lanes)`` cycles.

Cycles are compute cycles: the training model has no memory stalls (SAT's buffers are assumed to keep up; the
inference model in :mod:`hwsim.sim.memory` is where stalls are studied). Energy comes from the cost module with the
SRAM counts of each GEMM, plus SAT's own (:mod:`hwsim.cost.sat`): the index metadata read with every sparse weight,
the multiplexer and the wider operand window of every sparse MAC, and the pruning unit's sorting; the area is
the array with its sparse PEs and the pruning unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from hwsim.arch.sat import SatArray
from hwsim.cost.energy import layer_energy
from hwsim.cost.sat import sat_area, sorter_energy_pj, sparse_mac_overhead_pj
from hwsim.cost.tech import Technology
from hwsim.io.tech import load_technology
from hwsim.errors import InputError
from hwsim.report.cost import AreaBreakdown, EnergyBreakdown
from hwsim.report.systolic import LayerReport
from hwsim.sim.compute import ComputeCounts, gemm_compute, map_gemm
from hwsim.sim.sparse import compressed_rows, sparse_gemm_compute
from hwsim.types import Dataflow
from hwsim.workload.network import Network
from hwsim.workload.sparsity import NMSparsity
from hwsim.workload.training import Pass, Scheme, TrainingGemm, training_gemms


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


def simulate_training(network: Network, sat: SatArray | None = None, *, scheme: Scheme | str = Scheme.BDWP,
                      sparsity: NMSparsity | str | None = None, tech: Technology | str = "45nm",
                      _baseline: bool = True) -> TrainingReport:
    """One training step of ``network`` (its batch) on ``sat`` under ``scheme``, with the dense step beside it."""
    sat = sat or SatArray()
    scheme = Scheme(scheme)
    if isinstance(sparsity, str):
        sparsity = NMSparsity.parse(sparsity)
    if sparsity is not None and sparsity.m > sat.m_max:
        raise InputError(f"SAT's multiplexers take groups of at most {sat.m_max}", field="sparsity",
                         value=str(sparsity))
    technology = load_technology(tech) if isinstance(tech, str) else tech
    area = sat_area(sat, technology)
    gemms = [g for g in training_gemms(network, scheme, sparsity) if g.needed]
    updates = _update_work(sat, scheme, gemms, technology)
    passes = tuple(_pass(g, sat, technology, area, updates.get((g.layer, g.pass_), (0, 0, 0.0))) for g in gemms)
    dense = None
    if _baseline and scheme is not Scheme.DENSE:
        dense = simulate_training(network, sat, scheme=Scheme.DENSE, tech=technology, _baseline=False)
    return TrainingReport(network=network.name, sat=sat, scheme=scheme, sparsity=sparsity, passes=passes,
                          dense=dense, area=area, tech=technology.name)


def _update_work(sat: SatArray, scheme: Scheme, gemms: list[TrainingGemm],
                 tech: Technology) -> dict[tuple[str, Pass], tuple[int, int, float]]:
    """Per layer, the (update cycles, exposed pruning cycles, pruning energy) charged to its WU GEMM."""
    work = {}
    wu_cycles = {g.layer: _best(g, sat)[1].cycles for g in gemms if g.pass_ is Pass.WU}
    for g in gemms:
        if g.pass_ is not Pass.FF or g.kind == "matmul":
            continue
        weights = g.gemm.k * g.gemm.n * g.gemm.repeat
        update = sat.update_cycles(weights)
        masks = {Scheme.DENSE: 0, Scheme.FORWARD: 1, Scheme.BDWP: 2}[scheme] if g.sparsity else 0
        m = g.sparsity.m if g.sparsity else 1
        sorting = masks * sat.sorter_cycles(weights, m)
        exposed = max(0, sorting - (update + wu_cycles.get(g.layer, 0))) if sat.pregenerate else sorting
        work[(g.layer, Pass.WU)] = (update, exposed, masks * sorter_energy_pj(weights, m, tech))
    return work


def _best(g: TrainingGemm, sat: SatArray) -> tuple[Dataflow, ComputeCounts, int]:
    """Offline scheduling: the mode with the fewest cycles, after interleaving."""
    arch = sat.array
    best = None
    for dataflow in sat.dataflows:
        counts, k_eff = _counts(g, arch.rows, arch.cols, dataflow)
        cycles = _interleaved(g, k_eff, arch.rows, arch.cols, dataflow, counts.cycles) if sat.interleave \
            else counts.cycles
        counts = replace(counts, cycles=cycles)
        if best is None or cycles < best[1].cycles:
            best = (dataflow, counts, k_eff)
    return best  # type: ignore[return-value]


def _counts(g: TrainingGemm, rows: int, cols: int, dataflow: Dataflow) -> tuple[ComputeCounts, int]:
    sp = g.sparsity
    if sp is None or sp.n == sp.m:
        return gemm_compute(g.gemm, rows, cols, dataflow), g.gemm.k
    return (sparse_gemm_compute(g.gemm, sp.n, sp.m, rows, cols, dataflow),
            compressed_rows(g.gemm.k, sp.n, sp.m))


def _interleaved(g: TrainingGemm, k_eff: int, rows: int, cols: int, dataflow: Dataflow, cycles: int) -> int:
    fm = map_gemm(replace(g.gemm, k=k_eff), rows, cols, dataflow)
    per_run = fm.folds * (rows + fm.t) + (rows + cols - 2)
    return min(cycles, per_run * g.gemm.repeat)


def _pass(g: TrainingGemm, sat: SatArray, tech: Technology, area: AreaBreakdown,
          update: tuple[int, int, float]) -> PassReport:
    dataflow, counts, k_eff = _best(g, sat)
    dense = _best(replace(g, sparsity=None), sat)[1].cycles
    arch = replace(sat.array, dataflow=dataflow)
    executed = g.gemm.m * g.gemm.n * k_eff * g.gemm.repeat
    cycles = counts.cycles + update[0] + update[1]
    layer = LayerReport(
        layer=g.layer, kind=g.kind, m=g.gemm.m, n=g.gemm.n, k=g.gemm.k, repeat=g.gemm.repeat, macs=executed,
        folds=counts.folds, compute_cycles=cycles, stall_cycles=0, prefetch_cycles=0, drain_cycles=0,
        pes=arch.pes, used_pe_folds=counts.mapping_efficiency * counts.folds,
        busy_pe_folds=counts.compute_util * counts.folds, ifmap_sram_reads=counts.ifmap_reads,
        filter_sram_reads=counts.filter_reads, ofmap_sram_writes=counts.ofmap_writes,
        ofmap_sram_reads=counts.ofmap_reads, ifmap_dram_read_bytes=0, filter_dram_read_bytes=0,
        ofmap_dram_write_bytes=0, ofmap_dram_read_bytes=0,
    )
    energy = replace(layer_energy(layer, arch, tech, area), pruning_pj=update[2])
    if g.sparsity is not None and g.sparsity.n < g.sparsity.m:
        index_bits = math.ceil(math.log2(g.sparsity.m))
        metadata = counts.filter_reads * tech.sram_energy_pj(arch.filter_sram_kib, index_bits)
        mux, window = sparse_mac_overhead_pj(executed, g.sparsity.m, arch.ifmap_bits, tech)
        energy = replace(energy, sram_filter_pj=energy.sram_filter_pj + metadata, mac_pj=energy.mac_pj + mux,
                         register_pj=energy.register_pj + window)
    return PassReport(
        layer=g.layer, pass_=g.pass_, m=g.gemm.m, n=g.gemm.n, k=g.gemm.k, repeat=g.gemm.repeat,
        sparsity=str(g.sparsity) if g.sparsity else "dense", dataflow=dataflow.value, macs=g.gemm.macs,
        executed_macs=executed, cycles=counts.cycles, dense_cycles=dense, update_cycles=update[0],
        pruning_cycles=update[1], energy=energy,
    )
