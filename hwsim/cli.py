"""The ``hwsim`` command: argument parsing, printing and exit codes only.

Exit codes: 0 success, 1 a feature that has not landed yet, 2 bad input (one line on
stderr naming the file, layer, field and value; never a traceback).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from hwsim import __version__
from hwsim.errors import InputError
from hwsim.types import ArrayShape, Dataflow

EXIT_OK, EXIT_NOT_YET, EXIT_BAD_INPUT = 0, 1, 2


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

    p = sub.add_parser("run", help="simulate a workload on a systolic array")
    p.add_argument("workload", help="workload .json, SCALE-Sim topology .csv, .onnx model, or a bundled name")
    p.add_argument("--array", required=True, metavar="RxC", help="PE array rows x columns, e.g. 64x64")
    p.add_argument("--dataflow", default="ws", metavar="DF",
                   help=f"one of {', '.join(d.value for d in Dataflow)} (default: ws)")
    outputs(p)
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


def _run(args: argparse.Namespace) -> int:
    from hwsim.io.load import load_workload

    ArrayShape.parse(args.array, field="--array")
    Dataflow.parse(args.dataflow, field="--dataflow")
    load_workload(args.workload)
    print("hwsim: run: not yet: the systolic-array cycle model has not landed (it is the next issue); "
          "'hwsim info' shows the workload's layers, GEMM dimensions and MACs", file=sys.stderr)
    return EXIT_NOT_YET


_COMMANDS = {"workloads": _workloads, "info": _info, "convert": _convert, "run": _run}
