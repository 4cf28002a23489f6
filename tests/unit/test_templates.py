"""Template sub-accelerators: the cycle model against hand-worked layers, buffers, template files, MAESTRO cost."""

from __future__ import annotations

import json
import math
from importlib import resources

import pytest

from hwsim.arch.templates import SubAccelerator, Template
from hwsim.cost.template import maestro_area_um2, maestro_energy_mac_units
from hwsim.errors import InputError
from hwsim.io.tech import load_technology
from hwsim.io.template_spec import load_template
from hwsim.sim.template import template_layer
from hwsim.workload import NetworkBuilder


def _one_conv(c: int, k: int, hw: tuple[int, int], kernel: int = 1, **kw):
    b = NetworkBuilder("t", source="test", inputs={"x": (c, *hw)})
    b.conv("conv", "x", k, kernel, **kw)
    net = b.build()
    return net, net.stats("conv")


def _sub(template: str, pes: int, bytes_per_cycle: float = 1.0, **kw) -> SubAccelerator:
    return SubAccelerator(load_template(template), pes, bandwidth_gbps=bytes_per_cycle, clock_mhz=1000.0, **kw)


def test_nvdla_hand_worked_1x1():
    """NVDLA on 4 PEs (one cluster of 4), 1 byte/cycle, hop latency 1; a 1x1 conv C=2 -> K=2 on 2x2 pixels.

    Tiles: C 2 within the cluster, K 1 across the single cluster; loops that step: K (2), Y (2), X (2): 8 steps of
    1 MAC. Step tiles: weights K x C = 2 B, inputs C = 2 B, outputs 1. NoC delay for d bytes: 1 + d - 1 = d.
    first step: ingress 4 B -> 4, + compute 1                        =  5
    K advances (1 step): weights, inputs and outputs change: max(4, 1, 1) =  4
    Y advances (2 steps): inputs (2 B) and outputs: max(2, 1, 1) x 2      =  4
    X advances (4 steps): inputs (2 B, 1x1: no overlap) and outputs: 2 x 4 =  8
    last outputs leave: 1 B                                               =  1
    total 22 cycles; 8 MACs on 2 PEs per step.
    """
    net, stats = _one_conv(2, 2, (2, 2))
    r = template_layer(net, stats, _sub("nvdla", 4))
    assert (r.cycles, r.steps, r.compute_cycles, r.macs, r.used_pes) == (22, 8, 8, 16, 2)


def test_nvdla_partial_sums_return_from_l2():
    """NVDLA on 4 PEs, 1x1 conv C=8 -> K=1, 1x2 pixels: C takes two tiles of 4 outside X, so each output is left
    as a 32-bit partial sum once and read back once (2 of the 4 output visits).

    Step tiles: weights 4 B, inputs 4 B, output 1. Partial-sum share of output changes: 2/4; mean egress
    0.5 x 4 B + 0.5 x 1 B = 2.5 B (3 cycles); mean read-back 0.5 x 4 B = 2 B.
    first step: 8 B in -> 8, + 1                                    =  9
    C advances (1 step): in 4 + 4 + 2 = 10 B; out 2.5 B -> max(10, 1, 3) = 10
    X advances (2 steps): in 4 + 2 = 6 B; out 2.5 B -> max(6, 1, 3) x 2  = 12
    last outputs: 1 B                                                   =  1
    """
    net, stats = _one_conv(8, 1, (1, 2))
    r = template_layer(net, stats, _sub("nvdla", 4))
    assert r.cycles == 32
    assert r.l2_psum_accesses == 2 * 2  # two partial sums, each written out and read back
    # NoC bytes: weights 2 tiles x 4 + inputs 4 tiles x 4 (int8), 2 partial sums out and back (4 B each), 2 outputs
    assert r.noc_bytes == (8 + 16) + 2 * 4 * 2 + 2


def test_shidiannao_keeps_partial_sums_in_the_pes():
    """ShiDianNao: input channels are the innermost loop, so an output never leaves its PE before it is done."""
    net, stats = _one_conv(16, 4, (8, 8), kernel=3, padding=1)
    r = template_layer(net, stats, _sub("shidiannao", 64, 8.0))
    assert r.l2_psum_accesses == 0
    assert r.l2_writes == 4 * 8 * 8  # every output written once
    assert r.used_pes == 64  # 8 columns in a cluster x 8 rows across


def test_eyeriss_row_stationary_shape():
    """Eyeriss: clusters of R PEs, one per filter row; rows across, then output channels; S x X MACs a step."""
    net, stats = _one_conv(4, 8, (6, 6), kernel=3, padding=1)
    r = template_layer(net, stats, _sub("eyeriss", 60, 4.0))
    # 60 PEs: 20 clusters of 3; 6 output rows, then 20 // 6 = 3 output channels: 3 x 6 x 3 = 54 PEs.
    assert r.used_pes == 54
    # loops that step: K (ceil(8/3) = 3), C (4): 12 steps of S x X = 3 x 6 = 18 MACs.
    assert (r.steps, r.compute_cycles) == (12, 12 * 18)
    assert r.macs == 4 * 8 * 36 * 9


