"""The fast engine over whole networks: compat totals, memory traffic and stalls, bad hardware."""

from __future__ import annotations

import csv
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hwsim.api import SystolicArray, simulate
from hwsim.errors import InputError
from hwsim.io.scalesim_csv import read_topology
from hwsim.types import Dataflow
from hwsim.workload import NetworkBuilder
from hwsim.workload.zoo import build

from tests.conftest import REPO

TOPOLOGIES = REPO / "tests" / "data" / "scalesim"


def scalesim_total_cycles(path, rows, cols):
    """SCALE-Sim 3.0.0 WS by its own rules, from the CSV alone: per layer ceil(Sr/R) * ceil(Sc/C) folds of
    2R + C + T - 2 cycles, reported 0-indexed (topology_utils.py + systolic_compute_ws.py)."""
    total = 0
    for r in [r for r in csv.reader(open(path)) if any(c.strip() for c in r)][1:]:
        h, w, fh, fw, c, f, s = (int(x) for x in r[1:8])
        pixels = math.ceil((h - fh + s) / s) * math.ceil((w - fw + s) / s)
        folds = math.ceil(fh * fw * c / rows) * math.ceil(f / cols)
        total += folds * (2 * rows + cols + pixels - 2) - 1
    return total


@pytest.mark.parametrize("rows, cols", [(32, 32), (64, 64), (16, 8)])
def test_compat_totals_follow_scalesim_rules(rows, cols):
    path = TOPOLOGIES / "resnet50.csv"
    # the stock scale.cfg's InterfaceBandwidth (CALC): no stalls; USER stalls are tested against the goldens
    report = simulate(read_topology(path), SystolicArray(rows, cols, interface_bandwidth="CALC"), compat="scalesim")
    assert report.total.total_cycles == scalesim_total_cycles(path, rows, cols)
    assert report.total.stall_cycles == 0


def _conv_net(c, h, f, k, stride, batch=1):
    b = NetworkBuilder("n", source="test", inputs={"x": (c, h, h)}, batch=batch)
    b.conv("conv", "x", f, k, stride=stride, padding=k // 2)
    return b.build()


def touched_pixels(conv, shape):
    """Input elements some window reads (padding excluded), counted by walking the windows."""
    c, h, w = shape
    (kh, kw), (sh, sw) = conv.kernel, conv.stride
    top, _, left, _ = conv.padding
    _, ho, wo = conv.output_shape([shape])
    rows = {y * sh - top + i for y in range(ho) for i in range(kh)} & set(range(h))
    cols = {x * sw - left + j for x in range(wo) for j in range(kw)} & set(range(w))
    return c * len(rows) * len(cols)


convs = st.tuples(st.integers(1, 64), st.integers(4, 40), st.integers(1, 96), st.sampled_from([1, 3, 5]),
                  st.integers(1, 2))
dataflows = st.sampled_from(list(Dataflow)[:1] + [Dataflow.OUTPUT_STATIONARY, Dataflow.INPUT_STATIONARY])


@given(convs, dataflows, st.sampled_from([8, 16, 32]), st.floats(1, 64), st.floats(1, 64))
def test_more_bandwidth_never_stalls_more(conv, dataflow, size, bw_low, bw_extra):
    net = _conv_net(*conv)
    low = simulate(net, SystolicArray(size, size, dataflow=dataflow, dram_bandwidth_bytes_per_cycle=bw_low))
    high = simulate(net, SystolicArray(size, size, dataflow=dataflow,
                                       dram_bandwidth_bytes_per_cycle=bw_low + bw_extra))
    assert high.total.stall_cycles <= low.total.stall_cycles
    assert high.total.compute_cycles == low.total.compute_cycles


@given(convs, dataflows, st.sampled_from([8, 16]))
def test_with_ample_memory_traffic_is_compulsory_and_nothing_stalls(conv, dataflow, size):
    """Big SRAMs and bandwidth: each input pixel, weight and output crosses DRAM exactly once."""
    net = _conv_net(*conv)
    arch = SystolicArray(size, size, dataflow=dataflow, ifmap_sram_kib=1 << 16, filter_sram_kib=1 << 16,
                         ofmap_sram_kib=1 << 16, dram_bandwidth_bytes_per_cycle=1e9)
    layer = simulate(net, arch).layers[0]
    stats = net.stats("conv")
    assert layer.stall_cycles == 0
    assert layer.ifmap_dram_read_bytes == touched_pixels(net.layer("conv"), stats.input_shapes[0])
    assert layer.filter_dram_read_bytes == stats.params
    assert layer.ofmap_dram_write_bytes == math.prod(stats.output_shape)
    assert layer.ofmap_dram_read_bytes == 0


def test_small_ofmap_sram_tiles_the_stream_instead_of_spilling():
    net = build("resnet50")
    small = simulate(net, SystolicArray(64, 64, ofmap_sram_kib=16))
    big = simulate(net, SystolicArray(64, 64, ofmap_sram_kib=4096))
    assert small.total.ofmap_dram_read_bytes == 0  # partial sums never leave the chip
    assert small.total.compute_cycles > big.total.compute_cycles  # the stationary tiles are loaded per stream tile
    assert small.total.ofmap_dram_write_bytes == big.total.ofmap_dram_write_bytes


def test_memory_only_layers_cost_traffic_and_views_cost_nothing():
    b = NetworkBuilder("n", source="test", inputs={"x": (8, 16, 16)})
    p = b.pool("pool", "x", "max", 2)
    b.reshape("flat", p, (512,))
    report = simulate(b.build(), SystolicArray(8, 8, dram_bandwidth_bytes_per_cycle=16))
    pool, flat = report.layers
    assert (pool.ifmap_dram_read_bytes, pool.ofmap_dram_write_bytes) == (8 * 16 * 16, 8 * 8 * 8)
    assert pool.total_cycles == math.ceil((2048 + 512) / 16) and pool.bound == "memory"
    assert flat.total_cycles == 0 and flat.dram_bytes == 0


def test_batch_scales_work_and_report_totals_add_up():
    one = simulate(_conv_net(16, 16, 32, 3, 1), SystolicArray(16, 16))
    four = simulate(_conv_net(16, 16, 32, 3, 1, batch=4), SystolicArray(16, 16))
    assert four.total.macs == 4 * one.total.macs
    report = simulate(build("resnet18"), SystolicArray(32, 32))
    assert report.total.total_cycles == sum(layer.total_cycles for layer in report.layers)
    assert report.total.macs == build("resnet18").macs


def test_packing_helps_depthwise_networks():
    net = build("mobilenet_v1")
    plain = simulate(net, SystolicArray(64, 64))
    packed = simulate(net, SystolicArray(64, 64), pack=True)
    assert packed.total.compute_cycles < plain.total.compute_cycles
    assert packed.total.macs == plain.total.macs == net.macs


def test_a_fold_that_cannot_fit_is_an_error():
    with pytest.raises(InputError) as err:
        simulate(build("resnet18"), SystolicArray(64, 64, filter_sram_kib=4))
    assert str(err.value) == ("layer 'conv1': field 'filter_sram_kib' = 4: one fold's filter tile (4096 bytes) does "
                              "not fit half of the 4 KiB filter SRAM (it is double-buffered)")


def test_unknown_compat_mode():
    with pytest.raises(InputError) as err:
        simulate(build("resnet18"), SystolicArray(8, 8), compat="timeloop")
    assert str(err.value) == "field 'compat' = 'timeloop': unknown compatibility mode (known: scalesim)"
