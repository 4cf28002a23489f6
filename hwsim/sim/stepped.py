"""Cycle-stepped reference model of a systolic array running one GEMM ``O[M, N] = A[M, K] @ B[K, N]``.

This is the model the RTL is checked against cycle for cycle, and the one the closed-form engine must agree with
exactly. It steps every register of the array once per cycle (NumPy, vectorised over the PEs within a cycle; a
Python loop runs over cycles only), does the real int8 x int8 -> int32 arithmetic in the PEs, and records, per
cycle, which operand element every edge lane carries: the :class:`DemandTrace`.

Dense is N:M with a window of one: the array is SAT's N:M machine (:mod:`hwsim.sim.sparse`), whose activation lanes
carry a *window* of activations and whose PEs each pick one element of it with a multiplexer select. Two stepping
kernels run it, :func:`step_stationary` (ws, and is on the transposed operands) and :func:`step_output_stationary`;
:func:`simulate_gemm` and :func:`~hwsim.sim.sparse.simulate_sparse_gemm` are thin front ends that prepare their
operands and call them. The dense front end streams windows of one value, so every select is trivially 0.

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
from typing import NamedTuple

import numpy as np

from hwsim.mapping import FoldMapping, fold_mapping
from hwsim.types import Dataflow
from hwsim.workload.lowering import GemmDims

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
    m, k = a.shape
    n = b.shape[1]
    a_idx = np.arange(m * k, dtype=np.int64).reshape(m, k)
    b_idx = np.arange(k * n, dtype=np.int64).reshape(k, n)
    o_idx = np.arange(m * n, dtype=np.int64).reshape(m, n)
    # Dense is N:M with a window of one: every streamed value is a window of one activation, so every PE's
    # multiplexer select is 0.
    fold = fold_mapping(GemmDims(m=m, n=n, k=k), rows, cols, flow)
    if flow is Dataflow.INPUT_STATIONARY:
        # The WS machine with A^T held and B^T streamed; O^T's index view maps (t=n, m) -> m*N+n.
        run = step_stationary(a.T, np.zeros(a.T.shape, dtype=np.int32), a_idx.T, b.T[:, :, None], b_idx.T,
                              o_idx.T, fold)
        return SteppedResult(run.product.reshape(m, n), run.trace(weights_are_ifmap=True))
    step = step_stationary if flow is Dataflow.WEIGHT_STATIONARY else step_output_stationary
    run = step(b, np.zeros(b.shape, dtype=np.int32), b_idx, a[:, :, None], a_idx, o_idx, fold)
    return SteppedResult(run.product.reshape(m, n), run.trace())


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


def _edge_feed(payload: np.ndarray, index: np.ndarray, length: int, lanes: int, start: int,
               ) -> tuple[np.ndarray, np.ndarray]:
    """Skewed edge schedule of one fold: lane ``i`` carries ``payload[t, i]`` at cycle ``start + t + i``.

    ``payload`` is ``(T, used, P)`` (``P`` words per lane per cycle: a window, or a weight and its select),
    ``index`` ``(T, used)`` the trace entries. Returns ``feed`` ``(length, P + 1, lanes)`` int32 -- per cycle the
    ``P`` payload rows and a tag row (``t`` or :data:`BUBBLE`), exactly what the edge registers take -- and the SRAM
    read trace ``(length, lanes)`` int64. Built for the whole fold at once: this is the read schedule of the SRAM
    side, not PE state, so it needs no stepping.
    """
    t_len, used, words = payload.shape
    feed = np.zeros((lanes, length, words + 1), dtype=np.int32)
    feed[:, :, words] = BUBBLE
    trace = np.full((lanes, length), BUBBLE, dtype=np.int64)
    fed = _diagonal(feed, start, used, t_len)
    fed[:, :, :words] = payload.transpose(1, 0, 2)
    fed[:, :, words] = np.arange(t_len)
    _diagonal(trace, start, used, t_len)[...] = index.T
    return feed.transpose(1, 2, 0), trace.T


def _diagonal(buf: np.ndarray, start: int, used: int, t_len: int) -> np.ndarray:
    """The writable ``(used, t_len, ...)`` view of lane-major ``buf`` (``(lanes, length, ...)``) whose ``[i, t]`` is
    ``buf[i, start + i + t]``: lane ``i``'s skewed schedule. In lane-major memory that diagonal is a constant
    stride (one lane plus one cycle), so one strided view writes every lane at once, with no index arrays."""
    # The view must stay inside buf's memory: as_strided does not check.
    if used > buf.shape[0] or start + used - 1 + t_len > buf.shape[1]:
        raise ValueError(f"edge schedule overruns its fold: {used} of {buf.shape[0]} lanes from cycle {start}, "
                         f"{t_len} steps, {buf.shape[1]} cycles")
    return np.lib.stride_tricks.as_strided(buf[0, start:], shape=(used, t_len, *buf.shape[2:]),
                                           strides=(buf.strides[0] + buf.strides[1], *buf.strides[1:]))


# ------------------------------------------------------------------------------------------------------------------
# The two stepping kernels, shared by the dense front end above and the N:M one in hwsim.sim.sparse
# ------------------------------------------------------------------------------------------------------------------


class KernelRun(NamedTuple):
    """What a stepping kernel returns.

    Attributes
    ----------
    product
        Flat int32 product, indexed by the entries of the kernel's ``o_idx``.
    weight_trace, window_trace, ofmap_trace
        ``(cycles, lanes)`` int64 traces of the weight side (held in WS/IS, fed from the top in OS), the window
        side (streamed from the left) and the outputs.
    weight_loads
        ``(cycles, weight lanes)`` bool: the lane loads a weight slot that cycle, empty slots included.
    """

    product: np.ndarray
    weight_trace: np.ndarray
    window_trace: np.ndarray
    ofmap_trace: np.ndarray
    weight_loads: np.ndarray

    def trace(self, weights_are_ifmap: bool = False) -> DemandTrace:
        """The demand trace: the weight side is the filter operand, or the ifmap one (input stationary)."""
        if weights_are_ifmap:
            return DemandTrace(ifmap=self.weight_trace, filter=self.window_trace, ofmap=self.ofmap_trace)
        return DemandTrace(ifmap=self.window_trace, filter=self.weight_trace, ofmap=self.ofmap_trace)


def step_stationary(weights: np.ndarray, select: np.ndarray, weight_tags: np.ndarray, windows: np.ndarray,
                    window_tags: np.ndarray, o_idx: np.ndarray, fold: FoldMapping) -> KernelRun:
    """The WS/IS machine: weights (``Sr x Sc``) held in the PEs, windows streamed from the left.

    Parameters
    ----------
    weights, select, weight_tags
        ``(Sr, Sc)``: each PE's weight, the window element its multiplexer picks (0 for a window of one), and the
        weight's trace entry (:data:`BUBBLE` for an empty slot, which still loads).
    windows, window_tags
        ``(T, Sr, W)`` and ``(T, Sr)``: the window array row ``r`` is fed at stream position ``t`` and its trace
        entry. ``W = 1`` is the dense machine.
    o_idx
        ``(T, Sc)`` int64: the flat output index of stream position ``t`` and column ``s``.
    fold
        The mapping's folds of this GEMM (:func:`hwsim.mapping.fold_mapping`): ``Sr x Sc`` on the array, ``T`` in time.
    """
    rows, cols = fold.rows, fold.cols
    t_len, _, window = windows.shape
    assert weights.shape == (fold.sr, fold.sc) and t_len == fold.t, "operands laid otherwise than the mapping says"
    length = fold.fold_cycles()
    cycles = fold.folds * length
    weight_trace = np.full((cycles, cols), BUBBLE, dtype=np.int64)
    weight_loads = np.zeros((cycles, cols), dtype=bool)
    window_trace = np.empty((cycles, rows), dtype=np.int64)
    ofmap_trace = np.full((cycles, cols), BUBBLE, dtype=np.int64)
    product = np.zeros(o_idx.size, dtype=np.int32)

    # PE registers, allocated once and cleared per fold. The held slot is (value, select, loaded); windows travel
    # as `window` value planes plus a tag plane, partial sums as [value, tag], both double-buffered (register next
    # <- register now) so one copy shifts values and tags together.
    w_val = np.zeros((rows, cols), dtype=np.int32)
    w_sel = np.zeros((rows, cols), dtype=np.int64)
    w_loaded = np.zeros((rows, cols), dtype=bool)
    x_regs = [np.zeros((window + 1, rows, cols), dtype=np.int32) for _ in range(2)]
    p_regs = [np.zeros((2, rows, cols), dtype=np.int32) for _ in range(2)]
    picked = np.zeros((rows, cols), dtype=np.int32)
    mac = np.zeros((rows, cols), dtype=np.int32)
    # PE (i, j)'s multiplexer reads plane w_sel[i, j] of the window register at (i, j): a flat index into it.
    pe_offset = np.arange(rows * cols, dtype=np.int64).reshape(rows, cols)
    mux = np.zeros((rows, cols), dtype=np.int64)
    # What enters the top of the psum chain every cycle: zero, untagged.
    top = np.array([[0], [BUBBLE]], dtype=np.int32)
    bottom = np.empty((length, 2, cols), dtype=np.int32)
    # The register views each cycle reads and writes, built once per buffer parity (register now, register old):
    # at a few microseconds per cycle, building them anew would cost as much as the arithmetic.
    cycle_views = [(x, x[:, :, 1:], xo[:, :, :-1], x[:, :, 0], x[0], x[window], p[:, 1:], po[:, :-1], p[:, 0], p[0],
                    p[1], p[:, rows - 1]) for x, xo, p, po in ((x_regs[0], x_regs[1], p_regs[0], p_regs[1]),
                                                               (x_regs[1], x_regs[0], p_regs[1], p_regs[0]))]

    for fold, (r0, ru, c0, cu) in enumerate(fold.tiles()):
        base = fold * length
        # The tile, padded with unloaded PEs; it loads bottom row first so that tile row i ends up in array row
        # i. Empty slots load too (as 0) but name no operand element.
        tile_val = np.zeros((rows, cols), dtype=np.int32)
        tile_sel = np.zeros((rows, cols), dtype=np.int64)
        tile_tag = np.full((rows, cols), BUBBLE, dtype=np.int64)
        tile_loaded = np.zeros((rows, cols), dtype=bool)
        tile_val[:ru, :cu] = weights[r0:r0 + ru, c0:c0 + cu]
        tile_sel[:ru, :cu] = select[r0:r0 + ru, c0:c0 + cu]
        tile_tag[:ru, :cu] = weight_tags[r0:r0 + ru, c0:c0 + cu]
        tile_loaded[:ru, :cu] = True
        weight_trace[base:base + rows] = tile_tag[::-1]
        weight_loads[base:base + rows] = tile_loaded[::-1]

        feed, window_trace[base:base + length] = _edge_feed(windows[:, r0:r0 + ru], window_tags[:, r0:r0 + ru],
                                                            length, rows, rows)

        # Phase 1, cycles 0..R-1: the tile shifts down one row per cycle. Nothing streams yet.
        w_val.fill(0)
        w_sel.fill(0)
        w_loaded.fill(False)
        for c in range(rows):
            w_val[1:] = w_val[:-1]
            w_sel[1:] = w_sel[:-1]
            w_loaded[1:] = w_loaded[:-1]
            w_val[0] = tile_val[rows - 1 - c]
            w_sel[0] = tile_sel[rows - 1 - c]
            w_loaded[0] = tile_loaded[rows - 1 - c]
        np.multiply(w_sel, rows * cols, out=mux)
        mux += pe_offset

        # Phase 2, cycles R..L-1: stream windows, select, multiply, pass partial sums down.
        for reg in (*x_regs, *p_regs):
            reg.fill(0)
            reg[-1] = BUBBLE
        bottom[:rows, 0] = 0
        bottom[:rows, 1] = BUBBLE
        for c in range(rows, length):
            x_now, x_right, x_left, x_edge, x_value, x_tag, p_down, p_up, p_top, p_value, p_tag, p_bottom = (
                cycle_views[c & 1])
            # Windows (and their tags) move one PE right; the left edge takes this cycle's feed.
            x_right[...] = x_left
            x_edge[...] = feed[c]
            # The M:1 multiplexer: each PE takes the window element its weight's select names. A window of one
            # leaves it nothing to choose, so the dense machine skips the gather.
            if window == 1:
                np.multiply(w_val, x_value, out=mac)
            else:
                np.multiply(w_val, np.take(x_now, mux, out=picked, mode="clip"), out=mac)
            # Each PE adds its product to the psum its upper neighbour registered last cycle (zero at the top).
            p_down[...] = p_up
            p_top[...] = top
            p_value += mac
            # A loaded PE (empty slots included: they still sit in the chain) stamps its psum with the stream tag;
            # an empty PE (unused row below the tile) forwards the psum and its tag untouched, which is why outputs
            # still take R rows.
            np.copyto(p_tag, x_tag, where=w_loaded)
            bottom[c] = p_bottom

        # Outputs: whatever reaches the bottom edge with a tag is output (t, c0+j), one SRAM write each.
        cyc, lane = np.nonzero(bottom[:, 1] >= 0)
        flat = o_idx[bottom[cyc, 1, lane], c0 + lane]
        ofmap_trace[base + cyc, lane] = flat
        # Row folds' partial sums meet here, outside the array; (t, column) is unique within a fold.
        product[flat] += bottom[cyc, 0, lane]
    return KernelRun(product, weight_trace, window_trace, ofmap_trace, weight_loads)


def step_output_stationary(weights: np.ndarray, select: np.ndarray, weight_tags: np.ndarray, windows: np.ndarray,
                           window_tags: np.ndarray, o_idx: np.ndarray, fold: FoldMapping) -> KernelRun:
    """The OS machine: outputs accumulate in place, windows stream from the left, weights from the top, then the
    columns drain.

    Parameters
    ----------
    weights, select, weight_tags
        ``(T, Sc)``: the weight column ``s`` is fed at step ``t``, its multiplexer select (0 for a window of one)
        and its trace entry (:data:`BUBBLE` for an empty slot, which still loads).
    windows, window_tags
        ``(Sr, T, W)`` and ``(Sr, T)``: the window array row ``r`` is fed at step ``t`` and its trace entry.
        ``W = 1`` is the dense machine.
    o_idx
        ``(Sr, Sc)`` int64: the flat output index each PE owns.
    fold
        The mapping's folds of this GEMM (:func:`hwsim.mapping.fold_mapping`): ``Sr x Sc`` on the array, ``T`` in time.
    """
    rows, cols = fold.rows, fold.cols
    t_len, sc = weights.shape
    sr, _, window = windows.shape
    assert (fold.sr, fold.sc, fold.t) == (sr, sc, t_len), "operands laid otherwise than the mapping says"
    length = fold.fold_cycles()
    drain_start = t_len - 1 + rows  # column j starts draining at drain_start + j, the cycle after its last MAC
    cycles = fold.folds * length
    window_trace = np.empty((cycles, rows), dtype=np.int64)
    weight_trace = np.empty((cycles, cols), dtype=np.int64)
    weight_loads = np.empty((cycles, cols), dtype=bool)
    ofmap_trace = np.empty((cycles, cols), dtype=np.int64)
    product = np.zeros(o_idx.size, dtype=np.int32)
    # What a weight lane carries: the weight, and its select unless a window of one makes it trivially 0.
    slots = weights[..., None] if window == 1 else np.stack([weights, select.astype(np.int32)], axis=-1)

    # Windows travel as `window` value planes + a tag plane; weights as their slot planes + a tag plane.
    # Double-buffered (register next <- register now).
    a_regs = [np.zeros((window + 1, rows, cols), dtype=np.int32) for _ in range(2)]
    b_regs = [np.zeros((slots.shape[2] + 1, rows, cols), dtype=np.int32) for _ in range(2)]
    acc = np.zeros((rows, cols), dtype=np.int32)
    acc_tag = np.zeros((rows, cols), dtype=np.int64)
    picked = np.zeros((rows, cols), dtype=np.int32)
    mac = np.zeros((rows, cols), dtype=np.int32)
    mux = np.zeros((rows, cols), dtype=np.int64)
    pe_offset = np.arange(rows * cols, dtype=np.int64).reshape(rows, cols)
    fed = np.zeros((rows, cols), dtype=bool)
    fed_b = np.zeros((rows, cols), dtype=bool)
    emit_val = np.empty((length, cols), dtype=np.int32)
    emit_tag = np.empty((length, cols), dtype=np.int64)
    owner = np.empty((rows, cols), dtype=np.int64)
    # The register views each cycle touches, built once per buffer parity and, for the MAC, per number d of
    # draining columns (the live ones are d..C-1): building them anew every cycle costs as much as the arithmetic.
    cycle_views = []
    for a_now, a_old, b_now, b_old in ((a_regs[0], a_regs[1], b_regs[0], b_regs[1]),
                                       (a_regs[1], a_regs[0], b_regs[1], b_regs[0])):
        b_select = b_now[1] if window > 1 else None  # a window of one carries no select plane
        shifts = (a_now, a_now[:, :, 1:], a_old[:, :, :-1], a_now[:, :, 0], b_select, b_now[:, 1:, :],
                  b_old[:, :-1, :], b_now[:, 0, :])
        # The activation a PE multiplies: its window register's only value, or what its multiplexer picked.
        activation = a_now[0] if window == 1 else picked
        live = [tuple(v[:, d:] for v in (activation, b_now[0], mac, acc, a_now[window], fed, b_now[-1], fed_b,
                                         acc_tag, owner)) for d in range(cols)]
        cycle_views.append((shifts, live))

    for fold, (r0, ru, c0, cu) in enumerate(fold.tiles()):
        base = fold * length
        a_feed, window_trace[base:base + length] = _edge_feed(windows[r0:r0 + ru].transpose(1, 0, 2),
                                                              window_tags[r0:r0 + ru].T, length, rows, 0)
        b_feed, weight_trace[base:base + length] = _edge_feed(slots[:, c0:c0 + cu], weight_tags[:, c0:c0 + cu],
                                                              length, cols, 0)
        # A weight lane loads a slot whenever it carries a tag, empty slots included.
        weight_loads[base:base + length] = b_feed[:, -1] >= 0
        # The output each PE owns in this fold; a PE adopts it as its tag on its first real MAC.
        owner.fill(BUBBLE)
        owner[:ru, :cu] = o_idx[r0:r0 + ru, c0:c0 + cu]

        for reg in (*a_regs, *b_regs):
            reg.fill(0)
            reg[-1] = BUBBLE
        acc.fill(0)
        acc_tag.fill(BUBBLE)
        emit_val.fill(0)
        emit_tag.fill(BUBBLE)
        for c in range(length):
            (a_now, a_right, a_left, a_edge, b_select, b_down, b_up, b_edge), live = cycle_views[c & 1]
            # Windows move one PE right, weights one PE down; the edges take this cycle's feeds.
            a_right[...] = a_left
            a_edge[...] = a_feed[c]
            b_down[...] = b_up
            b_edge[...] = b_feed[c]
            # Columns 0..d-1 are draining (column j from cycle drain_start + j on); the others keep multiplying.
            d = min(max(c - drain_start + 1, 0), cols)
            if d:
                drain_columns(acc, acc_tag, emit_val[c], emit_tag[c], d)
            if d < cols:
                activation, weight, mac_live, acc_live, a_tag, fed_live, b_tag, fed_b_live, acc_tag_live, owner_live = (
                    live[d])
                if window > 1:
                    # The M:1 multiplexer: each PE takes the element of its window that the passing weight names
                    # (a window of one leaves it nothing to choose).
                    np.multiply(b_select, rows * cols, out=mux)
                    mux += pe_offset
                    np.take(a_now, mux, out=picked, mode="clip")
                np.multiply(activation, weight, out=mac_live)
                acc_live += mac_live
                # A MAC is real when both operands carry a tag (an empty slot's does); it marks the accumulator
                # as holding its output.
                np.greater_equal(a_tag, 0, out=fed_live)
                np.greater_equal(b_tag, 0, out=fed_b_live)
                fed_live &= fed_b_live
                np.copyto(acc_tag_live, owner_live, where=fed_live)

        ofmap_trace[base:base + length] = emit_tag
        cyc, lane = np.nonzero(emit_tag >= 0)
        product[emit_tag[cyc, lane]] = emit_val[cyc, lane]
    return KernelRun(product, weight_trace, window_trace, ofmap_trace, weight_loads)


def drain_columns(acc: np.ndarray, acc_tag: np.ndarray, emit_val: np.ndarray, emit_tag: np.ndarray, d: int) -> None:
    """Output-stationary drain of columns ``0..d-1``: each emits its bottom accumulator (and tag) into this cycle's
    ``emit_val``/``emit_tag`` row and shifts the rest of the column down one PE, a zero entering at the top."""
    emit_val[:d] = acc[-1, :d]
    emit_tag[:d] = acc_tag[-1, :d]
    acc[1:, :d] = acc[:-1, :d]
    acc[0, :d] = 0
    acc_tag[1:, :d] = acc_tag[:-1, :d]
    acc_tag[0, :d] = BUBBLE
