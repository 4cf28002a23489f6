"""The ``hwsim`` command: argument parsing, printing and exit codes only.

Exit codes: 0 success, 2 bad input (one line on stderr naming the file, layer, field and
value; never a traceback), 1 a check that did not pass (``hwsim rtl compare``: RTL and model disagree, or the
simulation could not run), 130 interrupted (``hwsim sweep`` after Ctrl-C: the rows written so far are kept).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from hwsim import __version__, api

if TYPE_CHECKING:
    from hwsim.api import Network, SystolicArray

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake as one line, like every other bad input."""

    _formatting = False

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {message} (see '{self.prog} --help')", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)

    def _get_formatter(self) -> argparse.HelpFormatter:
        # add_argument builds a formatter only to check each metavar: one formatter of a fixed width, kept, spares a
        # new one and a terminal-size query (and the shutil import) per argument, a tenth of a bundled run's time.
        # Help is still sized to the terminal.
        if self._formatting:
            return super()._get_formatter()
        if "_checker" not in self.__dict__:
            self._checker = self.formatter_class(prog=self.prog, width=80)
        return self._checker

    def format_help(self) -> str:
        return self._sized(super().format_help)

    def format_usage(self) -> str:
        return self._sized(super().format_usage)

    def _sized(self, format_text) -> str:
        self._formatting = True
        try:
            return format_text()
        finally:
            self._formatting = False


def _outputs(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--csv", metavar="FILE", help="also write the results as CSV")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")


def _hardware(p: argparse.ArgumentParser) -> None:
    p.add_argument("--array", metavar="RxC", help="PE array rows x columns, e.g. 64x64 (required unless a "
                   "--config or --arch file gives it)")
    p.add_argument("--dataflow", metavar="DF", help="ws, os or is (default: the file's, else ws); for run, best: "
                   "each layer on the mapping with the fewest cycles (or, with --objective energy, the least energy)")
    p.add_argument("--config", metavar="CFG", help="a SCALE-Sim .cfg file: array, SRAMs, bandwidth, dataflow")
    p.add_argument("--arch", metavar="JSON", help="an hwsim systolic-array .json file")
    p.add_argument("--precision", metavar="P", help="MAC operands: int8 (default), int16, int32, fp16, bf16, fp32")
    p.add_argument("--bandwidth", type=float, metavar="B", help="DRAM bytes per cycle (default 10; over a --config "
                   "file's InterfaceBandwidth: CALC, this bandwidth applies)")
    p.add_argument("--dram-latency", type=int, metavar="CYCLES", help="cycles from a DMA read request to its first "
                   "byte (default 0)")
    p.add_argument("--clock-mhz", type=float, metavar="MHZ", help="array clock (default 1000)")
    p.add_argument("--tech", default="45nm", metavar="TECH",
                   help="technology: a bundled node (45nm default, 32nm ... 7nm) or an hwsim-tech .json table")


def _info_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("workload", help="workload .json, SCALE-Sim topology .csv, .onnx model, or a bundled name")
    _outputs(p)


def _convert_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", help="a .json workload, a SCALE-Sim .csv topology or an .onnx model")
    p.add_argument("-o", "--output", required=True, help="a .json workload or a SCALE-Sim .csv topology")
    p.add_argument("--format", choices=("conv", "gemm"), default="conv",
                   help="SCALE-Sim CSV format when writing .csv (default: conv)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")


