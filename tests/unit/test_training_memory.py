"""SAT training through the memory model: stalls per pass, offline scheduling with memory, SAT's own DRAM traffic."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from hwsim.arch.sat import SatArray
from hwsim.compose import simulate_training
from hwsim.errors import InputError
from hwsim.io.tech import load_technology
from hwsim.mapping import lay
from hwsim.sim.compute import gemm_compute
from hwsim.sim.memory import fits
from hwsim.sim.training import training_counts
from hwsim.types import Dataflow
from hwsim.workload import NetworkBuilder, Network
from hwsim.workload.lowering import GemmDims
from hwsim.workload.sparsity import NMSparsity
from hwsim.workload.training import Pass
from hwsim.workload.zoo import build

UNLIMITED = 1e12  # bytes per cycle: no GEMM waits on DRAM


def cnn(batch: int = 4) -> Network:
    """conv1 (K = 27, N = 16) -> conv2 (K = 144, N = 32, stride 2) -> pool -> fc (K = 512, N = 10)."""
    b = NetworkBuilder("cnn", source="test", inputs={"image": (3, 16, 16)}, batch=batch)
    x = b.conv("conv1", "image", 16, 3, padding=1, batchnorm=True, activation="relu")
    x = b.conv("conv2", x, 32, 3, stride=2, padding=1)
    x = b.pool("pool", x, "max", 2)
    b.fc("fc", x, 10, bias=True)
    return b.build()


def sat_with(**array) -> SatArray:
    base = SatArray()
    return replace(base, array=replace(base.array, **array))


@pytest.fixture(scope="module")
def resnet18():
    return replace(build("resnet18_cifar"), batch=4)


def test_stalls_are_whole_non_negative_and_finite(resnet18):
    report = simulate_training(resnet18, scheme="bdwp", sparsity="2:8")
    for r in (report, report.dense):
        for p in r.passes:
            for value in (p.stall_cycles, p.update_stall_cycles, p.dram_bytes):
                assert isinstance(value, int) and value >= 0
        stalls = r.stalls()
        assert set(stalls) == {"ff", "bp", "wu", "update"}
        assert all(isinstance(v, int) and 0 <= v < math.inf for v in stalls.values())
    # the assumed 32 bytes/cycle makes the sparse step wait more than the dense one: same bytes, fewer MACs
    assert report.stall_cycles() / report.cycles() > report.dense.stall_cycles() / report.dense.cycles() > 0


@pytest.mark.parametrize("scheme, sparsity", [("bdwp", "2:8"), ("forward", "1:4")])
def test_unlimited_bandwidth_and_big_srams_give_the_compute_only_cycles(scheme, sparsity):
    sat = sat_with(dram_bandwidth_bytes_per_cycle=UNLIMITED, ifmap_sram_kib=1 << 16, filter_sram_kib=1 << 16,
                   ofmap_sram_kib=1 << 16)
    report = simulate_training(cnn(), sat, scheme=scheme, sparsity=sparsity)
    for r in (report, report.dense):
        assert r.stall_cycles() == 0
        compute_only = 0
        for p in r.passes:
            nm = NMSparsity.parse(p.sparsity) if p.sparsity != "dense" else NMSparsity(1, 1)
            gemm = GemmDims(p.m, p.n, p.k, p.repeat)
            best = min(gemm_compute(lay(gemm, replace(sat.array, dataflow=d), n_keep=nm.n, m_group=nm.m),
                                    interleave=True).cycles for d in sat.dataflows)
            assert p.cycles == best
            compute_only += best + p.update_cycles + p.pruning_cycles
        assert r.cycles() == compute_only


def test_more_bandwidth_never_costs_cycles():
    net = cnn(batch=8)
    previous = None
    for bandwidth in (0.5, 2, 7.5, 32, 128, UNLIMITED):
        report = simulate_training(net, sat_with(dram_bandwidth_bytes_per_cycle=bandwidth), sparsity="2:8")
        now = [report.cycles(p) for p in Pass] + [report.cycles(), report.dense.cycles(), report.stall_cycles()]
        if previous is not None:
            assert all(a <= b for a, b in zip(now, previous)), (bandwidth, now, previous)
        previous = now


def test_master_weight_update_bytes_follow_the_formula():
    """Read: FP32 master + FP16 gradient; write: FP32 master + the copies the next step reads (12 B/weight dense).

    BDWP 2:8 writes each pass's compressed copy, kept values plus 3-bit indices, ``kept * (16 + 3) / 8`` bytes; conv1
    has no BP (nothing upstream learns), so only its FF copy."""
    weights = {"conv1": 27 * 16, "conv2": 144 * 32, "fc": 512 * 10}
    kept = {"conv1": {"ff": 16 * 8}, "conv2": {"ff": 32 * 36, "bp": 144 * 8}, "fc": {"ff": 10 * 128, "bp": 512 * 4}}
    report = simulate_training(cnn(), scheme="bdwp", sparsity="2:8")
    for r, copies in ((report.dense, {n: w * 2 for n, w in weights.items()}),
                      (report, {n: sum(k.values()) * 19 / 8 for n, k in kept.items()})):
        wu = {p.layer: p for p in r.passes if p.pass_ is Pass.WU}
        for layer, w in weights.items():
            read, write = w * (4 + 2), w * 4 + copies[layer]
            assert wu[layer].update_dram_bytes == round(read + write)
            bandwidth = r.sat.array.dram_bandwidth_bytes_per_cycle
            assert wu[layer].update_cycles == math.ceil(w / r.sat.array.cols)
            assert wu[layer].update_stall_cycles == max(0, math.ceil((read + write) / bandwidth)
                                                       - wu[layer].update_cycles)
        assert all(p.update_dram_bytes == 0 for p in r.passes if p.pass_ is not Pass.WU)
    forward = simulate_training(cnn(), scheme="forward", sparsity="2:8")
    conv2 = next(p for p in forward.passes if p.layer == "conv2" and p.pass_ is Pass.WU)
    assert conv2.update_dram_bytes == 4608 * 6 + 4608 * 4 + 1152 * 19 / 8 + 4608 * 2  # FF compressed, BP dense


def test_sparse_step_reads_fewer_filter_bytes_than_dense_and_pays_for_its_indices():
    counts = training_counts(replace(build("resnet18_cifar"), batch=2), sparsity="2:8")

    def filter_bytes(step):
        return sum(p.chosen.memory.filter_dram_read_bytes + p.chosen.metadata_bytes for p in step.passes)

    assert 0 < filter_bytes(counts) < filter_bytes(counts.dense)
    for p in counts.passes:
        memory = p.chosen.memory
        expected = round(memory.filter_dram_read_bytes * 3 / 16) if p.gemm.sparsity else 0
        assert p.chosen.metadata_bytes == expected


def test_sparse_gemm_fetches_the_dense_activations():
    """Each compressed row picks from the window of its group's M activations: with everything fetched once, a
    sparse GEMM reads exactly the dense one's activations."""
    sat = sat_with(dram_bandwidth_bytes_per_cycle=UNLIMITED, ifmap_sram_kib=1 << 16, filter_sram_kib=1 << 16,
                   ofmap_sram_kib=1 << 16)
    counts = training_counts(cnn(), sat, scheme="bdwp", sparsity="2:8")
    dense = {(p.gemm.layer, p.gemm.pass_): p for p in counts.dense.passes}
    for p in counts.passes:
        d = dense[(p.gemm.layer, p.gemm.pass_)]
        if p.gemm.sparsity and p.dataflow is d.dataflow:
            assert p.chosen.memory.ifmap_dram_read_bytes == d.chosen.memory.ifmap_dram_read_bytes