@pytest.mark.parametrize("template", ["nvdla", "shidiannao", "eyeriss"])
def test_cycles_never_below_compute_and_more_bandwidth_never_slower(template):
    net, stats = _one_conv(32, 32, (16, 16), kernel=3, padding=1)
    slow = template_layer(net, stats, _sub(template, 256, 2.0))
    fast = template_layer(net, stats, _sub(template, 256, 64.0))
    assert fast.cycles <= slow.cycles
    assert fast.cycles >= fast.compute_cycles
    assert slow.macs == fast.macs == 32 * 32 * 256 * 9
    assert math.ceil(slow.macs / 256) <= fast.compute_cycles


def test_l1_too_small_is_an_error_naming_the_layer():
    net, stats = _one_conv(4, 4, (8, 8), kernel=7, padding=3)
    with pytest.raises(InputError) as err:
        template_layer(net, stats, _sub("nvdla", 64, l1_bytes=64))
    assert str(err.value) == ("layer 'conv': field 'l1_bytes' = 64: needs 200 bytes of L1 per PE on nvdla (has 64)")


def test_l2_too_small_is_an_error_and_a_big_layer_spills():
    net, stats = _one_conv(64, 64, (32, 32), kernel=3, padding=1)
    with pytest.raises(InputError, match="field 'l2_kib' = 1: needs .* KiB of L2"):
        template_layer(net, stats, _sub("nvdla", 1024, l2_kib=1))
    small = template_layer(net, stats, _sub("nvdla", 1024, l2_kib=64))
    big = template_layer(net, stats, _sub("nvdla", 1024, l2_kib=4096))
    assert big.spill_bytes == 0 and big.dram_bytes == 64 * 64 * 9 + 64 * 32 * 32 + 64 * 32 * 32
    assert small.spill_bytes > 0 and small.dram_bytes == big.dram_bytes + small.spill_bytes


def test_memory_only_layer_streams_through_the_noc():
    b = NetworkBuilder("t", source="test", inputs={"x": (8, 4, 4)})
    b.pool("pool", "x", "max", 2)
    net = b.build()
    r = template_layer(net, net.stats("pool"), _sub("nvdla", 16, 4.0))
    # 128 B in (32 cycles), 32 B out (8 cycles): max(32, 8) + 1 hop
    assert (r.cycles, r.macs, r.noc_bytes) == (33, 0, 160)


def test_user_template_file_defines_a_new_template(tmp_path):
    doc = json.loads(resources.files("dataflows").joinpath("nvdla.json").read_text())
    doc.update(name="nvdla32", spatial={"across": "K", "within": "C", "cluster_size": 32})
    path = tmp_path / "nvdla32.json"
    path.write_text(json.dumps(doc))
    t = load_template(str(path))
    assert isinstance(t, Template) and t.cluster_size == 32
    net, stats = _one_conv(64, 64, (4, 4))
    assert template_layer(net, stats, SubAccelerator(t, 64, 8)).used_pes == 64  # 2 clusters x 32
    doc["temporal_order"] = ["G", "N", "K", "C", "Y"]
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError) as err:
        load_template(str(path))
    assert "field 'temporal_order'" in str(err.value) and "must list each of G, N, K, C, Y, X once" in str(err.value)


def test_unknown_template_and_bad_sub_accelerator():
    with pytest.raises(InputError, match="field 'template' = 'tpu': unknown template"):
        load_template("tpu")
    with pytest.raises(InputError, match="field 'pes' = 0: must be a whole number >= 1"):
        SubAccelerator(load_template("nvdla"), 0, 8)
    with pytest.raises(InputError, match="field 'template' = 'nvdla': must be a Template"):
        SubAccelerator("nvdla", 64, 8)


def test_maestro_cost_formulas():
    net, stats = _one_conv(2, 2, (2, 2))
    r = template_layer(net, stats, _sub("nvdla", 4))
    tech = load_technology("28nm")
    assert maestro_energy_mac_units(r, tech) == pytest.approx(18.61 * (r.l2_reads + r.l2_writes)
                                                         + 1.68 * (r.l1_reads + r.l1_writes) + r.macs)
    sub = SubAccelerator(load_template("nvdla"), 16, 16.0, l1_bytes=100, l2_kib=40)  # 16 B/cycle = 16 int8 words/cycle
    expected = (16 * (4470.9 + 4505.19 * 2) + 4161.5 * 2 + 101.79 * (14.662 * 16 + 28.895) * 16
                + 395.47 * (1.2886 * 256 + 5.5814 * 16 - 23.711))
    assert maestro_area_um2(sub, tech) == pytest.approx(expected, rel=1e-12)
