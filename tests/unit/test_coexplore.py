"""NASAIC co-exploration: the search against exhaustive optima, the successive baseline against co-exploration,
spec files and the ``hwsim explore`` command."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest

from hwsim.arch.heterogeneous import Heterogeneous, Specs
from hwsim.arch.templates import SubAccelerator
from hwsim.io.template_spec import load_template
from hwsim.cli import main
from hwsim.errors import InputError
from hwsim.explore.coexplore import ExploreSpec, HardwareSpace, SearchSettings, Task, explore, search_space
from hwsim.io.explore_json import explore_spec_from_dict, read_explore_spec
from hwsim.io.netspace_json import netspace_from_dict
from hwsim.compose import schedule
from tests.conftest import REPO
from tests.models import conv_chain


def _net(name: str, widths: list[int], hw: int = 16):
    return conv_chain(name, widths, channels=8, hw=hw)


SMALL_HW = HardwareSpace(sub_accelerators=2, templates=("nvdla", "shidiannao", "eyeriss"),
                         pe_choices=(128, 256), bandwidth_choices=(4.0, 8.0), pe_budget=512,
                         bandwidth_budget_gbps=16.0, l2_kib=64)


def _hardware_spec(method: str, seed: int = 0) -> ExploreSpec:
    tasks = (Task("a", network=_net("a", [16, 32, 32])), Task("b", network=_net("b", [32, 32], hw=24)))
    return ExploreSpec(name="small", tasks=tasks, hardware=SMALL_HW,
                       specs=Specs(latency_cycles=1e5, energy_nj=1e5, area_um2=5e6),
                       search=SearchSettings(method=method, seed=seed, population=24, generations=30, episodes=40,
                                             batch=16))


def test_searches_find_the_exhaustive_optimum_on_a_small_space():
    assert search_space(_hardware_spec("exhaustive")).size == 9 * 16 * 4
    truth = explore(_hardware_spec("exhaustive"), baselines=False)
    assert truth.search.evaluations == 9 * 16 * 4
    rewards = [t.evaluation.reward for t in truth.search.trials]
    assert truth.search.best.evaluation.reward == max(rewards)
    for method in ("evolutionary", "reinforce"):
        found = explore(_hardware_spec(method, seed=1), baselines=False)
        assert found.search.evaluations < truth.search.evaluations
        assert found.search.best.evaluation.reward == truth.search.best.evaluation.reward, method
        again = explore(_hardware_spec(method, seed=1), baselines=False)  # seeded: the same run again
        assert [t.point for t in again.search.trials] == [t.point for t in found.search.trials]


def test_reward_is_minus_inf_over_budget_and_the_front_is_non_dominated():
    spec = _hardware_spec("exhaustive")
    result = explore(replace(spec, hardware=replace(spec.hardware, pe_budget=384)), baselines=False)
    over = [t for t in result.search.trials if t.point["sub0.pes"] + t.point["sub1.pes"] > 384]
    assert over and all(t.evaluation.reward == -math.inf for t in over)
    front = [result.search.trials[i].evaluation.metrics for i in result.front]
    keys = ("latency_cycles", "energy_nj", "area_um2")
    for m in front:
        for t in result.search.trials:
            o = t.evaluation.metrics
            if o:
                assert not (all(o[k] <= m[k] for k in keys) and any(o[k] < m[k] for k in keys))


def _space_doc(last: list[int]) -> dict:
    return {"format": "hwsim-netspace", "version": 1, "family": "resnet9", "name": "tiny_resnet9",
            "fixed": {"input_size": 16, "channels": [16, 32, 64, 64]}, "choices": {"channels[3]": last},
            "source": "[assumed] a test space"}


def test_successive_baseline_violates_a_spec_that_coexploration_meets():
    """The most accurate network (the wide one) cannot meet the latency spec on any design; a narrower one can.
    NAS first picks the wide one; co-exploration trades a little accuracy for a design that meets every spec."""
    space = netspace_from_dict(_space_doc([64, 512]))
    accuracy = lambda task, point: 0.90 if point["channels[3]"] == 512 else 0.85  # noqa: E731
    hw = HardwareSpace(sub_accelerators=1, templates=("nvdla", "eyeriss"), pe_choices=(256, 512),
                       bandwidth_choices=(8.0, 16.0), pe_budget=512, bandwidth_budget_gbps=16.0, l2_kib=64)
    fastest = {}
    for width in (64, 512):
        net = space.build({"channels[3]": width})
        fastest[width] = min(schedule([net], Heterogeneous((SubAccelerator(load_template(t), 512, 16.0, l2_kib=64),),
                                                           pe_budget=512, bandwidth_budget_gbps=16.0),
                                      {net.name: 0}).latency_cycles for t in hw.templates)
    assert fastest[64] < fastest[512]
    limit = math.sqrt(fastest[64] * fastest[512])
    spec = ExploreSpec(name="constructed", tasks=(Task("cls", space=space),), hardware=hw,
                       specs=Specs(latency_cycles=limit, energy_nj=1e12, area_um2=1e12),
                       search=SearchSettings(method="exhaustive"), accuracy=accuracy, accuracy_source="test table")
    result = explore(spec)
    assert result.successive_networks == {"cls": "tiny_resnet9(channels[3]=512)"}
    assert result.successive.best_feasible is None  # NAS-then-ASIC: no hardware rescues the wide network
    successive_best = result.successive.best.evaluation.metrics
    assert successive_best["latency_cycles"] > limit and successive_best["accuracy"] == 0.90
    assert result.best is not None and result.best.evaluation.feasible
    assert result.best.point["cls.channels[3]"] == 64 and result.best.evaluation.metrics["accuracy"] == 0.85
    rows = {r["Approach"]: r for r in result.comparison()}
    assert rows["co-exploration"]["Meets specs"] and not rows["successive (NAS, then hardware)"]["Meets specs"]


def _spec_doc(**changes) -> dict:
    doc = json.loads((REPO / "examples/explore/nasaic_hardware.json").read_text())
    doc["hardware"].update(pe_choices=[1024, 2048], bandwidth_choices=[16, 32], templates=["nvdla", "eyeriss"])
    doc.update(changes)
    return doc


def test_spec_file_errors_name_the_key(tmp_path):
    base = REPO / "examples/explore"
    with pytest.raises(InputError, match="field 'hardware.cores': unknown key"):
        explore_spec_from_dict(_spec_doc(hardware={"cores": 2}), base=base)
    with pytest.raises(InputError, match="field 'specs.area_um2': is required"):
        explore_spec_from_dict(_spec_doc(specs={"latency_cycles": 1, "energy_nj": 1}), base=base)
    doc = _spec_doc(tasks=[{"name": "x", "space": str(REPO / "workloads/spaces/resnet9_cifar10.json")}])
    with pytest.raises(InputError, match="field 'accuracy': is required when a task has a network space"):
        explore_spec_from_dict(doc, base=base)
    doc["accuracy"] = {"synthetic_proxy": True}
    spec = explore_spec_from_dict(doc, base=base)
    assert "SYNTHETIC" in spec.accuracy_source
    with pytest.raises(InputError, match="field 'search.method' = 'annealing': unknown search method"):
        explore_spec_from_dict(_spec_doc(search={"method": "annealing"}), base=base)


def test_explore_command_writes_results(tmp_path, capsys):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(_spec_doc()).replace('"resnet9_cifar"', '"resnet9_cifar"'))
    out = tmp_path / "out.json"
    code = main(["explore", str(path), "--json", str(out), "--csv", str(tmp_path / "t.csv"),
                 "--plot", str(tmp_path / "p.png"), "--gantt", str(tmp_path / "g.png")])
    assert code == 0
    printed = capsys.readouterr().out
    assert "best design meeting the specs" in printed and "homogeneous eyeriss" in printed
    data = json.loads(out.read_text())
    assert data["evaluations"] == 2 ** 2 * 4 * 4 * 4  # templates, PEs, bandwidths, mappings
    assert data["best"]["metrics"]["latency_cycles"] <= 800000
    assert (tmp_path / "p.png").stat().st_size > 0 and (tmp_path / "g.png").stat().st_size > 0


def test_explore_command_bad_file_exits_2(tmp_path, capsys):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(_spec_doc(cost="timeloop")))
    assert main(["explore", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"hwsim: error: {path}: field 'cost' = 'timeloop': unknown cost model "
                                        "(known: hwsim, maestro)"]
