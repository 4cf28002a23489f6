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
  half the ofmap SRAM, the stream is cut into tiles of ``floor(half / (min(C, Sc) * psum_bytes))`` positions (full
  tiles first, then the rest). Output stationary accumulates in the PEs and never tiles.
* **Runs and steps.** Each repeat (a group not packed) runs each stream tile as one GEMM; every fold of every run
  (column fold outer, row fold inner) is one step. A step computes for ``L = 2R + C + t - 2`` cycles (``R + t``
  under SAT's interleave mapping, except a run's last step).
* **What a step needs** is read off the stepped compute model's demand trace: the ifmap, filter and ofmap elements
  its fold touches (an N:M ifmap window entry stands for its in-range elements; filter elements outside the
  diagonal blocks of packed groups are zeros made on chip, never fetched). An output goes to DRAM from the last
  fold of its run that emits it (partial sums never leave the chip).
* **What the SRAMs hold.** Each operand's SRAM holds what it fetched since the start of its *scope*, and a step
  fetches exactly the demanded elements it does not hold. The resident operand (ws: filter, is: ifmap) is scoped
  to a repeat when the run's whole resident matrix fits half its SRAM (the stream tiles share it), otherwise to a
  step. The streamed operand of ws/is, and the ifmap of os, is scoped to the run when the run's whole streamed
  matrix fits half its SRAM, otherwise to a step. The os filter is scoped to a column fold when that column
  fold's slice fits half the filter SRAM, otherwise to a step.
* **Bytes.** One transfer per operand per step of ``operand_bytes(elements, bits, unique)``: ``a_unique`` for the
  ifmap, 1 for filter and outputs.
* **Time.** The first step's resident tile is prefetched (``Lat`` if it reads, then the bytes at ``B`` per cycle).
  While step ``s`` computes, one DMA phase moves step ``s-1``'s writes, step ``s``'s streamed reads and step
  ``s+1``'s resident tile, after ``Lat`` cycles if it reads anything; after ``k`` cycles of moving it has moved
  ``k * B`` bytes. Step ``s+1`` starts when the array has computed its ``L_s`` cycles and the phase is done; the
  cycles in between are stalls. The last step's writes drain afterwards (posted: no latency). ``CALC`` is an
  interface on which no transfer takes time.

The formulas are in :mod:`hwsim.sim.memory`; /work/specs/memory_model.md is the definition both follow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hwsim.arch.systolic import SystolicArray
from hwsim.errors import InputError
from hwsim.mapping import LayerMapping
from hwsim.sim.memory import dram_cycles, operand_bytes
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
    streamed_read_bytes, write_bytes
        This step's streamed reads and its outputs' writes (which drain in the next phase).
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
    resident_read_bytes: int
    streamed_read_bytes: int
    write_bytes: int
    phase_cycles: int
    stall_cycles: int


@record
class SteppedMemoryResult(Record):
    """What :func:`step_memory` stepped: cycles by kind, DRAM bytes per operand and direction, and every step.

    ``total_cycles`` counts every stepped cycle: ``prefetch_cycles + compute_cycles + stall_cycles +
    drain_cycles``. ``ofmap_dram_read_bytes`` is always 0 (partial sums never leave the chip).
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
        The layer laid on ``arch`` (:func:`hwsim.mapping.lay`): dense or N:M sparse (ws, os), groups packed or not.
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
        A partial-sum row that cannot fit half the ofmap SRAM, a resident tile that cannot fit half its SRAM, or an
        ``a_unique`` outside ``(0, 1]``.
    """
    if not 0 < a_unique <= 1:
        raise InputError("must be in (0, 1]", field="a_unique", value=a_unique)
    if lm.packed_groups > 1 and not lm.dense:
        raise InputError("N:M sparse packed groups are not modelled by the stepped memory reference",
                         field="packed_groups", value=lm.packed_groups)
    rng = np.random.default_rng(seed)
    steps = []
    for r in range(lm.run.repeat):
        for tile, (s0, t) in enumerate(_stream_tiles(lm, arch)):
            steps += _run_steps(lm, arch, rng, r, tile, s0, t, interleave)
    return _plan_and_step(steps, lm.dataflow, arch, a_unique)


# ------------------------------------------------------------------------------------------------------------------
# Stream tiles and runs
# ------------------------------------------------------------------------------------------------------------------


def _stream_tiles(lm: LayerMapping, arch: SystolicArray) -> list[tuple[int, int]]:
    """``(first stream position, length)`` of each stream tile of a run: full tiles, then the rest."""
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
    return [(s0, min(t_tile, fold.t - s0)) for s0 in range(0, fold.t, t_tile)]


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


