"""Plots drawn from report data (matplotlib, no screen needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hwsim.report.systolic import Report

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from hwsim.report.training import TrainingReport


def roofline(report: Report, path: str | Path) -> None:
    """Each compute layer at its operational intensity (MACs per DRAM byte) and achieved MACs per cycle,
    under the array's roof: ``min(PEs, bandwidth x intensity)``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    arch = report.arch
    points = [(r.macs / r.dram_bytes, r.macs / r.total_cycles, r.bound, r.layer)
              for r in report.layers if r.macs and r.dram_bytes and r.total_cycles]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    lo = min([p[0] for p in points] + [0.1]) / 2
    hi = max([p[0] for p in points] + [10.0]) * 2
    x = np.geomspace(lo, hi, 200)
    ax.plot(x, np.minimum(arch.pes, arch.dram_bandwidth_bytes_per_cycle * x), color="black", lw=1.5,
            label=f"roof: {arch.pes} PEs, {arch.dram_bandwidth_bytes_per_cycle:g} B/cycle")
    for bound, colour in (("compute", "tab:blue"), ("memory", "tab:red")):
        sel = [p for p in points if p[2] == bound]
        if sel:
            ax.scatter([p[0] for p in sel], [p[1] for p in sel], s=14, color=colour, label=f"{bound}-bound layers")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("operational intensity (MACs per DRAM byte)")
    ax.set_ylabel("achieved MACs per cycle")
    ax.set_title(f"{report.network} on {arch.rows}x{arch.cols} {arch.dataflow.value}")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


#: Passes of a SAT training step a plot can show, in order; ``step`` is the whole step.
TRAINING_PASSES = ("ff", "bp", "wu", "step")


