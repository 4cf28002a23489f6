"""A finished sweep as text and documents: what ``hwsim sweep`` prints and writes with --json and --csv."""

from __future__ import annotations

from typing import Any

from hwsim.report.table import format_table
from hwsim.sweep.result import PARETO_MAXIMIZE, PARETO_OBJECTIVES, SweepResult
from hwsim.sweep.spec import ERROR_COLUMN, PARAMETERS

PARETO_COLUMNS = ("Latency us", "Energy uJ", "Area mm2", "Overall Util %")
"""The objectives as the table shows them (energy and area in readable units)."""


def varying_parameters(result: SweepResult) -> tuple[str, ...]:
    """The parameters that take more than one value in the sweep (the array at least), in canonical order."""
    names = tuple(p for p in ("array",) + PARAMETERS[3:]
                  if p in result.columns and len({r.get(p) for r in result.rows}) > 1)
    return names or ("array",)


def pareto_table_rows(result: SweepResult) -> list[dict[str, Any]]:
    """The Pareto-optimal rows of every workload with the objectives in table units added."""
    return [{**r, "Energy uJ": r["Energy pJ"] / 1e6, "Area mm2": r["Area um2"] / 1e6} for r in result.pareto()]


def summary_lines(result: SweepResult, *, source: str) -> list[str]:
    """What the sweep was, what was computed, what errored; then each workload's Pareto front as a table."""
    rows = len(result.rows)
    workloads = result.workloads
    points = rows // len(workloads) if workloads else 0
    plural = "s" if len(workloads) != 1 else ""
    lines = [f"sweep {result.name!r} ({source}): {points} design points x {len(workloads)} workload{plural} = "
             f"{rows} rows"
             + (f" ({result.duplicates} duplicate points evaluated once)" if result.duplicates else "")]
    done = f"computed {result.computed} rows in {result.seconds:.1f} s ({result.runner})"
    if result.path is not None:
        done += f"; {result.reused} were already in {result.path}" if result.reused else f"; streamed to {result.path}"
    if result.foreign:
        done += f"; {result.foreign} rows of that file are not this sweep's points (kept)"
    lines.append(done)
    errors = result.errors
    if errors:
        lines.append(f"{len(errors)} of {rows} rows errored (a layer cannot run on that design; the Error column says "
                     f"why), e.g. {errors[0]['id']}: {errors[0][ERROR_COLUMN]}")
    else:
        lines.append(f"0 of {rows} rows errored")
    shown = ("id",) + varying_parameters(result) + PARETO_COLUMNS
    table = pareto_table_rows(result)
    for workload in workloads:
        front = [r for r in table if r["workload"] == workload]
        valid = sum(1 for r in result.rows if r["workload"] == workload and not r.get(ERROR_COLUMN))
        lines.append("")
        lines.append(f"{workload}: Pareto front of {len(front)} of {valid} designs (latency, energy, area minimised; "
                     "utilisation maximised)")
        if front:
            lines.append(format_table(front, shown))
    return lines


def summary_document(result: SweepResult, *, source: str) -> dict[str, Any]:
    """The --json document: counts, the objectives, and each workload's Pareto-optimal rows (every column)."""
    table = pareto_table_rows(result)
    return {
        "sweep": result.name, "file": source, "out": str(result.path) if result.path else None,
        "rows": len(result.rows), "computed": result.computed, "reused": result.reused,
        "errors": len(result.errors),
        "objectives": {o: "max" if m else "min" for o, m in zip(PARETO_OBJECTIVES, PARETO_MAXIMIZE)},
        "pareto": {w: [r for r in table if r["workload"] == w] for w in result.workloads},
    }
