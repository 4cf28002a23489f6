"""SAT's N:M sparse systolic engine on hand-checked examples, its closed form, and its argument errors."""

from __future__ import annotations

import doctest
import re

import numpy as np
import pytest

import hwsim.sim.sparse
from hwsim.errors import InputError
from hwsim.sim.sparse import (
    SparseArgumentError,
    SparseSteppedResult,
    compressed_rows,
    simulate_sparse_gemm,
)
from hwsim.sim.stepped import BUBBLE, DemandTrace, SteppedResult, simulate_gemm
from hwsim.types import Dataflow
from hwsim.workload.lowering import GemmDims

from tests.models import compute as gemm_compute, sparse_compute as sparse_gemm_compute

_ = BUBBLE  # -1 in the literal tables below
WS, OS, IS = Dataflow.WEIGHT_STATIONARY, Dataflow.OUTPUT_STATIONARY, Dataflow.INPUT_STATIONARY


def i8(x) -> np.ndarray:
    return np.array(x, dtype=np.int8)


def u8(x) -> np.ndarray:
    return np.array(x, dtype=np.uint8)


def test_docstring_examples():
    result = doctest.testmod(hwsim.sim.sparse)
    assert result.attempted > 0 and result.failed == 0


# The module docstring's example: 2:4, K = 4 (one group), N = 2. Column 0 keeps B[1, 0] = 10 and B[3, 0] = 30,
# column 1 keeps B[0, 1] = -128 and B[2, 1] = 127.
EX_A = i8([[1, -2, 3, -4], [127, -128, 5, 6]])
EX_VALUES = i8([[10, -128], [30, 127]])
EX_INDICES = u8([[1, 0], [3, 2]])
EX_B = i8([[0, -128], [10, 0], [0, 127], [30, 0]])  # the decompressed operand


def run_example(flow: Dataflow) -> SparseSteppedResult:
    return simulate_sparse_gemm(EX_A, EX_VALUES, EX_INDICES, k=4, n_keep=2, m_group=4, rows=2, cols=2,
                                dataflow=flow)


def test_ws_worked_example_trace():
    """One fold of 2*2 + 2 + 2 - 2 = 6 cycles (the dense GEMM needs two row folds, 12 cycles)."""
    r = run_example(WS)
    assert isinstance(r, SteppedResult) and isinstance(r.trace, DemandTrace)
    assert r.cycles == r.trace.cycles == 6
    # Row 1 of the compressed B loads first (B[3, 0] -> 6, B[2, 1] -> 5), then row 0 (B[1, 0] -> 2, B[0, 1] -> 1).
    np.testing.assert_array_equal(r.trace.filter, [[6, 5], [2, 1], [_, _], [_, _], [_, _], [_, _]])
    # Both compressed rows are group 0: row i takes the window A[t, 0:4] (-> 4t) at cycle 2 + t + i.
    np.testing.assert_array_equal(r.trace.ifmap, [[_, _], [_, _], [0, _], [4, 0], [_, 4], [_, _]])
    # O[t, j] leaves the bottom of column j at cycle 2*2 - 1 + t + j.
    np.testing.assert_array_equal(r.trace.ofmap, [[_, _], [_, _], [_, _], [0, _], [2, 1], [_, 3]])
    np.testing.assert_array_equal(r.product, EX_A.astype(np.int32) @ EX_B.astype(np.int32))
    assert r.product.dtype == np.int32 and r.product.shape == (2, 2)
    # Four windows of four activations; four slots; four outputs.
    assert (r.ifmap_reads, r.filter_reads, r.ofmap_writes) == (16, 4, 4)
    np.testing.assert_array_equal(r.filter_loads, r.trace.filter != BUBBLE)  # no empty slot here
    for m in (r.trace.ifmap, r.trace.filter, r.trace.ofmap):
        assert m.dtype == np.int64


def test_os_worked_example_trace():
    """T = K' = 2 steps: L = 2*2 + 2 + 2 - 2 = 6. Row i takes the group-0 window of A[i, :] (-> 4i) at cycles
    t + i for both steps; column j takes compressed row t at cycle t + j and drains from cycle K' - 1 + R + j = 3
    + j, bottom row first."""
    r = run_example(OS)
    assert r.cycles == 6
    np.testing.assert_array_equal(r.trace.ifmap, [[0, _], [0, 4], [_, 4], [_, _], [_, _], [_, _]])
    np.testing.assert_array_equal(r.trace.filter, [[2, _], [6, 1], [_, 5], [_, _], [_, _], [_, _]])
    np.testing.assert_array_equal(r.trace.ofmap, [[_, _], [_, _], [_, _], [2, _], [0, 3], [_, 1]])
    np.testing.assert_array_equal(r.product, EX_A.astype(np.int32) @ EX_B.astype(np.int32))
    assert (r.ifmap_reads, r.filter_reads, r.ofmap_writes) == (16, 4, 4)