def test_report_stalls_add_up_to_the_step(resnet18):
    report = simulate_training(resnet18, scheme="bdwp", sparsity="2:8")
    stalls = report.stalls()
    rows = report.rows()
    assert sum(stalls.values()) == report.stall_cycles() == sum(r["Stall Cycles"] + r["Update Stall Cycles"]
                                                                  for r in rows)
    for p in Pass:
        assert stalls[p.value] == sum(r["Stall Cycles"] for r in rows if r["Pass"] == p.value)
    assert stalls["update"] == sum(r["Update Stall Cycles"] for r in rows if r["Pass"] == "wu") > 0
    assert sum(report.cycles(p) for p in Pass) == report.cycles()
    summary = report.summary()
    assert [summary[f"{name} Stall Cycles"] for name in ("FF", "BP", "WU", "Update")] == list(stalls.values())
    assert summary["Stall Cycles"] == report.stall_cycles() and summary["DRAM Bytes"] == report.dram_bytes()


def test_dram_bytes_are_priced_and_stalls_leak():
    tech = load_technology("45nm")
    net = cnn()
    slow = simulate_training(net, sat_with(dram_bandwidth_bytes_per_cycle=2), sparsity="2:8", tech=tech)
    fast = simulate_training(net, sat_with(dram_bandwidth_bytes_per_cycle=UNLIMITED), sparsity="2:8", tech=tech)
    for p in slow.passes:
        assert p.dram_bytes > 0 and p.energy.dram_pj == pytest.approx(tech.dram_energy_pj(p.dram_bytes))
    assert slow.dram_bytes() == fast.dram_bytes()  # bandwidth changes when bytes move, not how many
    assert sum(p.energy.leakage_pj for p in slow.passes) > sum(p.energy.leakage_pj for p in fast.passes)


