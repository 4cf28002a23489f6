"""Speed of the cycle-stepped systolic reference, in simulated cycles per second, through both of its front ends.

    python benchmarks/bench_stepped.py [--front-end {dense,sparse}]

``simulate_gemm`` (hwsim.sim.stepped: dense, ws/is/os) and ``simulate_sparse_gemm`` (hwsim.sim.sparse: SAT's N:M
engine, ws/os) step the same kernels; dense is N:M with a window of one. Target: >= 20,000 cycles/s on a 64x64
array. Each row times one GEMM with random int8 operands (and, for the N:M rows, a random ``n_keep:m_group``
compressed filter), best of a few runs so a cold cache or a busy machine does not count, and divides the GEMM's
total cycles, all folds, by the wall time. The GEMMs are a few folds deep so the per-fold set-up is paid as often
as in a real layer. In the N:M rows ``4:4`` is dense mode (single activations, no multiplexer choice); the sparse
rows carry windows of ``m_group`` activations through the array, so every window register shift moves ``m_group``
values.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from hwsim.sim.sparse import compressed_rows, simulate_sparse_gemm
from hwsim.sim.stepped import simulate_gemm
from hwsim.types import Dataflow

WS, OS, IS = Dataflow.WEIGHT_STATIONARY, Dataflow.OUTPUT_STATIONARY, Dataflow.INPUT_STATIONARY
# (array rows, array cols, M, K, N) per front end
DENSE_CASES = [
    (64, 64, 512, 128, 128),
    (8, 8, 64, 32, 32),
]
SPARSE_CASES = [
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


def runs(rng: np.random.Generator, front_end: str):
    """``(rows, cols, (m, k, n), sparsity label, flow, call)`` of every row of one front end's table."""
    if front_end == "dense":
        for rows, cols, m, k, n in DENSE_CASES:
            a = rng.integers(-128, 128, (m, k), dtype=np.int8)
            b = rng.integers(-128, 128, (k, n), dtype=np.int8)
            for flow in (WS, IS, OS):
                yield rows, cols, (m, k, n), "-", flow, lambda: simulate_gemm(a, b, rows, cols, flow)
        return
    for rows, cols, m, k, n in SPARSE_CASES:
        a = rng.integers(-128, 128, (m, k), dtype=np.int8)
        for n_keep, m_group in SPARSITIES:
            values, indices = compressed_operand(rng, k, n, n_keep, m_group)
            for flow in (WS, OS):
                yield rows, cols, (m, k, n), f"{n_keep}:{m_group}", flow, lambda: simulate_sparse_gemm(
                    a, values, indices, k=k, n_keep=n_keep, m_group=m_group, rows=rows, cols=cols, dataflow=flow)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--front-end", choices=["dense", "sparse"], action="append",
                        help="simulate_gemm (dense) or simulate_sparse_gemm (sparse); default both")
    front_ends = parser.parse_args().front_end or ["dense", "sparse"]
    rng = np.random.default_rng(0)
    print(f"{'front end':>9s} {'array':>7s} {'M x K x N':>15s} {'N:M':>4s} {'flow':>4s} {'cycles':>8s} "
          f"{'seconds':>8s} {'cycles/s':>10s}")
    for front_end in front_ends:
        for rows, cols, (m, k, n), sparsity, flow, call in runs(rng, front_end):
            seconds, result = best_of(call)
            print(f"{front_end:>9s} {rows:>3d}x{cols:<3d} {f'{m}x{k}x{n}':>15s} {sparsity:>4s} {flow.value:>4s} "
                  f"{result.cycles:8d} {seconds:8.3f} {result.cycles / seconds:10,.0f}")


if __name__ == "__main__":
    main()