def test_partial_group_clipped_window_and_empty_slot():
    """K = 5 with 2:4: one full group and a partial group of p = 1, K' = 2 + min(2, 1) = 3.

    Column 0 keeps k = 0, 2 and, in the partial group, k = 4. Column 1 keeps k = 1, 3; its partial-group slot
    points at in-group index 2, k = 6 >= K: empty, value 0, loaded but traced as a bubble. WS on 3 x 2, M = 1:
    L = 2*3 + 2 + 1 - 2 = 7.
    """
    a = i8([[2, -3, 5, 7, -128]])
    values = i8([[11, -13], [17, 19], [127, 0]])
    indices = u8([[0, 1], [2, 3], [0, 2]])
    b = i8([[11, 0], [0, -13], [17, 0], [0, 19], [127, 0]])
    r = simulate_sparse_gemm(a, values, indices, k=5, n_keep=2, m_group=4, rows=3, cols=2, dataflow=WS)
    assert r.cycles == 7
    # Bottom row first: row 2 (B[4, 0] -> 8, empty), row 1 (B[2, 0] -> 4, B[3, 1] -> 7), row 0 (0, B[1, 1] -> 3).
    np.testing.assert_array_equal(r.trace.filter, [[8, _], [4, 7], [0, 3], [_, _], [_, _], [_, _], [_, _]])
    np.testing.assert_array_equal(r.filter_loads[:3], np.ones((3, 2), dtype=bool))
    assert not r.filter_loads[3:].any()
    # Rows 0 and 1 take group 0's window (-> 0), row 2 group 1's (-> 4), at cycle 3 + t + i.
    np.testing.assert_array_equal(r.trace.ifmap, [[_, _, _], [_, _, _], [_, _, _], [0, _, _], [_, 0, _],
                                                  [_, _, 4], [_, _, _]])
    np.testing.assert_array_equal(r.trace.ofmap, [[_, _]] * 5 + [[0, _], [_, 1]])
    np.testing.assert_array_equal(r.product, a.astype(np.int32) @ b.astype(np.int32))
    # The partial group's window holds one in-range activation: 4 + 4 + 1. Six slots load, five name a weight.
    assert (r.ifmap_reads, r.filter_reads, r.ofmap_writes) == (9, 6, 2)
    fast = sparse_gemm_compute(GemmDims(m=1, n=2, k=5), 2, 4, 3, 2, WS)
    assert (fast.cycles, fast.ifmap_reads, fast.filter_reads, fast.ofmap_writes) == (7, 9, 6, 2)
    # The dense GEMM needs two row folds of 7 cycles.
    assert simulate_gemm(a, b, 3, 2, WS).cycles == 14


def test_kept_zero_weight_is_traced_not_empty():
    """A kept weight whose value is 0 is a real weight: it names its element of B."""
    a = i8([[1, 2, 3, 4]])
    r = simulate_sparse_gemm(a, i8([[0]]), u8([[3]]), k=4, n_keep=1, m_group=4, rows=1, cols=1, dataflow=OS)
    assert r.trace.filter[r.trace.filter != BUBBLE].tolist() == [3]
    assert r.product.tolist() == [[0]]


def test_dense_mode_is_the_dense_machine():
    """4:4 on K = 6 (a partial group): K' = K, indices in place, and everything equals simulate_gemm's."""
    rng = np.random.default_rng(7)
    a = rng.integers(-128, 128, (5, 6), dtype=np.int8)
    b = rng.integers(-128, 128, (6, 3), dtype=np.int8)
    indices = np.repeat((np.arange(6) % 4)[:, None], 3, axis=1).astype(np.uint8)
    assert compressed_rows(6, 4, 4) == 6
    for flow in (WS, OS):
        r = simulate_sparse_gemm(a, b, indices, k=6, n_keep=4, m_group=4, rows=4, cols=2, dataflow=flow)
        d = simulate_gemm(a, b, 4, 2, flow)
        assert r.cycles == d.cycles and r.window == 1
        np.testing.assert_array_equal(r.product, d.product)
        for name in ("ifmap", "filter", "ofmap"):
            np.testing.assert_array_equal(getattr(r.trace, name), getattr(d.trace, name))
        counts = tuple(int((t != BUBBLE).sum()) for t in (d.trace.ifmap, d.trace.filter, d.trace.ofmap))
        assert (r.ifmap_reads, r.filter_reads, r.ofmap_writes) == counts
        assert sparse_gemm_compute(GemmDims(5, 3, 6), 4, 4, 4, 2, flow) == gemm_compute(GemmDims(5, 3, 6), 4, 2,
                                                                                          flow)


