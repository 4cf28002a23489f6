"""Properties of SAT's N:M sparse systolic engine over random GEMMs, sparsities, array sizes and dataflows.

The stepped reference (``simulate_sparse_gemm``) and the closed form (``sparse_gemm_compute``) must agree exactly;
every other expectation is computed from the mapping's definition (module docstring of ``hwsim.sim.sparse``) or from
the dense models, never from the engine's internals. The sparse operand is pruned here by a small helper of the
test's own, with random kept positions (so kept slots come in any order within a group, and slots of a partial
group may point past ``K``: empty).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hwsim.sim.compute import gemm_compute
from hwsim.sim.sparse import SparseSteppedResult, compressed_rows, simulate_sparse_gemm, sparse_gemm_compute
from hwsim.sim.stepped import BUBBLE, simulate_gemm
from hwsim.types import Dataflow
from hwsim.workload.lowering import GemmDims

WS, OS = Dataflow.WEIGHT_STATIONARY, Dataflow.OUTPUT_STATIONARY
INT8 = st.integers(-128, 127)  # hypothesis favours the bounds, so -128 and 127 come up often


def prune(b: np.ndarray, n_keep: int, m_group: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compress ``b`` ``n_keep:m_group`` along K with random kept positions: ``(values, indices, decompressed)``.

    Dense mode keeps every weight in place. Otherwise each group and column keeps ``n_keep`` distinct in-group
    positions in random order (the partial group ``min(n_keep, p)``), any of which may lie past ``K``.
    """
    k, n = b.shape
    q, p = divmod(k, m_group)
    kc = q * n_keep + min(n_keep, p)
    if n_keep == m_group:
        return b.copy(), np.repeat((np.arange(k) % m_group)[:, None], n, axis=1).astype(np.uint8), b.copy()
    groups = -(-k // m_group)
    rng = np.random.default_rng(seed)
    chosen = np.argsort(rng.random((groups, n, m_group)), axis=-1)[..., :n_keep]  # (G, N, n_keep)
    indices = chosen.transpose(0, 2, 1).reshape(groups * n_keep, n)[:kc]
    pos = (np.arange(kc) // n_keep * m_group)[:, None] + indices
    col = np.broadcast_to(np.arange(n), pos.shape)
    keep = pos < k
    values = np.zeros((kc, n), dtype=np.int8)
    values[keep] = b[pos[keep], col[keep]]
    dense = np.zeros_like(b)
    dense[pos[keep], col[keep]] = b[pos[keep], col[keep]]
    return values, indices.astype(np.uint8), dense


@dataclass(frozen=True)
class Case:
    a: np.ndarray
    values: np.ndarray
    indices: np.ndarray
    b: np.ndarray  # the dense operand before pruning
    b_sparse: np.ndarray  # the decompressed operand
    n_keep: int
    m_group: int
    rows: int
    cols: int
    flow: Dataflow

    @property
    def mkn(self) -> tuple[int, int, int]:
        return self.a.shape[0], self.a.shape[1], self.b.shape[1]

    @property
    def kc(self) -> int:
        return self.values.shape[0]

    @property
    def dense(self) -> bool:
        return self.n_keep == self.m_group

    @property
    def window(self) -> int:
        return 1 if self.dense else self.m_group

    def start(self, r: int) -> int:
        """First ``k`` of the window compressed row ``r`` is fed."""
        return r // self.n_keep * self.m_group if not self.dense else r

    def slot(self, r: int, c: int) -> int:
        """Trace entry of slot ``(r, c)``: ``k*N + n`` of its dense weight, or BUBBLE when empty."""
        m, k, n = self.mkn
        pos = r // self.n_keep * self.m_group + int(self.indices[r, c])
        return pos * n + c if pos < k else BUBBLE

    @property
    def space(self) -> tuple[int, int, int]:
        m, _, n = self.mkn
        return (self.kc, n, m) if self.flow is WS else (m, n, self.kc)

    @property
    def folds(self) -> tuple[int, int]:
        sr, sc, _ = self.space
        return -(-sr // self.rows), -(-sc // self.cols)

    @property
    def fold_length(self) -> int:
        return 2 * self.rows + self.cols + self.space[2] - 2

    def fold_ranges(self):
        sr, sc, _ = self.space
        row_folds, col_folds = self.folds
        for fc in range(col_folds):
            for fr in range(row_folds):
                yield (fc * row_folds + fr, range(fr * self.rows, min(sr, fr * self.rows + self.rows)),
                       range(fc * self.cols, min(sc, fc * self.cols + self.cols)))

    def run(self) -> SparseSteppedResult:
        m, k, n = self.mkn
        return simulate_sparse_gemm(self.a, self.values, self.indices, k=k, n_keep=self.n_keep,
                                    m_group=self.m_group, rows=self.rows, cols=self.cols, dataflow=self.flow)


@st.composite
def cases(draw, dense: bool = False) -> Case:
    m, k, n = draw(st.integers(1, 12)), draw(st.integers(1, 12)), draw(st.integers(1, 12))
    if dense:
        m_group = n_keep = draw(st.integers(1, 8))
    else:
        m_group = draw(st.integers(2, 8))
        n_keep = draw(st.integers(1, m_group - 1))
    a = draw(hnp.arrays(np.int8, (m, k), elements=INT8))
    b = draw(hnp.arrays(np.int8, (k, n), elements=INT8))
    values, indices, b_sparse = prune(b, n_keep, m_group, draw(st.integers(0, 2**32 - 1)))
    return Case(a, values, indices, b, b_sparse, n_keep, m_group, draw(st.integers(1, 6)), draw(st.integers(1, 6)),
                draw(st.sampled_from([WS, OS])))


@given(cases())
def test_product_is_exact(case):
    # K <= 12 keeps |sum| <= 12 * 128 * 128, well inside int32: no wrap-around to argue about.
    r = case.run()
    m, _, n = case.mkn
    assert r.product.dtype == np.int32 and r.product.shape == (m, n)
    np.testing.assert_array_equal(r.product, case.a.astype(np.int32) @ case.b_sparse.astype(np.int32))


@given(st.one_of(cases(), cases(dense=True)))
def test_closed_form_equals_stepped(case):
    r = case.run()
    m, k, n = case.mkn
    fast = sparse_gemm_compute(GemmDims(m=m, n=n, k=k), case.n_keep, case.m_group, case.rows, case.cols, case.flow)
    assert fast.cycles == r.cycles
    assert (fast.ifmap_reads, fast.filter_reads, fast.ofmap_writes) == (r.ifmap_reads, r.filter_reads,
                                                                         r.ofmap_writes)
    # every write after an output's first is an accumulation, which reads what it adds to
    assert fast.ofmap_reads == r.ofmap_writes - m * n
    assert fast.folds == case.folds[0] * case.folds[1]
    assert fast.macs == m * n * case.kc


@given(st.one_of(cases(), cases(dense=True)))
def test_counts_follow_the_documented_rules(case):
    r = case.run()
    m, k, n = case.mkn
    row_folds, col_folds = case.folds
    # ifmap: each window entry reads its in-range elements; per row of A every compressed row's window once per
    # column fold.
    entries = r.trace.ifmap[r.trace.ifmap != BUBBLE]
    assert r.ifmap_reads == sum(min(case.window, k - int(e) % k) for e in entries)
    per_row = sum(min(case.window, k - case.start(rr)) for rr in range(case.kc))
    assert r.ifmap_reads == m * col_folds * per_row
    # filter: every slot loaded, empty ones included; the trace names a subset of them.
    assert r.filter_loads.shape == r.trace.filter.shape and r.filter_loads.dtype == bool
    assert not (r.trace.filter[~r.filter_loads] != BUBBLE).any()
    assert r.filter_reads == case.kc * n * (1 if case.flow is WS else row_folds)
    empty = sum(case.slot(rr, c) == BUBBLE for rr in range(case.kc) for c in range(n))
    assert r.filter_reads - int((r.trace.filter != BUBBLE).sum()) == empty * (1 if case.flow is WS else row_folds)
    assert r.ofmap_writes == m * n * (row_folds if case.flow is WS else 1)


def schedule(case: Case) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The module docstring's edge schedule, element by element: ifmap, filter, filter loads, ofmap."""
    m, k, n = case.mkn
    R, C = case.rows, case.cols
    t_len = case.space[2]
    length = case.fold_length
    cycles = case.folds[0] * case.folds[1] * length
    ifmap = np.full((cycles, R), BUBBLE)
    filt = np.full((cycles, C), BUBBLE)
    loads = np.zeros((cycles, C), dtype=bool)
    ofmap = np.full((cycles, C), BUBBLE)
    for fold, srange, crange in case.fold_ranges():
        base = fold * length
        if case.flow is OS:
            for i, mm in enumerate(srange):
                for t in range(t_len):
                    ifmap[base + t + i, i] = mm * k + case.start(t)
                for j, c in enumerate(crange):
                    ofmap[base + t_len - 1 + R + j + (R - 1 - i), j] = mm * n + c  # bottom row drains first
            for j, c in enumerate(crange):
                for t in range(t_len):
                    filt[base + t + j, j] = case.slot(t, c)
                    loads[base + t + j, j] = True
            continue
        for i, rr in enumerate(srange):
            for j, c in enumerate(crange):
                filt[base + R - 1 - i, j] = case.slot(rr, c)  # bottom row first
                loads[base + R - 1 - i, j] = True
            for t in range(t_len):
                ifmap[base + R + t + i, i] = t * k + case.start(rr)
        for j, c in enumerate(crange):
            for t in range(t_len):
                ofmap[base + 2 * R - 1 + t + j, j] = t * n + c
    return ifmap, filt, loads, ofmap


@given(st.one_of(cases(), cases(dense=True)))
def test_trace_is_the_specified_edge_schedule(case):
    r = case.run()
    ifmap, filt, loads, ofmap = schedule(case)
    assert r.cycles == len(ifmap)
    np.testing.assert_array_equal(r.trace.ifmap, ifmap)
    np.testing.assert_array_equal(r.trace.filter, filt)
    np.testing.assert_array_equal(r.filter_loads, loads)
    np.testing.assert_array_equal(r.trace.ofmap, ofmap)
    for t in (r.trace.ifmap, r.trace.filter, r.trace.ofmap):
        assert t.dtype == np.int64


@given(cases())
def test_each_kept_weight_is_read_once_per_load_of_its_slot(case):
    """Across the whole run, the filter trace names every kept in-range weight of B exactly once (ws) or once per
    row fold (os), and nothing else."""
    r = case.run()
    m, k, n = case.mkn
    kept = np.sort([case.slot(rr, c) for rr in range(case.kc) for c in range(n) if case.slot(rr, c) != BUBBLE])
    times = 1 if case.flow is WS else case.folds[0]
    got = r.trace.filter[r.trace.filter != BUBBLE]
    np.testing.assert_array_equal(np.sort(got), np.repeat(kept, times))


@given(cases(dense=True))
def test_dense_mode_is_exactly_the_dense_machine(case):
    r = case.run()
    d = simulate_gemm(case.a, case.b, case.rows, case.cols, case.flow)
    assert r.cycles == d.cycles
    np.testing.assert_array_equal(r.product, d.product)
    for name in ("ifmap", "filter", "ofmap"):
        np.testing.assert_array_equal(getattr(r.trace, name), getattr(d.trace, name))
    dense_counts = tuple(int((t != BUBBLE).sum()) for t in (d.trace.ifmap, d.trace.filter, d.trace.ofmap))
    assert (r.ifmap_reads, r.filter_reads, r.ofmap_writes) == dense_counts
    m, k, n = case.mkn
    gemm = GemmDims(m=m, n=n, k=k)
    assert sparse_gemm_compute(gemm, case.n_keep, case.m_group, case.rows, case.cols, case.flow) == gemm_compute(
        gemm, case.rows, case.cols, case.flow)


@given(cases())
def test_sparsity_never_costs_cycles(case):
    """``K' <= K``, so neither the fold count (ws) nor the fold length (os) can grow; with a full group
    (``K >= m_group``) ``K' < K`` and every os fold is shorter."""
    r = case.run()
    m, k, n = case.mkn
    assert case.kc == compressed_rows(k, case.n_keep, case.m_group) <= k
    dense = gemm_compute(GemmDims(m=m, n=n, k=k), case.rows, case.cols, case.flow)
    assert r.cycles <= dense.cycles
    if k >= case.m_group:
        assert case.kc < k
        if case.flow is OS:
            assert r.cycles < dense.cycles
