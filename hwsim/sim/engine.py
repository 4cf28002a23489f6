"""The fast engine: a whole network on a systolic array, layer by layer, in closed form.

Compute layers go through the one lowering (:func:`hwsim.workload.lower`), are laid on the array once
(:func:`hwsim.mapping.lay`), then counted by :mod:`hwsim.sim.compute` (cycles, SRAM accesses) and
:mod:`hwsim.sim.memory` (DRAM, stalls). Memory-only layers cost their DRAM traffic. Nothing here steps cycles, and
nothing here prices: the counts go to :mod:`hwsim.cost` and :mod:`hwsim.report` (composed by :mod:`hwsim.api`).

The model is elementwise NumPy (:func:`gemm_counts`): :func:`simulate` evaluates all compute layers of a network
on one array at once, as arrays over layers; :func:`hwsim.sim.batch.simulate_batch` evaluates one layer on many
designs at once, as arrays over designs.
"""

from __future__ import annotations

import math
from dataclasses import fields, replace

import numpy as np

from hwsim.arch.systolic import SystolicArray
from hwsim.errors import InputError
from hwsim.mapping import LayerMapping, lay
from hwsim.sim.compute import ComputeCounts, gemm_compute
from hwsim.sim.counts import LayerCounts
from hwsim.sim.memory import MemoryCounts, check_fits, fits, gemm_memory, transfer_memory
from hwsim.sim.scalesim_memory import scalesim_memory
from hwsim.workload.lowering import GemmDims
from hwsim.workload.network import LayerStats, Network

COMPAT_MODES = ("scalesim",)
_FREE_KINDS = ("reshape", "slice")  # views: no data moves


def simulate_layers(network: Network, arch: SystolicArray, *, compat: str | None = None, pack: bool = False,
                    skip_unfit: bool = False) -> tuple[LayerCounts | None, ...]:
    """Cycles, utilisation, SRAM and DRAM traffic of every layer of ``network`` on ``arch``.

    Parameters
    ----------
    compat
        ``"scalesim"``: SCALE-Sim 3.0.0's conventions for cycles, utilisations and SRAM counts
        (see :mod:`hwsim.sim.compute`) and its DRAM side under ``arch.interface_bandwidth``
        (:mod:`hwsim.sim.scalesim_memory`); memory-only layers, which SCALE-Sim cannot express, cost nothing.
    pack
        Run grouped and depthwise layers with several groups per fold (:func:`hwsim.mapping.pack_groups`).
    skip_unfit
        A layer whose fold does not fit its SRAM is ``None`` instead of an error (a per-layer choice of mapping
        looks for one that fits).
    """
    if compat is not None and compat not in COMPAT_MODES:
        raise InputError(f"unknown compatibility mode (known: {', '.join(COMPAT_MODES)})", field="compat",
                         value=compat)
    return _layers(network, arch, compat is not None, pack, skip_unfit)


def gemm_counts(lm: LayerMapping, arch: SystolicArray, *, a_unique: float | np.ndarray = 1.0,
                compat: bool = False, interleave: bool = False) -> tuple[ComputeCounts, MemoryCounts]:
    """Compute and memory counts of the runs ``lm`` lays on ``arch``.

    Elementwise NumPy throughout: ``lm``'s dimensions and ``a_unique`` may be arrays (one entry per layer, as
    :func:`simulate_layers` uses it), or ``arch`` a group of designs whose numbers are arrays (one entry per design,
    as :func:`hwsim.sim.batch.simulate_batch` uses it), and the counts are arrays of that shape. Folds are not
    checked to fit their SRAMs here (:func:`hwsim.sim.memory.check_fits`, :func:`hwsim.sim.memory.fits`).
    ``interleave`` is SAT's interleave mapping (:func:`hwsim.sim.compute.gemm_compute`).
    """
    if compat:
        return gemm_compute(lm, compat=True), scalesim_memory(lm, arch, a_unique=a_unique)
    return _tiled(lm, arch, a_unique, interleave)


def _layers(network: Network, arch: SystolicArray, compat: bool, pack: bool,
            skip_unfit: bool) -> tuple[LayerCounts | None, ...]:
    """Every layer of ``network`` on one array; the compute layers are evaluated together, as arrays over layers."""
    gemm_layers, mappings, unfit = [], [], set()
    for stats in network:  # in network order, so the first layer that does not fit is the one reported
        if stats.gemm is None:
            continue
        lm = lay(stats.gemm, arch, pack=pack)
        if skip_unfit and not fits(lm.fold, arch):
            unfit.add(stats.name)
            continue
        check_fits(lm.fold, arch, stats.name)
        gemm_layers.append(stats)
        mappings.append(lm)
    if mappings:
        stacked = _stack(mappings, arch)
        a_unique = np.array([ifmap_unique(network, stats) for stats in gemm_layers])
        counts, memory = gemm_counts(stacked, arch, a_unique=a_unique, compat=compat)
    reports, index = [], iter(range(len(mappings)))
    for stats in network:
        gemm = stats.gemm
        if stats.name in unfit:
            reports.append(None)
            continue
        if gemm is None:
            layer_memory = MemoryCounts(0, 0, 0, 0, 0, 0, 0) if compat else memory_layer(network, stats, arch)
            reports.append(_report(stats, arch, macs=0, folds=0, compute_cycles=0, used=0.0, busy=0.0,
                                   sram=(0, 0, 0, 0), memory=layer_memory, dims=(0, 0, 0, 0)))
            continue
        i = next(index)
        c, m = _entry(counts, i), _entry(memory, i)
        macs, share = gemm.macs, gemm.macs / mappings[i].run.macs  # the layer's own, without packing's zero blocks
        # SCALE-Sim's Overall Util divides MACs by its 0-indexed total: the report keeps that total.
        reports.append(_report(
            stats, arch, macs=macs, folds=c.folds, compute_cycles=c.cycles,
            used=c.mapping_efficiency * c.folds * share, busy=c.compute_util * c.folds * share,
            sram=(c.ifmap_reads, c.filter_reads, c.ofmap_writes, c.ofmap_reads),
            memory=m, dims=(gemm.m, gemm.n, gemm.k, gemm.repeat),
        ))
    return tuple(reports)