def _run_steps(lm: LayerMapping, arch: SystolicArray, rng: np.random.Generator, repeat: int, tile: int, s0: int,
               t: int, interleave: bool) -> list[_Step]:
    """Run one stream tile of one repeat through the stepped compute model; each fold's demands, as global ids.

    An element's global id is its flat index in the repeat's whole operand (``A[m, k] -> m*Kd + k``, ``B[k, n] ->
    k*N + n``, ``O[m, n] -> m*N + n``; dense positions, also for the N:M compressed filter) plus ``repeat`` times the
    operand's size, so stream tiles of one repeat share ids and repeats never do.
    """
    m, n = lm.run.m, lm.run.n
    k_dense = lm.gemm.k * lm.packed_groups
    a, b = _operands(lm, rng, k_dense)
    if lm.dataflow is WS:
        a = a[s0:s0 + t]
    elif lm.dataflow is IS:
        b = b[:, s0:s0 + t]
    a_local, b_local = a.shape, b.shape
    if lm.dense:
        result = simulate_gemm(a, b, arch.rows, arch.cols, lm.dataflow)
        b_kept = b
    else:
        values, indices, b_kept = _compress(b, lm.n_keep, lm.m_group, rng)
        assert values.shape[0] == lm.run.k, "the compressed filter has other rows than the mapping's K'"
        result = simulate_sparse_gemm(a, values, indices, k=k_dense, n_keep=lm.n_keep, m_group=lm.m_group,
                                      rows=arch.rows, cols=arch.cols, dataflow=lm.dataflow)
        # Every slot names a kept weight (no empty slots), so the trace's filter entries are the slots loaded.
        assert result.filter_reads == np.count_nonzero(result.trace.filter != BUBBLE)
    expected = a.astype(np.int32) @ b_kept.astype(np.int32)
    if not np.array_equal(result.product, expected):
        raise AssertionError(f"the stepped array computed a wrong product (repeat {repeat}, stream tile {tile})")

    fold = lm.with_stream(t).fold
    length = fold.fold_cycles()
    assert result.cycles == fold.folds * length, "the compute model took another number of cycles than L per fold"
    ifmap_base, filter_base, ofmap_base = repeat * m * k_dense, repeat * k_dense * n, repeat * m * n
    steps, written = [], set()
    for f in reversed(range(fold.folds)):
        window = slice(f * length, (f + 1) * length)
        a_ids = _global(_ifmap_elements(result.trace.ifmap[window], lm, k_dense), a_local, (m, k_dense),
                        s0 if lm.dataflow is WS else 0, 0)
        b_ids = _global(_entries(result.trace.filter[window]), b_local, (k_dense, n), 0,
                        s0 if lm.dataflow is IS else 0)
        b_ids = b_ids[_in_diagonal_blocks(b_ids, lm, n)]
        o_ids = _global(_entries(result.trace.ofmap[window]), (a_local[0], b_local[1]), (m, n),
                        s0 if lm.dataflow is WS else 0, s0 if lm.dataflow is IS else 0)
        last_contribution = np.array([o for o in o_ids.tolist() if o not in written], dtype=np.int64)
        written.update(o_ids.tolist())
        col_fold, row_fold = divmod(f, fold.row_folds)
        last = f == fold.folds - 1
        cycles = fold.step_cycles(interleave=interleave and not last)
        steps.append(_Step(repeat, tile, row_fold, col_fold, cycles, a_ids + ifmap_base, b_ids + filter_base,
                           last_contribution + ofmap_base))
    return steps[::-1]


def _operands(lm: LayerMapping, rng: np.random.Generator, k_dense: int) -> tuple[np.ndarray, np.ndarray]:
    """Random int8 ``A`` (``M x Kd``) and dense ``B`` (``Kd x N``) of one run; packed groups' ``B`` block-diagonal."""
    a = rng.integers(-128, 128, size=(lm.run.m, k_dense), dtype=np.int8)
    p, k, n = lm.packed_groups, lm.gemm.k, lm.gemm.n
    b = np.zeros((k_dense, lm.run.n), dtype=np.int8)
    for g in range(p):
        b[g * k:(g + 1) * k, g * n:(g + 1) * n] = rng.integers(-128, 128, size=(k, n), dtype=np.int8)
    return a, b


