"""Speed of SAT's cycle-stepped N:M sparse systolic engine (hwsim.sim.sparse), in simulated cycles per second.

    PYTHONPATH=. python benchmarks/bench_sparse.py

Target: >= 20,000 cycles/s on a 64x64 array. Each row times one GEMM with random int8 operands and a random
``n_keep:m_group`` compressed filter (best of a few runs, so a cold cache or a busy machine does not count) and
divides the GEMM's total cycles, all folds, by the wall time. ``4:4`` is dense mode (single activations, no
multiplexer choice); the sparse rows carry windows of ``m_group`` activations through the array, so every
window register shift moves ``m_group`` values.
"""

from __future__ import annotations

import time

import numpy as np

from hwsim.sim.sparse import compressed_rows, simulate_sparse_gemm
from hwsim.types import Dataflow

# (array rows, array cols, M, K, N)
CASES = [
    (64, 64, 512, 256, 128),
    (8, 8, 64, 32, 32),
]
SPARSITIES = [(4, 4), (2, 4), (2, 8), (1, 8)]


def compressed_operand(rng: np.random.Generator, k: int, n: int, n_keep: int, m_group: int,
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Random ``(values, indices)`` in hwsim.sim.sparse's layout, ``k`` a whole number of groups."""
    kc = compressed_rows(k, n_keep, m_group)
    values = rng.integers(-128, 128, (kc, n), dtype=np.int8)
    if n_keep == m_group:
        return values, np.repeat((np.arange(kc) % m_group)[:, None], n, axis=1).astype(np.uint8)
    chosen = np.sort(np.argsort(rng.random((k // m_group, n, m_group)), axis=-1)[..., :n_keep], axis=-1)
    return values, chosen.transpose(0, 2, 1).reshape(kc, n).astype(np.uint8)


def best_of(fn, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    rng = np.random.default_rng(0)
    print(f"{'array':>7s} {'M x K x N':>15s} {'N:M':>4s} {'flow':>4s} {'cycles':>8s} {'seconds':>8s} "
          f"{'cycles/s':>10s}")
    for rows, cols, m, k, n in CASES:
        a = rng.integers(-128, 128, (m, k), dtype=np.int8)
        for n_keep, m_group in SPARSITIES:
            values, indices = compressed_operand(rng, k, n, n_keep, m_group)
            for flow in (Dataflow.WEIGHT_STATIONARY, Dataflow.OUTPUT_STATIONARY):
                seconds, result = best_of(lambda: simulate_sparse_gemm(
                    a, values, indices, k=k, n_keep=n_keep, m_group=m_group, rows=rows, cols=cols, dataflow=flow))
                print(f"{rows:>3d}x{cols:<3d} {f'{m}x{k}x{n}':>15s} {f'{n_keep}:{m_group}':>4s} {flow.value:>4s} "
                      f"{result.cycles:8d} {seconds:8.3f} {result.cycles / seconds:10,.0f}")


if __name__ == "__main__":
    main()
