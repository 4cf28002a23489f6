"""hwsim against SCALE-Sim 3.0.0 on the same topology, array and dataflow: wall time, peak memory, cycles.

SCALE-Sim runs in its own environment (never a dependency of hwsim)::

    python3 -m venv .venv-scalesim
    .venv-scalesim/bin/pip install scalesim==3.0.0 "numpy<2"   # 3.0.0 fails under NumPy 2
    python benchmarks/bench_vs_scalesim.py --scalesim-python .venv-scalesim/bin/python

Defaults: SCALE-Sim's own ResNet-50 topology on a 64x64 weight-stationary array with its stock configuration
(64 KiB SRAMs, bandwidth 10). hwsim runs with ``--compat scalesim``, so the total cycle counts must be equal.
Printed: both wall times and peak RSS, the speed ratio, and the per-layer and total cycle agreement.
"""

from __future__ import annotations

import argparse
import configparser
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STOCK_CFG = REPO / "tests" / "data" / "scalesim" / "scale.cfg"
# SCALE-Sim 3.0.0 reads a layout file even with custom layouts off: one row per layer, this row's shape.
LAYOUT_HEADER = ("Layer name, IFMAP Height Intraline Factor, IFMAP Width Intraline Factor, Filter Height Intraline "
                 "Factor, Filter Width Intraline Factor, Channel Intraline Factor, Num Filter Intraline Factor, IFMAP "
                 "Height Intraline Order, IFMAP Width Intraline Order, Channel Intraline Order, IFMAP Height "
                 "Interline Order, IFMAP Width Interline Order, Channel Interline Order, Num Filter Intraline Order, "
                 "Channel Intraline Order, Filter Height Intraline Order, Filter Width Intraline Order, Num Filter "
                 "Interline Order, Channel Interline Order, Filter Height Interline Order, Filter Width Interline "
                 "Order,")
LAYOUT_ROW = " 2, 2, 1, 1, 16, 4,     0, 1, 2,     4, 5, 3,     3, 2, 1, 0,     4, 5, 6, 7,"


def child_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def write_config(path: Path, rows: int, cols: int, dataflow: str) -> None:
    cfg = configparser.ConfigParser()
    cfg.optionxform = str
    cfg.read(STOCK_CFG)
    cfg["general"]["run_name"] = "bench"
    cfg["architecture_presets"]["ArrayHeight"] = str(rows)
    cfg["architecture_presets"]["ArrayWidth"] = str(cols)
    cfg["architecture_presets"]["Dataflow"] = dataflow
    with open(path, "w") as handle:
        cfg.write(handle)


def run_hwsim_in_process(topology: Path, cfg: Path, rows: int, cols: int, dataflow: str) -> tuple[float, list[int]]:
    """Best-of-5 wall time of loading and simulating, and the per-layer totals."""
    from hwsim.api import simulate
    from hwsim.io.arch_config import read_scalesim_cfg
    from hwsim.io.scalesim_csv import read_topology

    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        network = read_topology(topology)
        report = simulate(network, read_scalesim_cfg(cfg), compat="scalesim")
        best = min(best, time.perf_counter() - start)
    return best, [layer.total_cycles for layer in report.layers]


def run_hwsim_cli(topology: Path, cfg: Path, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "hwsim", "run", str(topology), "--config", str(cfg), "--compat", "scalesim",
                    "--json", str(out), "--quiet"], check=True)
    return time.perf_counter() - start


def run_scalesim(python: str, topology: Path, cfg: Path, work: Path) -> tuple[float, list[int]]:
    names = [r[0].strip() for r in csv.reader(open(topology)) if r and r[0].strip()][1:]
    layout = work / "layout.csv"
    layout.write_text(LAYOUT_HEADER + "\n" + "".join(f"{name},{LAYOUT_ROW}\n" for name in names))
    start = time.perf_counter()
    subprocess.run([python, "-m", "scalesim.scale", "-c", str(cfg), "-t", str(topology), "-l", str(layout),
                    "-p", str(work / "out"), "-s", "N"], check=True, cwd=work, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    report = next((work / "out").rglob("COMPUTE_REPORT.csv"))
    rows = list(csv.reader(open(report)))[1:]
    return elapsed, [int(float(r[2])) for r in rows if r]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scalesim-python", required=True, help="python of an environment with scalesim 3.0.0")
    parser.add_argument("--topology", default=str(REPO / "tests" / "data" / "scalesim" / "resnet50.csv"))
    parser.add_argument("--array", default="64x64")
    parser.add_argument("--dataflow", default="ws", choices=("ws", "os", "is"))
    args = parser.parse_args()
    rows, cols = (int(x) for x in args.array.lower().split("x"))
    topology = Path(args.topology).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cfg = work / "scale.cfg"
        write_config(cfg, rows, cols, args.dataflow)
        hw_time, hw_layers = run_hwsim_in_process(topology, cfg, rows, cols, args.dataflow)
        cli_time = run_hwsim_cli(topology, cfg, work / "hwsim.json")
        hw_peak = child_peak_mib()
        ss_time, ss_layers = run_scalesim(args.scalesim_python, topology, cfg, work)
        ss_peak = child_peak_mib()
    agree = sum(a == b for a, b in zip(hw_layers, ss_layers))
    print(f"topology {topology.name}, {rows}x{cols} {args.dataflow}, {len(hw_layers)} layers")
    print(f"hwsim     simulate(): {hw_time * 1e3:9.1f} ms   whole CLI run: {cli_time:6.2f} s   peak RSS {hw_peak:7.0f} MiB")
    print(f"SCALE-Sim 3.0.0:      {ss_time:9.1f} s                                  peak RSS {ss_peak:7.0f} MiB"
          + ("" if ss_peak > hw_peak else " (or less: the larger of the two)"))
    print(f"speed ratio (SCALE-Sim / hwsim simulate): {ss_time / hw_time:,.0f}x; "
          f"(SCALE-Sim / hwsim CLI): {ss_time / cli_time:,.0f}x")
    print(f"total cycles: hwsim {sum(hw_layers):,}  SCALE-Sim {sum(ss_layers):,}  "
          f"{'EQUAL' if sum(hw_layers) == sum(ss_layers) else 'DIFFERENT'}; layers equal: {agree}/{len(ss_layers)}")
    print(json.dumps({"hwsim_simulate_s": hw_time, "hwsim_cli_s": cli_time, "scalesim_s": ss_time,
                      "hwsim_peak_mib": hw_peak, "scalesim_peak_mib": ss_peak,
                      "cycles_equal": sum(hw_layers) == sum(ss_layers)}))


if __name__ == "__main__":
    main()