@pytest.mark.parametrize(("k", "n_keep", "m_group", "expected"), [
    (8, 2, 4, 4), (5, 2, 4, 3), (5, 3, 4, 4), (3, 2, 8, 2), (1, 1, 8, 1), (27, 2, 8, 8), (7, 4, 4, 7),
    (9, 1, 1, 9), (256, 1, 256, 1),
])
def test_compressed_rows(k, n_keep, m_group, expected):
    assert compressed_rows(k, n_keep, m_group) == expected


def test_closed_form_sparse_shrinks_the_reduction():
    """2:8 on a conv-like GEMM, 32 x 32: K' = 2 * 144/8 = 36, so WS needs 2 row folds instead of 5."""
    gemm = GemmDims(m=196, n=64, k=144, repeat=3)
    s = sparse_gemm_compute(gemm, 2, 8, 32, 32, WS)
    d = gemm_compute(gemm, 32, 32, WS)
    length = 2 * 32 + 32 + 196 - 2
    assert s.folds == 3 * 2 * 2 and s.cycles == 3 * 2 * 2 * length
    assert d.cycles == 3 * 5 * 2 * length
    assert s.macs == 196 * 64 * 36 * 3
    assert s.filter_reads == 36 * 64 * 3 and s.ofmap_writes == 196 * 64 * 2 * 3
    assert s.ofmap_reads == s.ofmap_writes - 196 * 64 * 3
    # Every window of 8 is read by both slots of its group: 2 * K per row of A, per column fold.
    assert s.ifmap_reads == 196 * 2 * (2 * 144) * 3
    o = sparse_gemm_compute(gemm, 2, 8, 32, 32, "OS")
    assert o.cycles == 3 * 7 * 2 * (2 * 32 + 32 + 36 - 2) and o.ofmap_reads == 0
    assert o.filter_reads == 36 * 64 * 7 * 3


def test_repeat_scales_every_count():
    one = sparse_gemm_compute(GemmDims(m=10, n=5, k=13), 1, 4, 4, 4, WS)
    many = sparse_gemm_compute(GemmDims(m=10, n=5, k=13, repeat=6), 1, 4, 4, 4, WS)
    for name in ("macs", "folds", "cycles", "ifmap_reads", "filter_reads", "ofmap_writes", "ofmap_reads"):
        assert getattr(many, name) == 6 * getattr(one, name)
    assert many.mapping_efficiency == one.mapping_efficiency and many.compute_util == one.compute_util


# ------------------------------------------------------------------------------------------------------------------
# Argument errors: one line, an InputError naming the field and value, and a ValueError too.
# ------------------------------------------------------------------------------------------------------------------

_A = np.zeros((2, 8), dtype=np.int8)
_V = np.zeros((4, 3), dtype=np.int8)  # 2:4 on K = 8
_I = np.tile(u8([[0], [1]]), (2, 3))
_OK = dict(k=8, n_keep=2, m_group=4, rows=2, cols=2, dataflow="ws")


def _with(**changes):
    kwargs = dict(a=_A, values=_V, indices=_I, **_OK)
    kwargs.update(changes)
    return kwargs


