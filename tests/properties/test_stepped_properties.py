"""Properties of the cycle-stepped systolic reference over random GEMMs, array sizes and dataflows.

Every expectation here is computed from the mapping's definition (folds, edge schedule, closed-form counts), never
from the simulator's own internals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hwsim.sim import BUBBLE, SteppedResult, simulate_gemm
from hwsim.types import Dataflow

WS, OS, IS = Dataflow.WEIGHT_STATIONARY, Dataflow.OUTPUT_STATIONARY, Dataflow.INPUT_STATIONARY
INT8 = st.integers(-128, 127)  # hypothesis favours the bounds, so -128 and 127 come up often


@dataclass(frozen=True)
class Case:
    a: np.ndarray
    b: np.ndarray
    rows: int
    cols: int
    flow: Dataflow

    @property
    def mkn(self) -> tuple[int, int, int]:
        return self.a.shape[0], self.a.shape[1], self.b.shape[1]

    @property
    def space(self) -> tuple[int, int, int]:
        """``(Sr, Sc, T)``: what the array's rows and columns hold, and how many steps stream past."""
        m, k, n = self.mkn
        return {WS: (k, n, m), IS: (k, m, n), OS: (m, n, k)}[self.flow]

    @property
    def folds(self) -> tuple[int, int]:
        sr, sc, _ = self.space
        return -(-sr // self.rows), -(-sc // self.cols)

    @property
    def fold_length(self) -> int:
        return 2 * self.rows + self.cols + self.space[2] - 2

    def fold_ranges(self):
        """``(fold number, Sr range, Sc range)`` in the array's order: column fold outer."""
        sr, sc, _ = self.space
        row_folds, col_folds = self.folds
        for fc in range(col_folds):
            for fr in range(row_folds):
                yield (fc * row_folds + fr, range(fr * self.rows, min(sr, fr * self.rows + self.rows)),
                       range(fc * self.cols, min(sc, fc * self.cols + self.cols)))

    def fold_needs(self, srange: range, crange: range) -> tuple[range, range, range]:
        """The ``(m, k, n)`` ranges one fold's MACs cover."""
        m, k, n = self.mkn
        if self.flow is WS:
            return range(m), srange, crange
        if self.flow is IS:
            return crange, srange, range(n)
        return srange, range(k), crange


@st.composite
def cases(draw) -> Case:
    m, k, n = draw(st.integers(1, 12)), draw(st.integers(1, 12)), draw(st.integers(1, 12))
    a = draw(hnp.arrays(np.int8, (m, k), elements=INT8))
    b = draw(hnp.arrays(np.int8, (k, n), elements=INT8))
    return Case(a, b, draw(st.integers(1, 6)), draw(st.integers(1, 6)), draw(st.sampled_from([WS, OS, IS])))


def run(case: Case) -> SteppedResult:
    return simulate_gemm(case.a, case.b, case.rows, case.cols, case.flow)


@given(cases())
def test_product_is_exact(case):
    # K <= 12 keeps |sum| <= 12 * 128 * 128, well inside int32: no wrap-around to argue about.
    r = run(case)
    assert r.product.dtype == np.int32 and r.product.shape == (case.mkn[0], case.mkn[2])
    np.testing.assert_array_equal(r.product, case.a.astype(np.int32) @ case.b.astype(np.int32))


@given(cases())
def test_cycles_lanes_and_counts_match_closed_forms(case):
    r = run(case)
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
    r = run(case)
    m, k, n = case.mkn
    length = case.fold_length
    for fold, srange, crange in case.fold_ranges():
        ms, ks, ns = case.fold_needs(srange, crange)
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
    r = run(case)
    m, _, n = case.mkn
    writes = r.trace.ofmap[r.trace.ofmap != BUBBLE]
    assert writes.max() < m * n
    times = 1 if case.flow is OS else case.folds[0]
    np.testing.assert_array_equal(np.bincount(writes, minlength=m * n), np.full(m * n, times))


@given(cases())
def test_writes_come_after_all_their_inputs_were_fed(case):
    """Causality, fold by fold: O[m, n]'s write in a fold is no earlier than the fold's reads of A[m, k] and
    B[k, n] for every k the fold covers (and those reads exist)."""
    r = run(case)
    m, k, n = case.mkn
    length = case.fold_length
    for fold, srange, crange in case.fold_ranges():
        _, ks, _ = case.fold_needs(srange, crange)
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


def schedule(case: Case) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The spec's edge schedule, element by element: the trace the cycle-stepped array must reproduce."""
    m, k, n = case.mkn
    R, C = case.rows, case.cols
    _, _, t_len = case.space
    length = case.fold_length
    cycles = case.folds[0] * case.folds[1] * length
    ifmap = np.full((cycles, R if case.flow is not IS else C), BUBBLE)
    filt = np.full((cycles, C if case.flow is not IS else R), BUBBLE)
    ofmap = np.full((cycles, C), BUBBLE)
    for fold, srange, crange in case.fold_ranges():
        base = fold * length
        if case.flow is OS:
            for i, mm in enumerate(srange):
                for t in range(t_len):
                    ifmap[base + t + i, i] = mm * k + t
                for j, nn in enumerate(crange):
                    # column j drains from K - 1 + R + j, bottom array row first: array row i at step R - 1 - i
                    ofmap[base + t_len - 1 + R + j + (R - 1 - i), j] = mm * n + nn
            for j, nn in enumerate(crange):
                for t in range(t_len):
                    filt[base + t + j, j] = t * n + nn
            continue
        stationary, streaming = (filt, ifmap) if case.flow is WS else (ifmap, filt)
        s_index = (lambda kk, s: kk * n + s) if case.flow is WS else (lambda kk, s: s * k + kk)
        x_index = (lambda t, kk: t * k + kk) if case.flow is WS else (lambda t, kk: kk * n + t)
        o_index = (lambda t, s: t * n + s) if case.flow is WS else (lambda t, s: s * n + t)
        for i, kk in enumerate(srange):
            for j, s in enumerate(crange):
                stationary[base + (R - 1 - i), j] = s_index(kk, s)  # bottom row first
            for t in range(t_len):
                streaming[base + R + t + i, i] = x_index(t, kk)
        for j, s in enumerate(crange):
            for t in range(t_len):
                ofmap[base + 2 * R - 1 + t + j, j] = o_index(t, s)
    return ifmap, filt, ofmap


@given(cases())
def test_trace_is_the_specified_edge_schedule(case):
    r = run(case)
    ifmap, filt, ofmap = schedule(case)
    np.testing.assert_array_equal(r.trace.ifmap, ifmap)
    np.testing.assert_array_equal(r.trace.filter, filt)
    np.testing.assert_array_equal(r.trace.ofmap, ofmap)
