"""SCALE-Sim 3.0.0's DRAM side, for ``--compat scalesim``: DRAM reads and writes, stalls and the prefetch/drain.

SCALE-Sim runs its compute model first and writes, per cycle, which words the array asks for (its demand
matrices); its memory model then serves those words through three double-buffered SRAMs. What follows is what that
memory model does, restated as counts (the behaviour is re-derived here; no SCALE-Sim code is used). Its words are
one byte; hwsim's are the operand widths, so the counts below are words and leave this module as bytes.

Every SRAM splits its ``S`` words into an active half and a prefetch/drain half: ``A = ceil(S / 2)`` and
``S - A`` (``single_layer_sim.run`` passes the fraction 0.5 to all three buffers).

Reads, ``InterfaceBandwidth: CALC``
-----------------------------------
The read buffers never stall; they only count. Words enter the buffer in sets of ``s = floor(S / 100)``; once 50
sets (``W = 50 s`` new words) have entered, the buffer forgets everything it holds and starts again empty. A
demanded word is fetched (one DRAM read) unless it entered since the last such reset. Per operand the demand is
a few *blocks*, each a run of ``D`` distinct words read in the same order ``n`` times, block after block with no
word in common:

====  ==================================  =============================================================
flow  ifmap (``M x K``)                   filter (``K x N``)
====  ==================================  =============================================================
ws    ``D = M K``, ``n`` = column folds   ``D = K N``, ``n = 1`` (each fold reads its own tile)
is    ``D = M K``, ``n = 1``              ``D = K N``, ``n`` = column folds
os    ``D = M K``, ``n`` = column folds   one block per column fold ``j``: ``D = K c_j``, ``n`` = row folds
====  ==================================  =============================================================

With ``c`` words already in since the last reset, a block costs (closed form of the reset rule):

* ``D >= W``: every read misses (a word returns only after ``D`` others, past a reset): ``n D``;
  ``c`` becomes ``(c + n D) mod W``.
* ``D < W`` and ``c + D < W``: the block fits before the next reset: ``D``; ``c`` becomes ``c + D``.
* otherwise a reset falls inside the first pass, ``e = c + D - W`` words after it; the second pass re-reads the
  ``D - e`` words from before it and then the block stays: ``D + (D - e)`` (``D`` alone if ``n = 1``).

A convolution's ifmap blocks are not runs of distinct words: overlapping windows read a pixel several times per
pass, in an order only the window geometry gives, and the GEMM this module sees does not carry it. There the
distinct words ``U = a_unique M K`` are used: ``U`` reads when ``U < W`` (exact: nothing is ever forgotten);
otherwise ws reads every demanded word (exact when a fold's rows are channels of one filter tap, i.e. at least
``R`` input channels) and is/os read each pixel once per pass (an estimate).

The DRAM read trace starts before compute: the first 50 sets (or, when fewer words are ever read, all of them,
rounded up to whole sets) arrive at 10 words per cycle ending just before the operand's first demand (ws: the
ifmap's at cycle ``R``, the filter's at 0; is: the filter's at ``R``; os: both at 0); with fewer than 50 sets the
trace instead ends at cycle 0. ``Total Cycles (incl. prefetch)`` counts from the earlier of the two starts.

Writes
------
Outputs enter the ofmap buffer as lines of ``w`` words (CALC: the array width ``C``; USER: ``Bandwidth``). When
more than ``S - A`` words wait and no drain is running, the buffer closes its current line (even if short) and
drains the next ``ceil((S - A) / w)`` lines at one line per cycle; a drain counts its lines as full except the
last, so a short line inside a batch adds its empty slots to the DRAM writes (hence SCALE-Sim's ``C - 1`` extra
writes on most ws/is layers). After the last output every remaining line drains, one per cycle, from the last
cycle on: the run ends at the last line's cycle. A drain that is still running when the next should start makes
that one wait (triggers are placed on the cycles of the ofmap demand: fold by fold, skewed, as the compute model
lays it). While a drain runs the array stalls when the buffer is full.

Reads, ``InterfaceBandwidth: USER``
-----------------------------------
``Bandwidth`` is taken in whole words per cycle (``floor(bytes per cycle x 8 / bits)``, at least 1). Each read
buffer cuts the operand's *fetch order* (SCALE-Sim's prefetch matrix: the operand fold by fold, streamed operands
in diagonal order) into ``Q`` sets of ``ceil(S / 100)`` words and holds a window of ``a = min(50, Q)`` of them,
starting at set 0. Before compute it fetches ``ceil(A / Bandwidth)`` lines of ``Bandwidth`` words (fewer if the
fetch matrix has fewer), all counted as reads, ending at cycle -1. A demanded word outside the window moves the
window on by ``p = min(50, Q - a)`` sets, circularly, and fetches ``ceil((S - A) / Bandwidth)`` full lines, one per
cycle, starting one cycle after the previous fetch ended. hwsim walks the demand fold by fold over the sets
(``_read_folds``). A fetch the demand waits for ends ``x > 0`` cycles after the cycle it is needed: the array stalls
``2x`` (``read_buffer.service_reads`` adds the wait to its offset twice); per cycle the larger of the two buffers'
stalls counts. The ofmap buffer drains at ``Bandwidth`` words per cycle (lines of that width) and the array also
stalls while a drain runs and the buffer is full, on the clock the read stalls have already delayed.

SCALE-Sim's demand does not always follow its fetch order, and its window can only move forward: when the demand
steps back across the window's edge the window goes round the whole buffer (``Q / p`` moves, each a full fetch).
hwsim follows the two orders where they differ by fold: a resident tile (ws filter, is ifmap) is demanded last row
first (``np.flip`` in ``create_*_demand_mat``), and a streamed fold's words sit in the diagonal fetch order
interleaved with its neighbours' (its first diagonals come before the previous fold's last). Not followed:
overlapping convolution windows put a pixel in several sets, and SCALE-Sim finds a re-read pixel in any set of its
window, hwsim by the position of the word it demands.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from hwsim.arch.systolic import SystolicArray
from hwsim.errors import InputError
from hwsim.mapping import LayerMapping
from hwsim.sim.memory import MemoryCounts
from hwsim.types import Dataflow

_ACTIVE_FRACTION = 0.5  # single_layer_sim.run: active_buf_frac for the read and the write buffers
_SETS = 100  # the read buffers' capacity is kept as 100 sets of words
_ACTIVE_SETS = round(_ACTIVE_FRACTION * _SETS)
_CALC_READ_WORDS_PER_CYCLE = 10  # CALC's read-buffer bandwidth ("arbitrary", single_layer_sim.run)


def scalesim_memory(lm: LayerMapping, arch: SystolicArray, *,
                    a_unique: float | np.ndarray = 1.0) -> MemoryCounts:
    """SCALE-Sim 3.0.0's DRAM counts of the runs ``lm`` lays on ``arch`` (module docstring).

    ``lm``'s numbers may be arrays (one entry per layer, :func:`hwsim.sim.engine.simulate_layers`); each entry is
    evaluated on its own (SCALE-Sim's buffers have no closed form over layers) and the counts are arrays of that
    shape. ``a_unique`` is the layer's distinct ifmap words over its ``M K`` (1 for a GEMM). Each repeat of a run
    is one SCALE-Sim layer. ``stall_cycles`` come on top of the compute cycles (SCALE-Sim's ``Total Cycles``);
    ``prefetch_cycles + drain_cycles`` make that total SCALE-Sim's ``Total Cycles (incl. prefetch)``.
    """
    for name in ("ifmap", "filter"):
        if _words(getattr(arch, f"{name}_sram_kib"), getattr(arch, f"{name}_bits")) < _SETS:
            # read_buffer_estimate_bw keeps sets of floor(S / 100) words; with none it cannot prefetch (a reshape
            # to zero lines fails), so SCALE-Sim 3.0.0 cannot run such a buffer
            raise InputError(f"--compat scalesim needs at least {_SETS} words (SCALE-Sim splits it into {_SETS} sets)",
                             field=f"{name}_sram_kib", value=getattr(arch, f"{name}_sram_kib"))
    fm, run = lm.fold, lm.run
    length = fm.fold_cycles(compat=True)
    shape = np.broadcast(run.m, run.n, run.k, fm.sr, fm.sc, fm.t, length, a_unique).shape
    columns = [np.broadcast_to(np.asarray(x), shape).ravel()
               for x in (run.m, run.n, run.k, fm.sr, fm.sc, fm.t, length, a_unique)]
    out = np.array([_layer(fm.dataflow, *(int(x) for x in dims), float(a), arch) for *dims, a in zip(*columns)],
                   dtype=np.int64).reshape(*shape, 6)
    repeat = np.asarray(run.repeat)
    ifmap_w, filter_w, ofmap_w, stall, prefetch, drain = (out[..., i] * repeat for i in range(6))
    if not shape:
        ifmap_w, filter_w, ofmap_w, stall, prefetch, drain = (int(x) for x in
                                                               (ifmap_w, filter_w, ofmap_w, stall, prefetch, drain))
    return MemoryCounts(
        ifmap_dram_read_bytes=ifmap_w * arch.ifmap_bits // 8,
        filter_dram_read_bytes=filter_w * arch.filter_bits // 8,
        ofmap_dram_write_bytes=ofmap_w * arch.ofmap_bits // 8,
        ofmap_dram_read_bytes=np.zeros(shape, dtype=np.int64) if shape else 0,  # SCALE-Sim reads no partial sums
        stall_cycles=stall,
        prefetch_cycles=prefetch,
        drain_cycles=drain,
    )


def _words(kib: float, bits: int) -> int:
    """An SRAM's capacity in words of ``bits`` (SCALE-Sim: bytes, its word being one byte)."""
    return math.floor(kib * 1024 * 8 / bits)


def _layer(dataflow: Dataflow, m: int, n: int, k: int, sr: int, sc: int, t: int, fold_length: int, a_unique: float,
           arch: SystolicArray) -> tuple[int, int, int, int, int, int]:
    """One run: (ifmap reads, filter reads, ofmap writes) in words, stall, prefetch and drain cycles."""
    rows, cols = arch.rows, arch.cols
    row_folds, col_folds = -(-sr // rows), -(-sc // cols)
    sizes = [_words(arch.ifmap_sram_kib, arch.ifmap_bits), _words(arch.filter_sram_kib, arch.filter_bits)]
    ofmap_words = _words(arch.ofmap_sram_kib, arch.ofmap_bits)
    last_cycle = row_folds * col_folds * fold_length - 1
    if arch.interface_bandwidth == "USER":
        bits = (arch.ifmap_bits, arch.filter_bits, arch.ofmap_bits)
        # SCALE-Sim's Bandwidth is whole words per cycle
        per_cycle = [max(1, math.floor(arch.dram_bandwidth_bytes_per_cycle * 8 / b)) for b in bits]
        folds = _read_folds(dataflow, sr, sc, t, rows, cols)
        reads, starts, events = [], [], []
        for operand in range(2):
            count, start, advances = _user_reads(*folds[operand], sizes[operand], per_cycle[operand], fold_length)
            reads.append(count)
            starts.append(start)
            events += [(cycle, operand, done) for cycle, done in advances]
        stalls = _read_stalls(events)
        stall = sum(stalls.values())
        demand = _OfmapDemand(dataflow, rows, cols, sr, sc, t, fold_length, stalls)
        writes, stop, write_stall = _write_buffer(demand, ofmap_words, per_cycle[2], last_cycle + stall,
                                                  stall_when_full=True)
        stall += write_stall
        return reads[0], reads[1], writes, stall, -min(starts), stop - (last_cycle + stall)
    ifmap_blocks, filter_blocks = _blocks(dataflow, m, n, k, t, rows, cols, row_folds, col_folds)
    first_ifmap, first_filter = {Dataflow.WEIGHT_STATIONARY: (rows, 0), Dataflow.INPUT_STATIONARY: (0, rows),
                                 Dataflow.OUTPUT_STATIONARY: (0, 0)}[dataflow]
    ifmap_reads, ifmap_start = _calc_reads(ifmap_blocks, sizes[0], first_ifmap,
                                           distinct=a_unique * m * k if a_unique < 1 else None,
                                           every_word=dataflow is Dataflow.WEIGHT_STATIONARY)
    filter_reads, filter_start = _calc_reads(filter_blocks, sizes[1], first_filter)
    demand = _OfmapDemand(dataflow, rows, cols, sr, sc, t, fold_length)
    writes, stop, _ = _write_buffer(demand, ofmap_words, cols, last_cycle)
    return ifmap_reads, filter_reads, writes, 0, -min(ifmap_start, filter_start), stop - last_cycle


class _Fold(NamedTuple):
    """USER: where one fold's words of one operand sit in the operand's fetch order, and when they are demanded."""

    first_word: int
    words: int
    lanes: int  # a streamed block: the lanes (array rows or columns) its skewed demand spreads it over
    first_cycle: int  # the fold's cycle of its first demand
    row_words: int = 0  # a resident tile: words per row; its rows are demanded last row first, one per cycle
    # a streamed block: where it sits in the diagonal fetch order (block, blocks, block width, last block's width)
    stack: tuple[int, int, int, int] = (0, 1, 1, 1)


def _read_folds(dataflow: Dataflow, sr: int, sc: int, t: int, rows: int,
                cols: int) -> tuple[tuple[list[_Fold], int], ...]:
    """USER: per operand, its folds in fold order and the size of its fetch matrix (words and the empty slots of
    partly used folds)."""
    row_folds, col_folds = -(-sr // rows), -(-sc // cols)
    by_rows, by_cols = row_folds * rows * t, col_folds * cols * sr  # T x Sr by row fold, Sr x Sc by column fold
    ifmap, filt = [], []
    for j in range(col_folds):
        c = min(cols, sc - cols * j)
        for i in range(row_folds):
            r = min(rows, sr - rows * i)
            diagonal = (i, row_folds, rows, sr - rows * (row_folds - 1))  # a T x Sr operand's row folds, stacked
            streamed = _Fold(i * t * rows, t * r, r, rows, stack=diagonal)
            resident = _Fold(sr * cols * j + i * rows * c, r * c, 0, rows - r, c)  # Sr x Sc, by column fold
            if dataflow is Dataflow.WEIGHT_STATIONARY:
                ifmap.append(streamed)
                filt.append(resident)
            elif dataflow is Dataflow.INPUT_STATIONARY:
                ifmap.append(resident)
                filt.append(streamed)
            else:  # os: the filter is T x Sc, by column fold, both streamed from cycle 0
                ifmap.append(_Fold(i * t * rows, t * r, r, 0, stack=diagonal))
                filt.append(_Fold(j * t * cols, t * c, c, 0, stack=(j, col_folds, cols, sc - cols * (col_folds - 1))))
    sizes = {Dataflow.WEIGHT_STATIONARY: (by_rows, by_cols), Dataflow.INPUT_STATIONARY: (by_cols, by_rows),
             Dataflow.OUTPUT_STATIONARY: (by_rows, col_folds * cols * t)}[dataflow]
    return (ifmap, sizes[0]), (filt, sizes[1])


def _user_reads(folds: list[_Fold], fetch_size: int, words: int, per_cycle: int,
                fold_length: int) -> tuple[int, int, list[tuple[int, int]]]:
    """USER: one operand's DRAM reads (words), the cycle its DRAM trace starts, and each window move as
    ``(demand cycle, cycle its fetch ends)`` (module docstring)."""
    per_set = -(-words // _SETS)
    active = math.ceil(words * _ACTIVE_FRACTION)
    total = max(fold.first_word + fold.words for fold in folds)  # words in the fetch order
    sets = total // per_set + 1
    held = min(-(-active // per_set), sets)
    step = min(-(-(words - active) // per_set), sets - held)
    first_lines = min(-(-active // per_cycle), -(-fetch_size // per_cycle))
    fetch_lines = -(-(words - active) // per_cycle)
    window, moves = 0, []

    def reach(x: int, cycle: int) -> None:
        """Demand set ``x`` at ``cycle``: move the window on until it holds it (``step <= held``, so the first
        position that holds it is reached without wrapping past it)."""
        nonlocal window
        ahead = (x - window) % sets
        if ahead >= held:
            count = -(-(ahead - held + 1) // step)
            window = (window + count * step) % sets
            moves.extend([cycle] * count)

    for f, fold in enumerate(folds):
        w0, count = fold.first_word, fold.words
        lo, hi = w0 // per_set, (w0 + count - 1) // per_set
        if not fold.row_words:  # the diagonal fetch order interleaves its first and last diagonals with its neighbours'
            margin = -(-fold.stack[2] ** 2 // per_set)  # sets the interleave can move the fold's ends by
            if (lo - margin - window) % sets + (hi - lo + 2 * margin) < held:
                continue  # the whole fold is in the window
            depth = count // fold.lanes
            lo = _stacked_index(fold.stack, depth, 0, 0) // per_set
            hi = _stacked_index(fold.stack, depth, depth - 1, fold.lanes - 1) // per_set
        start = f * fold_length + fold.first_cycle
        if (lo - window) % sets + (hi - lo) < held:
            continue  # the whole fold is in the window
        if fold.row_words:  # a resident tile, last row first
            tile_rows = count // fold.row_words
            for row in range(tile_rows - 1, -1, -1):
                first = w0 + row * fold.row_words
                for x in range(first // per_set, (first + fold.row_words - 1) // per_set + 1):
                    reach(x, start + tile_rows - 1 - row)
            continue
        x = lo
        while x <= hi:
            inside = (x - window) % sets
            if inside < held:
                x += held - inside
                continue
            reach(x, start + _stacked_cycle(fold.stack, count // fold.lanes, fold.lanes, x * per_set))
    reads = per_cycle * (first_lines + len(moves) * fetch_lines)
    return reads, -first_lines, [(cycle, (i + 1) * (fetch_lines + 1) - 1) for i, cycle in enumerate(moves)]


def _stacked_index(stack: tuple[int, int, int, int], depth: int, t: int, j: int) -> int:
    """Position, among the words of a diagonal fetch order, of word ``(t, j)`` of block ``stack[0]``.

    The fetch matrix is ``blocks`` blocks of ``depth`` rows stacked, each ``width`` lanes wide of which the last
    block uses ``last``; it is read diagonal by diagonal, each from its bottom row up, skipping unused lanes."""
    block, blocks, width, last = stack
    row = block * depth + t
    d = row + j
    before = _staircase(d, last, blocks * depth) + _staircase(d - last, width - last, (blocks - 1) * depth)
    below = max(0, min(j, last) - max(0, d - blocks * depth + 1)) + max(0, j - max(last, d - (blocks - 1) * depth + 1))
    return before + below


def _stacked_cycle(stack: tuple[int, int, int, int], depth: int, lanes: int, word: int) -> int:
    """The cycle, from a skewed fold's start, of its first demanded word at or after position ``word`` of the
    diagonal fetch order (the fold's own words keep that order)."""
    lo, hi = 0, depth + lanes - 2
    while lo < hi:
        mid = (lo + hi) // 2
        if _stacked_index(stack, depth, mid - min(mid, lanes - 1), min(mid, lanes - 1)) >= word:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _staircase(x: int, lanes: int, depth: int) -> int:
    """``sum(clip(x - j, 0, depth) for j in range(lanes))``: a skewed block's words up to a diagonal."""

    def upto(top: int) -> int:  # sum of clip(u, 0, depth) for u = 0 .. top
        if top <= 0:
            return 0
        if top <= depth:
            return top * (top + 1) // 2
        return depth * (depth + 1) // 2 + (top - depth) * depth

    return upto(x) - upto(x - lanes)


def _read_stalls(events: list[tuple[int, int, int]]) -> dict[int, int]:
    """USER: the array's stalls per compute cycle from window moves ``(demand cycle, operand, fetch end)``: the
    larger of the two read buffers' waits, each wait counted twice (``read_buffer.service_reads``)."""
    by_cycle: dict[int, tuple[list[int], list[int]]] = {}
    for cycle, operand, done in events:
        by_cycle.setdefault(cycle, ([], []))[operand].append(done)
    stalled, stalls = 0, {}
    for cycle in sorted(by_cycle):
        now = cycle + stalled
        longest = 0
        for fetches in by_cycle[cycle]:
            offset = 1
            for done in fetches:
                wait = done - (now + offset)
                offset += 2 * wait if wait > 0 else wait
            longest = max(longest, offset - 1)
        if longest > 0:
            stalls[cycle] = longest
            stalled += longest
    return stalls


def _blocks(dataflow: Dataflow, m: int, n: int, k: int, t: int, rows: int, cols: int, row_folds: int,
            col_folds: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The ifmap's and the filter's demand as blocks ``(D distinct words, passes)`` (module docstring table)."""
    if dataflow is Dataflow.WEIGHT_STATIONARY:
        return [(m * k, col_folds)], [(k * n, 1)]
    if dataflow is Dataflow.INPUT_STATIONARY:
        return [(m * k, 1)], [(k * n, col_folds)]
    return [(m * k, col_folds)], [(t * min(cols, n - j * cols), row_folds) for j in range(col_folds)]


def _calc_reads(blocks: list[tuple[int, int]], words: int, first_demand: int, *, distinct: float | None = None,
                every_word: bool = False) -> tuple[int, int]:
    """CALC: DRAM reads of one operand's blocks and the cycle its DRAM trace starts (module docstring)."""
    per_set = words // _SETS
    reset = _ACTIVE_SETS * per_set
    if distinct is not None:  # a convolution's ifmap: only its distinct words are known
        distinct = round(distinct)
        if distinct < reset:
            reads = distinct
        elif every_word:
            reads = sum(d * passes for d, passes in blocks)
        else:
            reads = sum(_block_misses(0, distinct, passes, reset)[0] for _d, passes in blocks)
    else:
        reads, held = 0, 0
        for d, passes in blocks:
            misses, held = _block_misses(held, d, passes, reset)
            reads += misses
    if reads >= reset:
        start = first_demand - math.ceil(reset / _CALC_READ_WORDS_PER_CYCLE)
    else:
        start = -math.ceil(-(-reads // per_set) * per_set / _CALC_READ_WORDS_PER_CYCLE) if per_set else 0
    return reads, start


def _block_misses(held: int, d: int, passes: int, reset: int) -> tuple[int, int]:
    """Misses of ``passes`` passes over ``d`` distinct words with ``held`` words in since the last reset, and the
    words in after it."""
    if d >= reset:
        return passes * d, (held + passes * d) % reset
    if held + d < reset:
        return d, held + d
    after = held + d - reset
    if passes == 1:
        return d, after
    return d + (d - after), d


class _OfmapDemand:
    """Where the array's output words fall in time: SCALE-Sim's ofmap demand, fold by fold (column fold outer).

    In a fold, output ``(a, j)`` (``j`` the array column, ``a`` the stream position; os: the array row, the tile
    flipped so used rows come last) is written at the fold's cycle ``base + a + j``.
    """

    def __init__(self, dataflow: Dataflow, rows: int, cols: int, sr: int, sc: int, t: int, length: int,
                 stalls: dict[int, int] | None = None):
        """``stalls[c]``: cycles the array stalls after compute cycle ``c`` (the read buffers' waits)."""
        row_folds, col_folds = -(-sr // rows), -(-sc // cols)
        fold_cols = np.repeat(np.minimum(cols, sc - cols * np.arange(col_folds)), row_folds)
        self.length = length
        if dataflow is Dataflow.OUTPUT_STATIONARY:
            heights = np.tile(np.minimum(rows, sr - rows * np.arange(row_folds)), col_folds)
            self.first = (t - 1) + (rows - heights)  # the flipped tile's first used row
        else:
            heights = np.full(row_folds * col_folds, t)
            self.first = np.full(row_folds * col_folds, 2 * rows - 1)
        self.cols, self.heights = fold_cols, heights
        self.before = np.concatenate(([0], np.cumsum(fold_cols * heights)))  # words before each fold
        self.total = int(self.before[-1])
        stalls = stalls or {}
        self.stall_at = np.array(sorted(stalls), dtype=np.int64)
        self.stall_sum = np.cumsum([stalls[c] for c in sorted(stalls)], dtype=np.int64)

    def _delay(self, compute_cycle: int) -> int:
        """Stall cycles before compute cycle ``compute_cycle``."""
        i = int(np.searchsorted(self.stall_at, compute_cycle))
        return int(self.stall_sum[i - 1]) if i else 0

    def _in_fold(self, f: int, cycle: int) -> int:
        """Words fold ``f`` writes at its cycles ``0 .. cycle``."""
        return _staircase(cycle - int(self.first[f]) + 1, int(self.cols[f]), int(self.heights[f]))

    def written_before(self, cycle: int) -> int:
        """Words written before ``cycle`` (stalls included)."""
        lo, hi = 0, cycle  # the first compute cycle that falls at or after `cycle`
        while lo < hi:
            mid = (lo + hi) // 2
            if mid + self._delay(mid) >= cycle:
                hi = mid
            else:
                lo = mid + 1
        return self._written_before(lo)

    def _written_before(self, cycle: int) -> int:
        """Words written before compute cycle ``cycle``."""
        f = min(cycle // self.length, len(self.cols))
        if f == len(self.cols):
            return self.total
        return int(self.before[f]) + self._in_fold(f, cycle - f * self.length - 1)

    def cycle_of(self, word: int) -> int:
        """The cycle the ``word``-th output (1-based) is written (stalls included)."""
        compute = self._compute_cycle_of(word)
        return compute + self._delay(compute)

    def _compute_cycle_of(self, word: int) -> int:
        """The compute cycle the ``word``-th output (1-based) is written."""
        f = int(np.searchsorted(self.before, word) - 1)
        need = word - int(self.before[f])
        lo, hi = 0, self.length - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self._in_fold(f, mid) >= need:
                hi = mid
            else:
                lo = mid + 1
        return f * self.length + lo


def _write_buffer(demand: _OfmapDemand, words: int, line: int, last_cycle: int, *,
                  stall_when_full: bool = False) -> tuple[int, int, int]:
    """DRAM writes (words, short lines' empty slots included), the cycle of the last write and the cycles the array
    waited for a full buffer (only counted with ``stall_when_full``; CALC's drains always keep up)."""
    active = math.ceil(words * _ACTIVE_FRACTION)
    batch = max(1, -(-(words - active) // line))  # lines per drain (a one-word buffer: SCALE-Sim drains none)
    total = demand.total
    free, stored, open_words = words, 0, 0  # free slots as the buffer counts them; words in; words of the open line
    lines, short, drained = 0, {}, 0  # closed lines, their short ones {index: words}, lines drained
    writes, drain_end, shift = 0, -1, 0  # shift: cycles the array has waited so far

    def take() -> tuple[int, int]:
        """Drain the next batch: (lines, DRAM writes counted)."""
        nonlocal drained
        taken = min(batch, lines - drained)
        last = drained + taken - 1
        drained += taken
        return taken, taken * line - (line - short.get(last, line))

    while True:
        trigger = stored + free - active + 1  # the word that leaves fewer than `active` free slots
        if trigger > total:
            break
        cycle = demand.cycle_of(trigger) + shift
        if cycle < drain_end:  # a drain is running: the first word at or after its end triggers the next
            after = demand.written_before(drain_end - shift) + 1
            full = stored + free  # the word that takes the last free slot
            if stall_when_full and full < after and full <= total:
                shift += drain_end - (demand.cycle_of(full) + shift)  # it waits for the drain to end
                after = full + 1
            trigger = max(trigger, after)
            if trigger > total:
                break
            cycle = demand.cycle_of(trigger) + shift
        free -= trigger - stored
        full_lines, open_words = divmod(open_words + trigger - stored, line)
        lines += full_lines
        stored = trigger
        if open_words:
            short[lines] = open_words
            lines, open_words = lines + 1, 0
        taken, count = take()
        writes += count
        free += count
        drain_end = cycle + taken - 1
    full_lines, open_words = divmod(open_words + total - stored, line)
    lines += full_lines
    if open_words:
        short[lines] = open_words
        lines += 1
    left = lines - drained
    stop = drain_end
    while drained < lines:
        writes += take()[1]
    if left:
        stop = max(stop, last_cycle + shift + left - 1)
    return writes, stop, shift
