"""The fast engine's memory side: DRAM traffic per operand and the stalls it causes.

The model, per GEMM, fold by fold (in fold order, column fold outer):

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

Closed form over folds
----------------------
A GEMM may have tens of thousands of folds per design, and a sweep many designs, so the sums over folds are
not walked. Along each fold axis (row folds, column folds) only folds ``0, 1, n-2, n-1`` differ from their
neighbours (their sizes, their first/last flags and those of the folds beside them); folds ``2 .. n-3`` are
alike, and fold 2 stands for all ``n - 4`` of them. The fold grid is therefore 5 x 5 weighted representative
folds; the repeats add three cases (the first run, the middle runs, the last run, which differ in the fold
before the first and after the last). Each representative's DRAM time and stall is computed exactly as for a
real fold and counted as many times as it occurs (``tests/properties/test_batch_engine.py`` checks this against a
walk over every fold). The model's numbers may be NumPy arrays, one entry per layer or per design
(:mod:`hwsim.sim.batch`): every formula is elementwise.
"""

from __future__ import annotations


import numpy as np

from hwsim.arch.systolic import SystolicArray
from hwsim.errors import InputError
from hwsim.mapping import FoldMapping, mapping
from hwsim.types import Dataflow, Record, record


@record
class MemoryCounts(Record):
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