@pytest.mark.parametrize(("kwargs", "message"), [
    (_with(dataflow=IS), "field 'dataflow' = 'is': is not a SAT mode: use ws or os"),
    (_with(dataflow="IS"), "field 'dataflow' = 'is': is not a SAT mode"),
    (_with(dataflow="rs"), "field 'dataflow' = 'rs': is not a SAT mode"),
    (_with(dataflow="xs"), "field 'dataflow' = 'xs': unknown dataflow: expected ws or os"),
    (_with(a=_A.astype(np.int16)), "field 'a' = 'int16': must have dtype int8"),
    (_with(a=_A.tolist()), "field 'a' = 'list': must be a numpy int8 array (M, K)"),
    (_with(values=_V.astype(np.uint8)), "field 'values' = 'uint8': must have dtype int8"),
    (_with(indices=_I.astype(np.int8)), "field 'indices' = 'int8': must have dtype uint8"),
    (_with(a=_A[0]), "field 'a' = (8,): must be 2-D (M, K) with no empty dimension"),
    (_with(a=_A[:0]), "field 'a' = (0, 8): must be 2-D (M, K) with no empty dimension"),
    (_with(k=7), "field 'k' = 7: must equal a's K = 8"),
    (_with(k=0), "field 'k' = 0: must be a whole number >= 1"),
    (_with(values=_V[:3]), "field 'values.shape' = (3, 3): must have K' = compressed_rows(8, 2, 4) = 4 rows"),
    (_with(indices=_I[:, :2]), "field 'indices.shape' = (4, 2): must equal values.shape = (4, 3)"),
    (_with(indices=_I + u8(3)), "field 'indices[1, 0]' = 4: must be < m_group = 4"),
    (_with(indices=np.zeros((4, 3), dtype=np.uint8)),
     "field 'indices[1, 0]' = 0: repeats an index already kept in its group and column"),
    (_with(n_keep=3, m_group=2), "field 'n_keep' = 3: must not exceed m_group = 2"),
    (_with(n_keep=0), "field 'n_keep' = 0: must be a whole number >= 1"),
    (_with(m_group=257, n_keep=1), "field 'm_group' = 257: must be <= 256 (indices are uint8)"),
    (_with(rows=0), "field 'rows' = 0: must be a whole number >= 1"),
    (_with(cols=True), "field 'cols' = True: must be a whole number >= 1"),
    (_with(rows=2.0), "field 'rows' = 2.0: must be a whole number >= 1"),
])
def test_bad_arguments_raise_one_line_input_error(kwargs, message):
    with pytest.raises(SparseArgumentError, match=re.escape(message)) as info:
        simulate_sparse_gemm(**kwargs)
    assert isinstance(info.value, InputError) and isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


def test_empty_slot_must_hold_zero():
    a = np.ones((1, 5), dtype=np.int8)
    with pytest.raises(InputError, match=re.escape("field 'values[2, 0]' = 9: is an empty slot (position 6 >= K = 5)")):
        simulate_sparse_gemm(a, i8([[1], [2], [9]]), u8([[0], [1], [2]]), k=5, n_keep=2, m_group=4, rows=2,
                             cols=2, dataflow=OS)


def test_dense_mode_indices_must_be_in_place():
    a = np.ones((1, 4), dtype=np.int8)
    with pytest.raises(InputError, match=re.escape("field 'indices[0, 0]' = 1: dense mode (2:2) keeps every weight "
                                                   "in place: must be 0")):
        simulate_sparse_gemm(a, i8([[1], [2], [3], [4]]), u8([[1], [0], [0], [1]]), k=4, n_keep=2, m_group=2,
                             rows=2, cols=2, dataflow=WS)


def test_input_stationary_is_a_value_error():
    with pytest.raises(ValueError, match="not a SAT mode"):
        simulate_sparse_gemm(**_with(dataflow=IS))
    with pytest.raises(ValueError, match="not a SAT mode"):
        sparse_gemm_compute(GemmDims(2, 3, 8), 2, 4, 2, 2, IS)


@pytest.mark.parametrize(("args", "message"), [
    ((GemmDims(2, 3, 0), 2, 4, 2, 2, WS), "field 'gemm.k' = 0: must be a whole number >= 1"),
    (((2, 3, 8), 2, 4, 2, 2, WS), "field 'gemm' = 'tuple': must be a GemmDims"),
    ((GemmDims(2, 3, 8), 5, 4, 2, 2, WS), "field 'n_keep' = 5: must not exceed m_group = 4"),
    ((GemmDims(2, 3, 8), 2, 4, 2, 0, OS), "field 'cols' = 0: must be a whole number >= 1"),
])
def test_closed_form_bad_arguments(args, message):
    with pytest.raises(InputError, match=re.escape(message)):
        sparse_gemm_compute(*args)


def test_compressed_rows_bad_arguments():
    with pytest.raises(InputError, match=re.escape("field 'k' = -1: must be a whole number >= 1")):
        compressed_rows(-1, 2, 4)
    with pytest.raises(InputError, match=re.escape("field 'n_keep' = 5: must not exceed m_group = 4")):
        compressed_rows(8, 5, 4)
