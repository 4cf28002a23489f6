"""Speed of the memory models: the cycle-stepped reference in cycles per second, the fast engine per network.

    python benchmarks/bench_memory.py [--points 10000] [--repeats 3]

* ``step_memory`` (hwsim.sim.stepped_memory: the stepped compute model plus the DMA and SRAM sets stepped cycle by
  cycle) on 16x16 and 64x64 arrays, ws/os/is, dense and 2:4 sparse: every stepped cycle (prefetch, compute,
  stalls, drain) divided by the wall time, best of ``--repeats``; and the compute cycles alone per second (a stall
  cycle steps only the DMA, a compute cycle the whole array too). Target: >= 50,000 cycles/s at 64x64.
* ``hwsim.api.simulate`` of ResNet-50 on a 64x64 ws array (SCALE-Sim's stock SRAMs and bandwidth): ms per call,
  best of ``--repeats``.
* ``hwsim.api.simulate_batch`` of ResNet-50 on ``--points`` designs (the sample of
  ``benchmarks/bench_sweep_engine.py``): seconds for all of them, and ms per 10,000 designs.
One process, one core.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from hwsim import api
from hwsim.mapping import lay
from hwsim.sim.stepped_memory import step_memory
from hwsim.workload.lowering import GemmDims

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sweep_engine import design_points  # noqa: E402  (a sibling script, not a package)

# (array side, M, K, N, n_keep:m_group): a few folds per run so fold set-up is paid as often as in a real layer.
CASES = [
    (16, 196, 144, 64, (1, 1)),
    (16, 196, 144, 64, (2, 4)),
    (64, 196, 576, 128, (1, 1)),
    (64, 196, 576, 128, (2, 4)),
]


def best_of(repeats: int, fn) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def time_one(side: int, m: int, k: int, n: int, n_keep: int, m_group: int, flow: str, interface: str,
             repeats: int) -> None:
    arch = api.SystolicArray(side, side, dataflow=flow, dram_latency_cycles=20, interface_bandwidth=interface)
    lm = lay(GemmDims(m=m, n=n, k=k), arch, n_keep=n_keep, m_group=m_group)
    seconds, r = best_of(repeats, lambda: step_memory(lm, arch))
    print(f"  {side:3d}x{side:<3d} {flow}  M={m} K={k} N={n} {n_keep}:{m_group}  {r.total_cycles:7d} cycles "
          f"({r.compute_cycles:6d} compute)  {r.total_cycles / seconds:9,.0f} cycles/s  "
          f"{r.compute_cycles / seconds:9,.0f} compute cycles/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    for interface in ("USER", "CALC"):
        print(f"step_memory (stepped compute + DMA), {interface}: "
              f"{'10 B/cycle, latency 20' if interface == 'USER' else 'no stalls'}, 64 KiB SRAMs")
        for side, m, k, n, (n_keep, m_group) in CASES:
            for flow in ("ws", "os", "is"):
                if n_keep != m_group and flow == "is":
                    continue  # input stationary is not a SAT mode
                time_one(side, m, k, n, n_keep, m_group, flow, interface, args.repeats)

    network = api.bundled_network("resnet50")
    arch = api.SystolicArray(64, 64)
    seconds, _ = best_of(args.repeats, lambda: api.simulate(network, arch))
    print(f"simulate, ResNet-50 on 64x64 ws:     {1e3 * seconds:8.2f} ms per call")

    designs = design_points(args.points)
    seconds, _ = best_of(1, lambda: api.simulate_batch(network, designs))
    print(f"simulate_batch, ResNet-50, {len(designs)} designs: {seconds:8.2f} s "
          f"({1e3 * seconds * 10_000 / len(designs):.0f} ms per 10,000 designs)")


if __name__ == "__main__":
    main()
