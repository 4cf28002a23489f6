"""Run the real SCALE-Sim 3.0.0 on single layers and write its reported numbers as golden CSV data.

    python benchmarks/scalesim_golden.py --out tests/golden/scalesim_compute.csv

The output feeds hwsim's ``--compat scalesim`` tests: every SCALE-Sim number in it is copied verbatim (as text) from
SCALE-Sim's own COMPUTE_REPORT.csv / DETAILED_ACCESS_REPORT.csv, never recomputed.

This script is stand-alone: it does not import hwsim, and it must run with an interpreter that has SCALE-Sim
installed. SCALE-Sim is a peer tool, installed only in this benchmark's own environment, never as a hwsim
dependency. SCALE-Sim 3.0.0 crashes under NumPy 2.x (``int(max(ofmap_serviced_cycles))`` -> "only 0-dimensional
arrays can be converted to Python scalars"), so pin NumPy below 2:

    python3 -m venv .venv-scalesim && .venv-scalesim/bin/pip install scalesim==3.0.0 "numpy<2"
    .venv-scalesim/bin/python benchmarks/scalesim_golden.py --out tests/golden/scalesim_compute.csv

How a case is run: one topology file holding the single layer, one matching layout file (SCALE-Sim 3.0.0 reads a
layout file even with custom layouts off; the row copies the stock ``layout_test.csv`` with the layer's name) and a
config file equal to the stock ``configs/scale.cfg`` except for array size, dataflow and run name (and, for
the USER cases, ``InterfaceBandwidth``, ``Bandwidth`` and the [layout] read bandwidths: USER_BANDWIDTHS). GEMM cases use
SCALE-Sim's MNK input (``-i gemm``). Each case runs in a subprocess of this interpreter through SCALE-Sim's Python API
(``scalesim.scale_sim.scalesim``, exactly what ``python -m scalesim.scale`` calls) with trace saving and progress
bars off — neither changes the reported numbers. Cases run two at a time (``--jobs``). Cases known to take more
than ~60 s (CALC) are listed in EXCLUDED and not run; ``--timeout`` (default 600 s: USER cases take up to ~250 s,
their read buffers walking every word in Python) is only a guard: a case that exceeds it
is dropped from the output and reported, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# --------------------------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------------------------

# The stock SCALE-Sim configs/scale.cfg (32x32, ws, 64 kB SRAMs, Bandwidth 10, InterfaceBandwidth CALC) with the
# run name, array size and dataflow as parameters. In CALC mode SCALE-Sim ignores `Bandwidth` and estimates DRAM
# bandwidth itself (backing-buffer bandwidth 10 words/cycle for ifmap and filter, array width for ofmap).
SRAM_KB = {"ifmap": 64, "filter": 64, "ofmap": 64}
BANDWIDTH = 10
INTERFACE_BANDWIDTH = "CALC"

# USER cases: `InterfaceBandwidth: USER` at these `Bandwidth`s (words per cycle). SCALE-Sim 3.0.0 then gives its
# ofmap write buffer `Bandwidth` (single_layer_sim.run: `ofmap_backing_bw = bws[0]`) but its ifmap and filter read
# buffers the [layout] section's `IfmapSRAMBankBandwidth` / `FilterSRAMBankBandwidth`; these cases set both to
# `Bandwidth` too, so that all three DRAM interfaces move `Bandwidth` words per cycle, as in hwsim (one DRAM
# bandwidth). In CALC cases they keep the stock 10. The bank count (10) must divide them (read_buffer.set_params).
USER_BANDWIDTHS = (10, 50, 100)
# Layers and arrays run in USER mode (every dataflow, every bandwidth above); SCALE-Sim's USER read buffers walk
# every element in Python, so only small layers.
USER_ARRAYS = {
    "gemm_197x64x197": [(32, 32), (8, 16)],
    "mobilenet_conv14_dw": [(32, 32)],
    "mobilenet_conv13_pw": [(32, 32)],
    "resnet50_cb4b_2": [(32, 32)],  # a filter of 900 sets: tiles straddling the window's edge send it round
}

CFG_TEMPLATE = """\
[general]
run_name = {run_name}

[architecture_presets]
ArrayHeight:    {rows}
ArrayWidth:     {cols}
IfmapSramSzkB:   {ifmap_kb}
FilterSramSzkB:  {filter_kb}
OfmapSramSzkB:   {ofmap_kb}
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : {bandwidth}
Dataflow : {dataflow}
MemoryBanks:   1
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: {read_bandwidth}
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: {read_bandwidth}
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport : false
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40

