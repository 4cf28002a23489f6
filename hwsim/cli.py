"""The ``hwsim`` command: argument parsing, printing and exit codes only.

Exit codes: 0 success, 2 bad input (one line on stderr naming the file, layer, field and
value; never a traceback).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from hwsim import __version__
from hwsim.errors import InputError
from hwsim.types import ArrayShape, Dataflow

if TYPE_CHECKING:
    from hwsim.arch.systolic import SystolicArray
    from hwsim.workload.network import Network

EXIT_OK, EXIT_BAD_INPUT = 0, 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake as one line, like every other bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {message} (see '{self.prog} --help')", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hwsim", description="Hardware-accelerator co-design simulator.")
    parser.add_argument("--version", action="version", version=f"hwsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def outputs(p: argparse.ArgumentParser) -> None:
        p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
        p.add_argument("--csv", metavar="FILE", help="also write the results as CSV")
        p.add_argument("--quiet", action="store_true", help="print nothing but errors")

    p = sub.add_parser("workloads", help="list the bundled networks with their MACs and parameters")
    outputs(p)

    p = sub.add_parser("info", help="layer table of a workload: kind, shapes, GEMM dims, MACs, params")
    p.add_argument("workload", help="workload .json, SCALE-Sim topology .csv, .onnx model, or a bundled name")
    outputs(p)

    p = sub.add_parser("convert", help="convert between workload JSON, SCALE-Sim topology CSV and ONNX")
    p.add_argument("source", help="a .json workload, a SCALE-Sim .csv topology or an .onnx model")
    p.add_argument("-o", "--output", required=True, help="a .json workload or a SCALE-Sim .csv topology")
    p.add_argument("--format", choices=("conv", "gemm"), default="conv",
                   help="SCALE-Sim CSV format when writing .csv (default: conv)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")

    def hardware(p: argparse.ArgumentParser) -> None:
        p.add_argument("--array", metavar="RxC", help="PE array rows x columns, e.g. 64x64 (required unless a "
                       "--config or --arch file gives it)")
        p.add_argument("--dataflow", metavar="DF", help="ws, os or is (default: the file's, else ws)")
        p.add_argument("--config", metavar="CFG", help="a SCALE-Sim .cfg file: array, SRAMs, bandwidth, dataflow")
        p.add_argument("--arch", metavar="JSON", help="an hwsim systolic-array .json file")
        p.add_argument("--precision", metavar="P", help="MAC operands: int8 (default), int16, int32, fp16, bf16, fp32")
        p.add_argument("--bandwidth", type=float, metavar="B", help="DRAM bytes per cycle (default 10)")
        p.add_argument("--clock-mhz", type=float, metavar="MHZ", help="array clock (default 1000)")
        p.add_argument("--tech", default="45nm", metavar="TECH",
                       help="technology: a bundled node (45nm default, 32nm ... 7nm) or an hwsim-tech .json table")

    p = sub.add_parser("run", help="simulate a workload on a systolic array")
    p.add_argument("workload", help="workload .json, SCALE-Sim topology .csv, .onnx model, or a bundled name")
    hardware(p)
    p.add_argument("--compat", metavar="MODE", help="'scalesim': SCALE-Sim 3.0.0's cycle and utilisation conventions")
    p.add_argument("--pack-groups", action="store_true",
                   help="run several groups of grouped/depthwise layers per fold (block-diagonal packing)")
    p.add_argument("--plot", metavar="PNG", help="also draw the network's roofline")
    p.add_argument("--batch", type=int, metavar="B", help="samples per step (default: the workload's)")
    p.add_argument("--sat", action="store_true", help="run on SAT, the N:M sparse training accelerator")
    p.add_argument("--sparsity", metavar="N:M", help="with --sat: N:M sparse weights, e.g. 2:8")
    p.add_argument("--train", action="store_true", help="with --sat: a whole training step (FF, BP, WU)")
    p.add_argument("--scheme", default="bdwp", choices=("bdwp", "forward", "dense"),
                   help="with --sat --train: which passes are sparse (bdwp: FF and BP; forward: FF only)")
    outputs(p)

    p = sub.add_parser("area", help="area breakdown of a systolic array, without a workload")
    hardware(p)
    outputs(p)

    p = sub.add_parser("explore", help="NASAIC co-exploration: heterogeneous sub-accelerators (and networks) "
                       "searched against latency, energy and area specs")
    p.add_argument("spec", help="an hwsim-explore .json file (see examples/explore/)")
    p.add_argument("--method", choices=("auto", "exhaustive", "evolutionary", "reinforce"),
                   help="search method (default: the file's, else auto: exhaustive when the space is small enough)")
    p.add_argument("--seed", type=int, metavar="S", help="seed of the evolutionary and REINFORCE searches")
    p.add_argument("--no-baselines", action="store_true", help="skip the homogeneous and successive baselines")
    p.add_argument("--plot", metavar="PNG", help="also draw every design's energy against latency, the Pareto "
                   "front and the specs")
    p.add_argument("--gantt", metavar="PNG", help="also draw the schedule of the best design that meets the specs")
    outputs(p)

    p = sub.add_parser("rtl", help="hardware generators (Amaranth) of the simulated designs")
    rtl = p.add_subparsers(dest="rtl_command", required=True, parser_class=_Parser)
    g = rtl.add_parser("generate", help="write the Verilog of a systolic GEMM engine and a JSON sidecar of its ports")
    g.add_argument("--array", required=True, metavar="RxC", help="PE array rows x columns, e.g. 8x8")
    g.add_argument("--dataflow", default="ws", metavar="DF", help="ws, os or is (default ws)")
    g.add_argument("-o", "--output", required=True, metavar="DIR", help="folder for the .v and .json files")
    for dim in ("m", "n", "k"):
        g.add_argument(f"--max-{dim}", type=int, default=64, metavar=dim.upper(),
                       help=f"largest GEMM {dim.upper()} the operand memories hold (default 64)")
    g.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except InputError as err:
        print(f"hwsim: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _workloads(args: argparse.Namespace) -> int:
    from hwsim.report.table import format_table, write_csv, write_json
    from hwsim.report.workload import network_summary
    from hwsim.workload.zoo import ZOO

    rows = [network_summary(builder()) for builder in ZOO.values()]
    columns = ("Network", "Layers", "MACs", "Params", "Source")
    if not args.quiet:
        print(format_table(rows, columns[:-1]))
    if args.json:
        write_json(args.json, rows)
    if args.csv:
        write_csv(args.csv, rows, list(rows[0]))
    return EXIT_OK


def _info(args: argparse.Namespace) -> int:
    from hwsim.io.load import load_workload
    from hwsim.report.table import format_table, write_csv, write_json
    from hwsim.report.workload import LAYER_COLUMNS, layer_rows, network_summary

    network = load_workload(args.workload)
    rows = layer_rows(network)
    summary = network_summary(network)
    if not args.quiet:
        print(f"{network.name}: {summary['Source']}")
        print(f"inputs: {', '.join(f'{k} {list(v)}' for k, v in network.inputs.items())}; "
              f"batch {network.batch}; {network.datatype_bits}-bit data")
        print(format_table(rows, LAYER_COLUMNS))
    if args.json:
        write_json(args.json, {"network": summary, "layers": rows[:-1], "total": rows[-1]})
    if args.csv:
        write_csv(args.csv, rows, LAYER_COLUMNS)
    return EXIT_OK


def _convert(args: argparse.Namespace) -> int:
    from hwsim.io.load import load_workload
    from hwsim.io.scalesim_csv import write_topology
    from hwsim.io.workload_json import dump_network

    out = Path(args.output)
    if out.suffix.lower() not in (".json", ".csv"):
        raise InputError("expected a .json or .csv file to write", field="--output", value=args.output)
    network = load_workload(args.source)
    if out.suffix.lower() == ".json":
        dump_network(network, out)
        message = f"wrote {out}: {len(network)} layers, {network.macs:,} MACs, {network.params:,} params"
    else:
        export = write_topology(network, out, fmt=args.format)
        message = f"wrote {out}: {export.rows} SCALE-Sim {args.format} rows"
        if export.left_out:
            message += (f"; left out {len(export.left_out)} memory-only layers SCALE-Sim cannot express "
                        f"({', '.join(export.left_out[:5])}{', ...' if len(export.left_out) > 5 else ''})")
    if not args.quiet:
        print(message)
    return EXIT_OK


def _arch(args: argparse.Namespace) -> SystolicArray:
    """The systolic array the arguments describe: a --config or --arch file, then the flags on top."""
    from dataclasses import replace

    from hwsim.arch.systolic import SystolicArray
    from hwsim.io.arch_config import read_arch_json, read_scalesim_cfg

    if args.config and args.arch:
        raise InputError("give one of --config and --arch", field="--arch", value=args.arch)
    changes: dict[str, object] = {}
    if args.array is not None:
        shape = ArrayShape.parse(args.array, field="--array")
        changes.update(rows=shape.rows, cols=shape.cols)
    if args.dataflow is not None:
        changes["dataflow"] = Dataflow.parse(args.dataflow, field="--dataflow")
    if args.precision is not None:
        changes.update(precision=args.precision, ifmap_bits=None, filter_bits=None, ofmap_bits=None)
    if args.bandwidth is not None:
        changes["dram_bandwidth_bytes_per_cycle"] = args.bandwidth
    if args.clock_mhz is not None:
        changes["clock_mhz"] = args.clock_mhz
    if args.config or args.arch:
        arch = read_scalesim_cfg(args.config) if args.config else read_arch_json(args.arch)
        return replace(arch, **changes)
    if args.array is None:
        raise InputError("is required unless --config or --arch gives the array", field="--array")
    return SystolicArray(**changes)


def _describe(arch: SystolicArray, tech: str) -> str:
    return (f"a {arch.rows}x{arch.cols} {arch.dataflow.value} {arch.precision} array; SRAM ifmap/filter/ofmap "
            f"{arch.ifmap_sram_kib:g}/{arch.filter_sram_kib:g}/{arch.ofmap_sram_kib:g} KiB, "
            f"DRAM {arch.dram_bandwidth_bytes_per_cycle:g} B/cycle, {arch.clock_mhz:g} MHz, {tech}")


def _run(args: argparse.Namespace) -> int:
    from hwsim.cost.tech import load_technology
    from hwsim.io.load import load_workload
    from hwsim.report.systolic import COLUMNS, TABLE_COLUMNS
    from hwsim.report.table import format_table, write_csv, write_json
    from hwsim.sim.engine import simulate

    network = load_workload(args.workload)
    if args.batch is not None:
        from dataclasses import replace

        network = replace(network, batch=args.batch)
    if args.sat:
        return _run_sat(args, network)
    for flag in ("sparsity", "train"):
        if getattr(args, flag):
            raise InputError("needs --sat (sparse and training runs model the SAT accelerator)", field=f"--{flag}",
                             value=getattr(args, flag))
    arch = _arch(args)
    tech = load_technology(args.tech)
    report = simulate(network, arch, compat=args.compat, pack=args.pack_groups, tech=tech)
    rows = report.rows()
    if args.json:
        write_json(args.json, report.to_dict())
    if args.csv:
        write_csv(args.csv, rows, COLUMNS)
    if args.plot:
        from hwsim.report.plots import roofline

        roofline(report, args.plot)
    if not args.quiet:
        total, s = report.total, report.summary()
        mode = f"{args.compat} compatibility" if args.compat else "native"
        print(f"{network.name} on {_describe(arch, tech.name)} ({mode})")
        print(format_table(rows, TABLE_COLUMNS))
        print(f"{total.total_cycles:,} cycles ({total.stall_cycles:,} stalled), "
              f"{report.latency_us():,.1f} us at {arch.clock_mhz:g} MHz, "
              f"{100 * total.utilization:.2f} % PE utilisation, {total.dram_bytes:,} DRAM bytes")
        print(f"{s['Energy uJ']:,.1f} uJ ({s['pJ/MAC']:.3f} pJ/MAC, {s['TOPS/W']:.3f} TOPS/W); "
              f"area {s['Area mm2']:.3f} mm2 ({s['Peak TOPS/mm2']:.3f} peak TOPS/mm2)")
    return EXIT_OK


def _run_sat(args: argparse.Namespace, network: Network) -> int:
    from hwsim.arch.sat import SatArray
    from hwsim.cost.tech import load_technology
    from hwsim.report.table import format_table, write_csv, write_json
    from hwsim.sim.training import simulate_training
    from hwsim.workload.sparsity import NMSparsity
    from hwsim.workload.training import Pass, Scheme

    sat = SatArray(array=_arch(args)) if (args.array or args.config or args.arch) else SatArray()
    scheme = Scheme(args.scheme) if args.sparsity else Scheme.DENSE
    sparsity = NMSparsity.parse(args.sparsity) if args.sparsity else None
    report = simulate_training(network, sat, scheme=scheme, sparsity=sparsity, tech=load_technology(args.tech))
    rows = report.rows()
    if not args.train:
        rows = [r for r in rows if r["Pass"] == Pass.FF.value]
    columns = ("Layer", "Pass", "M", "N", "K", "Sparsity", "Dataflow", "Total Cycles", "Dense Cycles", "Speed-up",
               "Utilization %", "Energy pJ")
    summary = report.summary()
    if args.json:
        write_json(args.json, {"summary": summary, "passes": rows})
    if args.csv:
        write_csv(args.csv, rows, list(rows[0]) if rows else columns)
    if not args.quiet:
        a = sat.array
        what = "training step" if args.train else "forward pass"
        print(f"{network.name} (batch {network.batch}) {what} on SAT: {a.rows}x{a.cols} {a.precision}, "
              f"{a.clock_mhz:g} MHz, {report.tech}; {summary['Scheme']} {summary['Sparsity']}")
        print(format_table(rows, columns))
        passes = list(Pass) if args.train else [Pass.FF]
        print("; ".join(f"{p.value.upper()} {report.cycles(p):,} cycles ({report.speedup(p):.2f}x)" for p in passes))
        if args.train:
            print(f"step: {report.cycles():,} cycles, {summary['Latency ms']:.3f} ms, {summary['Energy mJ']:.3f} mJ; "
                  f"{report.speedup():.2f}x over dense training on the same hardware")
    return EXIT_OK


def _area(args: argparse.Namespace) -> int:
    from hwsim.cost.area import systolic_area
    from hwsim.cost.tech import load_technology
    from hwsim.io.arch_config import arch_to_dict
    from hwsim.report.table import format_table, write_csv, write_json

    arch = _arch(args)
    tech = load_technology(args.tech)
    area = systolic_area(arch, tech)
    rows = area.rows()
    columns = ("Component", "Area um2", "Area mm2", "Share %")
    if args.json:
        write_json(args.json, {"arch": arch_to_dict(arch), "tech": tech.name, "area": rows,
                               "peak_tops_per_mm2": 2 * arch.pes * arch.clock_mhz / 1e6 / area.total_mm2})
    if args.csv:
        write_csv(args.csv, rows, columns)
    if not args.quiet:
        print(f"area of {_describe(arch, tech.name)}")
        print(format_table(rows, columns))
        print(f"{area.total_mm2:.3f} mm2; {2 * arch.pes * arch.clock_mhz / 1e6 / area.total_mm2:.3f} peak TOPS/mm2")
    return EXIT_OK


def _rtl(args: argparse.Namespace) -> int:
    from hwsim.arch.systolic import SystolicArray

    shape = ArrayShape.parse(args.array, field="--array")
    arch = SystolicArray(shape.rows, shape.cols, dataflow=Dataflow.parse(args.dataflow, field="--dataflow"))
    for dim in ("m", "n", "k"):
        value = getattr(args, f"max_{dim}")
        if value < 1:
            raise InputError("must be >= 1", field=f"--max-{dim}", value=value)
    from rtl.generate import generate  # Amaranth loads only for this command

    try:
        verilog, sidecar = generate(arch, Path(args.output), max_m=args.max_m, max_n=args.max_n, max_k=args.max_k)
    except ValueError as err:  # the generator's own limits (memory depth, 16-bit sizes)
        raise InputError(str(err).splitlines()[0], field="rtl generate") from None
    if not args.quiet:
        print(f"wrote {verilog}\nwrote {sidecar}")
    return EXIT_OK


def _explore(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from hwsim.explore.coexplore import OBJECTIVES, explore
    from hwsim.io.explore_json import read_explore_spec
    from hwsim.report.table import format_table, write_csv, write_json

    spec = read_explore_spec(args.spec)
    changes = {k: v for k, v in (("method", args.method), ("seed", args.seed)) if v is not None}
    if changes:
        spec = replace(spec, search=replace(spec.search, **changes))
    result = explore(spec, baselines=not args.no_baselines)
    trials = result.search.trials
    rows = [{"Step": t.step, **t.point, "Reward": t.evaluation.reward, "Meets specs": t.evaluation.feasible,
             **t.evaluation.metrics} for t in trials]
    front = [rows[i] for i in result.front]
    comparison = result.comparison()
    checks = [] if result.best_report is None else [
        {"Spec": c.name, "Value": c.value, "Limit": c.limit, "Met": c.met, "Margin %": c.margin_pct}
        for c in spec.specs.check(result.best_report.metrics())]
    if args.json:
        write_json(args.json, {
            "spec": spec.name, "method": result.search.method, "seed": result.search.seed,
            "evaluations": result.search.evaluations, "accuracy_source": spec.accuracy_source,
            "best": None if result.best is None else {"point": result.best.point,
                                                      "metrics": result.best.evaluation.metrics},
            "best_summary": None if result.best_report is None else result.best_report.summary(),
            "best_sub_accelerators": None if result.best_report is None else result.best_report.sub_rows(),
            "specs": checks, "pareto_front": front, "comparison": comparison,
            "successive_networks": dict(result.successive_networks),
        })
    if args.csv:
        write_csv(args.csv, rows, list(dict.fromkeys(k for row in rows for k in row)))
    if args.plot:
        from hwsim.report.explore_plots import pareto_scatter

        valid = [t.evaluation.metrics for t in trials if t.evaluation.metrics]
        index = {id(m): i for i, m in enumerate(valid)}
        highlight = {r["Approach"]: {"latency_cycles": r["Latency cycles"], "energy_nj": r["Energy nJ"]}
                     for r in comparison if "Latency cycles" in r}
        pareto_scatter(valid, [index[id(trials[i].evaluation.metrics)] for i in result.front], spec.specs, args.plot,
                       highlight=highlight)
    if args.gantt:
        if result.best_report is None:
            raise InputError("no design meets the specs, so there is no schedule to draw", field="--gantt",
                             value=args.gantt)
        from hwsim.report.explore_plots import gantt

        gantt(result.best_report, args.gantt)
    if not args.quiet:
        print(f"{spec.name}: {result.search.method} search (seed {result.search.seed}), "
              f"{result.search.evaluations:,} designs evaluated; accuracy: {spec.accuracy_source}")
        if result.best is None:
            print("no design meets the specs")
        else:
            print(f"best design meeting the specs: {result.best_report.design.label}; mapping "
                  + ", ".join(f"{t.name} -> sub {result.best.point[f'map.{t.name}']}" for t in spec.tasks))
            print(format_table(checks, ("Spec", "Value", "Limit", "Met", "Margin %")))
            print(format_table(result.best_report.sub_rows(), ("Sub", "Template", "PEs", "Bandwidth GB/s",
                                                               "Busy Cycles", "Utilization %", "Busy %")))
        print(f"Pareto front (latency, energy, area): {len(front)} designs")
        columns = [c for c in ("Step", *OBJECTIVES, "accuracy", "Meets specs") if any(c in r for r in front)]
        print(format_table(front[:20], columns))
        print(format_table(comparison, ("Approach", "Meets specs", "Latency cycles", "Energy nJ", "Area um2",
                                        "Accuracy")))
    return EXIT_OK


_SWEEP_FLAGS = {"out": "--out", "resume": "--resume", "jobs": "--jobs", "scheduler": "--scheduler",
                "dask_address": "--dask-address", "dask_workers": "--dask-workers", "chunk_size": "--chunk-size"}


def _sweep(args: argparse.Namespace) -> int:
    from hwsim.report.table import write_csv, write_json
    from hwsim.sweep.run import SweepInterrupted, sweep
    from hwsim.sweep.summary import pareto_table_rows, summary_document, summary_lines

    try:
        result = sweep(args.spec, args.out, resume=args.resume, jobs=args.jobs, scheduler=args.scheduler,
                       dask_address=args.dask_address, dask_workers=args.dask_workers, chunk_size=args.chunk_size,
                       progress=False if args.quiet else None)
    except InputError as err:
        if err.file is None and err.layer is None and err.field in _SWEEP_FLAGS:  # name the flag, not the argument
            raise InputError(err.problem, field=_SWEEP_FLAGS[err.field], value=err.value) from None
        raise
    except KeyboardInterrupt as stop:
        print(f"hwsim: {stop if isinstance(stop, SweepInterrupted) else 'interrupted'}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if args.json:
        write_json(args.json, summary_document(result, source=args.spec))
    if args.csv:
        write_csv(args.csv, pareto_table_rows(result), result.columns + ("Energy uJ", "Area mm2"))
    if args.plot:
        result.plot_pareto(args.plot)
    if not args.quiet:
        print("\n".join(summary_lines(result, source=args.spec)))
    return EXIT_OK


_COMMANDS = {"workloads": _workloads, "info": _info, "convert": _convert, "run": _run, "area": _area, "rtl": _rtl,
             "explore": _explore}
