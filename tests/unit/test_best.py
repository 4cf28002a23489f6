"""``--dataflow best``: each layer on the registered mapping best for it, by cycles or by energy."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from hwsim.arch.systolic import SystolicArray
from hwsim.compose import simulate, simulate_best
from hwsim.errors import InputError
from hwsim.mapping import MAPPINGS
from hwsim.workload.zoo import build


@pytest.mark.parametrize("name", ["mobilenet_v2", "resnet18_cifar"])
def test_best_by_cycles_takes_each_layers_fastest_mapping(name):
    network, arch = build(name), SystolicArray(32, 32)
    single = {df: simulate(network, replace(arch, dataflow=df)) for df in MAPPINGS}
    best = simulate_best(network, arch, objective="cycles")
    for i, layer in enumerate(best.layers):
        fastest = min(r.layers[i].total_cycles for r in single.values())
        assert layer.total_cycles == fastest, layer.layer
        assert layer == single[layer.dataflow].layers[i]  # the very counts of the mapping it names
    assert best.total.total_cycles <= min(r.total.total_cycles for r in single.values())
    assert len({layer.dataflow for layer in best.layers if layer.macs}) > 1  # a real mix, not one dataflow
    assert best.summary()["Dataflow"] == "best (cycles)"


def test_best_by_energy_takes_each_layers_cheapest_mapping():
    network, arch = build("mobilenet_v2"), SystolicArray(32, 32)
    best = simulate_best(network, arch, objective="energy")
    by_cycles = simulate_best(network, arch, objective="cycles")
    for mine, other in zip(best.energy, by_cycles.energy):
        assert mine.total_pj <= other.total_pj * (1 + 1e-12)
    assert best.total_energy.total_pj < by_cycles.total_energy.total_pj
    # the array holds every candidate's PE: its area is the largest single-dataflow area
    areas = [simulate(network, replace(arch, dataflow=df)).area.total_um2 for df in MAPPINGS]
    assert best.area.total_um2 == max(areas)


def test_a_layer_runs_on_the_mapping_that_fits():
    """A 4 KiB filter SRAM cannot hold a full 64x64 ws tile (4 KiB > its 2 KiB half): those layers fall to os or is,
    and the layers whose tiles do fit may still run ws."""
    network, arch = build("resnet18_cifar"), SystolicArray(64, 64, filter_sram_kib=4)
    with pytest.raises(InputError):
        simulate(network, arch)
    best = simulate_best(network, arch)
    too_big = {s.name for s in network if s.gemm and min(64, s.gemm.k) * min(64, s.gemm.n) > 2048}
    assert too_big and all(layer.dataflow != "ws" for layer in best.layers if layer.layer in too_big)


def test_no_mapping_fits_names_the_layer():
    arch = SystolicArray(64, 64, filter_sram_kib=4, ifmap_sram_kib=4, ofmap_sram_kib=4)
    with pytest.raises(InputError, match=re.escape("layer 'layer1.0.conv1': field 'filter_sram_kib' = 4: one fold's "
                                                   "filter tile (4096 bytes) does not fit")):
        simulate_best(build("resnet18_cifar"), arch)


def test_unknown_objective():
    with pytest.raises(InputError, match=re.escape("field 'objective' = 'area': unknown objective (known: cycles, "
                                                   "energy)")):
        simulate_best(build("resnet18_cifar"), SystolicArray(8, 8), objective="area")


def test_command_line_best_writes_each_layers_dataflow(tmp_path, capsys):
    from hwsim.cli import main

    out = tmp_path / "best.json"
    assert main(["run", "mobilenet_v2", "--array", "32x32", "--dataflow", "best", "--objective", "energy",
                 "--json", str(out), "--quiet"]) == 0
    import json

    doc = json.loads(out.read_text())
    expected = simulate_best(build("mobilenet_v2"), SystolicArray(32, 32), objective="energy")
    assert doc["summary"]["Dataflow"] == "best (energy)"
    assert [row["Dataflow"] for row in doc["layers"]] == [layer.dataflow for layer in expected.layers]
    assert doc["total"]["Total Cycles"] == expected.total.total_cycles


@pytest.mark.parametrize("args, message", [
    (["--objective", "energy"], "hwsim: error: field '--objective' = 'energy': needs --dataflow best"),
    (["--dataflow", "best", "--objective", "area"],
     "hwsim: error: field 'objective' = 'area': unknown objective (known: cycles, energy)"),
])
def test_command_line_best_bad_input(args, message, capsys):
    from hwsim.cli import main

    assert main(["run", "resnet18_cifar", "--array", "16x16", *args]) == 2
    assert capsys.readouterr().err.strip() == message
