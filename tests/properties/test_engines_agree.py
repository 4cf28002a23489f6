"""The fast engine and the cycle-stepped reference give identical cycles and SRAM access counts."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from hwsim.sim.stepped import BUBBLE, simulate_gemm
from hwsim.types import Dataflow
from hwsim.workload.lowering import GemmDims

from tests.models import compute as gemm_compute

SYSTOLIC = [Dataflow.WEIGHT_STATIONARY, Dataflow.OUTPUT_STATIONARY, Dataflow.INPUT_STATIONARY]


@given(st.integers(1, 14), st.integers(1, 14), st.integers(1, 14), st.integers(1, 7), st.integers(1, 7),
       st.sampled_from(SYSTOLIC), st.integers(0, 2**32 - 1))
def test_fast_engine_equals_stepped_reference(m, n, k, rows, cols, dataflow, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(-128, 128, (m, k), dtype=np.int8)
    b = rng.integers(-128, 128, (k, n), dtype=np.int8)
    stepped = simulate_gemm(a, b, rows, cols, dataflow)
    fast = gemm_compute(GemmDims(m=m, n=n, k=k), rows, cols, dataflow)
    trace = stepped.trace
    assert fast.cycles == stepped.cycles
    assert fast.ifmap_reads == int((trace.ifmap != BUBBLE).sum())
    assert fast.filter_reads == int((trace.filter != BUBBLE).sum())
    assert fast.ofmap_writes == int((trace.ofmap != BUBBLE).sum())
    # every write after an output's first is an accumulation, which reads what it adds to
    assert fast.ofmap_reads == fast.ofmap_writes - m * n
    np.testing.assert_array_equal(stepped.product, a.astype(np.int32) @ b.astype(np.int32))


@given(st.integers(1, 40), st.integers(1, 3), st.integers(1, 40), st.integers(2, 6), st.integers(1, 4))
def test_packed_groups_compute_each_group_exactly(m, n, k_group, groups, size_mult):
    """Block-diagonal packing (``pack_groups``) is a GEMM whose diagonal blocks are the groups' GEMMs."""
    rng = np.random.default_rng(m * 1000 + k_group)
    a_groups = [rng.integers(-128, 128, (m, k_group), dtype=np.int8) for _ in range(groups)]
    b_groups = [rng.integers(-128, 128, (k_group, n), dtype=np.int8) for _ in range(groups)]
    a = np.concatenate(a_groups, axis=1)
    b = np.zeros((k_group * groups, n * groups), dtype=np.int8)
    for g, bg in enumerate(b_groups):
        b[g * k_group:(g + 1) * k_group, g * n:(g + 1) * n] = bg
    rows = cols = 4 * size_mult
    out = simulate_gemm(a, b, rows, cols, Dataflow.WEIGHT_STATIONARY).product
    for g in range(groups):
        expected = a_groups[g].astype(np.int32) @ b_groups[g].astype(np.int32)
        np.testing.assert_array_equal(out[:, g * n:(g + 1) * n], expected)
