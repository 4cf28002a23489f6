"""Cycle-stepped memory reference: the DMA and the array, stepped one cycle at a time, on the stepped compute model.

This module *defines* hwsim's native memory model in code (the closed form in :mod:`hwsim.sim.memory` must equal
it exactly). :func:`step_memory` runs a laid GEMM (:class:`~hwsim.mapping.LayerMapping`) through the cycle-stepped
compute model (:func:`~hwsim.sim.stepped.simulate_gemm`, :func:`~hwsim.sim.sparse.simulate_sparse_gemm`) on random
int8 operands, reads from each fold's demand trace which operand elements it needs, keeps the contents of the
three double-buffered SRAMs as sets of element indices, and steps a DMA engine and the array cycle by cycle.

The model in words
------------------
* **Stream tiles.** Weight and input stationary keep the partial sums of every row fold of a column fold in the
  ofmap SRAM. When there is more than one row fold and ``T * min(C, Sc)`` partial sums (``psum_bits`` each) exceed
  half the ofmap SRAM, the stream is cut into the fewest tiles of at most ``floor(half / (min(C, Sc) *
  psum_bytes))`` positions, as even as they go (lengths differing by one, the longer first). Output stationary
  accumulates in the PEs and never tiles.
* **Runs and steps.** Each repeat (a group not packed) runs each stream tile as one GEMM; every fold of every run
  (column fold outer, row fold inner) is one step. A step computes for ``L = 2R + C + t - 2`` cycles (``R + t``
  under SAT's interleave mapping, except a run's last step).
* **What a step needs** is read off the stepped compute model's demand trace: the ifmap, filter and ofmap elements
  its fold touches (an N:M ifmap window entry stands for its in-range elements; an N:M filter's elements are its
  compressed slots, as DRAM stores it; filter elements outside the diagonal blocks of packed groups are zeros made
  on chip, never fetched). An output goes to DRAM from the last fold of its run that emits it (partial sums never
  leave the chip). Packed groups of an N:M sparse layer are not modelled.
* **What the SRAMs hold.** Each operand's SRAM holds what it fetched since the start of its *scope*, and a step
  fetches exactly the demanded elements it does not hold. The resident operand (ws: filter, is: ifmap) is scoped
  to a repeat when the run's whole resident matrix fits half its SRAM (the stream tiles share it), otherwise to a
  step. The streamed operand of ws/is is scoped to the run when the repeat's whole stream (all its stream tiles:
  so that a larger ofmap SRAM, which lengthens the tiles, never costs bytes) fits half its SRAM, otherwise to a
  step; the ifmap of os likewise when the run's whole ``A`` fits. The os filter is scoped to a column fold when that column
  fold's slice fits half the filter SRAM, otherwise to a step.
* **Bytes.** One transfer per operand per step of ``operand_bytes(elements, bits, unique)`` bytes, a float:
  ``a_unique`` for the ifmap, 1 for filter and outputs. An operand's total is ``operand_bytes`` of all its
  transfers' elements, rounded once (one product: no float sum whose order could tip a rounding).
* **Time.** The first step's resident tile is prefetched (``Lat`` if it reads, then the bytes at ``B`` per cycle).
  While step ``s`` computes, one DMA phase moves step ``s-1``'s writes, step ``s``'s streamed reads (ifmap, then
  filter) and step ``s+1``'s resident tile, after ``Lat`` cycles if it reads anything; after ``k`` cycles of moving
  it has moved ``k * B`` bytes. Step ``s+1`` starts when the array has computed its ``L_s`` cycles and the phase is done; the
  cycles in between are stalls. The last step's writes drain afterwards (posted: no latency). ``CALC`` is an
  interface on which no transfer takes time.

The closed form of the same model, step by step in formulas, is :mod:`hwsim.sim.memory`
(:func:`hwsim.sim.engine.gemm_counts`); ``tests/properties/test_memory_model.py`` checks that the two agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from hwsim.arch.systolic import SystolicArray
from hwsim.errors import InputError
from hwsim.mapping import LayerMapping
from hwsim.sim.memory import operand_bytes
from hwsim.sim.sparse import simulate_sparse_gemm
from hwsim.sim.stepped import BUBBLE, simulate_gemm
from hwsim.types import Dataflow, Record, record

__all__ = ["SteppedMemoryResult", "StepRecord", "step_memory"]

WS, OS, IS = Dataflow.WEIGHT_STATIONARY, Dataflow.OUTPUT_STATIONARY, Dataflow.INPUT_STATIONARY


@dataclass(frozen=True)
class StepRecord:
    """One step (one fold of one run) as the reference stepped it.

    Attributes
    ----------
    repeat, tile, row_fold, col_fold
        Where the step sits: the repeat, the stream tile, and the fold.
    compute_cycles
        ``L_s``: the cycles the array computes.
    resident_read_bytes
        The resident tile fetched for this step (in the prefetch or in the previous step's phase).
    ifmap_read_bytes, filter_read_bytes
        This step's streamed reads (the resident operand's are in ``resident_read_bytes``).
    write_bytes
        This step's outputs written to DRAM (they drain in the next phase).

    Bytes are floats: ``operand_bytes`` of a transfer, ``elements * bits * unique / 8``.
    phase_cycles
        ``D_s``: the DMA phase that runs while this step computes.
    stall_cycles
        ``max(0, D_s - L_s)``.
    """

    repeat: int
    tile: int
    row_fold: int
    col_fold: int
    compute_cycles: int
    resident_read_bytes: float
    ifmap_read_bytes: float
    filter_read_bytes: float
    write_bytes: float
    phase_cycles: int
    stall_cycles: int


@record
class SteppedMemoryResult(Record):
    """What :func:`step_memory` stepped: cycles by kind, DRAM bytes per operand and direction, and every step.

    ``total_cycles`` counts every stepped cycle: ``prefetch_cycles + compute_cycles + stall_cycles +
    drain_cycles``. The DRAM bytes are ``operand_bytes`` of all of an operand's transfers' elements, rounded once
    (``np.rint``).
    ``ofmap_dram_read_bytes`` is always 0 (partial sums never leave the chip).
    """

    compute_cycles: int
    stall_cycles: int
    prefetch_cycles: int
    drain_cycles: int
    total_cycles: int
    ifmap_dram_read_bytes: int
    filter_dram_read_bytes: int
    ofmap_dram_write_bytes: int
    ofmap_dram_read_bytes: int
    steps: tuple[StepRecord, ...]


def step_memory(lm: LayerMapping, arch: SystolicArray, *, a_unique: float = 1.0, interleave: bool = False,
                seed: int = 0) -> SteppedMemoryResult:
    """Step the DMA and the array through the runs ``lm`` lays on ``arch``, one cycle at a time.

    Parameters
    ----------
    lm
        The layer laid on ``arch`` (:func:`hwsim.mapping.lay`): dense or N:M sparse (ws, os); groups packed or not
        (dense only).
    arch
        The array: SRAM sizes, element widths, DRAM bandwidth, latency and interface.
    a_unique
        Fraction of a fetch's ifmap elements DRAM actually sends (a convolution's distinct pixels), in (0, 1].
    interleave
        SAT's interleave mapping: every step but a run's last computes ``R + t`` cycles.
    seed
        Seed of the random int8 operands each run computes on.

    Returns
    -------
    SteppedMemoryResult

    Raises
    ------
    InputError
        A partial-sum row that cannot fit half the ofmap SRAM, a resident tile that cannot fit half its SRAM, an
        ``a_unique`` outside ``(0, 1]``, or packed groups of an N:M sparse layer.
    """
    if not 0 < a_unique <= 1:
        raise InputError("must be in (0, 1]", field="a_unique", value=a_unique)
    if lm.packed_groups > 1 and not lm.dense:
        raise InputError("N:M sparse packed groups are not modelled by the stepped memory reference",
                         field="packed_groups", value=lm.packed_groups)
    rng = np.random.default_rng(seed)
    steps = []
    for r in range(lm.run.repeat):
        operands = _operands(lm, rng)  # one repeat's matrices: its stream tiles are slices of them
        for tile, (s0, t) in enumerate(_stream_tiles(lm, arch)):
            steps += _run_steps(lm, arch, operands, r, tile, s0, t, interleave)
    k_dense = lm.gemm.k * lm.packed_groups
    ids = (lm.run.repeat * lm.run.m * k_dense, lm.run.repeat * k_dense * lm.run.n)
    return _plan_and_step(steps, lm.dataflow, arch, a_unique, ids)


# ------------------------------------------------------------------------------------------------------------------
# Stream tiles and runs
# ------------------------------------------------------------------------------------------------------------------


def _stream_tiles(lm: LayerMapping, arch: SystolicArray) -> list[tuple[int, int]]:
    """``(first stream position, length)`` of each stream tile of a run: the fewest, as even as they go."""
    fold = lm.fold
    if lm.dataflow is OS or fold.row_folds == 1:
        return [(0, fold.t)]
    half = arch.ofmap_sram_kib * 1024 / 2
    row_bytes = min(fold.cols, fold.sc) * (arch.psum_bits // 8)
    if fold.t * row_bytes <= half:
        return [(0, fold.t)]
    t_tile = math.floor(half / row_bytes)
    if t_tile < 1:
        raise InputError(f"one stream position's partial sums ({row_bytes} bytes) do not fit half of the ofmap SRAM",
                         field="ofmap_sram_kib", value=arch.ofmap_sram_kib)
    count = math.ceil(fold.t / t_tile)  # the fewest tiles no longer than t_tile, as even as they go, longer first
    lengths = [fold.t // count + 1] * (fold.t % count) + [fold.t // count] * (count - fold.t % count)
    return [(sum(lengths[:i]), length) for i, length in enumerate(lengths)]


@dataclass(frozen=True)
class _Step:
    """One fold of one run before the SRAMs decide what it fetches: what it demands, as global element ids."""

    repeat: int
    tile: int
    row_fold: int
    col_fold: int
    compute_cycles: int
    ifmap: np.ndarray
    filter: np.ndarray
    ofmap: np.ndarray  # outputs this fold emits whose last contribution it is: the ones written to DRAM


def _run_steps(lm: LayerMapping, arch: SystolicArray, operands: _Operands, repeat: int, tile: int, s0: int,
               t: int, interleave: bool) -> list[_Step]:
    """Run one stream tile of one repeat through the stepped compute model; each fold's demands, as global ids.

    An element's global id is its flat index in the repeat's whole operand (``A[m, k] -> m*Kd + k``, ``B[k, n] ->
    k*N + n``, ``O[m, n] -> m*N + n``; an N:M filter's elements are its compressed slots, ``r*N + n``) plus
    ``repeat`` times the operand's size (``Kd*N`` for the filter), so stream tiles of one repeat share ids and
    repeats never do.
    """
    m, n = lm.run.m, lm.run.n
    k_dense = lm.gemm.k * lm.packed_groups
    a, b, b_kept = operands.a, operands.b, operands.b_kept
    if lm.dataflow is WS:
        a = a[s0:s0 + t]
    elif lm.dataflow is IS:
        b = b_kept = b[:, s0:s0 + t]
    if lm.dense:
        result = simulate_gemm(a, b, arch.rows, arch.cols, lm.dataflow)
    else:
        result = simulate_sparse_gemm(a, operands.values, operands.indices, k=k_dense, n_keep=lm.n_keep,
                                      m_group=lm.m_group, rows=arch.rows, cols=arch.cols, dataflow=lm.dataflow)
        # Every slot names a kept weight (no empty slots), so the trace's filter entries are the slots loaded.
        assert result.filter_reads == np.count_nonzero(result.trace.filter != BUBBLE)
    # A @ B in float64 (BLAS; exact: every partial sum of int8 products below 2**53) wrapped to int32 as the PEs do.
    expected = (a.astype(np.float64) @ b_kept.astype(np.float64)).astype(np.int64).astype(np.int32)
    if not np.array_equal(result.product, expected):
        raise AssertionError(f"the stepped array computed a wrong product (repeat {repeat}, stream tile {tile})")

    fold = lm.with_stream(t).fold
    length = fold.fold_cycles()
    assert result.cycles == fold.folds * length, "the compute model took another number of cycles than L per fold"
    # Where this tile's local matrices sit in the repeat's: ws tiles A's and O's rows, is B's and O's columns.
    a_at = (s0, 0) if lm.dataflow is WS else (0, 0)
    b_at = (0, s0) if lm.dataflow is IS else (0, 0)
    o_at = (a_at[0], b_at[1])
    folds_a, a_ids = _ifmap_elements(result.trace.ifmap, length, lm, k_dense)
    a_ids = _global(a_ids, a.shape[1], k_dense, a_at)
    folds_b, b_ids = _elements(result.trace.filter, length)
    b_ids = _global(b_ids, b.shape[1], n, b_at)
    on_chip = ~_in_diagonal_blocks(b_ids, lm, n)  # zeros of packed groups: made on chip, never demanded of DRAM
    if operands.slot_of is not None:  # DRAM holds an N:M filter slot by slot: its elements are the slots
        b_ids = operands.slot_of[b_ids]
        assert (b_ids >= 0).all(), "the trace names a pruned weight"
    folds_o, o_ids = _elements(result.trace.ofmap, length)
    o_ids = _global(o_ids, b.shape[1], n, o_at)
    ifmap = _per_fold(folds_a, a_ids, fold.folds, m * k_dense)
    filt = _per_fold(folds_b[~on_chip], b_ids[~on_chip], fold.folds, k_dense * n)
    ofmap = _per_fold(folds_o, o_ids, fold.folds, m * n)
    # An output goes to DRAM from the last fold of the run that emits it; earlier ones are partial sums.
    last = np.full(m * n, -1)
    for f, out in enumerate(ofmap):
        last[out] = f
    steps = []
    for f in range(fold.folds):
        col_fold, row_fold = divmod(f, fold.row_folds)
        cycles = fold.step_cycles(interleave=interleave and f < fold.folds - 1)
        written = ofmap[f][last[ofmap[f]] == f]
        steps.append(_Step(repeat, tile, row_fold, col_fold, cycles, ifmap[f] + repeat * m * k_dense,
                           filt[f] + repeat * k_dense * n, written + repeat * m * n))
    return steps


class _Operands(NamedTuple):
    """One repeat's random int8 operands: ``A`` (``M x Kd``), dense ``B`` (``Kd x N``), and for N:M sparse weights
    the compressed layout and ``B`` with its pruned weights zeroed (``b_kept``; ``B`` itself when dense)."""

    a: np.ndarray
    b: np.ndarray
    b_kept: np.ndarray
    values: np.ndarray | None
    indices: np.ndarray | None
    slot_of: np.ndarray | None
    """N:M: the compressed slot ``r*N + n`` of each kept dense weight ``k*N + n`` (-1 for a pruned one)."""


def _operands(lm: LayerMapping, rng: np.random.Generator) -> _Operands:
    """Random operands of one repeat; packed groups' ``B`` is block-diagonal (``p`` blocks of ``K x N``)."""
    p, k, n = lm.packed_groups, lm.gemm.k, lm.gemm.n
    a = rng.integers(-128, 128, size=(lm.run.m, p * k), dtype=np.int8)
    b = np.zeros((p * k, lm.run.n), dtype=np.int8)
    for g in range(p):
        b[g * k:(g + 1) * k, g * n:(g + 1) * n] = rng.integers(-128, 128, size=(k, n), dtype=np.int8)
    if lm.dense:
        return _Operands(a, b, b, None, None, None)
    values, indices, kept_pos = _compress(b, lm.n_keep, lm.m_group, rng)
    assert values.shape[0] == lm.run.k, "the compressed filter has other rows than the mapping's K'"
    n = b.shape[1]
    cols = np.arange(n)
    b_kept = np.zeros_like(b)
    b_kept[kept_pos, cols] = values
    slot_of = np.full(b.size, -1, dtype=np.int64)
    slot_of[kept_pos * n + cols] = np.arange(values.size).reshape(values.shape)
    return _Operands(a, b, b_kept, values, indices, slot_of)


def _compress(b: np.ndarray, n_keep: int, m_group: int, rng: np.random.Generator,
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compress ``b`` ``n_keep:m_group`` along K: ``(values, indices, kept positions)``, positions random.

    Each group and column keeps ``min(n_keep, in-range positions)`` distinct in-range positions. The slots are
    ``K' x N`` whatever positions are kept; keeping in-range ones leaves no slot empty, so the demand trace names
    every slot a fold loads (an empty slot's entry would be a bubble).
    """
    k, n = b.shape
    groups = -(-k // m_group)
    # A random order of each group's positions per column, out-of-range ones last; keep the first n_keep.
    order = rng.random((groups, n, m_group))
    pos = np.arange(groups)[:, None, None] * m_group + np.arange(m_group)
    order[np.broadcast_to(pos >= k, order.shape)] += 1
    chosen = np.argsort(order, axis=-1)[..., :n_keep]  # (groups, N, n_keep)
    rows = np.array([min(n_keep, k - g * m_group) for g in range(groups)])
    slot = np.arange(n_keep) < rows[:, None]  # (groups, n_keep): the slots a group has
    indices = chosen.transpose(0, 2, 1)[slot]  # (K', N), group by group
    kept_pos = (np.repeat(np.arange(groups), rows) * m_group)[:, None] + indices
    return b[kept_pos, np.arange(n)], indices.astype(np.uint8), kept_pos


def _elements(trace: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """``(fold, element)`` of every entry of a run's trace (``length`` cycles per fold), bubbles left out."""
    cycle, lane = np.nonzero(trace != BUBBLE)
    return cycle // length, trace[cycle, lane]


def _ifmap_elements(trace: np.ndarray, length: int, lm: LayerMapping, k_dense: int) -> tuple[np.ndarray, np.ndarray]:
    """``(fold, element)`` of every ifmap element the trace reads: an N:M entry ``e`` (a window's first element)
    stands for ``e .. e + min(m_group, K - e % K) - 1``."""
    folds, starts = _elements(trace, length)
    if lm.dense:
        return folds, starts
    offsets = np.arange(lm.m_group)
    in_range = offsets < (k_dense - starts % k_dense)[:, None]
    return np.broadcast_to(folds[:, None], in_range.shape)[in_range], (starts[:, None] + offsets)[in_range]


def _global(local: np.ndarray, local_cols: int, cols: int, at: tuple[int, int]) -> np.ndarray:
    """Flat indices into a slice ``local_cols`` wide at ``at`` as flat indices into the ``cols``-wide matrix."""
    row, col = np.divmod(local, local_cols)
    return (row + at[0]) * cols + col + at[1]


def _per_fold(folds: np.ndarray, ids: np.ndarray, count: int, space: int) -> list[np.ndarray]:
    """The distinct ids of each of ``count`` folds (ids below ``space``), sorted."""
    key = folds * space + ids
    if count * space <= max(1 << 22, 4 * key.size):  # a membership mask is faster than sorting, while it is small
        mask = np.zeros(count * space, dtype=bool)
        mask[key] = True
        key = np.flatnonzero(mask)
    else:
        key = np.unique(key)
    bounds = np.searchsorted(key, np.arange(count + 1) * space)
    return [key[bounds[f]:bounds[f + 1]] - f * space for f in range(count)]


def _in_diagonal_blocks(b_ids: np.ndarray, lm: LayerMapping, n: int) -> np.ndarray:
    """Which filter elements lie in a diagonal block of a packed run (all of them unless packed)."""
    rows, cols = np.divmod(b_ids, n)
    return rows // lm.gemm.k == cols // lm.gemm.n


# ------------------------------------------------------------------------------------------------------------------
# The SRAMs: what each step fetches
# ------------------------------------------------------------------------------------------------------------------


class _Sram:
    """One operand's SRAM: the set of element ids it holds (a membership mask over the operand's ids), all fetched
    since its current scope began."""

    def __init__(self, name: str, kib: float, bits: int, unique: float, ids: int) -> None:
        self.name, self.kib, self.bits, self.unique = name, kib, bits, unique
        self.half_bytes = kib * 1024 / 2
        self.held = np.zeros(ids, dtype=bool)
        self.fetched: list[np.ndarray] = []  # what the scope fetched, to forget it when the scope ends
        self.scope: tuple = ()
        self.read_elements = 0  # every transfer's elements, summed: the total's bytes are computed once from it
        self._bytes: dict[int, float] = {}

    def bytes(self, elements: int) -> float:
        if elements not in self._bytes:
            self._bytes[elements] = float(operand_bytes(elements, self.bits, self.unique))
        return self._bytes[elements]

    def fits_half(self, steps: list[_Step]) -> bool:
        """Whether everything ``steps`` demand from this operand fits half the SRAM (double buffering)."""
        union = np.zeros(self.held.size, dtype=bool)
        for s in steps:
            union[getattr(s, self.name)] = True
        return self.bytes(int(np.count_nonzero(union))) <= self.half_bytes

    def total_bytes(self) -> int:
        return _whole_bytes(self.read_elements, self.bits, self.unique)

    def fetch(self, demand: np.ndarray, scope: tuple) -> float:
        """Fetch for one step the demanded elements not held; return the transfer's bytes.

        A new ``scope`` starts from an empty SRAM: what the previous scope held is overwritten by this one's
        fetches.
        """
        if scope != self.scope:
            for ids in self.fetched:
                self.held[ids] = False
            self.fetched, self.scope = [], scope
        missing = demand[~self.held[demand]]
        self.held[missing] = True
        self.fetched.append(missing)
        assert self.held[demand].all(), f"{self.name}: a demanded element is not in its SRAM when its fold runs"
        nbytes = self.bytes(len(missing))
        self.read_elements += len(missing)
        return nbytes


def _fetch_plan(steps: list[_Step], flow: Dataflow, arch: SystolicArray, a_unique: float, ids: tuple[int, int],
                ) -> tuple[_Sram, _Sram, dict[str, list[float]]]:
    """The SRAMs after every step's fetches, and per step the bytes of its resident tile, of its streamed ifmap and
    filter reads and of its writes. ``ids`` counts the ifmap and filter element ids of all repeats."""
    ifmap = _Sram("ifmap", arch.ifmap_sram_kib, arch.ifmap_bits, a_unique, ids[0])
    filt = _Sram("filter", arch.filter_sram_kib, arch.filter_bits, 1.0, ids[1])
    resident = {WS: filt, IS: ifmap, OS: None}[flow]
    streamed = {WS: [ifmap], IS: [filt], OS: [ifmap, filt]}[flow]
    runs: dict[tuple[int, int], list[int]] = {}
    repeats: dict[int, list[_Step]] = {}
    for i, s in enumerate(steps):
        runs.setdefault((s.repeat, s.tile), []).append(i)
        repeats.setdefault(s.repeat, []).append(s)

    moved: dict[str, list[float]] = {"resident": [], "ifmap": [], "filter": [], "writes": []}
    for (repeat, tile), indices in runs.items():
        run = [steps[i] for i in indices]
        # Each SRAM's scope per step: the span over which it keeps what it fetched (section 2 of the definition).
        scopes: dict[str, list[tuple]] = {}
        if resident is not None:
            for s in run:
                if resident.bytes(len(getattr(s, resident.name))) > resident.half_bytes:
                    raise InputError(f"one fold's {resident.name} tile does not fit half of its SRAM "
                                     "(it is double-buffered)", field=f"{resident.name}_sram_kib",
                                     value=resident.kib)
            shared = resident.fits_half(run)  # the repeat's stream tiles share the whole resident matrix
            scopes[resident.name] = [("repeat", repeat) if shared else ("step", i) for i in indices]
        for sram in streamed:
            if flow is OS and sram is filt:  # a column fold's filter slice, kept for its row folds
                kept = {j for j in {s.col_fold for s in run} if filt.fits_half([s for s in run if s.col_fold == j])}
                scopes[sram.name] = [("col", repeat, tile, s.col_fold) if s.col_fold in kept else ("step", i)
                                     for i, s in zip(indices, run)]
            else:  # kept for each run's column folds when the repeat's whole stream (all its tiles) fits
                kept_run = sram.fits_half(repeats[repeat])
                scopes[sram.name] = [("run", repeat, tile) if kept_run else ("step", i) for i in indices]
        for n, s in enumerate(run):
            moved["resident"].append(0.0 if resident is None else
                                     resident.fetch(getattr(s, resident.name), scopes[resident.name][n]))
            for sram in (ifmap, filt):
                moved[sram.name].append(sram.fetch(s.ifmap if sram is ifmap else s.filter, scopes[sram.name][n])
                                        if sram in streamed else 0.0)
            moved["writes"].append(float(operand_bytes(len(s.ofmap), arch.ofmap_bits)))
    return ifmap, filt, moved


def _plan_and_step(steps: list[_Step], flow: Dataflow, arch: SystolicArray, a_unique: float,
                   ids: tuple[int, int]) -> SteppedMemoryResult:
    ifmap, filt, moved = _fetch_plan(steps, flow, arch, a_unique, ids)
    calc = arch.interface_bandwidth == "CALC"
    dma = _Dma(math.inf if calc else arch.dram_bandwidth_bytes_per_cycle, 0 if calc else arch.dram_latency_cycles)
    prefetch, phases, stalls, drain = _step_cycles(dma, [s.compute_cycles for s in steps], moved)
    records = tuple(StepRecord(s.repeat, s.tile, s.row_fold, s.col_fold, s.compute_cycles, moved["resident"][i],
                               moved["ifmap"][i], moved["filter"][i], moved["writes"][i], phases[i], stalls[i])
                    for i, s in enumerate(steps))
    compute = sum(s.compute_cycles for s in steps)
    written = sum(len(s.ofmap) for s in steps)
    return SteppedMemoryResult(
        compute_cycles=compute, stall_cycles=sum(stalls), prefetch_cycles=prefetch, drain_cycles=drain,
        total_cycles=prefetch + compute + sum(stalls) + drain, ifmap_dram_read_bytes=ifmap.total_bytes(),
        filter_dram_read_bytes=filt.total_bytes(), ofmap_dram_write_bytes=_whole_bytes(written, arch.ofmap_bits),
        ofmap_dram_read_bytes=0, steps=records)


def _whole_bytes(elements: int, bits: int, unique: float = 1.0) -> int:
    """An operand's total DRAM bytes: one product over all its transfers' elements, rounded once (order-free)."""
    return int(np.rint(operand_bytes(elements, bits, unique)))


# ------------------------------------------------------------------------------------------------------------------
# Time: the DMA and the array, cycle by cycle
# ------------------------------------------------------------------------------------------------------------------


class _Dma:
    """The DMA engine's state in one phase: latency still to wait, cycles spent moving, bytes to move, done."""

    def __init__(self, bandwidth: float, latency: int) -> None:
        self.bandwidth, self.latency = bandwidth, latency
        self.start(0, reads=False)

    def start(self, nbytes: float, *, reads: bool) -> None:
        """Begin a phase of ``nbytes``; a phase that reads waits the DRAM latency first (writes are posted)."""
        self.nbytes = nbytes
        self.wait = self.latency if reads else 0
        self.moved_cycles = 0
        self.cycles = 0
        self.done = self._finished()

    def tick(self) -> None:
        """One cycle of the phase."""
        self.cycles += 1
        if self.wait:
            self.wait -= 1
        else:
            self.moved_cycles += 1
        self.done = self._finished()

    def _finished(self) -> bool:
        if self.wait:
            return False
        # An infinite interface moves everything at once; 0 * inf would be nan.
        return self.bandwidth == math.inf or self.moved_cycles * self.bandwidth >= self.nbytes


def _step_cycles(dma: _Dma, compute: list[int], moved: dict[str, list[float]]) -> tuple[int, list[int], list[int], int]:
    """Prefetch cycles, each step's phase and stall cycles, and drain cycles, stepped one cycle at a time."""
    resident, writes = moved["resident"], moved["writes"]
    prefetch = 0
    dma.start(resident[0], reads=resident[0] > 0)
    while not dma.done:
        dma.tick()
        prefetch += 1

    phases, stalls = [], []
    for s, length in enumerate(compute):
        previous_writes = writes[s - 1] if s else 0.0
        next_resident = resident[s + 1] if s + 1 < len(compute) else 0.0
        reads = moved["ifmap"][s] + moved["filter"][s] + next_resident
        # The phase's transfers in the order the DMA moves them (float sums: the order is part of the model).
        nbytes = ((previous_writes + moved["ifmap"][s]) + moved["filter"][s]) + next_resident
        dma.start(nbytes, reads=reads > 0)
        computed, stalled = 0, 0  # the array's state: cycles computed in this step, cycles waited
        while computed < length or not dma.done:
            if computed < length:
                computed += 1
            else:
                stalled += 1
            if not dma.done:
                dma.tick()
        phases.append(dma.cycles)
        stalls.append(stalled)

    dma.start(writes[-1], reads=False)
    drain = 0
    while not dma.done:
        dma.tick()
        drain += 1
    return prefetch, phases, stalls, drain
