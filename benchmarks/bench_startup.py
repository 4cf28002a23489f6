"""Start-up: a whole ``hwsim run`` process against a whole ``python -c "import numpy"``.

    python benchmarks/bench_startup.py [--repeat 15]

Each command runs ``--repeat`` times as a separate process, the commands interleaved so that load from other
programs falls on all of them alike; the figure is the minimum wall time, the least disturbed run. The script exits
with status 1 when a ``hwsim run`` takes more than ``LIMIT`` times the NumPy import: a bundled network on a 64x64
array must cost hardly more than the NumPy every run needs anyway. The minimum CPU time (user + system) is printed
beside it: on a machine other programs keep busy it moves less than the wall time does.

The child processes may write bytecode caches (``PYTHONDONTWRITEBYTECODE`` is removed from their environment) and
each command runs once untimed first, so every timed run reads compiled modules, as an installed hwsim does.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LIMIT = 1.5
"""Largest accepted ratio of a ``hwsim run`` process's wall time to the NumPy import's."""

NETWORKS = ("mobilenet_v1", "resnet50")


def hwsim_command() -> list[str]:
    """The ``hwsim`` script installed beside this Python, else ``python -m hwsim``."""
    script = Path(sys.executable).with_name("hwsim")
    if script.is_file():
        return [str(script)]
    found = shutil.which("hwsim")
    return [found] if found else [sys.executable, "-m", "hwsim"]


def seconds(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def instructions(command: list[str], env: dict[str, str]) -> int:
    """Instructions one run of ``command`` executes, counted by valgrind's callgrind: the same for the same code and
    inputs however busy the machine is (wall times on a shared machine move by a fifth between runs)."""
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={folder}/out", *command],
                              env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return int(re.search(r"Collected : (\d+)", done.stderr).group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs of each command (default 15)")
    parser.add_argument("--instructions", action="store_true",
                        help="also count each command's instructions under valgrind (Debian's valgrind package)")
    args = parser.parse_args(argv)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    commands = {"python -c 'import numpy'": [sys.executable, "-c", "import numpy"]}
    for network in NETWORKS:
        commands[f"hwsim run {network} --array 64x64 --quiet"] = [*hwsim_command(), "run", network, "--array",
                                                                 "64x64", "--quiet"]
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for command in commands.values():
        seconds(command, env)
    for _ in range(args.repeat):
        for name, command in commands.items():
            runs[name].append(seconds(command, env))
    wall = {name: [w for w, _ in times] for name, times in runs.items()}
    cpu = {name: [c for _, c in times] for name, times in runs.items()}
    numpy = "python -c 'import numpy'"
    print(f"{'command':45s} {'min ms':>8s} {'median ms':>10s} {'ratio':>6s} {'cpu ms':>7s} {'ratio':>6s}")
    worst = 0.0
    for name in commands:
        ratio = min(wall[name]) / min(wall[numpy])
        worst = max(worst, ratio)
        print(f"{name:45s} {1e3 * min(wall[name]):8.1f} {1e3 * sorted(wall[name])[len(wall[name]) // 2]:10.1f} "
              f"{ratio:6.2f} {1e3 * min(cpu[name]):7.1f} {min(cpu[name]) / min(cpu[numpy]):6.2f}")
    if args.instructions:
        counted = {name: instructions(command, env) for name, command in commands.items()}
        for name, count in counted.items():
            print(f"{name:45s} {count / 1e6:8.1f} M instructions, ratio {count / counted[numpy]:.2f}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"largest wall-time ratio {worst:.2f} (limit {LIMIT}); minimum of {args.repeat} runs each; "
          f"load average {load} on {os.cpu_count()} CPUs")
    return 0 if worst <= LIMIT else 1


if __name__ == "__main__":
    raise SystemExit(main())
