"""Plots of sweep results, drawn from the result rows (matplotlib, no screen needed)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

from hwsim.sweep.result import pareto_rows
from hwsim.sweep.spec import ERROR_COLUMN


def pareto_figure(by_workload: Mapping[str, Sequence[Mapping[str, Any]]], *, path: str | Path | None = None,
                  title: str | None = None) -> Any:
    """One panel per workload: energy (uJ) against latency (us) of every design that ran, coloured by area (mm2),
    the Pareto-optimal designs (latency, energy, area, utilisation) ringed in black.

    Built on :class:`matplotlib.figure.Figure` rather than pyplot, so it neither needs nor changes a backend; a
    notebook shows the returned figure, the CLI saves it.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    names = list(by_workload)
    columns = min(len(names), 3) or 1
    lines = math.ceil(len(names) / columns) or 1
    fig = Figure(figsize=(5.2 * columns, 4.2 * lines), layout="constrained")
    axes = fig.subplots(lines, columns, squeeze=False).ravel()
    for ax in axes[len(names):]:
        ax.set_visible(False)
    for ax, name in zip(axes, names):
        rows = [r for r in by_workload[name] if not r.get(ERROR_COLUMN) and r.get("Latency us") is not None
                and r.get("Energy pJ") is not None and r.get("Area um2") is not None]
        front = pareto_rows(rows)
        if rows:
            points = ax.scatter([r["Latency us"] for r in rows], [r["Energy pJ"] / 1e6 for r in rows],
                                c=[r["Area um2"] / 1e6 for r in rows], cmap="viridis", s=18, label="designs")
            fig.colorbar(points, ax=ax, label="area (mm$^2$)")
            ax.scatter([r["Latency us"] for r in front], [r["Energy pJ"] / 1e6 for r in front], s=70,
                       facecolors="none", edgecolors="black", linewidths=1.2,
                       label="Pareto front (latency, energy, area, utilisation)")
            ax.set_xscale("log")
            ax.set_yscale("log")
            for axis in (ax.xaxis, ax.yaxis):  # 1-2-5 labels: a front often spans less than a decade
                axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
                axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
                axis.set_minor_formatter(NullFormatter())
            ax.legend(loc="best", fontsize=7)
        else:
            ax.text(0.5, 0.5, "no design ran", ha="center", va="center", transform=ax.transAxes)
        ax.set_xlabel("latency (µs)")
        ax.set_ylabel("energy per run (µJ)")
        ax.set_title(f"{name}: {len(front)} of {len(rows)} designs on the front", fontsize=9)
    if title:
        fig.suptitle(title)
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
