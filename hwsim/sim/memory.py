"""The fast engine's memory side: DRAM traffic per operand and the stalls it causes, in closed form.

The model (the *DMA model*) is defined by its cycle-stepped reference, :mod:`hwsim.sim.stepped_memory`, which runs
the stepped compute model, keeps the SRAMs' contents as sets of operand elements and steps a DMA engine and the
array cycle by cycle; this module is its closed form and equals it exactly (``tests/properties/test_memory_model.py``).

Stream tiles, runs and steps
----------------------------
ws and is keep the partial sums of a column fold's row folds in the ofmap SRAM. When there are several row folds
and those sums (``T x min(C, Sc)`` at ``psum_bits``) do not fit half the ofmap SRAM, the stream ``T`` is cut into
the fewest *stream tiles* that do, as even as they go (``LayerMapping.stream_tiles``); with one row fold there are no partial sums and no tiles, and
os accumulates in its PEs. A layer is a sequence of *runs*: per repeat (an unpacked group), per stream tile, the
GEMM with ``T`` cut to the tile. A run is its folds, column fold outer; every fold of every run is a *step*.
Tiles are separate passes over the folds because the array holds one stationary tile at a time and a fold's tiles
are not adjacent in time (the other folds of the tile run between them): each pays the fold's fill and drain.
Partial sums never go to DRAM.

What a step moves
-----------------
* **Resident tile** (ws: filters, is: ifmap windows): the fold's ``rows_used x cols_used`` tile, fetched for every
  step unless the whole resident matrix fits half its SRAM, in which case the stream tiles of one repeat share it
  and only the first fetches it. It must fit half its SRAM (double buffering).
* **Streamed slices** (ws: ifmap, is: filters, os: both): the fold's slice of the streamed operand. A ws/is slice
  is re-read by every column fold: fetched once per run if the GEMM's whole streamed matrix (all of ``T``, not only
  the tile's: a bigger ofmap SRAM, with longer tiles, must never fetch more) fits half its SRAM, else every step. os: the ifmap rows of a row fold likewise (fetched once if all of ``A`` fits half); the filter
  columns of a column fold are kept for its row folds when they fit half the filter SRAM.
* **Writes**: ws/is outputs leave after the last row fold of a column fold, at ``ofmap_bits``; os outputs after
  every fold.
* **Bytes**: a convolution's ifmap is im2col's windows formed from the SRAM, so DRAM sends each pixel once per
  fetch (``a_unique``, the distinct fraction); groups packed block-diagonally (``--pack-groups``) fetch only their
  non-zero blocks, the zeros are made on chip. A transfer moves :func:`operand_bytes`. N:M sparse: weights are the
  kept ones, ifmap slices the in-range elements of the windows the fold's compressed rows read.

Time
----
One DMA engine moves :attr:`~hwsim.arch.systolic.SystolicArray.dram_bandwidth_bytes_per_cycle` bytes per cycle
(:func:`dram_cycles`). Before the first step it prefetches that step's resident tile (the *prefetch*). While step
``s`` computes, *phase* ``s`` moves step ``s-1``'s writes (their half of the ofmap SRAM must drain before step
``s+1`` fills it), step ``s``'s streamed slices and step ``s+1``'s resident tile, into the idle half; a phase that
reads waits the DRAM latency first. Step ``s+1`` starts when both the fold's ``L`` compute cycles and the phase are
done: the array stalls ``max(0, phase - L)`` cycles at the end of the fold. After the last step its writes drain
(the *drain*). ``InterfaceBandwidth: CALC`` is an interface whose transfers take no time.

Closed form over folds
----------------------
A run may have tens of thousands of folds per design, and a sweep many designs, so the sums over folds are not
walked. Along each fold axis only folds ``0, 1, n-2, n-1`` differ from their neighbours; folds ``2 .. n-3`` are
alike and fold 2 stands for all ``n - 4`` of them: 5 x 5 weighted representative folds. (N:M sparse ws is the
exception: where a row fold's rows fall among the N:M groups decides its activation windows, so its row folds are
all counted.) Runs come in three kinds (a repeat's first tile, its other longer tiles, its shorter tiles); their
interiors do not depend on their neighbours, and the first and last steps of each run are corrected for the run
before and after it (the writes it inherits, the tile it prefetches), every kind of neighbour in one vectorised
evaluation, counted by how often it occurs. The model's numbers may be NumPy arrays, one
entry per layer or per design (:mod:`hwsim.sim.batch`): every formula is elementwise.
"""

