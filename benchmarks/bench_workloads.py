"""Time to build, write, load and lower every bundled network.

    python benchmarks/bench_workloads.py
"""

from __future__ import annotations

import json
import time

from hwsim.io.workload_json import dumps_network, network_from_dict
from hwsim.workload.zoo import ZOO


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    print(f"{'network':20s} {'layers':>6s} {'build ms':>9s} {'dump ms':>8s} {'load ms':>8s}")
    totals = [0.0, 0.0, 0.0]
    for name, builder in ZOO.items():
        net = builder()
        text = dumps_network(net)
        doc = json.loads(text)
        row = [best_of(builder), best_of(lambda: dumps_network(net)), best_of(lambda: network_from_dict(doc))]
        totals = [t + r for t, r in zip(totals, row)]
        print(f"{name:20s} {len(net):6d} " + " ".join(f"{1e3 * r:8.2f}" for r in row))
    print(f"{'all':20s} {'':6s} " + " ".join(f"{1e3 * t:8.2f}" for t in totals))


if __name__ == "__main__":
    main()
