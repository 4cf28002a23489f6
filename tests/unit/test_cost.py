"""Energy and area: the tables against the world, the accounting against the dataflows, node scaling."""

from __future__ import annotations

import copy
import json
import math
from dataclasses import fields
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hwsim.api import SystolicArray, simulate
from hwsim.cost.area import systolic_area
from hwsim.io.tech import bundled_nodes, load_technology
from hwsim.errors import InputError
from hwsim.cost import EnergyBreakdown
from hwsim.types import Dataflow
from hwsim.workload import NetworkBuilder

TECH = load_technology("45nm")


def test_eyeriss_energy_hierarchy():
    """Chen, Emer, Sze, 'Eyeriss: A Spatial Architecture for Energy-Efficient Dataflow for CNNs', ISCA 2016, Fig. 1
    (normalised energy per 16-bit access, relative to one 16-bit MAC): RF 1x, PE array (NoC) 2x, global buffer 6x,
    DRAM 200x. The issue's tolerance: within a factor of 2 of each. Evaluated at Eyeriss's own sizes: a 0.5 KiB RF
    per PE (an SRAM of that size), a 108 KiB global buffer, a 16-bit word over ~1.5 mm of the array's buses."""
    mac = TECH.mac_energy_pj("int16")
    ratios = {
        "rf": TECH.sram_energy_pj(0.5, 16) / mac,
        "noc": (TECH.wire_energy_pj(16, 1.5) + TECH.register_energy_pj(16)) / mac,
        "buffer": TECH.sram_energy_pj(108, 16) / mac,
        "dram": TECH.dram_energy_pj(2) / mac,
    }
    eyeriss = {"rf": 1, "noc": 2, "buffer": 6, "dram": 200}
    for level, ratio in ratios.items():
        assert eyeriss[level] / 2 <= ratio <= eyeriss[level] * 2, (level, ratio)


def _conv(name, c, hw, f, k, batch=1):
    b = NetworkBuilder(name, source="test", inputs={"x": (c, hw, hw)}, batch=batch)
    b.conv("layer", "x", f, k, padding=k // 2)
    return b.build()


def _fc(k, n):
    b = NetworkBuilder("fc", source="test", inputs={"x": (k,)})
    b.fc("layer", "x", n)
    return b.build()


def test_dram_heavy_and_compute_heavy_layers():
    """A batch-1 FC touches each weight once: DRAM dominates. A wide 3x3 convolution reuses every weight and pixel
    hundreds of times: the MACs and the PE registers matter, DRAM does not dominate."""
    arch = SystolicArray(32, 32, ifmap_sram_kib=512, filter_sram_kib=512, ofmap_sram_kib=512)
    fc = simulate(_fc(4096, 4096), arch).total_energy
    assert fc.dram_pj > 0.5 * fc.total_pj
    conv = simulate(_conv("conv", 128, 28, 128, 3), arch).total_energy
    assert conv.mac_pj + conv.register_pj > 0.2 * conv.total_pj
    assert conv.dram_pj < 0.5 * conv.total_pj


@given(st.integers(8, 128), st.integers(4, 32), st.integers(8, 128), st.sampled_from([1, 3]), st.sampled_from([8, 16]))
def test_ws_and_os_move_energy_between_sram_operands(c, hw, f, k, size):
    """WS keeps filters in the PEs (read once from SRAM) and re-reads partial sums; OS keeps outputs (written once)
    and re-reads filters once per row fold. So WS never spends more on filter SRAM, OS never more on ofmap SRAM."""
    net = _conv("conv", c, hw, f, k)
    ws = simulate(net, SystolicArray(size, size, dataflow=Dataflow.WEIGHT_STATIONARY)).total_energy
    os_ = simulate(net, SystolicArray(size, size, dataflow=Dataflow.OUTPUT_STATIONARY)).total_energy
    assert ws.sram_filter_pj <= os_.sram_filter_pj
    assert os_.sram_ofmap_pj <= ws.sram_ofmap_pj
    assert ws.mac_pj == os_.mac_pj


@pytest.mark.parametrize("node", [n for n in bundled_nodes() if n != "45nm"])
def test_node_scaling_is_exactly_the_tables_factors(node):
    """tables/scaling.json: logic and SRAM energy (leakage too) by energy_factor, DRAM by dram_energy_factor, a hop's
    wire by wire_energy_factor times its length, the PE's side, which shrinks as the square root of area_factor."""
    f = json.loads(resources.files("hwsim.cost").joinpath("tables", "scaling.json").read_text())["nodes"][node]
    expected = {name: f["energy_factor"] for name in ("mac_pj", "register_pj", "sram_ifmap_pj", "sram_filter_pj",
                                                       "sram_ofmap_pj", "leakage_pj", "pruning_pj")}
    expected["dram_pj"] = f["dram_energy_factor"]
    expected["noc_pj"] = f["wire_energy_factor"] * math.sqrt(f["area_factor"])
    net = _conv("conv", 32, 16, 32, 3)
    arch = SystolicArray(16, 16)
    base, scaled = simulate(net, arch, tech="45nm"), simulate(net, arch, tech=node)
    assert set(expected) == {field.name for field in fields(EnergyBreakdown)}
    for name, factor in expected.items():
        assert getattr(scaled.total_energy, name) == pytest.approx(getattr(base.total_energy, name) * factor,
                                                                   rel=1e-12), name
    assert scaled.area.total_um2 == pytest.approx(base.area.total_um2 * f["area_factor"], rel=1e-12)


def test_area_breakdown_adds_up_and_grows_with_the_array():
    small = systolic_area(SystolicArray(16, 16), TECH)
    big = systolic_area(SystolicArray(64, 64), TECH)
    assert big.array_um2 == pytest.approx(16 * small.array_um2)
    assert big.sram_um2 == small.sram_um2
    rows = big.rows()
    assert rows[-1]["Area um2"] == pytest.approx(sum(r["Area um2"] for r in rows[1:-1]))
    fp = systolic_area(SystolicArray(64, 64, precision="fp16"), TECH)
    assert fp.pe_um2 > big.pe_um2


def test_energy_counts_every_mac():
    report = simulate(_conv("conv", 16, 8, 16, 3), SystolicArray(8, 8))
    assert report.total_energy.mac_pj == pytest.approx(report.total.macs * TECH.mac_energy_pj("int8"))
    assert report.summary()["TOPS/W"] == pytest.approx(2 * report.total.macs / report.total_energy.total_pj)


def test_user_table_is_checked_on_load(tmp_path):
    table = copy.deepcopy(TECH.table)
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(table))
    assert load_technology(str(path)).mac_energy_pj("int8") == TECH.mac_energy_pj("int8")
    del table["dram"]["energy_pj_per_byte"]
    path.write_text(json.dumps(table))
    with pytest.raises(InputError) as err:
        load_technology(str(path))
    assert str(err.value) == f"{path}: field 'dram.energy_pj_per_byte': is required"
    table = copy.deepcopy(TECH.table)
    table["mult"]["int8"]["energy_pj"]["value"] = -1
    path.write_text(json.dumps(table))
    with pytest.raises(InputError) as err:
        load_technology(str(path))
    assert str(err.value) == f"{path}: field 'mult.int8.energy_pj.value' = -1: must be a number > 0"


def test_unknown_technology():
    with pytest.raises(InputError) as err:
        load_technology("3nm")
    assert str(err.value).startswith("field 'tech' = '3nm': expected a bundled node (45nm,")