from __future__ import annotations


import numpy as np

from hwsim.arch.systolic import SystolicArray
from hwsim.errors import InputError
from hwsim.mapping import FoldMapping, LayerMapping, mapping
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
    """Bytes one transfer of ``elements`` operand elements of ``bits`` moves: ``elements * bits * unique / 8``.

    ``unique`` is the fraction of the elements DRAM actually holds (a convolution's distinct ifmap pixels, an average
    over the operand, so a transfer's bytes may be fractional; totals are rounded once). With ``unique == 1`` the
    bytes are multiples of 1/8 and exact in float64, whatever the order they are added in. Numbers or arrays.
    """
    return np.asarray(elements, dtype=np.int64) * np.asarray(bits, dtype=np.int64) * np.asarray(
        unique, dtype=np.float64) / 8


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


def interface(arch: SystolicArray) -> tuple[float | np.ndarray, int | np.ndarray]:
    """The DRAM interface as the DMA sees it: (bytes per cycle, read latency in cycles). ``InterfaceBandwidth:
    CALC`` is one that never makes the array wait: infinite bandwidth, no latency."""
    if arch.interface_bandwidth == "CALC":
        return np.inf, 0
    return arch.dram_bandwidth_bytes_per_cycle, arch.dram_latency_cycles


def resident_tile(fm: FoldMapping, arch: SystolicArray) -> tuple[str, float, float]:
    """The operand that stays in the array (``os``: outputs), its SRAM's size in KiB and one fold's tile in bytes."""
    operand = mapping(fm.dataflow).resident.value
    kib, bits = getattr(arch, f"{operand}_sram_kib"), getattr(arch, f"{operand}_bits")
    return operand, kib, np.minimum(fm.rows, fm.sr) * np.minimum(fm.cols, fm.sc) * _bytes(bits)


def psum_row_bytes(fm: FoldMapping, arch: SystolicArray) -> float | np.ndarray:
    """Bytes of one stream position's partial sums for a column fold, where row folds accumulate in the ofmap SRAM
    (ws/is with several row folds; 0 otherwise): a stream tile is at least this long."""
    accumulates = (fm.dataflow is not Dataflow.OUTPUT_STATIONARY) & (fm.row_folds > 1)
    return np.where(accumulates, np.minimum(fm.cols, fm.sc) * _bytes(arch.psum_bits), 0)


def fits(fm: FoldMapping, arch: SystolicArray) -> bool | np.ndarray:
    """Whether one fold's resident tile, and one stream position's partial sums, fit half of their SRAMs (double
    buffering), per design."""
    _, kib, tile = resident_tile(fm, arch)
    return (tile <= kib * 1024 / 2) & (psum_row_bytes(fm, arch) <= arch.ofmap_sram_kib * 1024 / 2)


