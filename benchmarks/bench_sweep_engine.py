"""Time a 10,000-point design sweep of ResNet-50 with the batch engine, against per-design ``simulate``.

    python benchmarks/bench_sweep_engine.py [--points 10000] [--sample 200] [--network resnet50]

The design points are a seeded sample of a grid: array rows and columns each in {8, 12, 16, ..., 256} (square
and rectangular), the three dataflows, four SRAM configurations (KiB of ifmap, filter, ofmap SRAM; the smallest
is too small for the biggest arrays, so the error path is in the sweep) and four DRAM bandwidths. One process,
one core: ``simulate_batch`` on every point, then per-design ``simulate`` on ``--sample`` of them, extrapolated
to all points. The batch results are checked against the per-design ones on the sample.
"""

from __future__ import annotations

import argparse
import itertools
import random
import resource
import time

import numpy as np

from hwsim.arch.systolic import SystolicArray
from hwsim.errors import InputError
from hwsim.report.systolic import METRICS
from hwsim.compose import simulate_batch
from hwsim.report.batch import INT_METRICS
from hwsim.compose import simulate
from hwsim.workload.zoo import build

SIZES = range(8, 257, 4)
DATAFLOWS = ("ws", "os", "is")
SRAMS_KIB = ((32, 32, 16), (128, 128, 64), (256, 256, 128), (512, 512, 512))
BANDWIDTHS = (8, 16, 32, 64)


def design_points(count: int, seed: int = 0) -> list[SystolicArray]:
    grid = list(itertools.product(SIZES, SIZES, DATAFLOWS, SRAMS_KIB, BANDWIDTHS))
    return [SystolicArray(rows, cols, dataflow=flow, ifmap_sram_kib=i, filter_sram_kib=f, ofmap_sram_kib=o,
                          dram_bandwidth_bytes_per_cycle=bw)
            for rows, cols, flow, (i, f, o), bw in random.Random(seed).sample(grid, count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--network", default="resnet50")
    args = parser.parse_args()
    network = build(args.network)
    archs = design_points(args.points)

    start = time.perf_counter()
    result = simulate_batch(network, archs)
    batch_s = time.perf_counter() - start
    failed = sum(error is not None for error in result.errors)

    sample = random.Random(1).sample(range(len(archs)), min(args.sample, len(archs)))
    start = time.perf_counter()
    single = {}
    for i in sample:
        try:
            single[i] = simulate(network, archs[i]).metrics()
        except InputError as err:
            single[i] = str(err)
    single_s = time.perf_counter() - start
    per_design_s = single_s / len(sample)

    mismatches = 0
    for i, expected in single.items():
        if isinstance(expected, str):
            mismatches += expected != result.errors[i]
            continue
        for name in METRICS:
            got = result.metrics[name][i]
            # counts exactly; energies, areas and ratios to 1e-12 relative (the batch prices network totals, the
            # per-design run sums per-layer prices: the same sums in another order)
            same = got == expected[name] if name in INT_METRICS else np.isclose(got, expected[name], rtol=1e-12,
                                                                                atol=0)
            mismatches += not same

    print(f"network {args.network}, {len(archs)} design points ({failed} cannot run), one process")
    print(f"simulate_batch, all points:         {batch_s:8.2f} s   ({1e3 * batch_s / len(archs):.3f} ms per point)")
    print(f"simulate, {len(sample)} points:              {single_s:8.2f} s   ({1e3 * per_design_s:.3f} ms per point)")
    print(f"simulate, all points (extrapolated): {per_design_s * len(archs):8.2f} s")
    print(f"speed-up:                            {per_design_s * len(archs) / batch_s:8.1f} x")
    print(f"peak resident memory:                {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:8.0f} MiB")
    print(f"batch vs per-design on the sample:   {mismatches} mismatching numbers")


if __name__ == "__main__":
    main()
