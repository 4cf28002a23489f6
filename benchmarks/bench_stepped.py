"""Speed of the cycle-stepped systolic reference (hwsim.sim.stepped), in simulated cycles per second.

    python benchmarks/bench_stepped.py

Target: >= 20,000 cycles/s on a 64x64 array. Each row times one GEMM with random int8 operands (best of a few
runs, so a cold cache or a busy machine does not count) and divides the GEMM's total cycles, all folds, by the
wall time. The GEMMs are a few folds deep so the per-fold set-up is paid as often as in a real layer.
"""

from __future__ import annotations

import time

import numpy as np

from hwsim.sim import simulate_gemm
from hwsim.types import Dataflow

# (array rows, array cols, M, K, N)
CASES = [
    (64, 64, 512, 128, 128),
    (8, 8, 64, 32, 32),
]


def best_of(fn, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    rng = np.random.default_rng(0)
    print(f"{'array':>7s} {'M x K x N':>15s} {'flow':>4s} {'cycles':>8s} {'seconds':>8s} {'cycles/s':>10s}")
    for rows, cols, m, k, n in CASES:
        a = rng.integers(-128, 128, (m, k), dtype=np.int8)
        b = rng.integers(-128, 128, (k, n), dtype=np.int8)
        for flow in (Dataflow.WEIGHT_STATIONARY, Dataflow.INPUT_STATIONARY, Dataflow.OUTPUT_STATIONARY):
            seconds, result = best_of(lambda: simulate_gemm(a, b, rows, cols, flow))
            print(f"{rows:>3d}x{cols:<3d} {f'{m}x{k}x{n}':>15s} {flow.value:>4s} {result.cycles:8d} "
                  f"{seconds:8.3f} {result.cycles / seconds:10,.0f}")


if __name__ == "__main__":
    main()
