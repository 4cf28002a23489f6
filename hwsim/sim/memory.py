"""The fast engine's memory side: DRAM traffic per operand and the stalls it causes.

The model, per GEMM, vectorised over its folds (in fold order, column fold outer):

* **Stationary tile** (ws: filters, is: ifmap windows): each fold's ``rows_used x cols_used`` tile is
  fetched once, into the idle half of its double-buffered SRAM, while the previous fold computes
  (fold 0's tile is fetched before compute starts: the prefetch). A tile must fit half its SRAM.
* **ifmap** traffic counts distinct elements: a convolution's windows overlap, and are formed
  from the SRAM, so DRAM sends each input pixel once per fetch, not once per window.
* **Streamed operands** (ws: ifmap, is: filters, os: both) flow through their SRAM while the fold
  computes. A streamed slice that every column fold re-reads (ws/is ifmap or filter rows, os ifmap
  rows) is fetched once if the whole streamed matrix fits its SRAM, else once per fold. An os
  filter column slice, re-read by every row fold of its column fold, is fetched once per column
  fold if it fits half the filter SRAM.
* **Outputs** (ws/is): partial sums stay in the ofmap SRAM across row folds if a column fold's
  ``T x cols`` slice of 32-bit sums fits; each output then leaves once, at ``ofmap_bits``, after
  the last row fold. Otherwise every fold spills its partial sums to DRAM and all but the first
  fold of a column read them back. os outputs leave once, as each fold drains. Writes go out
  while the next fold computes.
* **Time**: fold ``f`` needs ``(its streamed reads + fold f+1's stationary tile + fold f-1's
  writes) / bandwidth`` cycles of DRAM time; where that exceeds its ``L`` compute cycles, the
  array stalls for the difference. The last fold's writes drain after compute.

A layer is memory-bound when it stalls. Memory-only layers (pool, eltwise, concat, upsample,
embedding, parameter) read their inputs and write their output through DRAM at the same
bandwidth; ``reshape`` and ``slice`` are views and cost nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hwsim.arch.systolic import SystolicArray
from hwsim.errors import InputError
from hwsim.sim.compute import FoldMapping
from hwsim.types import Dataflow

PSUM_BYTES = 4  # the PEs accumulate at 32 bits; partial sums are stored at that width


@dataclass(frozen=True)
class MemoryCounts:
    """DRAM traffic in bytes per operand, and the cycles it costs around the compute."""

    ifmap_dram_read_bytes: int
    filter_dram_read_bytes: int
    ofmap_dram_write_bytes: int
    ofmap_dram_read_bytes: int
    stall_cycles: int
    prefetch_cycles: int
    drain_cycles: int

    @property
    def dram_bytes(self) -> int:
        return (self.ifmap_dram_read_bytes + self.filter_dram_read_bytes + self.ofmap_dram_write_bytes
                + self.ofmap_dram_read_bytes)


def _bytes(bits: int) -> float:
    return bits / 8


def check_fits(fm: FoldMapping, arch: SystolicArray, layer: str) -> None:
    """Raise if one fold's resident tile cannot fit half of its SRAM (double buffering)."""
    if fm.dataflow is Dataflow.OUTPUT_STATIONARY:
        operand, kib, bits = "ofmap", arch.ofmap_sram_kib, arch.ofmap_bits
    elif fm.dataflow is Dataflow.WEIGHT_STATIONARY:
        operand, kib, bits = "filter", arch.filter_sram_kib, arch.filter_bits
    else:
        operand, kib, bits = "ifmap", arch.ifmap_sram_kib, arch.ifmap_bits
    tile = min(fm.rows, fm.sr) * min(fm.cols, fm.sc) * _bytes(bits)
    if tile > kib * 1024 / 2:
        raise InputError(
            f"one fold's {operand} tile ({tile:g} bytes) does not fit half of the {kib:g} KiB {operand} SRAM "
            "(it is double-buffered)", layer=layer, field=f"{operand}_sram_kib", value=kib,
        )


