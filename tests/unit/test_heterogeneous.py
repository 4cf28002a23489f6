"""Heterogeneous designs: budgets, mapping, list scheduling of several networks, specs."""

from __future__ import annotations

import pytest

from hwsim.arch.heterogeneous import Heterogeneous, Specs
from hwsim.arch.templates import SubAccelerator
from hwsim.io.template_spec import load_template
from hwsim.errors import InputError
from hwsim.compose import schedule
from hwsim.sim.template import template_layer
from hwsim.workload import NetworkBuilder
from hwsim.workload.zoo import build
from tests.models import conv_chain


def _chain(name: str, widths: list[int], hw: int = 8):
    return conv_chain(name, widths, channels=4, hw=hw)


def _branchy():
    """x -> a; a -> b1, a -> b2 (independent); add(b1, b2)."""
    b = NetworkBuilder("branchy", source="test", inputs={"x": (8, 8, 8)})
    a = b.conv("a", "x", 8, 3, padding=1)
    b1 = b.conv("b1", a, 8, 3, padding=1)
    b2 = b.conv("b2", a, 8, 1)
    b.eltwise("add", [b1, b2], "add")
    return b.build()


NVDLA, EYERISS = load_template("nvdla"), load_template("eyeriss")
NV = SubAccelerator(NVDLA, 256, 16)
EY = SubAccelerator(EYERISS, 256, 16)


def test_budgets_are_enforced():
    with pytest.raises(InputError) as err:
        Heterogeneous((SubAccelerator(NVDLA, 3000, 16), SubAccelerator(EYERISS, 2000, 16)))
    assert str(err.value) == "field 'pes' = [3000, 2000]: the sub-accelerators' PEs sum to 5000, over the budget of 4096"
    with pytest.raises(InputError, match="bandwidths sum to 80 GB/s, over the budget of 64"):
        Heterogeneous((SubAccelerator(NVDLA, 1024, 40), SubAccelerator(EYERISS, 1024, 40)))
    Heterogeneous((SubAccelerator(NVDLA, 1024, 40), SubAccelerator(EYERISS, 1024, 40)), pe_budget=2048,
                  bandwidth_budget_gbps=80)
    with pytest.raises(InputError, match="needs at least one sub-accelerator"):
        Heterogeneous(())
    with pytest.raises(InputError, match="share one clock"):
        Heterogeneous((SubAccelerator(NVDLA, 64, 4, clock_mhz=500), SubAccelerator(NVDLA, 64, 4)))


def test_two_networks_on_two_subs_run_in_parallel():
    a, b = _chain("a", [8, 8]), _chain("b", [16, 16, 16])
    design = Heterogeneous((NV, EY))
    r = schedule([a, b], design, {"a": 0, "b": 1})
    own_a = sum(template_layer(a, s, NV).cycles for s in a)
    own_b = sum(template_layer(b, s, EY).cycles for s in b)
    assert r.network_latency_cycles("a") == own_a and r.network_latency_cycles("b") == own_b
    assert r.latency_cycles == max(own_a, own_b)
    assert [s.busy_cycles for s in r.subs] == [own_a, own_b]
    assert r.subs[0].utilization == pytest.approx(a.macs / (NV.pes * r.latency_cycles))
    assert r.area_um2 == pytest.approx(sum(s.area_um2 for s in r.subs))
    # energy = layers + idle leakage (+ no hand-offs: each network stays on one sub)
    assert r.handoff_dram_pj == 0
    assert r.energy_nj == pytest.approx((sum(x.energy.total_pj for x in r.layers) + r.idle_leakage_pj) / 1e3)


def test_sharing_one_sub_serialises_the_networks():
    a, b = _chain("a", [8, 8]), _chain("b", [16, 16, 16])
    r = schedule([a, b], Heterogeneous((NV, EY)), {"a": 0, "b": 0})
    assert r.latency_cycles == sum(template_layer(n, s, NV).cycles for n in (a, b) for s in n)
    assert r.subs[1].busy_cycles == 0
    spans = sorted((x.start, x.end) for x in r.layers)
    assert all(e1 <= s2 for (_, e1), (s2, _) in zip(spans, spans[1:]))  # one layer at a time


def test_layer_mapping_respects_dependencies_and_overlaps_branches():
    net = _branchy()
    design = Heterogeneous((NV, SubAccelerator(NVDLA, 256, 16)))
    r = schedule([net], design, {"branchy": 0, "branchy/b2": 1})
    slot = {x.layer: x for x in r.layers}
    assert slot["b1"].start >= slot["a"].end and slot["b2"].start >= slot["a"].end
    assert slot["add"].start >= max(slot["b1"].end, slot["b2"].end)
    assert slot["b2"].sub == 1 and slot["b1"].sub == 0
    assert slot["b1"].start == slot["b2"].start == slot["a"].end  # the branches run at the same time
    assert r.handoff_dram_pj > 0  # a's output crosses to sub 1, b2's comes back


def test_longest_remaining_path_goes_first():
    """Two ready layers on one sub: the one with more work behind it starts first (upward rank)."""
    short, long = _chain("short", [8]), _chain("long", [8, 8, 8, 8])
    r = schedule([short, long], Heterogeneous((NV,)), {"short": 0, "long": 0})
    first = min(r.layers, key=lambda x: x.start)
    assert first.network == "long"


def test_mapping_errors():
    a = _chain("a", [8])
    design = Heterogeneous((NV, EY))
    with pytest.raises(InputError, match="field 'mapping' = 'a/c0': is not mapped"):
        schedule([a], design, {})
    with pytest.raises(InputError, match="field 'mapping.a' = 2: must be a sub-accelerator index from 0 to 1"):
        schedule([a], design, {"a": 2})
    with pytest.raises(InputError, match="field 'mapping' = 'z': names no network"):
        schedule([a], design, {"a": 0, "z": 1})
    with pytest.raises(InputError, match="field 'cost' = 'x': unknown cost model"):
        schedule([a], design, {"a": 0}, cost="x")


def test_specs_report_met_and_margin():
    r = schedule([_chain("a", [8])], Heterogeneous((NV,)), {"a": 0})
    checks = Specs(latency_cycles=2 * r.latency_cycles, energy_nj=r.energy_nj / 2).check(r.metrics())
    assert [(c.name, c.met) for c in checks] == [("latency_cycles", True), ("energy_nj", False)]
    assert checks[0].margin_pct == pytest.approx(50.0) and checks[1].margin_pct == pytest.approx(-100.0)
    with pytest.raises(InputError, match="field 'specs.area_um2' = -1: must be a number > 0"):
        Specs(area_um2=-1)


def test_nasaic_pair_runs_with_both_cost_models():
    nets = [build("resnet9_cifar"), build("unet_nuclei")]
    design = Heterogeneous((SubAccelerator(NVDLA, 2048, 32), SubAccelerator(EYERISS, 2048, 32)))
    hw = schedule(nets, design, {"resnet9_cifar": 0, "unet_nuclei": 1})
    ma = schedule(nets, design, {"resnet9_cifar": 0, "unet_nuclei": 1}, cost="maestro")
    assert hw.latency_cycles == ma.latency_cycles
    assert ma.energy_nj == pytest.approx(ma.maestro_energy_mac_units * ma.maestro_mac_pj / 1e3)
    assert hw.energy_nj == hw.hwsim_energy_nj and ma.area_um2 != hw.area_um2
    assert sum(x.macs for x in hw.layers) == nets[0].macs + nets[1].macs