def check_fits(fm: FoldMapping, arch: SystolicArray, layer: str) -> None:
    """Raise if one fold's resident tile, or one stream position's partial sums, cannot fit half of its SRAM."""
    operand, kib, tile = resident_tile(fm, arch)
    if not tile <= kib * 1024 / 2:
        raise InputError(
            f"one fold's {operand} tile ({float(tile):g} bytes) does not fit half of the {kib:g} KiB {operand} SRAM "
            "(it is double-buffered)", layer=layer, field=f"{operand}_sram_kib", value=kib,
        )
    psums = psum_row_bytes(fm, arch)
    if not psums <= arch.ofmap_sram_kib * 1024 / 2:
        raise InputError(
            f"one stream position's partial sums ({float(psums):g} bytes) do not fit half of the "
            f"{arch.ofmap_sram_kib:g} KiB ofmap SRAM (it is double-buffered)", layer=layer, field="ofmap_sram_kib",
            value=arch.ofmap_sram_kib,
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


def _every_fold(n: int | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every fold along a fold axis of ``n`` folds (padded to the longest with weight 0), like :func:`_fold_slots`."""
    n = np.asarray(n)
    index = np.arange(int(n.max()))
    return np.broadcast_to(index, n.shape + index.shape), (index < n[..., None]).astype(np.int64)


class _Layer:
    """One layer's GEMM laid on the array, as the step quantities of the DMA model (module docstring).

    Every method takes fold indices ``i`` (row fold) and ``j`` (column fold), numbers or arrays, and a stream tile's
    length ``t``; numbers of the layer broadcast against a trailing ``(5, 5)`` grid of representative folds. Transfers
    are counted in the elements DRAM holds (whole numbers: packing's zeros left out); :meth:`nbytes` makes them bytes.
    """

    def __init__(self, lm: LayerMapping, arch: SystolicArray, a_unique, interleave: bool):
        def on_grid(value):
            return np.asarray(value)[..., None, None]

        fm = lm.fold
        self.flow = fm.dataflow
        self.fold = FoldMapping(fm.dataflow, *(on_grid(v) for v in (fm.rows, fm.cols, fm.sr, fm.sc, fm.t)))
        self.interleave = interleave
        self.bits = {"ifmap": on_grid(arch.ifmap_bits), "filter": on_grid(arch.filter_bits),
                     "ofmap": on_grid(arch.ofmap_bits)}
        self.half = {name: on_grid(getattr(arch, f"{name}_sram_kib")) * 1024 / 2 for name in self.bits}
        self.unique = {"ifmap": on_grid(a_unique), "filter": 1.0, "ofmap": 1.0}
        # groups packed block-diagonally: every row of B'^T and column of B' holds one group's K of the packed pK
        packed = np.asarray(lm.run.n) // np.asarray(lm.gemm.n)
        self.packed = on_grid(packed)
        self.k_dense = on_grid(np.asarray(lm.gemm.k) * packed)  # the run's K before N:M compression
        self.n_keep, self.m_group = lm.n_keep, lm.m_group
        self.resident = mapping(self.flow).resident.value
        self.res_kept = self.fits_half(self.resident, self.held(self.resident, self.fold.sr * self.fold.sc))

    def held(self, operand: str, elements):
        """Of ``elements`` of ``operand``'s GEMM matrix, those DRAM holds: a packed filter's non-zero blocks."""
        return elements // self.packed if operand == "filter" else elements

    def nbytes(self, operand: str, held):
        """Bytes of ``held`` elements of ``operand`` (an ifmap's distinct share of them)."""
        return operand_bytes(held, self.bits[operand], self.unique[operand])

    def fits_half(self, operand: str, held):
        return self.nbytes(operand, held) <= self.half[operand]

    def window_rows(self, i, new: bool = False):
        """Distinct ``A`` elements per stream position that row fold ``i``'s (compressed) rows read: its rows when
        dense; N:M: the in-range elements of the windows of every group with a compressed row in the fold. With
        ``new``, only the groups row fold ``i - 1`` did not read (a group's rows may straddle two row folds)."""
        rows = self.fold.rows_in(i)
        if self.n_keep == self.m_group:
            return rows
        m = self.m_group
        r0 = i * self.fold.rows
        first = (r0 - 1) // self.n_keep + 1 if new else r0 // self.n_keep
        last = (r0 + rows - 1) // self.n_keep
        full_groups, partial = np.divmod(self.k_dense, m)
        groups = np.maximum(last - first + 1, 0)
        return groups * m - ((groups > 0) & (last == full_groups) & (partial > 0)) * (m - partial)

    def resident_elements(self, i, j, fetch):
        """The resident tile step ``(i, j)`` fetches (``fetch``: whether this run fetches resident tiles)."""
        if self.flow is Dataflow.OUTPUT_STATIONARY:
            return np.zeros(np.broadcast_shapes(np.shape(i), np.shape(j), np.shape(self.fold.rows)), np.int64)
        return self.held(self.resident, self.fold.rows_in(i) * self.fold.cols_in(j)) * fetch

    def streamed(self, i, j, t):
        """(ifmap, filter) elements step ``(i, j)`` of a run of stream length ``t`` streams in."""
        fm = self.fold
        if self.flow is Dataflow.OUTPUT_STATIONARY:
            a_kept = self.fits_half("ifmap", fm.sr * self.k_dense)
            b_kept = self.fits_half("filter", self.held("filter", t * fm.cols_in(j)))
            return (fm.rows_in(i) * self.k_dense * ((j == 0) | ~a_kept),
                    self.held("filter", t * fm.cols_in(j)) * ((i == 0) | ~b_kept))
        # kept when the whole stream of the GEMM fits, whatever the tiles: a stream tile's slab that fits only
        # because the ofmap SRAM is small must not make a bigger ofmap SRAM fetch more
        if self.flow is Dataflow.WEIGHT_STATIONARY:
            kept = self.fits_half("ifmap", fm.t * self.k_dense)
            # kept: column fold 0 fetches each window once, by the first row fold that reads it
            return t * np.where(kept, self.window_rows(i, new=True) * (j == 0), self.window_rows(i)), 0
        kept = self.fits_half("filter", self.held("filter", fm.t * fm.sr))
        return 0, self.held("filter", t * fm.rows_in(i)) * ((j == 0) | ~kept)

    def writes(self, i, j, t):
        """Output elements step ``(i, j)`` of a run of stream length ``t`` writes (partial sums stay on chip)."""
        fm = self.fold
        if self.flow is Dataflow.OUTPUT_STATIONARY:
            return fm.rows_in(i) * fm.cols_in(j)
        return t * fm.cols_in(j) * (i == fm.row_folds - 1)

    def phase_bytes(self, writes_before, ifmap, filt, resident_after):
        """A phase's bytes, added in the model's order (float sums of fractional bytes depend on it)."""
        return (self.nbytes("ofmap", writes_before) + self.nbytes("ifmap", ifmap) + self.nbytes("filter", filt)
                + self.nbytes(self.resident, resident_after))

    def compute(self, i, j, t):
        """Compute cycles of step ``(i, j)``: ``L``, or ``R + t`` under interleave for all but a run's last fold."""
        fm = self.fold
        full = 2 * fm.rows + fm.cols + t - 2
        if not self.interleave:
            return full
        last = (i == fm.row_folds - 1) & (j == fm.col_folds - 1)
        return np.where(last, full, fm.rows + t)

    def neighbours(self, i, j):
        """The steps before and after ``(i, j)`` within a run (column fold outer), and whether they exist."""
        nr, nc = self.fold.row_folds, self.fold.col_folds
        before = (np.where(i > 0, i - 1, nr - 1), np.where(i > 0, j, j - 1))
        after = (np.where(i < nr - 1, i + 1, 0), np.where(i < nr - 1, j, j + 1))
        return before, (i > 0) | (j > 0), after, (i < nr - 1) | (j < nc - 1)


def gemm_memory(lm: LayerMapping, arch: SystolicArray, *, a_unique: float | np.ndarray = 1.0,
                interleave: bool = False) -> MemoryCounts:
    """DRAM traffic, stalls, prefetch and drain of every run ``lm`` lays on ``arch`` (repeats and stream tiles).

    ``a_unique`` is the fraction of the ifmap operand ``A``'s elements that are distinct (a convolution's im2col
    matrix repeats each input pixel in up to ``R*S`` windows; DRAM holds, and sends, each once per fetch).
    ``interleave`` is SAT's interleave mapping (:meth:`~hwsim.mapping.FoldMapping.step_cycles`). Any number of
    ``lm``, ``arch`` and ``a_unique`` may be an array, one entry per layer or design, and the counts are then arrays
    of that shape. The sums over folds are in closed form over representative folds (module docstring).
    """
    layer = _Layer(lm, arch, a_unique, interleave)
    bandwidth, latency = (np.asarray(x) for x in interface(arch))
    bandwidth_g, latency_g = bandwidth[..., None, None], latency[..., None, None]  # against the fold grid
    fm = layer.fold
    if lm.dense or layer.flow is not Dataflow.WEIGHT_STATIONARY:
        row_index, row_weight = _fold_slots(lm.fold.row_folds)
    else:
        # N:M ws: a row fold's activation windows depend on where its rows fall among the groups (a group's rows
        # may straddle folds, the partial group's window is shorter), so row folds are not alike: every one counts
        row_index, row_weight = _every_fold(lm.fold.row_folds)
    col_index, col_weight = _fold_slots(lm.fold.col_folds)
    i, j = row_index[..., :, None], col_index[..., None, :]
    weight = row_weight[..., :, None] * col_weight[..., None, :]
    last_i, last_j = fm.row_folds - 1, fm.col_folds - 1
    zero_i, zero_j = np.zeros_like(fm.rows), np.zeros_like(fm.cols)
    single = (fm.row_folds == 1) & (fm.col_folds == 1)

    def phase(writes_before, ifmap, filt, resident_after):  # elements in, cycles out, on the fold grid
        moved = layer.phase_bytes(writes_before, ifmap, filt, resident_after)
        return latency_g * ((ifmap + filt + resident_after) > 0) + dram_cycles(moved, bandwidth_g)

    def in_bytes(operand, elements):  # a layer's elements (no grid) as bytes
        return layer.nbytes(operand, np.asarray(elements)[..., None, None])[..., 0, 0]

    def run(t, fetch):
        """One run of stream length ``t`` whose resident tiles are fetched where ``fetch``: its steps' summed
        time (first step inheriting no writes, last prefetching nothing), a function correcting its first and last
        steps for the writes ``before`` it inherits and the resident tile ``after`` it prefetches (elements), its
        compute cycles, and its elements per operand."""
        t = np.asarray(t)[..., None, None]
        fetch = np.asarray(fetch)[..., None, None]
        (bi, bj), has_before, (ai, aj), has_after = layer.neighbours(i, j)
        ifmap, filt = layer.streamed(i, j, t)
        written = layer.writes(i, j, t)
        inherited = layer.writes(bi, bj, t) * has_before
        prefetched = layer.resident_elements(ai, aj, fetch) * has_after
        compute = layer.compute(i, j, t)
        busy = (weight * np.maximum(compute, phase(inherited, ifmap, filt, prefetched))).sum(axis=(-2, -1))
        resident = layer.resident_elements(i, j, fetch)

        first_after = np.where(single[..., 0, 0], 0, _first_next(layer, fetch))[..., None, None]
        last_before = layer.writes(*_last_prev(layer), t) * ~single
        # the run's first and last steps: all they need but what they inherit and prefetch, on a (1, 1) grid
        ends = [(layer.compute(si, sj, t), *layer.streamed(si, sj, t)) for si, sj in ((zero_i, zero_j),
                                                                                      (last_i, last_j))]

        def step(end, before, after):  # a first or last step's time, given what it inherits and prefetches
            compute_cycles, a, b = end
            return np.maximum(compute_cycles, phase(before, a, b, after))[..., 0, 0]

        base_first, base_last = step(ends[0], 0, first_after), step(ends[1], last_before, 0)

        def corrected(before, after):
            """The run's time when it inherits ``before`` written elements and prefetches ``after`` elements
            (arrays over the layer's numbers, with any number of leading axes: contexts evaluated at once)."""
            before, after = np.asarray(before)[..., None, None], np.asarray(after)[..., None, None]
            first = step(ends[0], before, np.where(single, after, first_after)) - base_first
            last = step(ends[1], last_before, after) - base_last
            return busy + first + np.where(single[..., 0, 0], 0, last)

        totals = {"ifmap": (weight * (ifmap + (resident if layer.resident == "ifmap" else 0))).sum(axis=(-2, -1)),
                  "filter": (weight * (filt + (resident if layer.resident == "filter" else 0))).sum(axis=(-2, -1)),
                  "ofmap": (weight * written).sum(axis=(-2, -1))}
        return corrected, (weight * compute).sum(axis=(-2, -1)), totals

    longer, longer_count, shorter, shorter_count = (np.asarray(x) for x in lm.stream_tiles())
    repeat = np.asarray(lm.run.repeat)
    # A repeat runs its first tile (K0, which fetches the resident tiles), then the rest of its longer tiles (A),
    # then its shorter ones (B); every tile but K0 fetches resident tiles only if they are not kept.
    first_len = np.where(longer_count > 0, longer, shorter)
    a_count = np.maximum(longer_count - 1, 0)
    b_count = shorter_count - (longer_count == 0)
    last_len = np.where(b_count > 0, shorter, first_len)  # a repeat's last tile (all A tiles are first_len long)
    later_fetch = ~layer.res_kept[..., 0, 0]

    def tile_writes(t):  # what a tile's last step writes: what the next tile's first step inherits
        return layer.writes(last_i, last_j, np.asarray(t)[..., None, None])[..., 0, 0]

    s_first = layer.resident_elements(zero_i, zero_j, True)[..., 0, 0]  # what a first tile's first step needs
    s_later = s_first * later_fetch
    more_runs = (a_count + b_count) > 0
    more_repeats = repeat > 1
    after_repeat = np.maximum(repeat - 1, 0)  # repeats followed by another

    def contexts(run, *cases):
        """Sum of ``count`` runs for each ``(before, after, count)`` case, all cases in one evaluation."""
        items = np.broadcast_arrays(*(x for case in cases for x in case))  # every number to one shape
        before, after, count = (np.stack(items[k::3]) for k in range(3))
        return (count * run(before, after)).sum(axis=0)

    first_run, first_compute, first_moved = run(first_len, True)
    w_last = tile_writes(last_len)
    # A repeat's first tile: the very first inherits nothing, the others the previous repeat's last tile's writes;
    # it prefetches for the repeat's next tile, or the next repeat's first tile, or nothing at the very end.
    time = contexts(first_run,
                    (0, np.where(more_runs, s_later, np.where(more_repeats, s_first, 0)), 1),
                    (w_last, np.where(more_runs, s_later, s_first), np.maximum(repeat - 2, 0)),
                    (w_last, np.where(more_runs, s_later, 0), more_repeats))
    compute = repeat * first_compute
    moved = {name: repeat * value for name, value in first_moved.items()}
    # The longer tiles after the first (A), then the shorter ones (B). Per repeat, a kind's first tile inherits from
    # the tile before the kind (first_len long), the others from one of its own; each prefetches for the next tile,
    # the last of the kind for the next kind (``follows``) or the next repeat's first tile or nothing at the end.
    for count, length, follows in ((a_count, longer, b_count > 0), (b_count, shorter, np.zeros_like(b_count, bool))):
        if not np.any(count > 0):
            continue
        tile_run, tile_compute, tile_moved = run(np.where(count > 0, length, 1), later_fetch)
        before_first, before = tile_writes(first_len), tile_writes(length)
        lone, several = count == 1, count > 1
        ends_repeat = ~follows
        time = time + contexts(
            tile_run,
            (before_first, s_later, repeat * (lone & follows) + repeat * several),
            (before_first, s_first, after_repeat * (lone & ends_repeat)),
            (before_first, 0, lone & ends_repeat),
            (before, s_later, repeat * several * (np.maximum(count - 2, 0) + follows)),
            (before, s_first, after_repeat * (several & ends_repeat)),
            (before, 0, several & ends_repeat),
        )
        compute = compute + repeat * count * tile_compute
        moved = {name: moved[name] + repeat * count * tile_moved[name] for name in moved}

    def whole(x):  # totals are whole elements, made bytes once and rounded once: no order of summation matters
        return np.rint(x).astype(np.int64)

    return MemoryCounts(
        ifmap_dram_read_bytes=whole(in_bytes("ifmap", moved["ifmap"])),
        filter_dram_read_bytes=whole(in_bytes("filter", moved["filter"])),
        ofmap_dram_write_bytes=whole(in_bytes("ofmap", moved["ofmap"])),
        ofmap_dram_read_bytes=whole(np.zeros_like(compute)),
        stall_cycles=whole(time - compute),
        prefetch_cycles=whole(latency * (s_first > 0) + dram_cycles(in_bytes(layer.resident, s_first), bandwidth)),
        drain_cycles=whole(dram_cycles(in_bytes("ofmap", w_last), bandwidth)),
    )


def _first_next(layer: _Layer, fetch):
    """The resident bytes a run's first step prefetches for its second step (within the run)."""
    fm = layer.fold
    i = np.where(fm.row_folds > 1, 1, 0)
    j = np.where(fm.row_folds > 1, 0, 1)
    return layer.resident_elements(i, j, fetch)[..., 0, 0]


def _last_prev(layer: _Layer):
    """The step before a run's last step (within the run), as fold indices."""
    fm = layer.fold
    i = np.where(fm.row_folds > 1, fm.row_folds - 2, 0)
    j = np.where(fm.row_folds > 1, fm.col_folds - 1, fm.col_folds - 2)
    return i, j


def transfer_memory(read_bytes: float, write_bytes: float, arch: SystolicArray) -> MemoryCounts:
    """A memory-only layer: it reads and writes through DRAM and the array waits (numbers or arrays)."""
    read = np.ceil(read_bytes).astype(np.int64)
    write = np.ceil(write_bytes).astype(np.int64)
    bandwidth, latency = interface(arch)
    cycles = latency * (read > 0) + dram_cycles(read + write, bandwidth)
    return MemoryCounts(
        ifmap_dram_read_bytes=read, filter_dram_read_bytes=0,
        ofmap_dram_write_bytes=write, ofmap_dram_read_bytes=0,
        stall_cycles=cycles, prefetch_cycles=0, drain_cycles=0,
    )
