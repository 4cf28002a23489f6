"""Co-exploration searches (hwsim.explore): overhead per evaluation, and how often each finds the optimum.

    PYTHONPATH=. python benchmarks/bench_explore.py

1. Overhead: each search on a 12-choice space (4^6 * 3^6 = 2,985,984 points) with an evaluator that does
   almost nothing, so the time is the search's own (sampling, bookkeeping, memoisation), in microseconds per
   call to ``evaluate``.
2. Success: over 20 seeds, how often the evolutionary and REINFORCE searches (default settings, and the
   test's small budgets) find the optimum of the 240-point test space of tests/unit/test_explore_search.py,
   and the mean number of evaluations they spend.
3. Network side: building one network of a shipped space and its synthetic proxy accuracy, per point.
"""

from __future__ import annotations

import time

import numpy as np

from hwsim.explore import Evaluation, Space, evolutionary, exhaustive, reinforce
from hwsim.explore.accuracy import synthetic_accuracy_proxy
from hwsim.io.netspace_json import read_netspace

BIG = Space.of({f"c{i}": list(range(4 if i < 6 else 3)) for i in range(12)})
SMALL = Space.of({"a": [0, 1, 2, 3, 4], "b": [0, 1, 2, 3], "c": [0, 1, 2], "d": [0, 1, 2, 3]})
TARGET = np.array([3, 1, 2, 0])
WEIGHTS = np.array([1.0, 2.0, 3.0, 1.5])


def cheap(point: dict) -> Evaluation:
    return Evaluation(float(sum(point.values())), True)


def bowl(point: dict) -> Evaluation:
    ix = np.array(list(point.values()))
    return Evaluation(-float(np.sum(WEIGHTS * (ix - TARGET) ** 2)) + 0.5 * float(ix[0] == 3 and ix[1] == 1), True)


def overhead() -> None:
    print(f"search overhead on a {BIG.size:,}-point space (trivial evaluator)")
    for name, run in [
        ("evolutionary population=64 generations=100", lambda: evolutionary(BIG, cheap, seed=0, population=64,
                                                                             generations=100)),
        ("reinforce episodes=200 batch=32", lambda: reinforce(BIG, cheap, seed=0, episodes=200, batch=32)),
        ("exhaustive (first 8 choices: 36,864 points)", lambda: exhaustive(Space(BIG.choices[:8]), cheap)),
    ]:
        start = time.perf_counter()
        result = run()
        seconds = time.perf_counter() - start
        print(f"  {name:45s} {result.evaluations:7,d} evaluations  {seconds:6.3f} s  "
              f"{1e6 * seconds / result.evaluations:6.1f} us/evaluation")


def success() -> None:
    optimum = exhaustive(SMALL, bowl).best.point
    print(f"optimum found on the {SMALL.size}-point test space, 20 seeds")
    for name, run in [
        ("evolutionary (defaults)", lambda s: evolutionary(SMALL, bowl, seed=s)),
        ("evolutionary population=16 generations=12", lambda s: evolutionary(SMALL, bowl, seed=s, population=16,
                                                                            generations=12)),
        ("reinforce (defaults)", lambda s: reinforce(SMALL, bowl, seed=s)),
        ("reinforce episodes=30 batch=8", lambda s: reinforce(SMALL, bowl, seed=s, episodes=30, batch=8)),
    ]:
        results = [run(seed) for seed in range(20)]
        found = sum(r.best.point == optimum for r in results)
        spent = np.mean([r.evaluations for r in results])
        print(f"  {name:45s} {found:2d}/20 found  {spent:6.1f} evaluations on average")


def network_side() -> None:
    spaces = [read_netspace(f"workloads/spaces/{name}.json") for name in ("resnet9_cifar10", "unet_nuclei")]
    proxy = synthetic_accuracy_proxy(spaces)
    for space in spaces:
        points = list(space.space)
        start = time.perf_counter()
        for point in points:
            space.build(point)
        build_ms = 1e3 * (time.perf_counter() - start) / len(points)
        start = time.perf_counter()
        for point in points:
            proxy(space.name, point)
        proxy_ms = 1e3 * (time.perf_counter() - start) / len(points)
        print(f"  {space.name:20s} {len(points):4d} points  build {build_ms:5.2f} ms/point  "
              f"synthetic proxy (uncached) {proxy_ms:5.2f} ms/point")


if __name__ == "__main__":
    overhead()
    success()
    print("network spaces")
    network_side()
