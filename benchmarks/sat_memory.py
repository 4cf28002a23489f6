"""SAT's training-step speed-up with memory: the rows of the README's SAT headline table.

    python benchmarks/sat_memory.py

2:8 BDWP on ResNet-18 and VGG-16 (CIFAR-10, batch 64) and ResNet-50 (batch 32) on SAT's assumed array
(``hwsim.arch.sat.SAT_ASSUMPTIONS``): compute only (unlimited bandwidth and SRAMs), with memory at 32 B/cycle (the
pass speed-ups, the stalls per pass and of the update, the share of the step stalled, sparse and dense), and the
speed-up at 64, 128 and 256 B/cycle. The paper's figure is 1.75x.
"""

from __future__ import annotations

from dataclasses import replace

from hwsim.api import Pass, SatArray, bundled_network, simulate_training

CASES = {"resnet18_cifar": 64, "vgg16_cifar": 64, "resnet50": 32}


def sat(bandwidth: float, unlimited_sram: bool = False) -> SatArray:
    base = SatArray()
    array = replace(base.array, dram_bandwidth_bytes_per_cycle=bandwidth)
    if unlimited_sram:
        array = replace(array, ifmap_sram_kib=1 << 16, filter_sram_kib=1 << 16, ofmap_sram_kib=1 << 16)
    return replace(base, array=array)


def row(name: str, batch: int) -> str:
    network = replace(bundled_network(name), batch=batch)
    compute_only = simulate_training(network, sat(1e12, unlimited_sram=True), sparsity="2:8")
    report = simulate_training(network, sat(32), sparsity="2:8")
    stalls = report.stalls()
    per_pass = " / ".join(f"{100 * stalls[p.value] / report.cycles(p):.0f} %" for p in Pass)
    update = f"{100 * stalls['update'] / report.cycles():.1f} %"
    passes = ", ".join(f"{report.speedup(p):.2f}" for p in Pass)
    stalled = (f"{100 * report.stall_cycles() / report.cycles():.0f} % "
               f"({100 * report.dense.stall_cycles() / report.dense.cycles():.0f} %)")
    wider = " | ".join(f"{simulate_training(network, sat(bw), sparsity='2:8').speedup():.2f}x" for bw in (64, 128, 256))
    return (f"| {name} ({batch}) | {compute_only.speedup():.2f}x | **{report.speedup():.2f}x** ({passes}) | "
            f"{per_pass}; {update} | {stalled} | {wider} |")


def main() -> None:
    print("| network (batch) | compute only | with memory, 32 B/cycle (FF, BP, WU) | stalls: FF / BP / WU GEMMs, "
          "% of pass; update, % of step | step stalled (dense step) | 64 B/cycle | 128 B/cycle | 256 B/cycle |")
    print("|---|---|---|---|---|---|---|---|")
    for name, batch in CASES.items():
        print(row(name, batch))


if __name__ == "__main__":
    main()
