"""Properties of the cycle-stepped systolic reference over random GEMMs, array sizes and dataflows.

The first two properties hold for both front ends of the stepping kernels, ``simulate_gemm`` (dense, ws/os/is) and
``simulate_sparse_gemm`` (N:M, ws/os, dense mode included), and run over both; the rest are the dense machine's.
Every expectation here is computed from the mapping's definition (folds, edge schedule, closed-form counts), never
from the simulator's own internals.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from hwsim.sim.stepped import BUBBLE
from tests.properties.strategies import IS, OS, WS, Case, cases, schedule

# Both front ends: simulate_gemm, and simulate_sparse_gemm sparse and in dense mode: about 67 examples each.
BOTH_FRONT_ENDS = st.one_of(cases(), cases(sparse=True), cases(sparse=True, dense_mode=True))


def fold_needs(case: Case, srange: range, crange: range) -> tuple[range, range, range]:
    """The ``(m, k, n)`` ranges one fold's MACs cover (dense)."""
    m, k, n = case.mkn
    if case.flow is WS:
        return range(m), srange, crange
    if case.flow is IS:
        return crange, srange, range(n)
    return srange, range(k), crange


@given(BOTH_FRONT_ENDS)
def test_product_is_exact(case):
    # K <= 12 keeps |sum| <= 12 * 128 * 128, well inside int32: no wrap-around to argue about.
    r = case.run()
    m, _, n = case.mkn
    assert r.product.dtype == np.int32 and r.product.shape == (m, n)
    np.testing.assert_array_equal(r.product, case.a.astype(np.int32) @ case.b_kept.astype(np.int32))


@given(BOTH_FRONT_ENDS)
def test_trace_is_the_specified_edge_schedule(case):
    r = case.run()
    ifmap, filt, loads, ofmap = schedule(case)
    assert r.cycles == len(ifmap)
    np.testing.assert_array_equal(r.trace.ifmap, ifmap)
    np.testing.assert_array_equal(r.trace.filter, filt)
    np.testing.assert_array_equal(r.trace.ofmap, ofmap)
    if case.sparse:
        np.testing.assert_array_equal(r.filter_loads, loads)
    for t in (r.trace.ifmap, r.trace.filter, r.trace.ofmap):
        assert t.dtype == np.int64


@given(cases())
def test_cycles_lanes_and_counts_match_closed_forms(case):
    r = case.run()
    m, k, n = case.mkn
    row_folds, col_folds = case.folds
    assert r.cycles == r.trace.cycles == row_folds * col_folds * case.fold_length
    lanes = {WS: (case.rows, case.cols), OS: (case.rows, case.cols), IS: (case.cols, case.rows)}[case.flow]
    assert r.trace.ifmap.shape == (r.cycles, lanes[0])
    assert r.trace.filter.shape == (r.cycles, lanes[1])
    assert r.trace.ofmap.shape == (r.cycles, case.cols)
    expected = {
        WS: (m * k * col_folds, k * n, m * n * row_folds),
        IS: (k * m, n * k * col_folds, n * m * row_folds),
        OS: (m * k * col_folds, k * n * row_folds, m * n),
    }[case.flow]
    counts = tuple(int((t != BUBBLE).sum()) for t in (r.trace.ifmap, r.trace.filter, r.trace.ofmap))
    assert counts == expected
    for t in (r.trace.ifmap, r.trace.filter, r.trace.ofmap):
        assert t.dtype == np.int64 and t.min() >= BUBBLE


@given(cases())
def test_each_fold_reads_exactly_the_operands_it_needs(case):
    r = case.run()
    m, k, n = case.mkn
    length = case.fold_length
    for fold, srange, crange in case.fold_ranges():
        ms, ks, ns = fold_needs(case, srange, crange)
        need_a = np.sort([mm * k + kk for mm in ms for kk in ks])
        need_b = np.sort([kk * n + nn for kk in ks for nn in ns])
        window = slice(fold * length, (fold + 1) * length)
        got_a = r.trace.ifmap[window]
        got_b = r.trace.filter[window]
        # Sorted equality: every needed element appears, exactly once, and nothing else is read.
        np.testing.assert_array_equal(np.sort(got_a[got_a != BUBBLE]), need_a)
        np.testing.assert_array_equal(np.sort(got_b[got_b != BUBBLE]), need_b)


@given(cases())
def test_every_output_is_written_row_folds_times_or_once(case):
    r = case.run()
    m, _, n = case.mkn
    writes = r.trace.ofmap[r.trace.ofmap != BUBBLE]
    assert writes.max() < m * n
    times = 1 if case.flow is OS else case.folds[0]
    np.testing.assert_array_equal(np.bincount(writes, minlength=m * n), np.full(m * n, times))


@given(cases())
def test_writes_come_after_all_their_inputs_were_fed(case):
    """Causality, fold by fold: O[m, n]'s write in a fold is no earlier than the fold's reads of A[m, k] and
    B[k, n] for every k the fold covers (and those reads exist)."""
    r = case.run()
    m, k, n = case.mkn
    length = case.fold_length
    for fold, srange, crange in case.fold_ranges():
        _, ks, _ = fold_needs(case, srange, crange)
        ks = np.array(ks)
        base = fold * length
        read_a = np.full(m * k, -1)
        read_b = np.full(k * n, -1)
        for trace, read in ((r.trace.ifmap, read_a), (r.trace.filter, read_b)):
            cyc, lane = np.nonzero(trace[base:base + length] != BUBBLE)
            read[trace[base + cyc, lane]] = base + cyc
        cyc, lane = np.nonzero(r.trace.ofmap[base:base + length] != BUBBLE)
        assert cyc.size > 0
        out = r.trace.ofmap[base + cyc, lane]
        w = (base + cyc)[:, None]
        fed_a = read_a[(out // n)[:, None] * k + ks[None, :]]
        fed_b = read_b[ks[None, :] * n + (out % n)[:, None]]
        assert (fed_a >= base).all() and (fed_b >= base).all(), "a write's input was never read in its fold"
        if case.flow is OS:
            # The drain is a register stage after the last MAC: strictly later.
            assert (fed_a < w).all() and (fed_b < w).all(), "a write came before one of its inputs was read"
        else:
            # WS/IS: an edge PE consumes a value in the cycle it is read and the bottom row writes in the cycle it
            # computes, so O[t, c0] is written in the same cycle X[t, r0+R-1] is read (never earlier).
            assert (fed_a <= w).all() and (fed_b <= w).all(), "a write came before one of its inputs was read"