def stream_tile(fm: FoldMapping, arch: SystolicArray) -> int:
    """The longest stream (``T``) whose 32-bit partial sums for one column fold fit half the ofmap SRAM.

    ws and is keep a ``T x cols`` block of partial sums while the row folds accumulate into it; when
    that block outgrows the ofmap SRAM the GEMM is run in stream tiles of this length (each tile a
    GEMM of its own, with the stationary tiles loaded again), so partial sums never leave the chip.
    os accumulates in the PEs and needs no tiling.
    """
    if fm.dataflow is Dataflow.OUTPUT_STATIONARY:
        return fm.t
    capacity = arch.ofmap_sram_kib * 1024 / 2
    return max(1, min(fm.t, int(capacity // (min(fm.cols, fm.sc) * PSUM_BYTES))))


def gemm_memory(fm: FoldMapping, repeat: int, arch: SystolicArray, fold_cycles: int,
                a_unique: float = 1.0, stationary_shared: bool = False) -> MemoryCounts:
    """DRAM traffic and stalls of ``repeat`` back-to-back runs of the GEMM ``fm``.

    ``a_unique`` is the fraction of the ifmap operand ``A``'s elements that are distinct: a
    convolution's im2col matrix repeats each input pixel in up to ``R*S`` windows, but DRAM holds,
    and sends, each pixel once; the windows are formed from the SRAM. ``stationary_shared`` says the
    repeats are stream tiles of one GEMM, which share their stationary matrix: if it fits its SRAM
    whole, only the first repeat fetches it.
    """
    rows_used = fm.rows_used()
    cols_used = fm.cols_used()
    folds = fm.folds
    first_col_fold = np.arange(folds) < fm.row_folds
    first_row_fold = (np.arange(folds) % fm.row_folds) == 0
    last_row_fold = (np.arange(folds) % fm.row_folds) == fm.row_folds - 1
    ib, fb, ob = _bytes(arch.ifmap_bits) * a_unique, _bytes(arch.filter_bits), _bytes(arch.ofmap_bits)
    isram, fsram, osram = (kib * 1024 for kib in (arch.ifmap_sram_kib, arch.filter_sram_kib, arch.ofmap_sram_kib))
    zeros = np.zeros(folds)
    t = fm.t

    if fm.dataflow is Dataflow.OUTPUT_STATIONARY:
        stationary = zeros
        ifmap = rows_used * t * ib
        if fm.sr * t * ib <= isram:
            ifmap = np.where(first_col_fold, ifmap, 0)
        filt = t * cols_used * fb
        if t * fm.cols * fb <= fsram / 2:
            filt = np.where(first_row_fold, filt, 0)
        writes = rows_used * cols_used * ob
        psum_reads = zeros
        streamed = ifmap + filt
        ifmap_total, filter_total = ifmap.sum(), filt.sum()
    else:
        ws = fm.dataflow is Dataflow.WEIGHT_STATIONARY
        stat_b, stream_b, stream_sram = (fb, ib, isram) if ws else (ib, fb, fsram)
        stationary = rows_used * cols_used * stat_b
        streamed = t * rows_used * stream_b
        if t * fm.sr * stream_b <= stream_sram:
            streamed = np.where(first_col_fold, streamed, 0)
        if t * fm.cols * PSUM_BYTES <= osram:
            writes = np.where(last_row_fold, t * cols_used * ob, 0)
            psum_reads = zeros
        else:
            writes = t * cols_used * np.where(last_row_fold, ob, PSUM_BYTES)
            psum_reads = np.where(first_row_fold, 0, t * cols_used * PSUM_BYTES)
        ifmap_total, filter_total = streamed.sum(), stationary.sum()
        if not ws:
            ifmap_total, filter_total = filter_total, ifmap_total

    # Over repeats the sequence of folds simply recurs; build it once and tile it.
    stationary_all = np.tile(stationary, repeat)
    stat_sram = fsram if fm.dataflow is Dataflow.WEIGHT_STATIONARY else isram
    if stationary_shared and stationary.sum() <= stat_sram:
        stationary_all[folds:] = 0
    stationary_total = stationary_all.sum()
    next_stationary = np.append(stationary_all[1:], 0.0)
    writes_all = np.tile(writes, repeat)
    prev_writes = np.insert(writes_all[:-1], 0, 0.0)
    during = np.tile(streamed + psum_reads, repeat) + next_stationary + prev_writes
    bandwidth = arch.dram_bandwidth_bytes_per_cycle
    stall = np.maximum(0, np.ceil(during / bandwidth) - fold_cycles)
    # Stationary traffic is counted over the whole sequence (shared tiles are fetched once).
    if fm.dataflow is Dataflow.WEIGHT_STATIONARY:
        filter_total = stationary_total / repeat
    elif fm.dataflow is Dataflow.INPUT_STATIONARY:
        ifmap_total = stationary_total / repeat
    return MemoryCounts(
        # Per-fold shares of distinct pixels are fractions; whole passes add up to whole bytes.
        ifmap_dram_read_bytes=round(ifmap_total * repeat),
        filter_dram_read_bytes=round(filter_total * repeat),
        ofmap_dram_write_bytes=round(writes.sum() * repeat),
        ofmap_dram_read_bytes=round(psum_reads.sum() * repeat),
        stall_cycles=int(stall.sum()),
        prefetch_cycles=int(math.ceil(stationary_all[0] / bandwidth)) if len(stationary_all) else 0,
        drain_cycles=int(math.ceil(writes_all[-1] / bandwidth)) if len(writes_all) else 0,
    )


def transfer_memory(read_bytes: float, write_bytes: float, arch: SystolicArray) -> MemoryCounts:
    """A memory-only layer: it reads and writes through DRAM and the array waits."""
    cycles = int(math.ceil((read_bytes + write_bytes) / arch.dram_bandwidth_bytes_per_cycle))
    return MemoryCounts(
        ifmap_dram_read_bytes=int(math.ceil(read_bytes)), filter_dram_read_bytes=0,
        ofmap_dram_write_bytes=int(math.ceil(write_bytes)), ofmap_dram_read_bytes=0,
        stall_cycles=cycles, prefetch_cycles=0, drain_cycles=0,
    )