def test_offline_scheduling_skips_a_mode_whose_tile_does_not_fit():
    # ws keeps a filter tile of up to 32 x 32 FP16 values in half the filter SRAM: 0.25 KiB holds 128 bytes
    sat = sat_with(filter_sram_kib=0.25)
    counts = training_counts(cnn(), sat, sparsity="2:8")
    arch = replace(sat.array, dataflow=Dataflow.WEIGHT_STATIONARY)
    unfit = 0
    for p in counts.passes:
        nm = p.gemm.sparsity or NMSparsity(1, 1)
        if not fits(lay(p.gemm.gemm, arch, n_keep=nm.n, m_group=nm.m).fold, arch):
            unfit += 1
            assert p.dataflow is Dataflow.OUTPUT_STATIONARY
    assert 0 < unfit < len(counts.passes)  # the fc's WU keeps a 4 x 10 tile, 80 bytes: ws may run it


def test_no_mode_that_fits_is_an_error():
    sat = replace(sat_with(filter_sram_kib=0.25), dataflows=(Dataflow.WEIGHT_STATIONARY,))
    with pytest.raises(InputError) as err:
        simulate_training(cnn(), sat, sparsity="2:8")
    assert str(err.value) == ("layer 'conv1 (ff)': field 'filter_sram_kib' = 0.25: no SAT mode fits its SRAMs: ws: "
                              "one fold's filter tile (864 bytes) does not fit half of the 0.25 KiB filter SRAM (it is "
                              "double-buffered)")


def test_update_pays_the_dram_latency_once_and_calc_never_waits():
    net = cnn()
    base = simulate_training(net, sat_with(dram_bandwidth_bytes_per_cycle=2), sparsity="2:8")
    late = simulate_training(net, sat_with(dram_bandwidth_bytes_per_cycle=2, dram_latency_cycles=100), sparsity="2:8")
    for b, l in zip(base.passes, late.passes):
        if b.pass_ is Pass.WU and b.update_dram_bytes:
            assert l.update_stall_cycles == b.update_stall_cycles + 100  # the update is DRAM-bound at 2 bytes/cycle
    calc = training_counts(net, SatArray(array=replace(SatArray().array, dram_bandwidth_bytes_per_cycle=2,
                                                       interface_bandwidth="CALC")), sparsity="2:8")
    assert all(p.update.stall_cycles == 0 and p.chosen.metadata_stall_cycles == 0 for p in calc.passes)


def test_no_sparse_gemm_is_slower_than_dense_but_for_its_indices(resnet18):
    # conv1's FF: K = 27 and K' = 8 fill one row fold alike, so only the index bytes differ
    counts = training_counts(resnet18, sparsity="2:8")
    sparse = [p for p in counts.passes if p.gemm.sparsity]
    assert sparse and all(p.chosen.cycles - p.chosen.metadata_stall_cycles <= p.dense_cycles for p in sparse)