def _run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("workload", help="workload .json, SCALE-Sim topology .csv, .onnx model, or a bundled name")
    _hardware(p)
    p.add_argument("--compat", metavar="MODE", help="'scalesim': SCALE-Sim 3.0.0's conventions, its DRAM side "
                   "included (without --config or --bandwidth: its stock InterfaceBandwidth CALC)")
    p.add_argument("--objective", metavar="OBJ", help="with --dataflow best: what each layer's mapping minimises, "
                   "cycles (default) or energy")
    p.add_argument("--pack-groups", action="store_true",
                   help="run several groups of grouped/depthwise layers per fold (block-diagonal packing)")
    p.add_argument("--plot", metavar="PNG", help="also draw a plot: the network's roofline; with --sat, speed-up "
                   "over dense and energy per pass")
    p.add_argument("--batch", type=int, metavar="B", help="samples per step (default: the workload's)")
    p.add_argument("--sat", action="store_true", help="run on SAT, the N:M sparse training accelerator")
    p.add_argument("--sparsity", metavar="N:M", help="with --sat: N:M sparse weights, e.g. 2:8; several, "
                   "comma-separated (2:4,1:4,2:8), compare them")
    p.add_argument("--train", action="store_true", help="with --sat: a whole training step (FF, BP, WU)")
    p.add_argument("--scheme", default="bdwp", choices=("bdwp", "forward", "dense"),
                   help="with --sat --train: which passes are sparse (bdwp: FF and BP; forward: FF only)")
    _outputs(p)


def _area_arguments(p: argparse.ArgumentParser) -> None:
    _hardware(p)
    _outputs(p)


def _explore_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", help="an hwsim-explore .json file (see examples/explore/)")
    p.add_argument("--method", choices=("auto", "exhaustive", "evolutionary", "reinforce"),
                   help="search method (default: the file's, else auto: exhaustive when the space is small enough)")
    p.add_argument("--seed", type=int, metavar="S", help="seed of the evolutionary and REINFORCE searches")
    p.add_argument("--no-baselines", action="store_true", help="skip the homogeneous and successive baselines")
    p.add_argument("--plot", metavar="PNG", help="also draw every design's energy against latency, the Pareto "
                   "front and the specs")
    p.add_argument("--gantt", metavar="PNG", help="also draw the schedule of the best design that meets the specs")
    _outputs(p)


def _sweep_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", metavar="SWEEP_JSON", help="a sweep file (format hwsim-sweep), e.g. "
                   "examples/sweeps/systolic_small.json")
    p.add_argument("--out", metavar="CSV", help="stream one row per design x workload to this CSV as they finish "
                   "(never overwritten)")
    p.add_argument("--resume", action="store_true", help="continue --out: skip the points already in it")
    p.add_argument("--jobs", type=int, metavar="N", help="worker processes (default: one per CPU)")
    p.add_argument("--scheduler", default="local", choices=("local", "dask"),
                   help="local processes (default) or a Dask distributed cluster")
    p.add_argument("--dask-address", metavar="ADDR", help="with --scheduler dask: the scheduler to connect to "
                   "(default: start a LocalCluster)")
    p.add_argument("--dask-workers", type=int, metavar="N", help="with --scheduler dask and no --dask-address: "
                   "LocalCluster worker processes (default: one per CPU)")
    p.add_argument("--chunk-size", type=int, metavar="N", help="points per chunk of work (default: automatic, "
                   "at most 32)")
    p.add_argument("--plot", metavar="PNG", help="also draw energy against latency, coloured by area, Pareto front "
                   "ringed")
    p.add_argument("--json", metavar="FILE", help="also write the summary and Pareto fronts as JSON")
    p.add_argument("--csv", metavar="FILE", help="also write the Pareto-optimal rows as CSV")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors; no progress bar")