def operand_bytes(elements, bits, unique=1.0):
    """Bytes one transfer of ``elements`` operand elements of ``bits`` moves: ``ceil(elements * bits * unique / 8)``.

    ``unique`` is the fraction of the elements DRAM actually holds (a convolution's distinct ifmap pixels); with
    ``unique == 1`` the count is exact integer arithmetic. Numbers or arrays.
    """
    whole_bits = np.asarray(elements, dtype=np.int64) * np.asarray(bits, dtype=np.int64)
    exact = -(-whole_bits // 8)
    scaled = np.ceil(whole_bits * np.asarray(unique, dtype=np.float64) / 8).astype(np.int64)
    return np.where(np.asarray(unique) == 1.0, exact, scaled)


def dram_cycles(nbytes, bandwidth):
    """Cycles a DMA at ``bandwidth`` bytes per cycle takes for ``nbytes``: the smallest whole ``k >= 0`` with
    ``k * bandwidth >= nbytes`` (float64, exactly this predicate, so that a cycle-by-cycle DMA that has moved
    ``k * bandwidth`` bytes after ``k`` cycles agrees with it). An infinite bandwidth takes 0 cycles. Numbers or
    arrays."""
    nbytes = np.asarray(nbytes, dtype=np.float64)
    bandwidth = np.asarray(bandwidth, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.ceil(nbytes / bandwidth)
        k = np.where(np.isfinite(k), k, 0.0)
        k = k - (((k - 1) * bandwidth >= nbytes) & (k > 0))  # float rounding may overshoot by one ...
        k = k + (k * bandwidth < nbytes)  # ... or undershoot by one
    return k.astype(np.int64)


def resident_tile(fm: FoldMapping, arch: SystolicArray) -> tuple[str, float, float]:
    """The operand that stays in the array (``os``: outputs), its SRAM's size in KiB and one fold's tile in bytes."""
    operand = mapping(fm.dataflow).resident.value
    kib, bits = getattr(arch, f"{operand}_sram_kib"), getattr(arch, f"{operand}_bits")
    return operand, kib, np.minimum(fm.rows, fm.sr) * np.minimum(fm.cols, fm.sc) * _bytes(bits)


def fits(fm: FoldMapping, arch: SystolicArray) -> bool | np.ndarray:
    """Whether one fold's resident tile fits half of its SRAM (double buffering), per design."""
    _, kib, tile = resident_tile(fm, arch)
    return tile <= kib * 1024 / 2


def check_fits(fm: FoldMapping, arch: SystolicArray, layer: str) -> None:
    """Raise if one fold's resident tile cannot fit half of its SRAM (double buffering)."""
    if not fits(fm, arch):
        operand, kib, tile = resident_tile(fm, arch)
        raise InputError(
            f"one fold's {operand} tile ({float(tile):g} bytes) does not fit half of the {kib:g} KiB {operand} SRAM "
            "(it is double-buffered)", layer=layer, field=f"{operand}_sram_kib", value=kib,
        )


_SLOT_START = np.array([0, 1, -2, -1, 2])  # folds 0, 1, n-2, n-1 and 2 ...
_SLOT_FROM_END = np.array([0, 0, 1, 1, 0])
_SLOT_BEFORE = np.array([0, 2, 3, 1, 4])  # ... each standing for min(cap, max(0, n - before)) folds
_SLOT_CAP = np.array([1, 1, 1, 1, np.iinfo(np.int64).max])


def _fold_slots(n: int | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Representative folds along a fold axis of ``n`` folds, ``0, 1, n-2, n-1`` and ``2`` (for folds ``2 .. n-3``),
    and how many folds each stands for (0 where it does not exist or is another slot's), on a last axis of 5."""
    n = np.asarray(n)[..., None]
    return n * _SLOT_FROM_END + _SLOT_START, np.minimum(np.maximum(n - _SLOT_BEFORE, 0), _SLOT_CAP)


def gemm_memory(fm: FoldMapping, repeat: int, arch: SystolicArray, fold_cycles: int,
                a_unique: float = 1.0, stationary_shared: bool = False) -> MemoryCounts:
    """DRAM traffic and stalls of ``repeat`` back-to-back runs of the GEMM ``fm``.

    ``a_unique`` is the fraction of the ifmap operand ``A``'s elements that are distinct: a
    convolution's im2col matrix repeats each input pixel in up to ``R*S`` windows, but DRAM holds,
    and sends, each pixel once; the windows are formed from the SRAM. ``stationary_shared`` says the
    repeats are stream tiles of one GEMM, which share their stationary matrix: if it fits its SRAM
    whole, only the first repeat fetches it.

    Any number here (of ``fm``, ``arch``, ``repeat``, ``fold_cycles``, ``a_unique``, ``stationary_shared``) may be
    an array, one entry per layer or design, and the counts then are arrays of that shape. The sums over folds are
    in closed form over representative folds (module docstring).
    """
    def on_folds(value, axes=2):  # a layer's or design's number against its (row fold, column fold[, run]) slots
        return np.asarray(value)[(...,) + (None,) * axes]

    flow = fm.dataflow
    ws = flow is Dataflow.WEIGHT_STATIONARY
    psum_b = _bytes(arch.psum_bits)
    ib, fb, ob = _bytes(arch.ifmap_bits) * a_unique, _bytes(arch.filter_bits), _bytes(arch.ofmap_bits)
    isram, fsram, osram = (kib * 1024 for kib in (arch.ifmap_sram_kib, arch.filter_sram_kib, arch.ofmap_sram_kib))
    t = fm.t
    if flow is Dataflow.OUTPUT_STATIONARY:
        ifmap_once = on_folds(fm.sr * t * ib <= isram)
        filter_once = on_folds(t * fm.cols * fb <= fsram / 2)
        stat_b, stat_sram = 0.0, isram
    else:
        stat_b, stream_b, stream_sram, stat_sram = (fb, ib, isram, fsram) if ws else (ib, fb, fsram, isram)
        stream_once = on_folds(t * fm.sr * stream_b <= stream_sram)
        psums_stay = on_folds(t * fm.cols * psum_b <= osram)
    grid = FoldMapping(flow, *(on_folds(v) for v in (fm.rows, fm.cols, fm.sr, fm.sc, fm.t)))
    row_folds, col_folds, t = grid.row_folds, grid.col_folds, grid.t

    # One fold (i, j), the same formulas for every fold of the grid (i, j may be arrays of fold indices). Reads are
    # counted in elements: their bytes per element may be a fraction (distinct ifmap pixels), and whole counts add
    # up exactly, so totals are rounded once.
    def stationary(i, j):
        """Elements of the resident tile fetched for fold ``(i, j)``."""
        if flow is Dataflow.OUTPUT_STATIONARY:
            return np.zeros(np.broadcast_shapes(np.shape(i), np.shape(j), np.shape(grid.rows)), np.int64)
        return grid.rows_in(i) * grid.cols_in(j)

    def writes(i, j):
        """Bytes fold ``(i, j)`` writes to DRAM."""
        if flow is Dataflow.OUTPUT_STATIONARY:
            return grid.rows_in(i) * grid.cols_in(j) * on_folds(ob)
        # a column fold's last row fold writes its outputs; the others spill partial sums unless they stay
        return t * grid.cols_in(j) * np.where(i == row_folds - 1, on_folds(ob), np.where(psums_stay, 0, psum_b))

    def reads(i, j):
        """(ifmap elements, filter elements, partial-sum bytes) streamed from DRAM while fold ``(i, j)`` computes."""
        if flow is Dataflow.OUTPUT_STATIONARY:
            ifmap = np.where((j == 0) | ~ifmap_once, grid.rows_in(i) * t, 0)
            filt = np.where((i == 0) | ~filter_once, t * grid.cols_in(j), 0)
            return ifmap, filt, 0.0
        streamed = np.where((j == 0) | ~stream_once, t * grid.rows_in(i), 0)
        psum = np.where((i == 0) | psums_stay, 0, t * grid.cols_in(j) * psum_b)
        return (streamed, 0, psum) if ws else (0, streamed, psum)

    row_index, row_weight = _fold_slots(fm.row_folds)
    col_index, col_weight = _fold_slots(fm.col_folds)
    i, j = row_index[..., :, None], col_index[..., None, :]
    weight = row_weight[..., :, None] * col_weight[..., None, :]

    def per_run(x):  # summed over every fold of one run
        return (weight * x).sum(axis=(-2, -1))

    ifmap, filt, psum = reads(i, j)
    if flow is Dataflow.OUTPUT_STATIONARY:
        own = ifmap * on_folds(ib) + filt * on_folds(fb) + psum
    else:
        own = (ifmap * on_folds(ib) if ws else filt * on_folds(fb)) + psum
    own_stationary, own_writes = stationary(i, j) * on_folds(stat_b), writes(i, j)
    not_last_row = i < row_folds - 1
    last_of_run = ~not_last_row & (j == col_folds - 1)
    first_of_run = (i == 0) & (j == 0)
    # the folds before and after (i, j), column fold outer; a run's last fold is followed by the next run's first
    next_stationary = stationary(np.where(not_last_row, i + 1, 0),
                                 np.where(last_of_run, 0, np.where(not_last_row, j, j + 1))) * on_folds(stat_b)
    prev_writes = writes(np.where(i > 0, i - 1, row_folds - 1),
                         np.where(first_of_run, col_folds - 1, np.where(i > 0, j, j - 1)))

    run_stationary = per_run(stationary(i, j))  # elements
    # shared stationary tiles are fetched by the first run only
    refetch = ~(np.asarray(stationary_shared) & (run_stationary * stat_b <= stat_sram))
    # Runs: the first, the middle ones and the last (on a last axis); they differ at their first and last folds.
    repeat = np.asarray(repeat)
    rep, keep = on_folds(repeat, 3), on_folds(refetch, 3)
    final = _LAST_RUN | (_FIRST_RUN & (rep == 1))
    with_next = np.where(last_of_run[..., None], keep & ~final, _FIRST_RUN | keep)
    with_prev = ~(first_of_run[..., None] & _FIRST_RUN)
    during = own[..., None] + with_next * next_stationary[..., None] + with_prev * prev_writes[..., None]
    bandwidth = arch.dram_bandwidth_bytes_per_cycle
    stall = np.maximum(0, np.ceil(during / on_folds(bandwidth, 3)) - on_folds(fold_cycles, 3))
    runs = np.minimum(np.maximum(rep - _RUNS_BEFORE, 0), _RUNS_CAP)  # 1, repeat - 2, 1 if repeat > 1
    stall_cycles = (weight * (runs * stall).sum(axis=-1)).sum(axis=(-2, -1))

    stationary_total = run_stationary * np.where(refetch, repeat, 1)  # over the whole sequence, in elements
    ifmap_total = per_run(ifmap) * repeat + (0 if ws else stationary_total)
    filter_total = per_run(filt) * repeat + (stationary_total if ws else 0)
    whole = lambda x: np.rint(x).astype(np.int64)  # noqa: E731
    return MemoryCounts(
        # Per-fold shares of distinct pixels are fractions; whole passes add up to whole bytes.
        ifmap_dram_read_bytes=whole(ifmap_total * ib),
        filter_dram_read_bytes=whole(filter_total * fb),
        ofmap_dram_write_bytes=whole(per_run(own_writes) * repeat),
        ofmap_dram_read_bytes=whole(per_run(psum) * repeat),
        stall_cycles=stall_cycles.astype(np.int64),
        # slot (0, 0) is the first fold and slot (3, 3) the last
        prefetch_cycles=np.ceil(own_stationary[..., 0, 0] / bandwidth).astype(np.int64),
        drain_cycles=np.ceil(own_writes[..., 3, 3] / bandwidth).astype(np.int64),
    )


_FIRST_RUN = np.array([True, False, False])  # the runs' axis: the first run, the middle runs, the last run
_LAST_RUN = np.array([False, False, True])
_RUNS_BEFORE = np.array([0, 2, 1])  # the middle runs are repeat - 2, the last is one if repeat > 1
_RUNS_CAP = np.array([1, np.iinfo(np.int64).max, 1])


def transfer_memory(read_bytes: float, write_bytes: float, arch: SystolicArray) -> MemoryCounts:
    """A memory-only layer: it reads and writes through DRAM and the array waits (numbers or arrays)."""
    cycles = np.ceil((read_bytes + write_bytes) / arch.dram_bandwidth_bytes_per_cycle).astype(np.int64)
    return MemoryCounts(
        ifmap_dram_read_bytes=np.ceil(read_bytes).astype(np.int64), filter_dram_read_bytes=0,
        ofmap_dram_write_bytes=np.ceil(write_bytes).astype(np.int64), ofmap_dram_read_bytes=0,
        stall_cycles=cycles, prefetch_cycles=0, drain_cycles=0,
    )
