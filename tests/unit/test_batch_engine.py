"""The batch engine on zoo networks and mixed designs; its result rows; bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hwsim.arch.systolic import SystolicArray
from hwsim.errors import InputError
from hwsim.report.systolic import METRICS
from hwsim.compose import simulate, simulate_batch
from hwsim.mapping import lay
from hwsim.report.batch import INT_METRICS
from hwsim.sim.memory import gemm_memory
from hwsim.workload.lowering import GemmDims
from hwsim.workload.zoo import build

from tests.properties.test_batch_engine import assert_batch_equals_simulate


def mixed_designs() -> list[SystolicArray]:
    """50 designs: square and rectangular arrays, every dataflow and several precisions, SRAMs from too small to
    ample, bandwidths from starved to plenty, clocks and output widths."""
    shapes = [(8, 8), (16, 16), (32, 32), (64, 64), (128, 128), (256, 256), (16, 64), (64, 16), (12, 100), (3, 7)]
    flows = ["ws", "os", "is"]
    srams = [(64, 64, 64), (8, 8, 2), (512, 512, 16), (256, 256, 1024), (2, 2, 2)]
    designs = []
    for n, ((rows, cols), flow, (i, f, o)) in enumerate(itertools.islice(
            itertools.product(shapes, flows, srams), 0, None, 3)):
        designs.append(SystolicArray(
            rows, cols, dataflow=flow, precision=["int8", "int16", "fp16", "int8"][n % 4],
            ifmap_sram_kib=i, filter_sram_kib=f, ofmap_sram_kib=o, dram_bandwidth_bytes_per_cycle=[10, 1.5, 64][n % 3],
            clock_mhz=[1000, 700][n % 2], ofmap_bits=[None, 32][n % 5 == 0]))
    return designs


@pytest.mark.parametrize("name", ["resnet50", "mobilenet_v1"])
def test_zoo_networks_on_mixed_designs_equal_simulate(name):
    network, designs = build(name), mixed_designs()
    assert len(designs) == 50
    result = assert_batch_equals_simulate(network, designs)
    ok = [a for a, error in zip(designs, result.errors) if error is None]
    assert 0 < len(ok) < len(designs)  # both paths taken
    # and stream tiling (a layer cut into tiles with a shorter last one) among the designs that run
    assert any(lm.stream_tile < lm.fold.t and lm.fold.t % lm.stream_tile
               for a in ok for s in network if s.gemm for lm in [lay(s.gemm, a)])


def test_rows_hold_python_numbers_and_the_error():
    network = build("resnet18")
    archs = [SystolicArray(32, 32), SystolicArray(64, 64, filter_sram_kib=4)]
    result = simulate_batch(network, archs)
    good, bad = result.rows()
    expected = simulate(network, archs[0]).metrics()
    assert list(good) == [*METRICS, "Error"] and good["Error"] is None
    for name in METRICS:
        assert type(good[name]) is (int if name in INT_METRICS else float), name
        if name in INT_METRICS:
            assert good[name] == expected[name], name
        else:  # the batch prices the network's totals, simulate each layer: the same sums in another order
            assert good[name] == pytest.approx(expected[name], rel=1e-12, abs=0), name
    assert bad == {**{name: None for name in METRICS}, "Error": (
        "layer 'conv1': field 'filter_sram_kib' = 4: one fold's filter tile (4096 bytes) does not fit half of the "
        "4 KiB filter SRAM (it is double-buffered)")}
    assert result.metrics["Total Cycles"][1] == 0 and np.isnan(result.metrics["Energy pJ"][1])


def test_metrics_are_read_only():
    result = simulate_batch(build("alexnet"), [SystolicArray(16, 16)])
    with pytest.raises(ValueError):
        result.metrics["Total Cycles"][0] = 1


def test_no_designs_is_an_empty_result():
    result = simulate_batch(build("alexnet"), [])
    assert result.errors == () and result.rows() == []
    assert all(values.shape == (0,) for values in result.metrics.values())


def test_a_design_that_is_not_an_array_is_an_error():
    with pytest.raises(InputError) as err:
        simulate_batch(build("alexnet"), [SystolicArray(8, 8), "64x64"])
    assert str(err.value) == "field 'archs[1]' = '64x64': must be a SystolicArray"


def test_unknown_technology_is_the_same_error_as_simulate():
    with pytest.raises(InputError) as err:
        simulate_batch(build("alexnet"), [SystolicArray(8, 8)], tech="3nm")
    with pytest.raises(InputError) as single:
        simulate(build("alexnet"), SystolicArray(8, 8), tech="3nm")
    assert str(err.value) == str(single.value)


def test_fractional_traffic_is_counted_in_elements_and_rounded_once():
    """vgg16_cifar's conv_8 on a 64x8 is array: the stationary ifmap windows hold 36,864 im2col elements of
    4,096 distinct 2-byte pixels, 8,192 bytes, exactly half the 16 KiB ifmap SRAM, so the two stream tiles (8 KiB of
    ofmap SRAM holds 128 positions of partial sums) share them and they cross DRAM once. Summed fold by fold in
    bytes (2/9 byte per element) they once came to 8192.000000000002 and were fetched twice."""
    arch = SystolicArray(64, 8, dataflow="is", precision="int16", ifmap_sram_kib=16, ofmap_sram_kib=8,
                         dram_bandwidth_bytes_per_cycle=1)
    lm = lay(GemmDims(m=16, n=256, k=2304), arch)
    assert lm.stream_tile == 128
    memory = gemm_memory(lm, arch, a_unique=4096 / 36864)
    assert memory.ifmap_dram_read_bytes == 8192