def _rtl_arguments(p: argparse.ArgumentParser) -> None:
    rtl = p.add_subparsers(dest="rtl_command", required=True, parser_class=_Parser)
    g = rtl.add_parser("generate", help="write the Verilog of a systolic GEMM engine and a JSON sidecar of its ports")
    g.add_argument("--array", required=True, metavar="RxC", help="PE array rows x columns, e.g. 8x8")
    g.add_argument("--dataflow", default="ws", metavar="DF", help="ws, os or is (default ws)")
    g.add_argument("-o", "--output", required=True, metavar="DIR", help="folder for the .v and .json files")
    for dim in ("m", "n", "k"):
        g.add_argument(f"--max-{dim}", type=int, default=64, metavar=dim.upper(),
                       help=f"largest GEMM {dim.upper()} the operand memories hold (default 64)")
    g.add_argument("--quiet", action="store_true", help="print nothing but errors")
    c = rtl.add_parser("compare", help="run GEMMs on the generated RTL under Verilator; compare its cycles and "
                       "products with the models")
    c.add_argument("--array", required=True, metavar="RxC", help="PE array rows x columns, e.g. 4x4")
    c.add_argument("--dataflow", default="ws", metavar="DF", help="ws, os or is (default ws)")
    c.add_argument("--gemms", type=int, default=4, metavar="G", help="how many GEMMs of different shapes (default 4)")
    c.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the random int8 operands (default 0)")
    c.add_argument("--plot", metavar="PNG", help="also draw RTL against model cycles")
    _outputs(c)


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``hwsim`` parser; given a ``command``, with only that subcommand in it.

    Every other subcommand's arguments would go unread, and declaring them all costs a noticeable part of a whole
    ``hwsim run``. What the user sees is the same: errors print no usage line, and ``hwsim --help`` (no command)
    gets every subcommand.
    """
    parser = _Parser(prog="hwsim", description="Hardware-accelerator co-design simulator.")
    parser.add_argument("--version", action="version", version=f"hwsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (summary, arguments, _) in _COMMANDS.items():
        if command in (None, name):
            arguments(sub.add_parser(name, help=summary))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser(argv[0] if argv and argv[0] in _COMMANDS else None).parse_args(argv)
    try:
        return _COMMANDS[args.command][2](args)
    except api.InputError as err:
        print(f"hwsim: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _workloads(args: argparse.Namespace) -> int:
    rows = [api.network_summary(builder()) for builder in api.ZOO.values()]
    columns = ("Network", "Layers", "MACs", "Params", "Source")
    if not args.quiet:
        print(api.format_table(rows, columns[:-1]))
    if args.json:
        api.write_json(args.json, rows)
    if args.csv:
        api.write_csv(args.csv, rows, list(rows[0]))
    return EXIT_OK


def _info(args: argparse.Namespace) -> int:
    network = api.load_workload(args.workload)
    rows = api.layer_rows(network)
    summary = api.network_summary(network)
    if not args.quiet:
        print(f"{network.name}: {summary['Source']}")
        print(f"inputs: {', '.join(f'{k} {list(v)}' for k, v in network.inputs.items())}; "
              f"batch {network.batch}; {network.datatype_bits}-bit data")
        print(api.format_table(rows, api.LAYER_COLUMNS))
    if args.json:
        api.write_json(args.json, {"network": summary, "layers": rows[:-1], "total": rows[-1]})
    if args.csv:
        api.write_csv(args.csv, rows, api.LAYER_COLUMNS)
    return EXIT_OK


def _convert(args: argparse.Namespace) -> int:
    out = Path(args.output)
    if out.suffix.lower() not in (".json", ".csv"):
        raise api.InputError("expected a .json or .csv file to write", field="--output", value=args.output)
    network = api.load_workload(args.source)
    if out.suffix.lower() == ".json":
        api.dump_network(network, out)
        message = f"wrote {out}: {len(network)} layers, {network.macs:,} MACs, {network.params:,} params"
    else:
        export = api.write_topology(network, out, fmt=args.format)
        message = f"wrote {out}: {export.rows} SCALE-Sim {args.format} rows"
        if export.left_out:
            message += (f"; left out {len(export.left_out)} memory-only layers SCALE-Sim cannot express "
                        f"({', '.join(export.left_out[:5])}{', ...' if len(export.left_out) > 5 else ''})")
    if not args.quiet:
        print(message)
    return EXIT_OK


def _arch(args: argparse.Namespace) -> SystolicArray:
    """The systolic array the arguments describe: a --config or --arch file, then the flags on top."""
    if args.config and args.arch:
        raise api.InputError("give one of --config and --arch", field="--arch", value=args.arch)
    changes = _array_flags(args)
    if args.precision is not None:
        changes.update(precision=args.precision, ifmap_bits=None, filter_bits=None, ofmap_bits=None)
    if args.bandwidth is not None:
        changes.update(dram_bandwidth_bytes_per_cycle=args.bandwidth, interface_bandwidth="USER")
    if getattr(args, "dram_latency", None) is not None:
        changes["dram_latency_cycles"] = args.dram_latency
    if args.clock_mhz is not None:
        changes["clock_mhz"] = args.clock_mhz
    if args.config or args.arch:
        arch = api.read_scalesim_cfg(args.config) if args.config else api.read_arch_json(args.arch)
        return replace(arch, **changes)
    if args.array is None:
        raise api.InputError("is required unless --config or --arch gives the array", field="--array")
    return api.SystolicArray(**changes)


def _array_flags(args: argparse.Namespace) -> dict[str, Any]:
    """``rows``, ``cols`` and ``dataflow`` from the --array and --dataflow flags that were given."""
    changes: dict[str, Any] = {}
    if args.array is not None:
        shape = api.ArrayShape.parse(args.array, field="--array")
        changes.update(rows=shape.rows, cols=shape.cols)
    if args.dataflow is not None:
        also = ("best",) if args.command == "run" else ()
        changes["dataflow"] = api.mapping(args.dataflow, field="--dataflow", also=also).dataflow
    return changes


def _describe(arch: SystolicArray, tech: str, dataflow: str | None = None) -> str:
    return (f"a {arch.rows}x{arch.cols} {dataflow or arch.dataflow.value} {arch.precision} array; "
            "SRAM ifmap/filter/ofmap "
            f"{arch.ifmap_sram_kib:g}/{arch.filter_sram_kib:g}/{arch.ofmap_sram_kib:g} KiB, "
            f"DRAM {_interface(arch)}, {arch.clock_mhz:g} MHz, {tech}")


def _interface(arch: SystolicArray) -> str:
    if arch.interface_bandwidth == "CALC":
        return "as fast as needed (InterfaceBandwidth: CALC)"
    latency = f" after {arch.dram_latency_cycles} cycles" if arch.dram_latency_cycles else ""
    return f"{arch.dram_bandwidth_bytes_per_cycle:g} B/cycle{latency}"


def _run(args: argparse.Namespace) -> int:
    network = api.load_workload(args.workload)
    if args.batch is not None:
        network = replace(network, batch=args.batch)
    if args.sat:
        return _run_sat(args, network)
    for flag in ("sparsity", "train"):
        if getattr(args, flag):
            raise api.InputError("needs --sat (sparse and training runs model the SAT accelerator)", field=f"--{flag}",
                                 value=getattr(args, flag))
    best = args.dataflow is not None and args.dataflow.lower() == "best"
    if args.objective is not None and not best:
        raise api.InputError("needs --dataflow best", field="--objective", value=args.objective)
    arch = _arch(argparse.Namespace(**{**vars(args), "dataflow": None}) if best else args)
    if args.compat and not args.config and args.bandwidth is None:
        # SCALE-Sim's stock configuration (configs/scale.cfg) sizes its interface: InterfaceBandwidth CALC
        arch = replace(arch, interface_bandwidth="CALC")
    tech = api.load_technology(args.tech)
    if best:
        report = api.simulate_best(network, arch, objective=args.objective or "cycles", compat=args.compat,
                                   pack=args.pack_groups, tech=tech)
    else:
        report = api.simulate(network, arch, compat=args.compat, pack=args.pack_groups, tech=tech)
    rows = report.rows() if (args.csv or not args.quiet) else []
    if args.json:
        api.write_json(args.json, report.to_dict())
    if args.csv:
        api.write_csv(args.csv, rows, api.REPORT_COLUMNS)
    if args.plot:
        api.plot_roofline(report, args.plot)
    if not args.quiet:
        total, s = report.total, report.summary()
        mode = f"{args.compat} compatibility" if args.compat else "native"
        print(f"{network.name} on {_describe(arch, tech.name, report.dataflow)} ({mode})")
        columns = api.REPORT_TABLE_COLUMNS
        print(api.format_table(rows, columns[:2] + ("Dataflow",) + columns[2:] if best else columns))
        print(f"{total.total_cycles:,} cycles ({total.stall_cycles:,} stalled), "
              f"{report.latency_us():,.1f} us at {arch.clock_mhz:g} MHz, "
              f"{100 * total.utilization:.2f} % PE utilisation, {total.dram_bytes:,} DRAM bytes")
        print(f"{s['Energy uJ']:,.1f} uJ ({s['pJ/MAC']:.3f} pJ/MAC, {s['TOPS/W']:.3f} TOPS/W); "
              f"area {s['Area mm2']:.3f} mm2 ({s['Peak TOPS/mm2']:.3f} peak TOPS/mm2)")
    return EXIT_OK


def _run_sat(args: argparse.Namespace, network: Network) -> int:
    sat = api.SatArray(array=_arch(args)) if (args.array or args.config or args.arch) else api.SatArray()
    scheme = api.Scheme(args.scheme) if args.sparsity else api.Scheme.DENSE
    sparsities = [api.NMSparsity.parse(text) for text in args.sparsity.split(",")] if args.sparsity else [None]
    tech = api.load_technology(args.tech)
    reports = [api.simulate_training(network, sat, scheme=scheme, sparsity=sp, tech=tech) for sp in sparsities]
    passes = list(api.Pass) if args.train else [api.Pass.FF]

    def pass_rows(report):
        return [r for r in report.rows() if args.train or r["Pass"] == api.Pass.FF.value]

    runs = [{"summary": report.summary(), "passes": pass_rows(report)} for report in reports]
    rows = [row for run in runs for row in run["passes"]]
    columns = ("Layer", "Pass", "M", "N", "K", "Sparsity", "Dataflow", "Total Cycles", "Stall Cycles",
               "Dense Cycles", "Speed-up", "Utilization %", "Energy pJ")
    if args.json:
        api.write_json(args.json, runs[0] if len(runs) == 1 else {"runs": runs})
    if args.csv:
        api.write_csv(args.csv, rows, list(rows[0]) if rows else columns)
    if args.plot:
        api.plot_sat_training(reports, args.plot, passes=[p.value for p in passes] + (["step"] if args.train else []))
    if not args.quiet:
        a = sat.array
        what = "training step" if args.train else "forward pass"
        summary = runs[0]["summary"]
        sparsity = ", ".join(run["summary"]["Sparsity"] for run in runs)
        print(f"{network.name} (batch {network.batch}) {what} on SAT: {a.rows}x{a.cols} {a.precision}, "
              f"{a.clock_mhz:g} MHz, {reports[0].tech}; {summary['Scheme']} {sparsity}")
        if len(reports) == 1:
            report = reports[0]
            print(api.format_table(rows, columns))
            stalls = report.stalls()
            print("; ".join(f"{p.value.upper()} {report.cycles(p):,} cycles ({report.speedup(p):.2f}x, "
                            f"{stalls[p.value]:,} stalled)" for p in passes))
            if args.train:
                print(f"update: {stalls['update']:,} cycles stalled on DRAM (charged to WU); "
                      f"{report.dram_bytes():,} DRAM bytes")
                print(f"step: {report.cycles():,} cycles ({report.stall_cycles():,} stalled), "
                      f"{summary['Latency ms']:.3f} ms, "
                      f"{summary['Energy mJ']:.3f} mJ; {report.speedup():.2f}x over dense training on the same "
                      "hardware")
        else:
            table = [{**run["summary"], "FF Energy uJ": report.energy_pj(api.Pass.FF) / 1e6}
                     for run, report in zip(runs, reports)]
            sweep = (("Sparsity", "FF Speed-up", "BP Speed-up", "WU Speed-up", "Speed-up", "Total Cycles",
                      "Stall Cycles", "Latency ms", "Energy mJ") if args.train else
                     ("Sparsity", "FF Cycles", "FF Stall Cycles", "FF Speed-up", "FF Energy uJ"))
            print(api.format_table(table, sweep))
            print(f"speed-ups over the dense {what} on the same hardware; per-layer rows in --json/--csv")
    return EXIT_OK


def _area(args: argparse.Namespace) -> int:
    arch = _arch(args)
    tech = api.load_technology(args.tech)
    area = api.systolic_area(arch, tech)
    rows = area.rows()
    columns = ("Component", "Area um2", "Area mm2", "Share %")
    if args.json:
        api.write_json(args.json, {"arch": arch.to_dict(), "tech": tech.name, "area": rows,
                                   "peak_tops_per_mm2": 2 * arch.pes * arch.clock_mhz / 1e6 / area.total_mm2})
    if args.csv:
        api.write_csv(args.csv, rows, columns)
    if not args.quiet:
        print(f"area of {_describe(arch, tech.name)}")
        print(api.format_table(rows, columns))
        print(f"{area.total_mm2:.3f} mm2; {2 * arch.pes * arch.clock_mhz / 1e6 / area.total_mm2:.3f} peak TOPS/mm2")
    return EXIT_OK


def _rtl(args: argparse.Namespace) -> int:
    if args.rtl_command == "compare":
        return _rtl_compare(args)
    arch = api.SystolicArray(**_array_flags(args))
    for dim in ("m", "n", "k"):
        value = getattr(args, f"max_{dim}")
        if value < 1:
            raise api.InputError("must be >= 1", field=f"--max-{dim}", value=value)
    try:
        verilog, sidecar = api.rtl_generate(arch, Path(args.output), max_m=args.max_m, max_n=args.max_n,
                                            max_k=args.max_k)
    except ValueError as err:  # the generator's own limits (memory depth, 16-bit sizes)
        raise api.InputError(str(err).splitlines()[0], field="rtl generate") from None
    if not args.quiet:
        print(f"wrote {verilog}\nwrote {sidecar}")
    return EXIT_OK


def _rtl_compare(args: argparse.Namespace) -> int:
    arch = api.SystolicArray(**_array_flags(args))
    if args.seed < 0:
        raise api.InputError("must be a whole number >= 0", field="--seed", value=args.seed)
    if args.gemms < 1:
        raise api.InputError("must be a whole number >= 1", field="--gemms", value=args.gemms)
    shapes = api.rtl_default_shapes(arch, args.gemms, seed=args.seed)
    status = _Status(enabled=api.progress_wanted(False if args.quiet else None, sys.stderr))
    try:
        with status:
            records = api.rtl_compare(arch, shapes, seed=args.seed, progress=status)
    except api.CosimError as err:
        print(f"hwsim: rtl compare failed: {err}", file=sys.stderr)
        return EXIT_FAILED
    rows = [{"GEMM": i, **r.to_dict()} for i, r in enumerate(records)]
    columns = ("GEMM", "m", "n", "k", "rtl_cycles", "stepped_cycles", "engine_cycles", "outputs_match", "agrees")
    bad = [r for r in rows if not r["agrees"]]
    if args.json:
        api.write_json(args.json, {"array": str(arch.shape), "dataflow": arch.dataflow.value, "seed": args.seed,
                                   "agree": not bad, "gemms": rows})
    if args.csv:
        api.write_csv(args.csv, rows, list(rows[0]))
    if args.plot:
        api.plot_rtl_vs_model(records, args.plot)
    if not args.quiet:
        print(f"{len(rows)} GEMMs on the generated {arch.shape} {arch.dataflow.value} engine under Verilator "
              f"(int8 operands, seed {args.seed})")
        print(api.format_table(rows, columns))
    if bad:
        which = ", ".join(_disagreement(r) for r in bad)
        print(f"hwsim: rtl compare: MISMATCH in {len(bad)} of {len(rows)} GEMMs: {which}", file=sys.stderr)
        return EXIT_FAILED
    if not args.quiet:
        print("RTL cycles equal the stepped model's and the fast engine's for every GEMM; every product equals "
              "NumPy's A @ B")
    return EXIT_OK


def _disagreement(row: dict) -> str:
    """``GEMM 1 (9x5x7: cycles RTL 77, stepped 76, engine 76; wrong product)``, for a row of ``rtl compare``."""
    if row["cycles_match"]:
        what = ["cycles agree"]
    else:
        rtl = "did not finish" if row["rtl_cycles"] is None else row["rtl_cycles"]
        what = [f"cycles RTL {rtl}, stepped {row['stepped_cycles']}, engine {row['engine_cycles']}"]
    if not row["outputs_match"]:
        what.append("wrong product")
    return f"GEMM {row['GEMM']} ({row['m']}x{row['n']}x{row['k']}: {'; '.join(what)})"


class _Status:
    """A one-line status with elapsed seconds on stderr while a step of unknown length runs (a Verilator build),
    where a progress bar (:class:`hwsim.sweep.progress.Progress`) has nothing to count. Call it with the current
    step's message; it draws nothing unless ``enabled``."""

    def __init__(self, *, enabled: bool) -> None:
        import threading

        self.enabled = enabled
        self.message = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, daemon=True) if enabled else None

    def __call__(self, message: str) -> None:
        self.message = message
        self._draw()

    def __enter__(self) -> "_Status":
        import time

        self._start = time.monotonic()
        if self._thread is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            self._draw()

    def _draw(self) -> None:
        import time

        if self.enabled and self.message:
            sys.stderr.write(f"\r\033[K{self.message} ... {time.monotonic() - self._start:.0f} s")
            sys.stderr.flush()