def _stack(mappings: list[LayerMapping], arch: SystolicArray) -> LayerMapping:
    """The layers' mappings as one whose numbers are arrays over layers (they share the array and the rule)."""
    def stacked(gemms):
        return GemmDims(*(np.array([getattr(g, name) for g in gemms]) for name in ("m", "n", "k", "repeat")))

    # the runs laid as they are (packed already), beside the layers' own GEMMs (packing's zeros are not fetched)
    return replace(lay(stacked([lm.run for lm in mappings]), arch), gemm=stacked([lm.gemm for lm in mappings]))


def _entry(counts, i: int):
    """Entry ``i`` of counts whose fields are arrays (numbers the same for all entries stay as they are)."""
    return type(counts)(**{f.name: (lambda x: x[i] if np.ndim(x) else x)(getattr(counts, f.name))
                           for f in fields(counts)})


def _tiled(lm: LayerMapping, arch: SystolicArray, a_unique: float | np.ndarray,
           interleave: bool = False) -> tuple[ComputeCounts, MemoryCounts]:
    """Native compute and memory of ``lm``'s runs, in the stream tiles that keep partial sums on chip.

    The stream is cut into tiles of two lengths (:meth:`~hwsim.mapping.LayerMapping.stream_tiles`); with many
    layers or designs both are evaluated for all (a length of 1 where there is none) and counted where they exist.
    Compute adds up tile by tile; memory (:func:`hwsim.sim.memory.gemm_memory`) takes the whole sequence, whose
    tiles meet at their boundaries.
    """
    longer, longer_count, shorter, shorter_count = lm.stream_tiles()
    repeat = lm.run.repeat
    counts = gemm_compute(lm.with_stream(shorter).with_repeat(repeat * shorter_count), interleave=interleave)
    has_longer = longer_count > 0
    if np.any(has_longer):
        more = gemm_compute(lm.with_stream(longer).with_repeat(repeat * longer_count), interleave=interleave)
        counts = _add_tiles(counts, more, has_longer)
    return counts, gemm_memory(lm, arch, a_unique=a_unique, interleave=interleave)


def _add_tiles(counts: ComputeCounts, more: ComputeCounts, where) -> ComputeCounts:
    """``counts`` plus, where ``where``, ``more``; utilisation means are weighted by folds."""
    total = {}
    for f in fields(counts):
        a, b = getattr(counts, f.name), getattr(more, f.name)
        if f.name in ("mapping_efficiency", "compute_util"):
            total[f.name] = np.where(where, (a * counts.folds + b * more.folds) / (counts.folds + more.folds), a)
        else:
            total[f.name] = a + np.where(where, b, 0)
    return ComputeCounts(**total)


def ifmap_unique(network: Network, stats: LayerStats) -> float:
    """Distinct ifmap elements over im2col elements (1 for every kind but a convolution)."""
    if stats.kind != "conv2d":
        return 1.0
    g = stats.gemm
    distinct = math.prod(stats.input_shapes[0]) * network.batch  # all groups together
    return min(1.0, distinct / (g.m * g.k * g.repeat))


def memory_layer(network: Network, stats: LayerStats, arch: SystolicArray) -> MemoryCounts:
    """DRAM traffic and wait of a memory-only layer (``arch``'s numbers may be arrays, one entry per design)."""
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


_FIELD_TYPES = tuple((f.name, {"int": int, "float": float, "str": str}[f.type]) for f in fields(LayerCounts))


def _report(stats: LayerStats, arch: SystolicArray, *, macs: int, folds: int, compute_cycles: int, used: float,
            busy: float, sram: tuple[int, int, int, int], memory: MemoryCounts,
            dims: tuple[int, int, int, int]) -> LayerCounts:
    m, n, k, repeat = dims
    values = dict(
        layer=stats.name, kind=stats.kind, dataflow=arch.dataflow.value, m=m, n=n, k=k, repeat=repeat, macs=macs,
        folds=folds,
        compute_cycles=compute_cycles, stall_cycles=memory.stall_cycles, prefetch_cycles=memory.prefetch_cycles,
        drain_cycles=memory.drain_cycles, pes=arch.pes, used_pe_folds=used, busy_pe_folds=busy,
        ifmap_sram_reads=sram[0], filter_sram_reads=sram[1], ofmap_sram_writes=sram[2], ofmap_sram_reads=sram[3],
        ifmap_dram_read_bytes=memory.ifmap_dram_read_bytes, filter_dram_read_bytes=memory.filter_dram_read_bytes,
        ofmap_dram_write_bytes=memory.ofmap_dram_write_bytes, ofmap_dram_read_bytes=memory.ofmap_dram_read_bytes,
    )
    # Python numbers in place of NumPy scalars: reports are written to JSON
    return LayerCounts(**{name: kind(values[name]) for name, kind in _FIELD_TYPES})