[run_presets]
InterfaceBandwidth: {interface_bw}
UseRamulatorTrace: False
"""

# Header and factor/order row of the stock SCALE-Sim layouts/layout_test.csv (the layer name is substituted).
LAYOUT_HEADER = (
    "Layer name, IFMAP Height Intraline Factor, IFMAP Width Intraline Factor, Filter Height Intraline Factor, "
    "Filter Width Intraline Factor, Channel Intraline Factor, Num Filter Intraline Factor, IFMAP Height Intraline "
    "Order, IFMAP Width Intraline Order, Channel Intraline Order, IFMAP Height Interline Order, IFMAP Width Interline "
    "Order, Channel Interline Order, Num Filter Intraline Order, Channel Intraline Order, Filter Height Intraline "
    "Order, Filter Width Intraline Order, Num Filter Interline Order, Channel Interline Order, Filter Height "
    "Interline Order, Filter Width Interline Order, \n"
)
LAYOUT_VALUES = "2, 2, 1, 1, 16, 4,     0, 1, 2,     4, 5, 3,     3, 2, 1, 0,     4, 5, 6, 7,"

CONV_TOPO_HEADER = (
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
)
GEMM_TOPO_HEADER = "Layer, M, N, K,\n"

# Conv layers: (ifmap_h, ifmap_w, filter_h, filter_w, channels, num_filters, stride), copied from SCALE-Sim's
# stock topologies (resnet50.csv, mobilenet.csv) or, for AlexNet conv1, from the AlexNet paper.
CONV_LAYERS = {
    "alexnet_conv1": ("AlexNet_conv1", (227, 227, 11, 11, 3, 96, 4)),
    "resnet50_conv1": ("Conv1", (224, 224, 7, 7, 3, 64, 2)),
    "resnet50_cb2a_2": ("CB2a_2", (56, 56, 3, 3, 64, 64, 1)),
    "resnet50_cb3a_1": ("CB3a_1", (56, 56, 1, 1, 256, 128, 2)),
    "resnet50_cb4a_3": ("CB4a_3", (14, 14, 1, 1, 256, 1024, 1)),
    "resnet50_cb4b_2": ("CB4b_2", (14, 14, 3, 3, 256, 256, 1)),
    "resnet50_fc6": ("FC6", (1, 1, 1, 1, 2048, 1000, 1)),
    # MobileNet's depthwise 3x3 layers appear in SCALE-Sim's topology as one filter over all channels.
    "mobilenet_conv2_dw": ("Conv2", (112, 112, 3, 3, 32, 1, 1)),
    "mobilenet_conv14_dw": ("Conv14", (14, 14, 3, 3, 512, 1, 1)),
    "mobilenet_conv3_pw": ("Conv3", (112, 112, 1, 1, 32, 64, 1)),
    "mobilenet_conv13_pw": ("Conv13", (14, 14, 1, 1, 256, 512, 1)),
}

# GEMM layers: (M, N, K), SCALE-Sim MNK input (ifmap M x K, filter K x N).
GEMM_LAYERS = {
    "gemm_128x768x768": ("gemm_128x768x768", (128, 768, 768)),
    "gemm_197x64x197": ("gemm_197x64x197", (197, 64, 197)),
}

DATAFLOWS = ("ws", "os", "is")

# Which arrays each layer runs on (every array with every dataflow). Every layer runs on 32x32; the small layers
# also run on the non-square 8x16 / 16x8 arrays and two layers on 64x64. SCALE-Sim's run time grows with the
# simulated cycle count (about 0.1-0.2 ms per cycle), so layers whose cases would run past ~60 s are left out.
ARRAYS = {
    "alexnet_conv1": [(32, 32), (64, 64)],
    "resnet50_conv1": [(32, 32)],
    "resnet50_cb2a_2": [(32, 32), (64, 64)],
    "resnet50_cb3a_1": [(32, 32)],
    "resnet50_cb4a_3": [(32, 32)],
    "resnet50_fc6": [(32, 32)],
    "mobilenet_conv2_dw": [(32, 32)],
    "mobilenet_conv14_dw": [(32, 32), (8, 16), (16, 8)],
    "mobilenet_conv3_pw": [(32, 32)],
    "mobilenet_conv13_pw": [(32, 32), (8, 16), (16, 8)],
    "gemm_128x768x768": [(32, 32)],
    "gemm_197x64x197": [(32, 32), (8, 16), (16, 8)],
}

# Cases left out because SCALE-Sim took more than ~60 s on them (measured with 2 runs in parallel). They are excluded
# here, rather than by --timeout, so that the golden file has the same rows on every machine.
EXCLUDED = {
    "mobilenet_conv2_dw_32x32_is": "SCALE-Sim takes 60 s alone, over 60 s beside a second run (324k cycles)",
}

# --------------------------------------------------------------------------------------------------------------
# Output format
# --------------------------------------------------------------------------------------------------------------

CASE_COLUMNS = [
    "case", "input_type", "layer_name",
    "ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "num_filters", "stride",
    "M", "N", "K",
    "array_rows", "array_cols", "dataflow",
]
# Set per case, written among the run settings (RUN_COLUMNS) at the end of the row.
CASE_SETTINGS = ["bandwidth", "interface_bandwidth"]
# Our column name -> (SCALE-Sim report file, SCALE-Sim column header).
REPORT_COLUMNS = {
    "total_cycles_incl_prefetch": ("COMPUTE_REPORT.csv", "Total Cycles (incl. prefetch)"),
    "total_cycles": ("COMPUTE_REPORT.csv", "Total Cycles"),
    "stall_cycles": ("COMPUTE_REPORT.csv", "Stall Cycles"),
    "overall_util_pct": ("COMPUTE_REPORT.csv", "Overall Util %"),
    "mapping_efficiency_pct": ("COMPUTE_REPORT.csv", "Mapping Efficiency %"),
    "compute_util_pct": ("COMPUTE_REPORT.csv", "Compute Util %"),
    "sram_ifmap_reads": ("DETAILED_ACCESS_REPORT.csv", "SRAM IFMAP Reads"),
    "sram_filter_reads": ("DETAILED_ACCESS_REPORT.csv", "SRAM Filter Reads"),
    "sram_ofmap_writes": ("DETAILED_ACCESS_REPORT.csv", "SRAM OFMAP Writes"),
    "dram_ifmap_reads": ("DETAILED_ACCESS_REPORT.csv", "DRAM IFMAP Reads"),
    "dram_filter_reads": ("DETAILED_ACCESS_REPORT.csv", "DRAM Filter Reads"),
    "dram_ofmap_writes": ("DETAILED_ACCESS_REPORT.csv", "DRAM OFMAP Writes"),
}
RUN_COLUMNS = [
    "scalesim_version", "ifmap_sram_kb", "filter_sram_kb", "ofmap_sram_kb", "bandwidth", "interface_bandwidth",
]
COLUMNS = CASE_COLUMNS + list(REPORT_COLUMNS) + RUN_COLUMNS


# --------------------------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------------------------

def build_cases() -> list[dict]:
    runs = [(key, arrays, INTERFACE_BANDWIDTH, BANDWIDTH) for key, arrays in ARRAYS.items()]
    runs += [(key, arrays, "USER", bw) for bw in USER_BANDWIDTHS for key, arrays in USER_ARRAYS.items()]
    cases = []
    for key, arrays, interface_bw, bandwidth in runs:
        for rows, cols in arrays:
            for df in DATAFLOWS:
                case = dict.fromkeys(CASE_COLUMNS + CASE_SETTINGS, "")
                if key in CONV_LAYERS:
                    name, dims = CONV_LAYERS[key]
                    case["input_type"] = "conv"
                    for col, val in zip(["ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels",
                                         "num_filters", "stride"], dims):
                        case[col] = val
                else:
                    name, dims = GEMM_LAYERS[key]
                    case["input_type"] = "gemm"
                    case["M"], case["N"], case["K"] = dims
                suffix = "" if interface_bw == INTERFACE_BANDWIDTH else f"_user{bandwidth}"
                case.update(case=f"{key}_{rows}x{cols}_{df}{suffix}", layer_name=name,
                            array_rows=rows, array_cols=cols, dataflow=df, interface_bandwidth=interface_bw,
                            bandwidth=bandwidth)
                if case["case"] not in EXCLUDED:
                    cases.append(case)
    return cases


def write_inputs(case: dict, case_dir: Path) -> None:
    case_dir.mkdir(parents=True)
    (case_dir / "scale.cfg").write_text(CFG_TEMPLATE.format(
        run_name="run", rows=case["array_rows"], cols=case["array_cols"], dataflow=case["dataflow"],
        ifmap_kb=SRAM_KB["ifmap"], filter_kb=SRAM_KB["filter"], ofmap_kb=SRAM_KB["ofmap"],
        bandwidth=case["bandwidth"], interface_bw=case["interface_bandwidth"],
        read_bandwidth=case["bandwidth"] if case["interface_bandwidth"] == "USER" else BANDWIDTH))
    if case["input_type"] == "conv":
        dims = [case[c] for c in ["ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "num_filters", "stride"]]
        topo = CONV_TOPO_HEADER + ", ".join([case["layer_name"]] + [str(d) for d in dims]) + ",\n"
    else:
        topo = GEMM_TOPO_HEADER + ", ".join([case["layer_name"]] + [str(case[c]) for c in "MNK"]) + ",\n"
    (case_dir / "topo.csv").write_text(topo)
    (case_dir / "layout.csv").write_text(LAYOUT_HEADER + f"{case['layer_name']}, {LAYOUT_VALUES}\n")


def read_report(path: Path) -> dict[str, str]:
    """One-layer SCALE-Sim report -> {header: value text}. Headers and values are ', '-separated with a trailing
    comma; values are kept exactly as SCALE-Sim printed them."""
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    if len(lines) != 2:
        raise RuntimeError(f"{path}: expected a header and one layer row, got {len(lines)} lines")
    header = [h.strip() for h in lines[0].split(",")]
    values = [v.strip() for v in lines[1].split(",")]
    return {h: v for h, v in zip(header, values) if h}


def run_case(case: dict, work: Path, timeout: float) -> tuple[dict, float, str | None]:
    """Run one case in a subprocess. Returns (row, seconds, error or None)."""
    case_dir = work / case["case"]
    write_inputs(case, case_dir)
    log = case_dir / "scalesim.log"
    start = time.perf_counter()
    try:
        with open(log, "w") as fh:
            proc = subprocess.run(
                [sys.executable, os.path.abspath(__file__), "--worker", str(case_dir), case["input_type"]],
                cwd=case_dir, stdout=fh, stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired:
        return case, time.perf_counter() - start, f"timed out after {timeout:.0f} s"
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-15:])
        return case, seconds, f"exit status {proc.returncode}; log tail:\n{tail}"
    out = case_dir / "out" / "run"
    try:
        reports = {name: read_report(out / name) for name in {f for f, _ in REPORT_COLUMNS.values()}}
    except (OSError, RuntimeError) as exc:  # SCALE-Sim exits with status 0 on some input errors
        tail = "\n".join(log.read_text().splitlines()[-15:])
        return case, seconds, f"no usable report ({exc}); log tail:\n{tail}"
    row = dict(case)
    for col, (fname, header) in REPORT_COLUMNS.items():
        row[col] = reports[fname][header]
    row.update(scalesim_version=(case_dir / "version.txt").read_text().strip(),
               ifmap_sram_kb=SRAM_KB["ifmap"], filter_sram_kb=SRAM_KB["filter"], ofmap_sram_kb=SRAM_KB["ofmap"])
    return row, seconds, None


def worker(case_dir: str, input_type: str) -> None:
    """Subprocess body: one SCALE-Sim run, as `python -m scalesim.scale -c scale.cfg -t topo.csv -l layout.csv
    -p out [-i gemm]` does it, but with traces and progress bars off."""
    from importlib.metadata import version

    from scalesim.scale_sim import scalesim

    d = Path(case_dir)
    (d / "version.txt").write_text(version("scalesim") + "\n")
    sim = scalesim(save_disk_space=True, verbose=False, config=str(d / "scale.cfg"),
                   topology=str(d / "topo.csv"), layout=str(d / "layout.csv"),
                   input_type_gemm=(input_type == "gemm"))
    sim.run_scale(top_path=str(d / "out"))


def main() -> int:
    if sys.argv[1:2] == ["--worker"]:
        worker(*sys.argv[2:4])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="CSV file to write")
    ap.add_argument("--jobs", type=int, default=2, help="SCALE-Sim runs in parallel (default 2)")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds before a case is dropped (default 600)")
    ap.add_argument("--only", default="", help="run only cases whose name contains this text")
    ap.add_argument("--keep", type=Path, help="keep SCALE-Sim inputs/outputs under this directory")
    args = ap.parse_args()

    cases = [c for c in build_cases() if args.only in c["case"]]
    order = {c["case"]: i for i, c in enumerate(cases)}
    rows, dropped, failed = [], [], []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="scalesim_golden_") as tmp:
        work = args.keep if args.keep else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = [pool.submit(run_case, c, work, args.timeout) for c in cases]
            for fut in concurrent.futures.as_completed(futures):
                row, seconds, err = fut.result()
                status = "ok" if err is None else err.splitlines()[0]
                print(f"{row['case']:40s} {seconds:6.1f} s  {status}", file=sys.stderr, flush=True)
                if err is None:
                    rows.append(row)
                elif err.startswith("timed out"):
                    dropped.append((row["case"], seconds))
                else:
                    failed.append((row["case"], err))
    elapsed = time.perf_counter() - t0

    rows.sort(key=lambda r: order[r["case"]])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)

    print(f"\n{len(rows)}/{len(cases)} cases written to {args.out} in {elapsed:.0f} s "
          f"({args.jobs} parallel runs)", file=sys.stderr)
    for name, seconds in dropped:
        print(f"DROPPED (over {args.timeout:.0f} s): {name}", file=sys.stderr)
    for name, err in failed:
        print(f"FAILED: {name}: {err}", file=sys.stderr)
    for name, why in EXCLUDED.items():
        print(f"excluded: {name}: {why}", file=sys.stderr)
    return 1 if failed or dropped else 0


if __name__ == "__main__":
    sys.exit(main())
