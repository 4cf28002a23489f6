"""The fast engine: a whole network on a systolic array, layer by layer, in closed form.

Compute layers go through the one lowering (:func:`hwsim.workload.lower`), then
:mod:`hwsim.sim.compute` (cycles, SRAM accesses) and :mod:`hwsim.sim.memory` (DRAM, stalls).
Memory-only layers cost their DRAM traffic. Nothing here steps cycles.
"""

from __future__ import annotations

import math
from dataclasses import fields, replace

from hwsim.arch.systolic import SystolicArray
from hwsim.cost.area import systolic_area
from hwsim.cost.energy import layer_energy
from hwsim.cost.tech import Technology, load_technology
from hwsim.errors import InputError
from hwsim.report.systolic import LayerReport, Report
from hwsim.sim.compute import ComputeCounts, FoldMapping, gemm_compute, map_gemm, pack_groups
from hwsim.sim.memory import MemoryCounts, check_fits, gemm_memory, stream_tile, transfer_memory
from hwsim.types import Dataflow
from hwsim.workload.lowering import GemmDims
from hwsim.workload.network import LayerStats, Network

COMPAT_MODES = ("scalesim",)
_FREE_KINDS = ("reshape", "slice")  # views: no data moves


def simulate(network: Network, arch: SystolicArray, *, compat: str | None = None,
             pack: bool = False, tech: Technology | str = "45nm") -> Report:
    """Cycles, utilisation, SRAM and DRAM traffic, and energy of every layer of ``network`` on ``arch``, and the
    array's area.

    Parameters
    ----------
    compat
        ``"scalesim"``: SCALE-Sim 3.0.0's conventions for cycles, utilisations and SRAM counts
        (see :mod:`hwsim.sim.compute`); memory stalls are then not added, as SCALE-Sim's
        default interface bandwidth (``CALC``) has none, and memory-only layers, which SCALE-Sim
        cannot express, cost nothing.
    pack
        Run grouped and depthwise layers with several groups per fold
        (:func:`hwsim.sim.compute.pack_groups`).
    tech
        The technology that prices energy and area: a bundled node name or a loaded table.
    """
    if compat is not None and compat not in COMPAT_MODES:
        raise InputError(f"unknown compatibility mode (known: {', '.join(COMPAT_MODES)})", field="compat",
                         value=compat)
    technology = load_technology(tech) if isinstance(tech, str) else tech
    layers = tuple(_layer(network, stats, arch, compat is not None, pack) for stats in network)
    area = systolic_area(arch, technology)
    energy = tuple(layer_energy(layer, arch, technology, area) for layer in layers)
    return Report(network=network.name, arch=arch, compat=compat, layers=layers, tech=technology.name,
                  energy=energy, area=area)


def _layer(network: Network, stats: LayerStats, arch: SystolicArray, compat: bool, pack: bool) -> LayerReport:
    rows, cols, dataflow = arch.rows, arch.cols, arch.dataflow
    gemm = stats.gemm
    if gemm is None:
        memory = MemoryCounts(0, 0, 0, 0, 0, 0, 0) if compat else _memory_layer(network, stats, arch)
        return _report(stats, arch, macs=0, folds=0, compute_cycles=0, used=0.0, busy=0.0, sram=(0, 0, 0, 0),
                       memory=memory, dims=(0, 0, 0, 0))
    run = pack_groups(gemm, rows, cols, dataflow) if pack else gemm
    fm = map_gemm(run, rows, cols, dataflow)
    check_fits(fm, arch, stats.name)
    if compat:
        counts = gemm_compute(run, rows, cols, dataflow, compat=True)
        memory = MemoryCounts(0, 0, 0, 0, 0, 0, 0)
    else:
        counts, memory = _tiled(run, fm, arch, _ifmap_unique(network, stats))
    macs = gemm.macs  # the layer's own, without the zero blocks of packing
    # SCALE-Sim's Overall Util divides MACs by its 0-indexed total: the report keeps that total.
    return _report(
        stats, arch, macs=macs, folds=counts.folds, compute_cycles=counts.cycles,
        used=counts.mapping_efficiency * counts.folds * (macs / run.macs),
        busy=counts.compute_util * counts.folds * (macs / run.macs),
        sram=(counts.ifmap_reads, counts.filter_reads, counts.ofmap_writes, counts.ofmap_reads),
        memory=memory, dims=(gemm.m, gemm.n, gemm.k, gemm.repeat),
    )


