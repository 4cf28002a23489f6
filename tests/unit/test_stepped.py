"""The cycle-stepped systolic reference on hand-checked examples, and its argument errors."""

from __future__ import annotations

import re

import numpy as np
import pytest

from hwsim.sim.stepped import BUBBLE, DemandTrace, SteppedResult, simulate_gemm
from hwsim.types import Dataflow

_ = BUBBLE  # -1 in the literal tables below


def test_ws_worked_example_trace():
    """The module docstring's example: R = C = 2, M = 3, K = 2, N = 2, one fold of 2*2 + 2 + 3 - 2 = 7 cycles."""
    a = np.array([[1, -2], [3, 4], [-128, 127]], dtype=np.int8)
    b = np.array([[5, -6], [7, 127]], dtype=np.int8)
    r = simulate_gemm(a, b, 2, 2, Dataflow.WEIGHT_STATIONARY)
    assert isinstance(r, SteppedResult) and isinstance(r.trace, DemandTrace)
    assert r.cycles == r.trace.cycles == 7
    # B loads bottom row first (B[1, :] = 2, 3 then B[0, :] = 0, 1); A[t, i] enters row i at cycle 2 + t + i.
    np.testing.assert_array_equal(r.trace.filter, [[2, 3], [0, 1], [_, _], [_, _], [_, _], [_, _], [_, _]])
    np.testing.assert_array_equal(r.trace.ifmap, [[_, _], [_, _], [0, _], [2, 1], [4, 3], [_, 5], [_, _]])
    # O[t, j] leaves the bottom of column j at cycle 2*2 - 1 + t + j: O[0, 0] at 3, O[2, 1] at 6.
    np.testing.assert_array_equal(r.trace.ofmap, [[_, _], [_, _], [_, _], [0, _], [2, 1], [4, 3], [_, 5]])
    np.testing.assert_array_equal(r.product, a.astype(np.int32) @ b.astype(np.int32))
    assert r.product.dtype == np.int32 and r.product.shape == (3, 2)
    for m in (r.trace.ifmap, r.trace.filter, r.trace.ofmap):
        assert m.dtype == np.int64


def test_os_tiny_trace():
    """R = C = 2, M = 2, K = 2, N = 1 (column 1 unused): L = 2*2 + 2 + 2 - 2 = 6.

    A[i, t] enters row i at cycle t + i, B[t, j] enters column j at t + j; column 0 drains from cycle
    K - 1 + R + 0 = 3, bottom row first: O[1, 0] at 3, O[0, 0] at 4.
    """
    a = np.array([[2, -3], [127, -128]], dtype=np.int8)
    b = np.array([[-128], [5]], dtype=np.int8)
    r = simulate_gemm(a, b, 2, 2, Dataflow.OUTPUT_STATIONARY)
    assert r.cycles == 6
    np.testing.assert_array_equal(r.trace.ifmap, [[0, _], [1, 2], [_, 3], [_, _], [_, _], [_, _]])
    np.testing.assert_array_equal(r.trace.filter, [[0, _], [1, _], [_, _], [_, _], [_, _], [_, _]])
    np.testing.assert_array_equal(r.trace.ofmap, [[_, _], [_, _], [_, _], [1, _], [0, _], [_, _]])
    np.testing.assert_array_equal(r.product, a.astype(np.int32) @ b.astype(np.int32))


def test_is_tiny_trace():
    """R = C = 2, M = 2, K = 1 (array row 1 unused), N = 3: stationary A^T is 1 x 2, T = N = 3, L = 7.

    A^T loads bottom row first, and its bottom row is the unused one, so cycle 0 is all bubbles. B[0, t] enters
    row 0 at cycle 2 + t; O[m=j, n=t] leaves column j at 2*2 - 1 + t + j, having passed through the empty row 1.
    """
    a = np.array([[3], [-128]], dtype=np.int8)
    b = np.array([[1, 127, -2]], dtype=np.int8)
    r = simulate_gemm(a, b, 2, 2, Dataflow.INPUT_STATIONARY)
    assert r.cycles == 7
    np.testing.assert_array_equal(r.trace.ifmap, [[_, _], [0, 1], [_, _], [_, _], [_, _], [_, _], [_, _]])
    np.testing.assert_array_equal(r.trace.filter, [[_, _], [_, _], [0, _], [1, _], [2, _], [_, _], [_, _]])
    np.testing.assert_array_equal(r.trace.ofmap, [[_, _], [_, _], [_, _], [0, _], [1, 3], [2, 4], [_, 5]])
    np.testing.assert_array_equal(r.product, a.astype(np.int32) @ b.astype(np.int32))


def test_ws_row_folds_accumulate_outside_the_array():
    """K = 3 on 2 rows: two row folds, each writing every output once; the sum is the full product."""
    a = np.array([[1, 2, 3], [-4, 5, -6]], dtype=np.int8)
    b = np.array([[7], [8], [9]], dtype=np.int8)
    r = simulate_gemm(a, b, 2, 1, Dataflow.WEIGHT_STATIONARY)
    length = 2 * 2 + 1 + 2 - 2
    assert r.cycles == 2 * length
    np.testing.assert_array_equal(r.product, a.astype(np.int32) @ b.astype(np.int32))
    writes = r.trace.ofmap[r.trace.ofmap != BUBBLE]
    np.testing.assert_array_equal(np.sort(writes), [0, 0, 1, 1])


def test_dataflow_value_strings_are_accepted():
    a = np.ones((2, 3), dtype=np.int8)
    b = np.ones((3, 2), dtype=np.int8)
    for flow in ("ws", "os", "is"):
        r = simulate_gemm(a, b, np.int64(2), 2, flow.upper() if flow == "os" else flow)
        np.testing.assert_array_equal(r.product, np.full((2, 2), 3))


_A = np.zeros((2, 3), dtype=np.int8)
_B = np.zeros((3, 4), dtype=np.int8)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((_A.astype(np.float64), _B, 2, 2, "ws"), "a must have dtype int8, got float64"),
        ((_A, _B.astype(np.int16), 2, 2, "ws"), "b must have dtype int8, got int16"),
        ((_A.tolist(), _B, 2, 2, "ws"), "a must be a numpy int8 array (M, K), got list"),
        ((_A[0], _B, 2, 2, "ws"), "a must be 2-D (M, K), got shape (3,)"),
        ((_A, _B[None], 2, 2, "ws"), "b must be 2-D (K, N), got shape (1, 3, 4)"),
        ((_A[:0], _B, 2, 2, "ws"), "a must have no empty dimension, got shape (0, 3)"),
        ((_A, _B[:2], 2, 2, "ws"), "inner dimensions differ: a is (2, 3) and b is (2, 4)"),
        ((_A, _B, 0, 2, "ws"), "rows must be a whole number >= 1, got 0"),
        ((_A, _B, 2, -1, "ws"), "cols must be a whole number >= 1, got -1"),
        ((_A, _B, True, 2, "ws"), "rows must be a whole number >= 1, got True"),
        ((_A, _B, 2.0, 2, "ws"), "rows must be a whole number >= 1, got 2.0"),
        ((_A, _B, 2, 2, Dataflow.ROW_STATIONARY),
         "dataflow 'rs' (row stationary) is not supported by the stepped systolic model; use ws, os or is"),
        ((_A, _B, 2, 2, "rs"), "dataflow 'rs' (row stationary) is not supported"),
        ((_A, _B, 2, 2, "xs"), "unknown dataflow 'xs': expected ws, os or is"),
    ],
)
def test_bad_arguments_raise_one_line_value_error(args, message):
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        simulate_gemm(*args)
    assert "\n" not in str(info.value)
