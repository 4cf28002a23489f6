"""SAT's N:M sparse systolic engine: a cycle-stepped reference and the closed form that agrees with it exactly.

SAT (Fang et al., IEEE TCAD 2023) runs dense and N:M sparse GEMMs on one array. A PE holds a kept weight and its
``log2(M)``-bit index within its group; the activation side delivers a *window* of the ``M`` activations the group
spans, and an ``M:1`` multiplexer in the PE picks the one its weight needs. The array is otherwise the systolic
array of :mod:`hwsim.sim.stepped`, run weight stationary (``ws``) or output stationary (``os``); input stationary
is not a SAT mode. It is one machine in code too: :func:`simulate_sparse_gemm` only prepares the operands (windows,
selects, trace tags) and steps the kernels :func:`~hwsim.sim.stepped.simulate_gemm` steps, whose dense operands
are windows of one.

To keep the GEMM's ``M, N`` apart from N:M's, the sparsity is written ``n_keep:m_group``.

Compressed layout
-----------------
``O[M, N] = A[M, K] @ B[K, N]`` with ``B`` N:M sparse along ``K``: groups of ``m_group`` consecutive ``k``, group
``g`` spanning ``k = g*m_group .. g*m_group + m_group - 1``. ``K = q*m_group + p`` (``0 <= p < m_group``) gives ``q``
full groups and, when ``p > 0``, one partial group of ``p`` weights. A full group keeps ``n_keep`` weights, the
partial group ``min(n_keep, p)`` (a group can keep no more weights than it has), so the compressed ``B`` has

    ``K' = compressed_rows(K, n_keep, m_group) = q*n_keep + min(n_keep, p)``

rows: ``K' <= K``, equal in dense mode (``n_keep == m_group``) and when ``K <= n_keep``, smaller as soon as a full
group is pruned. Row ``r = g*n_keep + s`` holds, for every output column ``n``, ``values[r, n]`` and ``indices[r,
n]``: the value and the in-group index of the ``s``-th kept weight of group ``g``, i.e. of ``B[g*m_group +
indices[r, n], n]`` (any order within a group). The kept indices of one group and column must
differ. A slot whose position ``g*m_group + index`` is ``>= K`` (past the end of the partial group) is *empty*: its
value must be 0. A kept weight whose value happens to be 0 is not empty: it is a real weight that was kept.

**Dense mode** is ``n_keep == m_group``: every weight is kept in place (``indices[r, n] == r % m_group``, checked),
the multiplexer has nothing to choose, and the engine streams windows of one activation with select 0 -- exactly
the operands :func:`~hwsim.sim.stepped.simulate_gemm` gives the same kernels: it *is* the dense machine on ``K' =
K``, and its cycles, product, trace and counts are exactly :func:`~hwsim.sim.stepped.simulate_gemm`'s. Everything
below holds for it with ``window = 1`` and groups of one (``n_keep = m_group = 1``). In sparse mode (``n_keep <
m_group``) ``window = m_group``.

Mapping (``R x C`` PEs, folds column fold outer, each ``L = 2R + C + T - 2`` cycles on a clean array)
-----------------------------------------------------------------------------------------------------
* **ws**: exactly the dense WS machine with ``Sr = K'`` (compressed rows), ``Sc = N``, ``T = M``. Cycles ``0..R-1``
  shift the tile in, bottom row first; PE ``(i, j)`` then holds ``(values, indices)[r0+i, c0+j]``. Array row ``i``
  is fed at cycle ``R+t+i`` the window ``A[t, g*m_group : g*m_group + m_group]`` of the group ``g = (r0+i) //
  n_keep`` of its compressed row (``k >= K`` read as 0); windows move right one PE per cycle, each PE multiplies its
  weight by ``window[index]`` and adds it to the partial sum from above, and column ``j`` emits ``O[t, c0+j]`` at
  cycle ``2R-1+t+j``. Row folds' partial sums are added outside the array.
* **os**: the dense OS machine with ``Sr = M``, ``Sc = N`` and ``T = K'`` steps. Column ``j`` is fed at cycle
  ``t+j`` the compressed weight ``(values, indices)[t, c0+j]`` (moving down), array row ``i`` at cycle ``t+i`` the
  window of group ``t // n_keep`` of ``A[r0+i, :]`` (moving right); PE ``(i, j)`` accumulates ``value *
  window[index]`` in place, and column ``j`` drains bottom row first from cycle ``T-1+R+j``.

The sparse GEMM is therefore the dense one on ``(M, N, K')``: same folds, cycles, filter and ofmap traffic, with
``K'`` in place of ``K``. Only the activation side differs.

Demand trace and SRAM counts
----------------------------
The trace is a :class:`~hwsim.sim.stepped.DemandTrace`, one row per cycle, one column per edge lane, entries flat
indices or :data:`~hwsim.sim.stepped.BUBBLE`:

* ifmap lanes: the flat index of the window's **first** element, ``A[m, g*m_group] -> m*K + g*m_group``: the
  window's elements are read together.
* filter lanes: the flat index of the kept dense weight, ``B[k, n] -> k*N + n``, or ``BUBBLE`` for an empty slot.
  An empty slot is still loaded (its value, 0, occupies the PE or the lane) but names no element of ``B``.
* ofmap lanes: as in the dense model, ``O[m, n] -> m*N + n``.

SRAM counts, the same rules in :func:`simulate_sparse_gemm` (read off its trace) and the closed form
(:func:`hwsim.sim.compute.gemm_compute` of an N:M :func:`hwsim.mapping.lay`):

* **ifmap reads**: every ifmap entry ``e`` reads the window's in-range elements, ``min(window, K - e % K)``: a
  window of the partial group reads ``p`` elements, the others ``window``. A group's window is read once per
  compressed row (WS: per array row holding one of its slots; OS: per step), so a sparse GEMM reads
  ``M * ceil(N/C) * E`` elements with ``E = q*n_keep*m_group + min(n_keep, p)*p`` (``E = K`` in dense mode) --
  ``n_keep`` times the dense figure for a whole number of groups, the price of feeding a multiplexer per PE.
* **filter reads**: every compressed slot loaded, **empty slots included** -- the hardware reads the compressed
  weight memory slot by slot and cannot skip an empty one: ``K' N`` (ws), ``K' N ceil(M/R)`` (os). They are
  counted from the engine's record of loads (:attr:`SparseSteppedResult.filter_loads`), a superset of the
  trace's non-bubble filter entries.
* **ofmap writes**: non-bubble ofmap entries, ``M N ceil(K'/R)`` (ws) or ``M N`` (os), as in the dense model.

Worked example
--------------
WS, 2:4, ``R = C = 2``, ``M = 2``, ``K = 4`` (one group), ``N = 2``: column 0 keeps ``B[1, 0]`` and ``B[3, 0]``,
column 1 keeps ``B[0, 1]`` and ``B[2, 1]``, so ``K' = 2``, ``indices = [[1, 0], [3, 2]]``. One fold of ``L = 2*2 + 2
+ 2 - 2 = 6`` cycles (dense: ``Sr = 4``, two row folds, 12 cycles). Cycles 0-1 load row 1 (``B[3, 0] -> 6``,
``B[2, 1] -> 5``) then row 0 (``B[1, 0] -> 2``, ``B[0, 1] -> 1``). Both compressed rows belong to group 0, so row
``i`` is fed the window ``A[t, 0:4]`` (``-> 4t``) at cycle ``2+t+i``; PE ``(0, 0)`` picks element 1 of it, PE
``(1, 0)`` element 3. ``O[t, j]`` leaves column ``j`` at cycle ``3+t+j``::

    cycle   ifmap (R lanes)   filter (C lanes)   ofmap (C lanes)
      0       -1  -1            6   5             -1  -1
      1       -1  -1            2   1             -1  -1
      2        0  -1           -1  -1             -1  -1
      3        4   0           -1  -1              0  -1
      4       -1   4           -1  -1              2   1
      5       -1  -1           -1  -1             -1   3

ifmap reads ``4 windows x 4 = 16`` (``E = 1*2*4 = 8`` per row of ``A``), filter reads 4, ofmap writes 4.

>>> import numpy as np
>>> from hwsim.types import Dataflow
>>> a = np.arange(8, dtype=np.int8).reshape(2, 4)
>>> values = np.array([[10, 20], [30, 40]], dtype=np.int8)
>>> indices = np.array([[1, 0], [3, 2]], dtype=np.uint8)
>>> r = simulate_sparse_gemm(a, values, indices, k=4, n_keep=2, m_group=4, rows=2, cols=2,
...                          dataflow=Dataflow.WEIGHT_STATIONARY)
>>> r.cycles, r.trace.ifmap[:, 1].tolist(), r.product.tolist()
(6, [-1, -1, -1, 0, 4, -1], [[100, 80], [260, 320]])
>>> r.ifmap_reads, r.filter_reads, r.ofmap_writes
(16, 4, 4)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwsim.mapping import fold_mapping
from hwsim.mapping.sparse import SparseArgumentError, check_sparsity as _sparsity, compressed_rows, whole as _whole
from hwsim.sim.stepped import BUBBLE, SteppedResult, step_output_stationary, step_stationary
from hwsim.types import Dataflow
from hwsim.workload.lowering import GemmDims

__all__ = [
    "SparseArgumentError",
    "SparseSteppedResult",
    "compressed_rows",
    "simulate_sparse_gemm",
]


@dataclass(frozen=True)
class SparseSteppedResult(SteppedResult):
    """What the stepped sparse array computed, when it touched which operand, and its SRAM counts.

    Attributes
    ----------
    product, trace
        As in :class:`~hwsim.sim.stepped.SteppedResult`; the trace's conventions are the module docstring's.
    filter_loads
        ``(cycles, filter lanes)`` bool: the lane loads a compressed slot that cycle, empty slots included (where
        the trace holds :data:`~hwsim.sim.stepped.BUBBLE`).
    k
        The GEMM's ``K`` (the ifmap trace's row stride).
    window
        Activations per ifmap window: ``m_group``, or 1 in dense mode.
    """

    filter_loads: np.ndarray
    k: int
    window: int

    @property
    def ifmap_reads(self) -> int:
        """In-range activations read: ``min(window, K - e % K)`` per ifmap entry ``e``."""
        starts = self.trace.ifmap[self.trace.ifmap != BUBBLE] % self.k
        return int(np.minimum(self.window, self.k - starts).sum())

    @property
    def filter_reads(self) -> int:
        """Compressed slots loaded, empty ones included."""
        return int(np.count_nonzero(self.filter_loads))

    @property
    def ofmap_writes(self) -> int:
        """Outputs (partial or final) written."""
        return int(np.count_nonzero(self.trace.ofmap != BUBBLE))


# ------------------------------------------------------------------------------------------------------------------
# Public functions
# ------------------------------------------------------------------------------------------------------------------


def simulate_sparse_gemm(a: np.ndarray, values: np.ndarray, indices: np.ndarray, *, k: int, n_keep: int,
                         m_group: int, rows: int, cols: int, dataflow: Dataflow) -> SparseSteppedResult:
    """Step SAT's ``rows x cols`` array through ``a @ B`` cycle by cycle, ``B`` given N:M compressed.

    Parameters
    ----------
    a
        ``(M, K)`` int8, the dense ifmap operand.
    values, indices
        ``(K', N)`` int8 and uint8: the compressed filter operand in the module docstring's layout, ``K' =
        compressed_rows(k, n_keep, m_group)``.
    k
        ``K``, which must equal ``a.shape[1]`` (it fixes the group layout ``K'`` is checked against).
    n_keep, m_group
        The sparsity ``n_keep:m_group``, ``1 <= n_keep <= m_group <= 256``; equal means dense mode.
    rows, cols
        PE array size, each >= 1.
    dataflow
        ``ws`` or ``os`` (:class:`~hwsim.types.Dataflow` or its value); ``is`` is not a SAT mode.

    Returns
    -------
    SparseSteppedResult
        The ``(M, N)`` int32 product ``a @ decompressed(B)``, the demand trace and the SRAM counts.

    Raises
    ------
    SparseArgumentError
        One line naming the bad argument: wrong type, dtype or shape, ``k`` not ``a``'s ``K``, an index ``>=
        m_group``, a repeated index within a group, a non-zero empty slot, dense-mode indices not in place, an
        array size below 1, or a dataflow other than ``ws``/``os``. A :class:`ValueError` as well.
    """
    flow = _dataflow(dataflow)
    n_keep, m_group = _sparsity(n_keep, m_group)
    rows, cols = _whole("rows", rows), _whole("cols", cols)
    k, pos = _check_operands(a, values, indices, k, n_keep, m_group)
    n_eff, window = (1, 1) if n_keep == m_group else (n_keep, m_group)
    m, n = a.shape[0], values.shape[1]
    kc = values.shape[0]

    # The window each compressed row is fed: columns start(r) .. start(r) + window - 1 of A, zero past K.
    start = np.arange(kc, dtype=np.int64) // n_eff * window
    a_pad = np.zeros((m, -(-k // window) * window), dtype=np.int32)
    a_pad[:, :k] = a
    windows = a_pad[:, start[:, None] + np.arange(window)]  # (M, K', window)
    window_idx = np.arange(m, dtype=np.int64)[:, None] * k + start[None, :]  # (M, K') flat index of element 0
    # The multiplexer select; a dense-mode window holds the one activation its weight needs.
    select = indices.astype(np.int32) if window > 1 else np.zeros(values.shape, dtype=np.int32)
    slot_idx = np.where(pos < k, pos * n + np.arange(n, dtype=np.int64), BUBBLE)  # (K', N) filter trace entries
    o_idx = np.arange(m * n, dtype=np.int64).reshape(m, n)

    fold = fold_mapping(GemmDims(m=m, n=n, k=kc), rows, cols, flow)  # the dense machine on the K' compressed rows
    step = step_stationary if flow is Dataflow.WEIGHT_STATIONARY else step_output_stationary
    run = step(values, select, slot_idx, windows, window_idx, o_idx, fold)
    return SparseSteppedResult(product=run.product.reshape(m, n), trace=run.trace(), filter_loads=run.weight_loads,
                               k=k, window=window)


# ------------------------------------------------------------------------------------------------------------------
# Argument checks and layout arithmetic
# ------------------------------------------------------------------------------------------------------------------


def _dataflow(dataflow: object) -> Dataflow:
    try:
        flow = Dataflow(dataflow.lower() if isinstance(dataflow, str) else dataflow)
    except ValueError:
        raise SparseArgumentError("unknown dataflow: expected ws or os", field="dataflow", value=dataflow) from None
    if flow not in (Dataflow.WEIGHT_STATIONARY, Dataflow.OUTPUT_STATIONARY):
        raise SparseArgumentError("is not a SAT mode: use ws or os", field="dataflow", value=flow.value)
    return flow


def _check_operands(a: object, values: object, indices: object, k: object, n_keep: int, m_group: int,
                    ) -> tuple[int, np.ndarray]:
    """Validate the operands; return ``K`` and each slot's dense position ``g*m_group + index`` ``(K', N)``."""
    for name, x, dtype, dims in (("a", a, np.int8, "(M, K)"), ("values", values, np.int8, "(K', N)"),
                                 ("indices", indices, np.uint8, "(K', N)")):
        if not isinstance(x, np.ndarray):
            raise SparseArgumentError(f"must be a numpy {np.dtype(dtype)} array {dims}", field=name,
                                      value=type(x).__name__)
        if x.dtype != dtype:
            raise SparseArgumentError(f"must have dtype {np.dtype(dtype)}", field=name, value=str(x.dtype))
        if x.ndim != 2 or 0 in x.shape:
            raise SparseArgumentError(f"must be 2-D {dims} with no empty dimension", field=name, value=x.shape)
    k = _whole("k", k)
    if a.shape[1] != k:
        raise SparseArgumentError(f"must equal a's K = {a.shape[1]}", field="k", value=k)
    kc = compressed_rows(k, n_keep, m_group)
    if values.shape[0] != kc:
        raise SparseArgumentError(f"must have K' = compressed_rows({k}, {n_keep}, {m_group}) = {kc} rows",
                                  field="values.shape", value=values.shape)
    if indices.shape != values.shape:
        raise SparseArgumentError(f"must equal values.shape = {values.shape}", field="indices.shape",
                                  value=indices.shape)
    if int(indices.max()) >= m_group:
        r, c = np.argwhere(indices >= m_group)[0]
        raise SparseArgumentError(f"must be < m_group = {m_group}", field=f"indices[{r}, {c}]",
                                  value=int(indices[r, c]))
    row = np.arange(kc, dtype=np.int64)
    if n_keep == m_group:
        misplaced = indices != (row % m_group)[:, None]
        if misplaced.any():
            r, c = np.argwhere(misplaced)[0]
            raise SparseArgumentError(f"dense mode ({n_keep}:{m_group}) keeps every weight in place: must be "
                                      f"{r % m_group}", field=f"indices[{r}, {c}]", value=int(indices[r, c]))
    pos = (row // n_keep * m_group)[:, None] + indices.astype(np.int64)
    # Positions rise group by group, so a repeat within a group and column shows up as equal neighbours once
    # each column is sorted.
    order = np.argsort(pos, axis=0, kind="stable")
    sorted_pos = np.take_along_axis(pos, order, axis=0)
    repeated = sorted_pos[1:] == sorted_pos[:-1]
    if repeated.any():
        i, c = np.argwhere(repeated)[0]
        r = order[i + 1, c]
        raise SparseArgumentError("repeats an index already kept in its group and column",
                                  field=f"indices[{r}, {c}]", value=int(indices[r, c]))
    stray = (pos >= k) & (values != 0)
    if stray.any():
        r, c = np.argwhere(stray)[0]
        raise SparseArgumentError(f"is an empty slot (position {pos[r, c]} >= K = {k}) and must hold 0",
                                  field=f"values[{r}, {c}]", value=int(values[r, c]))
    return k, pos
