"""Properties of SAT's N:M sparse systolic engine over random GEMMs, sparsities, array sizes and dataflows.

The stepped reference (``simulate_sparse_gemm``) and the closed form (``gemm_compute`` of an N:M ``lay``) must agree exactly;
every other expectation is computed from the mapping's definition (module docstring of ``hwsim.sim.sparse``) or from
the dense models, never from the engine's internals. The cases, the pruning helper and the edge schedule are shared
with the dense machine's properties (``tests/properties/strategies.py``); the exact product and the specified edge
schedule are checked for both front ends in ``test_stepped_properties.py``.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from hwsim.sim.sparse import compressed_rows
from hwsim.sim.stepped import BUBBLE, simulate_gemm
from hwsim.workload.lowering import GemmDims
from tests.models import compute as gemm_compute, sparse_compute as sparse_gemm_compute
from tests.properties import strategies
from tests.properties.strategies import OS, WS


def cases(dense: bool = False) -> st.SearchStrategy[strategies.Case]:
    """Cases for ``simulate_sparse_gemm``: ``n_keep < m_group``, or dense mode (``n_keep == m_group``)."""
    return strategies.cases(sparse=True, dense_mode=dense)




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
