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
from dataclasses import fields

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
    runs = GemmDims(*(np.array([getattr(lm.run, name) for lm in mappings]) for name in ("m", "n", "k", "repeat")))
    return lay(runs, arch)


def _entry(counts, i: int):
    """Entry ``i`` of counts whose fields are arrays (numbers the same for all entries stay as they are)."""
    return type(counts)(**{f.name: (lambda x: x[i] if np.ndim(x) else x)(getattr(counts, f.name))
                           for f in fields(counts)})


def _tiled(lm: LayerMapping, arch: SystolicArray, a_unique: float | np.ndarray,
           interleave: bool = False) -> tuple[ComputeCounts, MemoryCounts]:
    """Native compute and memory of ``lm``'s runs, in stream tiles that keep partial sums on chip.

    The stream is ``full`` tiles of ``tile`` and, where it does not divide, one shorter tile of ``rest``; with
    many designs the rest is evaluated for all (a length of 1 where there is none) and counted where it exists.
    """
    tile = lm.stream_tile
    full, rest = np.divmod(lm.fold.t, tile)
    counts, memory = _part(lm, arch, a_unique, tile, full, interleave)
    has_rest = rest > 0
    if not np.any(has_rest):
        return counts, memory
    rest_counts, rest_memory = _part(lm, arch, a_unique, np.where(has_rest, rest, 1), 1, interleave)
    return _add_rest(counts, rest_counts, has_rest), _add_rest(memory, rest_memory, has_rest)


def _part(lm: LayerMapping, arch: SystolicArray, a_unique: float | np.ndarray, t: int | np.ndarray,
          times: int | np.ndarray, interleave: bool) -> tuple[ComputeCounts, MemoryCounts]:
    """``times`` stream tiles of length ``t`` of ``lm``'s runs, back to back."""
    sub = lm.with_stream(t)
    runs = sub.run.repeat * times
    counts = gemm_compute(sub.with_repeat(runs), interleave=interleave)
    memory = gemm_memory(sub.fold, runs, arch, sub.fold.step_cycles(interleave), a_unique=a_unique,
                         stationary_shared=(lm.run.repeat == 1) & (np.asarray(times) > 1))
    return counts, memory


def _add_rest(full, rest, has_rest):
    """Counts of the full tiles plus, where ``has_rest``, the rest tile's; utilisation means are weighted by folds,
    the prefetch is the first tile's and the drain the last's."""
    total = {}
    for f in fields(full):
        a, b = getattr(full, f.name), getattr(rest, f.name)
        if f.name in ("mapping_efficiency", "compute_util"):
            total[f.name] = np.where(has_rest, (a * full.folds + b * rest.folds) / (full.folds + rest.folds), a)
        elif f.name == "prefetch_cycles":
            total[f.name] = a
        elif f.name == "drain_cycles":
            total[f.name] = np.where(has_rest, b, a)
        else:
            total[f.name] = a + np.where(has_rest, b, 0)
    return type(full)(**total)


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
