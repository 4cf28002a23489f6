"""The memory-side examples of issue 13, measured: run it before and after a change to the memory model.

    python benchmarks/memory_fidelity.py [--json out.json]

Each example is a number a demanding user checked by hand (see the issue): stream tiling where no partial sums
exist (a), partial sums spilled although they fit (b), total cycles below DRAM bytes / bandwidth (c), packed groups
fetching their zero padding (d) and `--compat scalesim`'s DRAM side (e). The "12 runs" are SCALE-Sim's ResNet-50 and
MobileNet topologies (tests/data/scalesim/) on 64x64 and 128x128 arrays under ws, os and is, at the default
10 bytes/cycle. Only public entry points and the closed-form compute model are used, so the script runs on any
commit since the restructuring.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from hwsim import api
from hwsim.mapping import lay
from hwsim.sim.compute import gemm_compute

TOPOLOGIES = Path(__file__).resolve().parent.parent / "tests" / "data" / "scalesim"


def compute_only(network, arch, name):
    """Cycles of a layer with no memory at all: every fold of the untiled GEMM, back to back."""
    return int(gemm_compute(lay(network.stats(name).gemm, arch)).cycles)


def layer(report, name):
    return next(row for row in report.layers if row.layer == name)


def twelve_runs():
    for topology in ("resnet50", "mobilenet"):
        network = api.load_workload(TOPOLOGIES / f"{topology}.csv")
        for size in (64, 128):
            for dataflow in ("ws", "os", "is"):
                arch = api.SystolicArray(size, size, dataflow=dataflow)
                yield f"{topology} {size}x{size} {dataflow}", network, arch, api.simulate(network, arch)


def measure() -> dict:
    out = {}
    # (a) unlimited bandwidth: native cycles against the compute-only count
    resnet = api.load_workload(TOPOLOGIES / "resnet50.csv")
    arch = api.SystolicArray(128, 128, dataflow="ws", dram_bandwidth_bytes_per_cycle=1e9)
    report = api.simulate(resnet, arch)
    ratios = {row.layer: row.total_cycles / compute_only(resnet, arch, row.layer) for row in report.layers}
    worst = max(ratios, key=ratios.get)
    out["a_resnet50_128_ws_bw1e9_worst_layer"] = worst
    out["a_resnet50_128_ws_bw1e9_worst_ratio"] = round(ratios[worst], 3)
    out["a_resnet50_128_ws_bw1e9_CB2a_3_cycles"] = layer(report, "CB2a_3").total_cycles
    out["a_resnet50_128_ws_bw1e9_CB2a_3_compute_only"] = compute_only(resnet, arch, "CB2a_3")
    mobilenet = api.load_workload(TOPOLOGIES / "mobilenet.csv")
    arch = api.SystolicArray(64, 64, dataflow="ws", dram_bandwidth_bytes_per_cycle=1e9)
    out["a_mobilenet_64_ws_bw1e9_Conv3_cycles"] = layer(api.simulate(mobilenet, arch), "Conv3").total_cycles
    out["a_mobilenet_64_ws_bw1e9_Conv3_compute_only"] = compute_only(mobilenet, arch, "Conv3")
    # (b) partial sums to DRAM, and (c) cycles below bytes / bandwidth, over the 12 runs
    spills, violations, with_drain, layer_runs = 0, 0, 0, 0
    for label, network, arch, report in twelve_runs():
        for row in report.layers:
            layer_runs += 1
            spills += row.ofmap_dram_read_bytes > 0
            floor = math.ceil(row.dram_bytes / arch.dram_bandwidth_bytes_per_cycle)
            violations += row.total_cycles_with_prefetch < floor
            with_drain += row.total_cycles < floor
        if label == "resnet50 64x64 is":
            row = layer(report, "CB5a_2")
            out["b_resnet50_64_is_CB5a_2_ofmap_dram_bytes"] = row.ofmap_dram_write_bytes + row.ofmap_dram_read_bytes
            out["b_resnet50_64_is_CB5a_2_output_bytes"] = row.m * row.n * row.repeat
        if label == "mobilenet 128x128 ws":
            row = layer(report, "Conv9")
            out["c_mobilenet_128_ws_Conv9_total_cycles_incl_prefetch"] = row.total_cycles_with_prefetch
            out["c_mobilenet_128_ws_Conv9_dram_bytes"] = row.dram_bytes
    out["layer_runs"] = layer_runs
    out["b_layer_runs_spilling_partial_sums"] = int(spills)
    out["c_layer_runs_cycles_incl_prefetch_below_bytes_over_bandwidth"] = int(violations)
    out["c_layer_runs_cycles_without_prefetch_drain_below_bytes_over_bandwidth"] = int(with_drain)
    # (d) packed depthwise filters
    arch = api.SystolicArray(64, 64, dataflow="os")
    report = api.simulate(api.load_workload("mobilenet_v1"), arch, pack=True)
    out["d_mobilenet_v1_64_os_pack_conv13_dw_filter_dram_bytes"] = layer(report, "conv13_dw").filter_dram_read_bytes
    # (e) compat's DRAM side, under SCALE-Sim's stock InterfaceBandwidth (CALC; older commits have no such field)
    fields = {"interface_bandwidth": "CALC"} if hasattr(api.SystolicArray(1, 1), "interface_bandwidth") else {}
    arch = api.SystolicArray(64, 64, dataflow="ws", **fields)
    compat = api.simulate(resnet, arch, compat="scalesim")
    out["e_compat_resnet50_64_ws_dram_bytes"] = compat.total.dram_bytes
    out["e_compat_resnet50_64_ws_total_cycles"] = compat.total.total_cycles
    out["e_compat_resnet50_64_ws_total_cycles_incl_prefetch"] = compat.total.total_cycles_with_prefetch
    out["e_compat_resnet50_64_ws_dram_energy_pj"] = _dram_energy(compat)
    # the README's first command
    native = api.simulate(api.load_workload("resnet50"), api.SystolicArray(64, 64))
    out["readme_resnet50_64_ws_total_cycles"] = native.total.total_cycles
    out["readme_resnet50_64_ws_stall_cycles"] = native.total.stall_cycles
    return out


def _dram_energy(report) -> float:
    return float(sum(e.dram_pj for e in report.energy))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures as JSON too")
    args = parser.parse_args()
    figures = measure()
    width = max(map(len, figures))
    for name, value in figures.items():
        print(f"{name:<{width}}  {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
