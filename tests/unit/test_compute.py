"""The closed-form compute model: the worked example, SCALE-Sim's published golden run, packing."""

from __future__ import annotations

import math

import pytest

from hwsim.mapping import fold_mapping, pack_groups
from hwsim.types import Dataflow
from hwsim.workload.lowering import GemmDims

from tests.models import compute as gemm_compute

WS, OS, IS = Dataflow.WEIGHT_STATIONARY, Dataflow.OUTPUT_STATIONARY, Dataflow.INPUT_STATIONARY


def test_worked_example_of_the_module_docstring():
    native = gemm_compute(GemmDims(m=3, n=2, k=2), 2, 2, WS)
    assert (native.cycles, native.ifmap_reads, native.filter_reads, native.ofmap_writes) == (7, 6, 4, 6)
    compat = gemm_compute(GemmDims(m=3, n=2, k=2), 2, 2, WS, compat=True)
    assert compat.cycles == 6
    assert compat.mapping_efficiency == 1.0 and compat.compute_util == 0.375


def test_scalesim_golden_alexnet_conv1():
    """SCALE-Sim's own golden run (its README and test suite; shared/reference/PAPERS.md): AlexNet conv1
    (227x227x3, 11x11, 96 filters, stride 4) on a 32x32 WS array reports Total Cycles 112,283,
    Overall Util 91.68 %, Mapping Efficiency 94.53 %, Compute Util 90.78 %. Tolerance: the cycle count is an
    integer and must be equal; the percentages are printed to 2 decimals, so +-0.005."""
    gemm = GemmDims(m=55 * 55, n=96, k=11 * 11 * 3)
    c = gemm_compute(gemm, 32, 32, WS, compat=True)
    assert c.cycles == 112_283
    assert 100 * gemm.macs / (c.cycles * 32 * 32) == pytest.approx(91.68, abs=0.005)
    assert 100 * c.mapping_efficiency == pytest.approx(94.53, abs=0.005)
    assert 100 * c.compute_util == pytest.approx(90.78, abs=0.005)


@pytest.mark.parametrize("dataflow, sr, sc, t", [(WS, 363, 96, 3025), (IS, 363, 3025, 96), (OS, 3025, 96, 363)])
def test_mapping_follows_scalesim(dataflow, sr, sc, t):
    fm = fold_mapping(GemmDims(m=3025, n=96, k=363), 32, 32, dataflow)
    assert (fm.sr, fm.sc, fm.t) == (sr, sc, t)
    assert fm.rows_used().sum() == sr * fm.col_folds and fm.cols_used().sum() == sc * fm.row_folds


def test_os_native_and_compat_fold_lengths_differ_by_r():
    g = GemmDims(m=20, n=10, k=30)
    native = gemm_compute(g, 8, 4, OS)
    compat = gemm_compute(g, 8, 4, OS, compat=True)
    folds = math.ceil(20 / 8) * math.ceil(10 / 4)
    assert native.cycles == folds * (2 * 8 + 4 + 30 - 2)
    assert compat.cycles == folds * (30 + 8 + 4 - 2) - 1
    assert compat.ofmap_writes == 20 * 10 + folds * (8 + 4)  # SCALE-Sim 3.0.0's count


def test_repeats_scale_counts_and_each_is_a_scalesim_layer():
    one = gemm_compute(GemmDims(m=100, n=1, k=9), 16, 16, WS, compat=True)
    many = gemm_compute(GemmDims(m=100, n=1, k=9, repeat=32), 16, 16, WS, compat=True)
    assert many.cycles == 32 * one.cycles and many.ifmap_reads == 32 * one.ifmap_reads
    assert many.macs == 32 * one.macs


def test_packing_depthwise_groups_cuts_folds():
    depthwise = GemmDims(m=112 * 112, n=1, k=9, repeat=32)
    packed = pack_groups(depthwise, 64, 64, WS)
    assert packed == GemmDims(m=112 * 112, n=7, k=63, repeat=5)  # 7 channels per fold: 63 rows, 7 columns
    assert gemm_compute(packed, 64, 64, WS).cycles < gemm_compute(depthwise, 64, 64, WS).cycles
    assert pack_groups(depthwise, 64, 64, OS).n == 32  # os packs along columns only
    assert pack_groups(GemmDims(m=5, n=5, k=5), 64, 64, WS) == GemmDims(m=5, n=5, k=5)