def _compress(b: np.ndarray, n_keep: int, m_group: int, rng: np.random.Generator,
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compress ``b`` ``n_keep:m_group`` along K: ``(values, indices, decompressed)``, kept positions random.

    Each group and column keeps ``min(n_keep, in-range positions)`` distinct in-range positions, so no slot is
    empty: a layout the hardware may hold, and one whose every slot the demand trace names.
    """
    k, n = b.shape
    groups = -(-k // m_group)
    rows = [min(n_keep, k - g * m_group) for g in range(groups)]
    values = np.zeros((sum(rows), n), dtype=np.int8)
    indices = np.zeros((sum(rows), n), dtype=np.uint8)
    kept = np.zeros_like(b)
    row = 0
    for g, keep in enumerate(rows):
        in_range = min(m_group, k - g * m_group)
        for c in range(n):
            chosen = rng.permutation(in_range)[:keep]
            pos = g * m_group + chosen
            values[row:row + keep, c] = b[pos, c]
            indices[row:row + keep, c] = chosen
            kept[pos, c] = b[pos, c]
        row += keep
    return values, indices, kept


def _entries(trace: np.ndarray) -> np.ndarray:
    """The distinct elements a window of trace rows names."""
    return np.unique(trace[trace != BUBBLE])


def _ifmap_elements(trace: np.ndarray, lm: LayerMapping, k_dense: int) -> np.ndarray:
    """The distinct ifmap elements a window of the ifmap trace reads: an N:M entry ``e`` (a window's first element)
    stands for ``e .. e + min(m_group, K - e % K) - 1``."""
    starts = _entries(trace)
    if lm.dense:
        return starts
    offsets = np.arange(lm.m_group)
    covered = starts[:, None] + offsets
    return np.unique(covered[offsets < (k_dense - starts % k_dense)[:, None]])


def _global(local: np.ndarray, local_shape: tuple[int, int], shape: tuple[int, int], row0: int,
            col0: int) -> np.ndarray:
    """Flat indices into a ``local_shape`` slice at ``(row0, col0)`` as flat indices into the ``shape`` matrix."""
    rows, cols = np.divmod(local, local_shape[1])
    return (rows + row0) * shape[1] + cols + col0


def _in_diagonal_blocks(b_ids: np.ndarray, lm: LayerMapping, n: int) -> np.ndarray:
    """Which filter elements lie in a diagonal block of a packed run (all of them unless packed)."""
    rows, cols = np.divmod(b_ids, n)
    return rows // lm.gemm.k == cols // lm.gemm.n


# ------------------------------------------------------------------------------------------------------------------
# The SRAMs: what each step fetches
# ------------------------------------------------------------------------------------------------------------------


class _Sram:
    """One operand's SRAM: the set of element ids it holds, all fetched since its current scope began."""

    def __init__(self, name: str, kib: float, bits: int, unique: float) -> None:
        self.name, self.kib, self.bits, self.unique = name, kib, bits, unique
        self.half_bytes = kib * 1024 / 2
        self.held: set[int] = set()
        self.scope: tuple = ()
        self.read_bytes = 0

    def bytes(self, elements: int) -> int:
        return int(operand_bytes(elements, self.bits, self.unique))

    def fits_half(self, steps: list[_Step]) -> bool:
        """Whether everything ``steps`` demand from this operand fits half the SRAM (double buffering)."""
        demand = np.unique(np.concatenate([getattr(s, self.name) for s in steps]))
        return self.bytes(len(demand)) <= self.half_bytes

    def fetch(self, demand: np.ndarray, scope: tuple) -> int:
        """Fetch for one step the demanded elements not held; return the transfer's bytes.

        A new ``scope`` starts from an empty SRAM: what the previous scope held is overwritten by this one's
        fetches.
        """
        if scope != self.scope:
            self.held, self.scope = set(), scope
        wanted = set(demand.tolist())
        missing = wanted - self.held
        self.held |= missing
        assert wanted <= self.held, f"{self.name}: a demanded element is not in its SRAM when its fold runs"
        nbytes = self.bytes(len(missing))
        self.read_bytes += nbytes
        return nbytes


def _fetch_plan(steps: list[_Step], flow: Dataflow, arch: SystolicArray, a_unique: float,
                ) -> tuple[_Sram, _Sram, list[int], list[int], list[int]]:
    """The SRAMs after every step's fetches, and per step the bytes of its resident tile, its streamed reads and
    its writes."""
    ifmap = _Sram("ifmap", arch.ifmap_sram_kib, arch.ifmap_bits, a_unique)
    filt = _Sram("filter", arch.filter_sram_kib, arch.filter_bits, 1.0)
    resident = {WS: filt, IS: ifmap, OS: None}[flow]
    streamed = {WS: [ifmap], IS: [filt], OS: [ifmap, filt]}[flow]
    runs: dict[tuple[int, int], list[int]] = {}
    for i, s in enumerate(steps):
        runs.setdefault((s.repeat, s.tile), []).append(i)

    resident_bytes, read_bytes, write_bytes = [], [], []
    for (repeat, tile), indices in runs.items():
        run = [steps[i] for i in indices]
        # Each SRAM's scope per step: the span over which it keeps what it fetched (section 2 of the definition).
        scopes: dict[str, list[tuple]] = {}
        if resident is not None:
            for s in run:
                if not resident.fits_half([s]):
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
            else:  # the run's whole streamed matrix, kept for its column folds
                kept_run = sram.fits_half(run)
                scopes[sram.name] = [("run", repeat, tile) if kept_run else ("step", i) for i in indices]
        for n, s in enumerate(run):
            resident_bytes.append(0 if resident is None else
                                  resident.fetch(getattr(s, resident.name), scopes[resident.name][n]))
            read_bytes.append(sum(sram.fetch(getattr(s, sram.name), scopes[sram.name][n]) for sram in streamed))
            write_bytes.append(int(operand_bytes(len(s.ofmap), arch.ofmap_bits)))
    return ifmap, filt, resident_bytes, read_bytes, write_bytes


def _plan_and_step(steps: list[_Step], flow: Dataflow, arch: SystolicArray, a_unique: float) -> SteppedMemoryResult:
    ifmap, filt, resident_b, read_b, write_b = _fetch_plan(steps, flow, arch, a_unique)
    calc = arch.interface_bandwidth == "CALC"
    dma = _Dma(math.inf if calc else arch.dram_bandwidth_bytes_per_cycle, 0 if calc else arch.dram_latency_cycles)
    prefetch, phases, stalls, drain = _step_cycles(dma, [s.compute_cycles for s in steps], resident_b, read_b,
                                                   write_b)
    records = tuple(StepRecord(s.repeat, s.tile, s.row_fold, s.col_fold, s.compute_cycles, resident_b[i], read_b[i],
                               write_b[i], phases[i], stalls[i]) for i, s in enumerate(steps))
    compute = sum(s.compute_cycles for s in steps)
    return SteppedMemoryResult(
        compute_cycles=compute, stall_cycles=sum(stalls), prefetch_cycles=prefetch, drain_cycles=drain,
        total_cycles=prefetch + compute + sum(stalls) + drain, ifmap_dram_read_bytes=ifmap.read_bytes,
        filter_dram_read_bytes=filt.read_bytes, ofmap_dram_write_bytes=sum(write_b), ofmap_dram_read_bytes=0,
        steps=records)


# ------------------------------------------------------------------------------------------------------------------
# Time: the DMA and the array, cycle by cycle
# ------------------------------------------------------------------------------------------------------------------


class _Dma:
    """The DMA engine's state in one phase: latency still to wait, cycles spent moving, bytes to move."""

    def __init__(self, bandwidth: float, latency: int) -> None:
        self.bandwidth, self.latency = bandwidth, latency
        self.start(0, reads=False)

    def start(self, nbytes: int, *, reads: bool) -> None:
        """Begin a phase of ``nbytes``; a phase that reads waits the DRAM latency first (writes are posted)."""
        self.nbytes = nbytes
        self.wait = self.latency if reads else 0
        self.moved_cycles = 0
        self.cycles = 0

    @property
    def done(self) -> bool:
        if self.wait:
            return False
        # An infinite interface moves everything at once; 0 * inf would be nan.
        return self.bandwidth == math.inf or self.moved_cycles * self.bandwidth >= self.nbytes

    def tick(self) -> None:
        """One cycle of the phase."""
        self.cycles += 1
        if self.wait:
            self.wait -= 1
        else:
            self.moved_cycles += 1


def _step_cycles(dma: _Dma, compute: list[int], resident: list[int], reads: list[int], writes: list[int],
                 ) -> tuple[int, list[int], list[int], int]:
    """Prefetch cycles, each step's phase and stall cycles, and drain cycles, stepped one cycle at a time."""
    prefetch = 0
    dma.start(resident[0], reads=resident[0] > 0)
    while not dma.done:
        dma.tick()
        prefetch += 1

    phases, stalls = [], []
    for s, length in enumerate(compute):
        previous_writes = writes[s - 1] if s else 0
        next_resident = resident[s + 1] if s + 1 < len(compute) else 0
        phase_reads = reads[s] + next_resident
        dma.start(previous_writes + phase_reads, reads=phase_reads > 0)
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
        assert dma.cycles == (dma.latency if phase_reads else 0) + int(dram_cycles(dma.nbytes, dma.bandwidth))

    dma.start(writes[-1], reads=False)
    drain = 0
    while not dma.done:
        dma.tick()
        drain += 1
    return prefetch, phases, stalls, drain