def _explore(args: argparse.Namespace) -> int:
    spec = api.read_explore_spec(args.spec)
    changes = {k: v for k, v in (("method", args.method), ("seed", args.seed)) if v is not None}
    if changes:
        spec = replace(spec, search=replace(spec.search, **changes))
    bar: list[api.Progress] = []

    def progress(done: int, total: int) -> None:
        if not bar:
            bar.append(api.Progress(total, enabled=api.progress_wanted(False if args.quiet else None, sys.stderr)))
        bar[0].advance(done - bar[0].done)

    result = api.explore(spec, baselines=not args.no_baselines, progress=progress)
    if bar and bar[0].enabled:
        print(file=sys.stderr)
    trials = result.search.trials
    rows = [{"Step": t.step, **t.point, "Reward": t.evaluation.reward, "Meets specs": t.evaluation.feasible,
             **t.evaluation.metrics} for t in trials]
    front = [rows[i] for i in result.front]
    comparison = result.comparison()
    checks = [] if result.best_report is None else [
        {"Spec": c.name, "Value": c.value, "Limit": c.limit, "Met": c.met, "Margin %": c.margin_pct}
        for c in spec.specs.check(result.best_report.metrics())]
    if args.json:
        api.write_json(args.json, {
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
        api.write_csv(args.csv, rows, list(dict.fromkeys(k for row in rows for k in row)))
    if args.plot:
        valid = [t.evaluation.metrics for t in trials if t.evaluation.metrics]
        index = {id(m): i for i, m in enumerate(valid)}
        highlight = {r["Approach"]: {"latency_cycles": r["Latency cycles"], "energy_nj": r["Energy nJ"]}
                     for r in comparison if "Latency cycles" in r}
        api.plot_pareto_scatter(valid, [index[id(trials[i].evaluation.metrics)] for i in result.front], spec.specs,
                                args.plot, highlight=highlight)
    if args.gantt:
        if result.best_report is None:
            raise api.InputError("no design meets the specs, so there is no schedule to draw", field="--gantt",
                                 value=args.gantt)
        api.plot_gantt(result.best_report, args.gantt)
    if not args.quiet:
        print(f"{spec.name}: {result.search.method} search (seed {result.search.seed}), "
              f"{result.search.evaluations:,} designs evaluated; accuracy: {spec.accuracy_source}")
        if result.best is None:
            print("no design meets the specs")
        else:
            print(f"best design meeting the specs: {result.best_report.design.label}; mapping "
                  + ", ".join(f"{t.name} -> sub {result.best.point[f'map.{t.name}']}" for t in spec.tasks))
            print(api.format_table(checks, ("Spec", "Value", "Limit", "Met", "Margin %")))
            print(api.format_table(result.best_report.sub_rows(), ("Sub", "Template", "PEs", "Bandwidth GB/s",
                                                                   "Busy Cycles", "Utilization %", "Busy %")))
        print(f"Pareto front (latency, energy, area): {len(front)} designs")
        columns = [c for c in ("Step", *api.EXPLORE_OBJECTIVES, "accuracy", "Meets specs")
                   if any(c in r for r in front)]
        print(api.format_table(front[:20], columns))
        print(api.format_table(comparison, ("Approach", "Meets specs", "Latency cycles", "Energy nJ", "Area um2",
                                            "Accuracy")))
    return EXIT_OK


_SWEEP_FLAGS = {"out": "--out", "resume": "--resume", "jobs": "--jobs", "scheduler": "--scheduler",
                "dask_address": "--dask-address", "dask_workers": "--dask-workers", "chunk_size": "--chunk-size"}


def _sweep(args: argparse.Namespace) -> int:
    try:
        result = api.sweep(args.spec, args.out, resume=args.resume, jobs=args.jobs, scheduler=args.scheduler,
                           dask_address=args.dask_address, dask_workers=args.dask_workers, chunk_size=args.chunk_size,
                           progress=False if args.quiet else None)
    except api.InputError as err:
        if err.file is None and err.layer is None and err.field in _SWEEP_FLAGS:  # name the flag, not the argument
            raise api.InputError(err.problem, field=_SWEEP_FLAGS[err.field], value=err.value) from None
        raise
    except KeyboardInterrupt as stop:
        print(f"hwsim: {stop if isinstance(stop, api.SweepInterrupted) else 'interrupted'}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if args.json:
        api.write_json(args.json, api.sweep_summary_document(result, source=args.spec))
    if args.csv:
        api.write_csv(args.csv, api.sweep_pareto_rows(result), result.columns + ("Energy uJ", "Area mm2"))
    if args.plot:
        result.plot_pareto(args.plot)
    if not args.quiet:
        print("\n".join(api.sweep_summary_lines(result, source=args.spec)))
    return EXIT_OK


_COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "workloads": ("list the bundled networks with their MACs and parameters", _outputs, _workloads),
    "info": ("layer table of a workload: kind, shapes, GEMM dims, MACs, params", _info_arguments, _info),
    "convert": ("convert between workload JSON, SCALE-Sim topology CSV and ONNX", _convert_arguments, _convert),
    "run": ("simulate a workload on a systolic array", _run_arguments, _run),
    "area": ("area breakdown of a systolic array, without a workload", _area_arguments, _area),
    "explore": ("NASAIC co-exploration: heterogeneous sub-accelerators (and networks) searched against latency, "
                "energy and area specs", _explore_arguments, _explore),
    "sweep": ("design points x workloads in parallel, rows streamed to a resumable CSV; Pareto fronts",
              _sweep_arguments, _sweep),
    "rtl": ("hardware generators (Amaranth) of the simulated designs", _rtl_arguments, _rtl),
}
"""Each subcommand, in ``hwsim --help`` order: its one-line help, what declares its arguments, what runs it."""