def _tiled(run: GemmDims, fm: FoldMapping, arch: SystolicArray, a_unique: float) -> tuple[ComputeCounts, MemoryCounts]:
    """Native compute and memory of ``run``, in stream tiles that keep partial sums on chip."""
    tile = stream_tile(fm, arch)
    full, rest = divmod(fm.t, tile)
    parts = [(tile, full)] + ([(rest, 1)] if rest else [])
    counts, memory = [], []
    for t, times in parts:
        sub = _with_stream(run, fm.dataflow, t)
        sub_fm = map_gemm(sub, arch.rows, arch.cols, fm.dataflow)
        runs = sub.repeat * times
        counts.append(gemm_compute(replace(sub, repeat=runs), arch.rows, arch.cols, fm.dataflow))
        memory.append(gemm_memory(sub_fm, runs, arch, sub_fm.fold_cycles(), a_unique=a_unique,
                                  stationary_shared=run.repeat == 1 and times > 1))
    return _sum(counts), _sum(memory)


def _with_stream(gemm: GemmDims, dataflow: Dataflow, t: int) -> GemmDims:
    """``gemm`` with its streamed dimension (ws: M, is: N, os: K) cut to ``t``."""
    field = {Dataflow.WEIGHT_STATIONARY: "m", Dataflow.INPUT_STATIONARY: "n", Dataflow.OUTPUT_STATIONARY: "k"}
    return replace(gemm, **{field[dataflow]: t})


def _sum(parts: list):
    """Add frozen counts field by field; utilisation means are weighted by folds."""
    first = parts[0]
    if len(parts) == 1:
        return first
    total = {}
    for f in fields(first):
        values = [getattr(p, f.name) for p in parts]
        if f.name in ("mapping_efficiency", "compute_util"):
            total[f.name] = sum(v * p.folds for v, p in zip(values, parts)) / sum(p.folds for p in parts)
        elif f.name == "prefetch_cycles":
            total[f.name] = values[0]
        elif f.name == "drain_cycles":
            total[f.name] = values[-1]
        else:
            total[f.name] = sum(values)
    return type(first)(**total)


def _ifmap_unique(network: Network, stats: LayerStats) -> float:
    """Distinct ifmap elements over im2col elements (1 for every kind but a convolution)."""
    if stats.kind != "conv2d":
        return 1.0
    g = stats.gemm
    distinct = math.prod(stats.input_shapes[0]) * network.batch  # all groups together
    return min(1.0, distinct / (g.m * g.k * g.repeat))


def _memory_layer(network: Network, stats: LayerStats, arch: SystolicArray) -> MemoryCounts:
    if stats.kind in _FREE_KINDS:
        return MemoryCounts(0, 0, 0, 0, 0, 0, 0)
    batch = network.batch
    act_in = sum(math.prod(s) for s in stats.input_shapes) * batch * arch.ifmap_bits / 8
    out = math.prod(stats.output_shape) * batch * arch.ofmap_bits / 8
    if stats.kind == "embedding":
        act_in = out  # reads only the looked-up rows of its table
    elif stats.kind == "parameter":
        act_in = math.prod(stats.output_shape) * arch.filter_bits / 8
    return transfer_memory(act_in, out, arch)


def _report(stats: LayerStats, arch: SystolicArray, *, macs: int, folds: int, compute_cycles: int, used: float,
            busy: float, sram: tuple[int, int, int, int], memory: MemoryCounts,
            dims: tuple[int, int, int, int]) -> LayerReport:
    m, n, k, repeat = dims
    return LayerReport(
        layer=stats.name, kind=stats.kind, m=m, n=n, k=k, repeat=repeat, macs=macs, folds=folds,
        compute_cycles=compute_cycles, stall_cycles=memory.stall_cycles, prefetch_cycles=memory.prefetch_cycles,
        drain_cycles=memory.drain_cycles, pes=arch.pes, used_pe_folds=used, busy_pe_folds=busy,
        ifmap_sram_reads=sram[0], filter_sram_reads=sram[1], ofmap_sram_writes=sram[2], ofmap_sram_reads=sram[3],
        ifmap_dram_read_bytes=memory.ifmap_dram_read_bytes, filter_dram_read_bytes=memory.filter_dram_read_bytes,
        ofmap_dram_write_bytes=memory.ofmap_dram_write_bytes, ofmap_dram_read_bytes=memory.ofmap_dram_read_bytes,
    )
