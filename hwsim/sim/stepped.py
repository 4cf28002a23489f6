"""Cycle-stepped reference model of a systolic array running one GEMM ``O[M, N] = A[M, K] @ B[K, N]``.

This is the model the RTL is checked against cycle for cycle, and the one the closed-form engine must agree with
exactly. It steps every register of the array once per cycle (NumPy, vectorised over the PEs within a cycle; a
Python loop runs over cycles only), does the real int8 x int8 -> int32 arithmetic in the PEs, and records, per
cycle, which operand element every edge lane carries: the :class:`DemandTrace`.

Mapping (SCALE-Sim's convention; ``R x C`` PEs)
-----------------------------------------------
=========  =========================  ==========================  ==========================
dataflow   stationary ``S``           streamed ``X``              output
=========  =========================  ==========================  ==========================
``ws``     ``B`` (``Sr=K x Sc=N``)    ``A`` (``T=M`` x ``Sr``)    ``O`` (``T x Sc``)
``is``     ``A^T`` (``K x M``)        ``B^T`` (``T=N`` x ``Sr``)  ``O^T`` (``T x Sc``)
``os``     (none)                     ``A`` rows, ``B`` columns   ``O`` (``Sr=M x Sc=N``), ``T=K``
=========  =========================  ==========================  ==========================

The ``Sr x Sc`` space is cut into ``ceil(Sr/R) x ceil(Sc/C)`` folds, run column fold outer, row fold inner, back
to back, each on a clean array and each ``L = 2R + C + T - 2`` cycles long. Weight- and input-stationary partial
sums of different row folds are added outside the array (the ofmap SRAM's job), so every such fold writes its
``T x cols_used`` outputs.

* WS / IS: cycles ``0..R-1`` shift the stationary tile in from the top, bottom row first; array row ``i`` then feeds
  ``X[t, r0+i]`` at cycle ``R+t+i``; values move right and partial sums down one PE per cycle; the bottom row
  emits output ``(t, c0+j)`` at cycle ``2R-1+t+j``. A tag (``t`` or -1) travels with every streamed value and
  every partial sum, and the ofmap trace is read off the tags that reach the bottom edge.
* OS: row ``i`` feeds ``A[r0+i, t]`` at cycle ``t+i``, column ``j`` feeds ``B[t, c0+j]`` at cycle ``t+j``; PE
  ``(i, j)`` accumulates in place. Column ``j`` then shifts its accumulators out of the bottom, bottom row first,
  from cycle ``T-1+R+j`` on (one cycle after its last MAC). Each accumulator carries the flat index of its output,
  set by its first real MAC, and the ofmap trace is read off those tags as they leave. (SCALE-Sim's OS timing,
  ``T+R+C-2`` cycles per fold, writes outputs before they are computed; it is deliberately not modelled here.)

Worked example
--------------
WS, ``R = C = 2``, ``M = 3``, ``K = 2``, ``N = 2``: one fold of ``L = 2*2 + 2 + 3 - 2 = 7`` cycles. Cycles 0-1
load ``B`` bottom row first (``B[1, :]`` = indices 2, 3, then ``B[0, :]`` = 0, 1). ``A[0, 0]`` enters row 0 at
cycle 2 and ``A[0, 1]`` enters row 1 at cycle 3; ``O[0, 0]`` leaves the bottom of column 0 at cycle
``2*2-1+0+0 = 3``, and ``O[2, 1]`` (``t = 2``, ``j = 1``) at cycle ``3+2+1 = 6 = L-1``. Entries are flat indices
(``A[m, k] -> m*K+k``, ``B[k, n] -> k*N+n``, ``O[m, n] -> m*N+n``), -1 a bubble::

    cycle   ifmap (R lanes)   filter (C lanes)   ofmap (C lanes)
      0       -1  -1            2   3             -1  -1
      1       -1  -1            0   1             -1  -1
      2        0  -1           -1  -1             -1  -1
      3        2   1           -1  -1              0  -1
      4        4   3           -1  -1              2   1
      5       -1   5           -1  -1              4   3
      6       -1  -1           -1  -1             -1   5

>>> import numpy as np
>>> from hwsim.types import Dataflow
>>> a = np.arange(6, dtype=np.int8).reshape(3, 2); b = np.arange(4, dtype=np.int8).reshape(2, 2)
>>> r = simulate_gemm(a, b, 2, 2, Dataflow.WEIGHT_STATIONARY)
>>> r.cycles, r.trace.ofmap[:, 1].tolist()
(7, [-1, -1, -1, -1, 1, 3, 5])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from hwsim.types import Dataflow

__all__ = ["BUBBLE", "DemandTrace", "SteppedResult", "simulate_gemm"]

BUBBLE = -1
"""Trace entry (and register tag) for a lane or PE that carries nothing in a cycle."""


@dataclass(frozen=True)
class DemandTrace:
    """Per-cycle operand demand at the array edges: one row per cycle, one column per edge lane.

    Entries are flat indices into the operand matrix (``A[m, k] -> m*K + k``, ``B[k, n] -> k*N + n``,
    ``O[m, n] -> m*N + n``), :data:`BUBBLE` where the lane carries nothing that cycle.

    Attributes
    ----------
    ifmap, filter
        ``(cycles, lanes)`` int64: SRAM reads of ``A`` and ``B``.
    ofmap
        ``(cycles, lanes)`` int64: SRAM writes of ``O``.
    """

    ifmap: np.ndarray
    filter: np.ndarray
    ofmap: np.ndarray

    def __post_init__(self) -> None:
        rows = {self.ifmap.shape[0], self.filter.shape[0], self.ofmap.shape[0]}
        if len(rows) != 1:
            raise ValueError(f"trace matrices disagree on the number of cycles: {sorted(rows)}")

    @property
    def cycles(self) -> int:
        """Number of cycles (rows), the same for all three matrices."""
        return int(self.ifmap.shape[0])


@dataclass(frozen=True)
class SteppedResult:
    """What the stepped array computed and when it touched which operand.

    Attributes
    ----------
    product
        ``(M, N)`` int32: ``A @ B`` as accumulated by the simulated PEs (int32 wrap-around).
    trace
        The edge demand, cycle by cycle.
    """

    product: np.ndarray
    trace: DemandTrace

    @property
    def cycles(self) -> int:
        """Total cycles of the GEMM, all folds."""
        return self.trace.cycles


def simulate_gemm(a: np.ndarray, b: np.ndarray, rows: int, cols: int, dataflow: Dataflow) -> SteppedResult:
    """Step an ``rows x cols`` systolic array through ``a @ b`` cycle by cycle.

    Parameters
    ----------
    a
        ``(M, K)`` int8, the ifmap operand.
    b
        ``(K, N)`` int8, the filter operand.
    rows, cols
        PE array size, each >= 1.
    dataflow
        :class:`~hwsim.types.Dataflow` (or its value, ``"ws"``, ``"os"``, ``"is"``). Row-stationary is not
        modelled here.

    Returns
    -------
    SteppedResult
        The product and the per-cycle demand trace.

    Raises
    ------
    ValueError
        One line naming the bad argument: non-ndarray or non-int8 operand, not 2-D, an empty dimension, inner
        dimensions that differ, ``rows``/``cols`` not a whole number >= 1, an unknown or row-stationary dataflow.
    """
    flow = _check(a, b, rows, cols, dataflow)
    if flow is Dataflow.OUTPUT_STATIONARY:
        return _output_stationary(a, b, rows, cols)
    m, k = a.shape
    n = b.shape[1]
    a_idx = np.arange(m * k, dtype=np.int64).reshape(m, k)
    b_idx = np.arange(k * n, dtype=np.int64).reshape(k, n)
    o_idx = np.arange(m * n, dtype=np.int64).reshape(m, n)
    if flow is Dataflow.WEIGHT_STATIONARY:
        product, stationary, streaming, ofmap = _stationary(b, b_idx, a, a_idx, o_idx, rows, cols, m * n)
        return SteppedResult(product.reshape(m, n), DemandTrace(ifmap=streaming, filter=stationary, ofmap=ofmap))
    # Input stationary: the same machine with A^T held and B^T streamed; O^T's index view maps (t=n, m) -> m*N+n.
    product, stationary, streaming, ofmap = _stationary(a.T, a_idx.T, b.T, b_idx.T, o_idx.T, rows, cols, m * n)
    return SteppedResult(product.reshape(m, n), DemandTrace(ifmap=stationary, filter=streaming, ofmap=ofmap))


# ------------------------------------------------------------------------------------------------------------------
# Argument checks
# ------------------------------------------------------------------------------------------------------------------


def _check(a: object, b: object, rows: object, cols: object, dataflow: object) -> Dataflow:
    for name, x, dims in (("a", a, "(M, K)"), ("b", b, "(K, N)")):
        if not isinstance(x, np.ndarray):
            raise ValueError(f"{name} must be a numpy int8 array {dims}, got {type(x).__name__}")
        if x.dtype != np.int8:
            raise ValueError(f"{name} must have dtype int8, got {x.dtype}")
        if x.ndim != 2:
            raise ValueError(f"{name} must be 2-D {dims}, got shape {x.shape}")
        if 0 in x.shape:
            raise ValueError(f"{name} must have no empty dimension, got shape {x.shape}")
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"inner dimensions differ: a is {a.shape} and b is {b.shape} (need a (M, K), b (K, N))")
    for name, v in (("rows", rows), ("cols", cols)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a whole number >= 1, got {v!r}")
    try:
        flow = Dataflow(dataflow.lower() if isinstance(dataflow, str) else dataflow)
    except ValueError:
        raise ValueError(f"unknown dataflow {dataflow!r}: expected ws, os or is") from None
    if flow is Dataflow.ROW_STATIONARY:
        raise ValueError(
            "dataflow 'rs' (row stationary) is not supported by the stepped systolic model; use ws, os or is")
    return flow


# ------------------------------------------------------------------------------------------------------------------
# Folds
# ------------------------------------------------------------------------------------------------------------------


def _folds(sr: int, sc: int, rows: int, cols: int) -> Iterator[tuple[int, int, int, int]]:
    """``(r0, rows_used, c0, cols_used)`` of each fold, column fold outer (SCALE-Sim's order)."""
    for c0 in range(0, sc, cols):
        for r0 in range(0, sr, rows):
            yield r0, min(rows, sr - r0), c0, min(cols, sc - c0)


def _fold_count(sr: int, sc: int, rows: int, cols: int) -> int:
    return -(-sr // rows) * -(-sc // cols)


def _edge_feed(values: np.ndarray, index: np.ndarray, length: int, lanes: int, used: int, start: int,
               ) -> tuple[np.ndarray, np.ndarray]:
    """Skewed edge schedule of one fold: lane ``i`` carries ``values[t, i]`` at cycle ``start + t + i``.

    ``values``/``index`` are ``(T, used)`` views of the operand (value, flat index). Returns ``feed`` of shape
    ``(length, 2, lanes)`` int32 -- per cycle the value row and the tag row (``t`` or :data:`BUBBLE`), exactly
    what the edge registers take -- and the SRAM read trace ``(length, lanes)`` int64. Built for the whole fold at
    once: this is the read schedule of the SRAM side, not PE state, so it needs no stepping.
    """
    t = np.arange(length)[:, None] - start - np.arange(lanes)[None, :]
    ok = (t >= 0) & (t < values.shape[0]) & (np.arange(lanes)[None, :] < used)
    tt, ii = np.nonzero(ok)
    ts = t[tt, ii]
    feed = np.zeros((length, 2, lanes), dtype=np.int32)
    feed[:, 1, :] = BUBBLE
    feed[tt, 0, ii] = values[ts, ii]
    feed[tt, 1, ii] = ts
    trace = np.full((length, lanes), BUBBLE, dtype=np.int64)
    trace[tt, ii] = index[ts, ii]
    return feed, trace


# ------------------------------------------------------------------------------------------------------------------
# Weight / input stationary
# ------------------------------------------------------------------------------------------------------------------


def _stationary(s: np.ndarray, s_idx: np.ndarray, x: np.ndarray, x_idx: np.ndarray, o_idx: np.ndarray,
                rows: int, cols: int, outputs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The WS/IS machine: ``S`` (``Sr x Sc``) held in the PEs, ``X`` (``T x Sr``) streamed from the left.

    Returns the flat int32 product (indexed like ``o_idx``'s entries), the stationary-operand trace ``(cycles,
    cols)``, the streamed-operand trace ``(cycles, rows)`` and the ofmap trace ``(cycles, cols)``.
    """
    sr, sc = s.shape
    t_len = x.shape[0]
    length = 2 * rows + cols + t_len - 2
    cycles = _fold_count(sr, sc, rows, cols) * length
    stationary_trace = np.full((cycles, cols), BUBBLE, dtype=np.int64)
    streaming_trace = np.empty((cycles, rows), dtype=np.int64)
    ofmap_trace = np.full((cycles, cols), BUBBLE, dtype=np.int64)
    product = np.zeros(outputs, dtype=np.int32)

    # PE registers, allocated once and cleared per fold. Streamed values and partial sums are double-buffered
    # (register next <- register now) and stacked as [value, tag] so one copy shifts both.
    w_val = np.zeros((rows, cols), dtype=np.int32)
    w_tag = np.zeros((rows, cols), dtype=np.int64)
    x_regs = [np.zeros((2, rows, cols), dtype=np.int32) for _ in range(2)]
    p_regs = [np.zeros((2, rows, cols), dtype=np.int32) for _ in range(2)]
    mac = np.zeros((rows, cols), dtype=np.int32)
    holds_weight = np.zeros((rows, cols), dtype=bool)
    # What enters the top of the psum chain every cycle: zero, untagged.
    top = np.array([[0], [BUBBLE]], dtype=np.int32)
    bottom = np.empty((length, 2, cols), dtype=np.int32)

    for fold, (r0, ru, c0, cu) in enumerate(_folds(sr, sc, rows, cols)):
        base = fold * length
        # Stationary tile, padded with bubbles; fed bottom row first so that row i ends up in array row i.
        tile_val = np.zeros((rows, cols), dtype=np.int32)
        tile_tag = np.full((rows, cols), BUBBLE, dtype=np.int64)
        tile_val[:ru, :cu] = s[r0:r0 + ru, c0:c0 + cu]
        tile_tag[:ru, :cu] = s_idx[r0:r0 + ru, c0:c0 + cu]
        load_val, load_tag = tile_val[::-1], tile_tag[::-1]
        stationary_trace[base:base + rows] = load_tag

        feed, streaming_trace[base:base + length] = _edge_feed(x[:, r0:r0 + ru], x_idx[:, r0:r0 + ru], length,
                                                               rows, ru, rows)

        # Phase 1, cycles 0..R-1: the stationary operand shifts down one row per cycle. Nothing streams yet.
        w_val.fill(0)
        w_tag.fill(BUBBLE)
        for c in range(rows):
            w_val[1:] = w_val[:-1]
            w_tag[1:] = w_tag[:-1]
            w_val[0] = load_val[c]
            w_tag[0] = load_tag[c]
        np.greater_equal(w_tag, 0, out=holds_weight)

        # Phase 2, cycles R..L-1: stream, multiply, pass partial sums down.
        for reg in (*x_regs, *p_regs):
            reg.fill(0)
            reg[1] = BUBBLE
        bottom[:rows, 0] = 0
        bottom[:rows, 1] = BUBBLE
        for c in range(rows, length):
            x_now, x_old = x_regs[c & 1], x_regs[(c + 1) & 1]
            p_now, p_old = p_regs[c & 1], p_regs[(c + 1) & 1]
            # Streamed values (and their tags) move one PE right; the left edge takes this cycle's feed.
            x_now[:, :, 1:] = x_old[:, :, :-1]
            x_now[:, :, 0] = feed[c]
            # Each PE adds W * x to the psum its upper neighbour registered last cycle (zero at the top).
            np.multiply(w_val, x_now[0], out=mac)
            p_now[:, 1:] = p_old[:, :-1]
            p_now[:, 0] = top
            p_now[0] += mac
            # A PE holding a weight stamps its psum with the tag of the value it multiplied; an empty PE (unused
            # row below the tile) forwards the psum and its tag untouched, which is why outputs still take R rows.
            np.copyto(p_now[1], x_now[1], where=holds_weight)
            bottom[c] = p_now[:, rows - 1]

        # Outputs: whatever reaches the bottom edge with a tag is output (t, c0+j), one SRAM write each.
        cyc, lane = np.nonzero(bottom[:, 1] >= 0)
        flat = o_idx[bottom[cyc, 1, lane], c0 + lane]
        ofmap_trace[base + cyc, lane] = flat
        # Row folds' partial sums meet here, outside the array; (t, column) is unique within a fold.
        product[flat] += bottom[cyc, 0, lane]
    return product, stationary_trace, streaming_trace, ofmap_trace


# ------------------------------------------------------------------------------------------------------------------
# Output stationary
# ------------------------------------------------------------------------------------------------------------------


def _output_stationary(a: np.ndarray, b: np.ndarray, rows: int, cols: int) -> SteppedResult:
    """The OS machine: outputs accumulate in place, ``A`` streams from the left, ``B`` from the top, then drain."""
    m, k = a.shape
    n = b.shape[1]
    length = 2 * rows + cols + k - 2
    drain_start = k - 1 + rows  # column j starts draining at drain_start + j, the cycle after its last MAC
    cycles = _fold_count(m, n, rows, cols) * length
    ifmap_trace = np.empty((cycles, rows), dtype=np.int64)
    filter_trace = np.empty((cycles, cols), dtype=np.int64)
    ofmap_trace = np.empty((cycles, cols), dtype=np.int64)
    product = np.zeros(m * n, dtype=np.int32)
    a_idx = np.arange(m * k, dtype=np.int64).reshape(m, k)
    b_idx = np.arange(k * n, dtype=np.int64).reshape(k, n)

    a_regs = [np.zeros((2, rows, cols), dtype=np.int32) for _ in range(2)]
    b_regs = [np.zeros((2, rows, cols), dtype=np.int32) for _ in range(2)]
    acc = np.zeros((rows, cols), dtype=np.int32)
    acc_tag = np.zeros((rows, cols), dtype=np.int64)
    mac = np.zeros((rows, cols), dtype=np.int32)
    fed = np.zeros((rows, cols), dtype=bool)
    fed_b = np.zeros((rows, cols), dtype=bool)
    emit_val = np.empty((length, cols), dtype=np.int32)
    emit_tag = np.empty((length, cols), dtype=np.int64)

    for fold, (r0, ru, c0, cu) in enumerate(_folds(m, n, rows, cols)):
        base = fold * length
        a_feed, ifmap_trace[base:base + length] = _edge_feed(a[r0:r0 + ru].T, a_idx[r0:r0 + ru].T, length, rows,
                                                             ru, 0)
        b_feed, filter_trace[base:base + length] = _edge_feed(b[:, c0:c0 + cu], b_idx[:, c0:c0 + cu], length,
                                                              cols, cu, 0)
        # The output each PE would own in this fold; a PE adopts it as its tag on its first real MAC.
        owner = (r0 + np.arange(rows))[:, None] * n + (c0 + np.arange(cols))[None, :]

        for reg in (*a_regs, *b_regs):
            reg.fill(0)
            reg[1] = BUBBLE
        acc.fill(0)
        acc_tag.fill(BUBBLE)
        emit_val.fill(0)
        emit_tag.fill(BUBBLE)
        for c in range(length):
            a_now, a_old = a_regs[c & 1], a_regs[(c + 1) & 1]
            b_now, b_old = b_regs[c & 1], b_regs[(c + 1) & 1]
            # A moves one PE right, B one PE down; the edges take this cycle's feeds.
            a_now[:, :, 1:] = a_old[:, :, :-1]
            a_now[:, :, 0] = a_feed[c]
            b_now[:, 1:, :] = b_old[:, :-1, :]
            b_now[:, 0, :] = b_feed[c]
            # Columns 0..d-1 are draining (column j from cycle drain_start + j on); the others keep multiplying.
            d = min(max(c - drain_start + 1, 0), cols)
            if d:
                drain_columns(acc, acc_tag, emit_val[c], emit_tag[c], d)
            if d < cols:
                live = np.s_[:, d:]
                np.multiply(a_now[0][live], b_now[0][live], out=mac[live])
                acc[live] += mac[live]
                # A MAC is real when both operands carry a tag; it marks the accumulator as holding its output.
                np.greater_equal(a_now[1][live], 0, out=fed[live])
                np.greater_equal(b_now[1][live], 0, out=fed_b[live])
                fed[live] &= fed_b[live]
                np.copyto(acc_tag[live], owner[live], where=fed[live])

        ofmap_trace[base:base + length] = emit_tag
        cyc, lane = np.nonzero(emit_tag >= 0)
        product[emit_tag[cyc, lane]] = emit_val[cyc, lane]
    return SteppedResult(product.reshape(m, n),
                         DemandTrace(ifmap=ifmap_trace, filter=filter_trace, ofmap=ofmap_trace))


def drain_columns(acc: np.ndarray, acc_tag: np.ndarray, emit_val: np.ndarray, emit_tag: np.ndarray, d: int) -> None:
    """Output-stationary drain of columns ``0..d-1``: each emits its bottom accumulator (and tag) into this cycle's
    ``emit_val``/``emit_tag`` row and shifts the rest of the column down one PE, a zero entering at the top."""
    emit_val[:d] = acc[-1, :d]
    emit_tag[:d] = acc_tag[-1, :d]
    acc[1:, :d] = acc[:-1, :d]
    acc[0, :d] = 0
    acc_tag[1:, :d] = acc_tag[:-1, :d]
    acc_tag[0, :d] = BUBBLE