def sat_training(reports: Sequence[TrainingReport], path: str | Path | None = None, *,
                 passes: Sequence[str] = TRAINING_PASSES) -> Figure:
    """Speed-up over dense training and energy per pass of one network under one or several N:M sparsities.

    Parameters
    ----------
    reports
        :class:`~hwsim.sim.training.TrainingReport` of one network, e.g. one per sparsity; the dense step is each
        report's baseline (``report.dense``), or the report itself when its scheme is dense.
    path
        If given, the figure is also saved there (PNG by the file's suffix).
    passes
        Which of ``ff``, ``bp``, ``wu`` and ``step`` (the whole step) to show.

    Returns
    -------
    matplotlib.figure.Figure
        Left: speed-up over dense training per pass, one bar per report. Right: energy per pass in uJ, dense and
        one bar per report.
    """
    import numpy as np

    from hwsim.workload.training import Pass

    if not reports:
        raise ValueError("no training reports to plot")
    networks = {r.network for r in reports}
    if len(networks) != 1:
        raise ValueError(f"reports of one network expected, got {sorted(networks)}")
    unknown = [p for p in passes if p not in TRAINING_PASSES]
    if unknown or not passes:
        raise ValueError(f"passes must be some of {TRAINING_PASSES}, got {list(passes)}")

    def which(p: str) -> Pass | None:
        return None if p == "step" else Pass(p)

    labels = [f"{r.sparsity or 'dense'}" + ("" if r.scheme.value in ("bdwp", "dense") else f" {r.scheme.value}")
              for r in reports]
    colours = [f"C{i}" for i in range(len(reports))]
    fig = _figure(figsize=(11, 4.2))
    speed, energy = fig.subplots(1, 2)
    x = np.arange(len(passes))
    width = 0.8 / len(reports)
    for i, (report, label) in enumerate(zip(reports, labels)):
        values = [report.speedup(which(p)) for p in passes]
        bars = speed.bar(x + (i - (len(reports) - 1) / 2) * width, values, width, label=label, color=colours[i])
        speed.bar_label(bars, fmt="%.2f", fontsize=7, rotation=90, padding=2)
    speed.axhline(1.0, color="black", lw=0.8)
    speed.margins(y=0.15)
    speed.set_xticks(x, [p.upper() if p != "step" else "step" for p in passes])
    speed.set_xlabel("pass of the training step")
    speed.set_ylabel("speed-up over dense (x)")
    speed.legend(fontsize=8, title="N:M", title_fontsize=8)

    # The dense step is drawn once, from the first report's baseline (every report of a sweep carries the same).
    series = list(zip(labels, reports, colours))
    if reports[0].dense is not None and all(r.scheme.value != "dense" for r in reports):
        series.insert(0, ("dense", reports[0].dense, "grey"))
    width = 0.8 / len(series)
    for i, (label, report, colour) in enumerate(series):
        values = [report.energy_pj(which(p)) / 1e6 for p in passes]
        energy.bar(x + (i - (len(series) - 1) / 2) * width, values, width, label=label, color=colour)
    energy.set_xticks(x, [p.upper() if p != "step" else "step" for p in passes])
    energy.set_xlabel("pass of the training step")
    energy.set_ylabel("energy per pass (uJ)")
    energy.legend(fontsize=8)
    sat = reports[0].sat.array
    fig.suptitle(f"{reports[0].network} on SAT ({sat.rows}x{sat.cols} {sat.precision}, {reports[0].tech})")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def rtl_vs_model(records: Sequence[Any], path: str | Path | None = None) -> Figure:
    """Cycles of each co-simulated GEMM: measured on the RTL, and predicted by the stepped model and the fast engine.

    Parameters
    ----------
    records
        Co-simulation results (``rtl.cosim.GemmRecord`` or their ``to_dict()`` rows): ``m``, ``n``, ``k``,
        ``rows``, ``cols``, ``dataflow``, ``rtl_cycles`` (None if the RTL did not finish), ``stepped_cycles``,
        ``engine_cycles``, ``outputs_match``.
    path
        If given, the figure is also saved there.

    Returns
    -------
    matplotlib.figure.Figure
        Three bars per GEMM (RTL on Verilator, stepped model, fast engine), labelled ``dataflow MxNxK``; a GEMM
        whose three counts differ, or whose product was wrong, has its label in red and marked ``!``. A log
        scale is used when the counts span more than 30x.
    """
    import numpy as np

    rows = [r if isinstance(r, Mapping) else r.to_dict() for r in records]
    if not rows:
        raise ValueError("no co-simulation records to plot")
    fig = _figure(figsize=(max(6.0, 0.55 * len(rows) + 2), 4.5))
    ax = fig.subplots()
    x = np.arange(len(rows))
    series = (("rtl_cycles", "RTL on Verilator", "tab:blue"), ("stepped_cycles", "stepped model", "tab:orange"),
              ("engine_cycles", "fast engine", "tab:green"))
    for i, (key, label, colour) in enumerate(series):
        values = [np.nan if r[key] is None else r[key] for r in rows]
        ax.bar(x + (i - 1) * 0.27, values, 0.27, label=label, color=colour)
    labels, bad = [], []
    for r in rows:
        ok = r["rtl_cycles"] == r["stepped_cycles"] == r["engine_cycles"] and r["outputs_match"]
        labels.append(f"{r['dataflow']}\n{r['m']}x{r['n']}x{r['k']}" + ("" if ok else " !"))
        bad.append(not ok)
    ax.set_xticks(x, labels, fontsize=7)
    for tick, wrong in zip(ax.get_xticklabels(), bad):
        if wrong:
            tick.set_color("red")
    values = [r[key] for r in rows for key, _, _ in series if r[key]]
    if values and max(values) > 30 * min(values):
        ax.set_yscale("log")
    ax.set_xlabel("GEMM (dataflow, M x N x K)")
    ax.set_ylabel("cycles per GEMM")
    arrays = ", ".join(sorted({f"{r['rows']}x{r['cols']}" for r in rows}))
    ax.set_title(f"RTL vs model on {arrays}: {len(rows) - sum(bad)} of {len(rows)} GEMMs agree")
    ax.legend(fontsize=8)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def _figure(**kwargs: Any) -> Figure:
    """A figure that is not registered with pyplot: no global backend switch, nothing left open after saving."""
    from matplotlib.figure import Figure

    return Figure(**kwargs)
