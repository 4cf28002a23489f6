"""Plots of heterogeneous runs and explorations: the schedule as a Gantt chart, the Pareto front against specs."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from matplotlib.figure import Figure

from hwsim.arch.heterogeneous import Specs
from hwsim.report.hetero import HeteroReport


def gantt(report: HeteroReport, path: str | Path | None = None) -> Figure:
    """One row per sub-accelerator, one bar per layer from its start to its end cycle, coloured by network."""
    fig = Figure(figsize=(9, 1.2 + 0.7 * len(report.subs)))
    ax = fig.subplots()
    colours = {name: f"C{i}" for i, name in enumerate(report.networks)}
    for layer in report.layers:
        if layer.cycles:
            ax.broken_barh([(layer.start, layer.cycles)], (layer.sub - 0.35, 0.7), facecolors=colours[layer.network],
                           edgecolors="white", linewidth=0.3)
    ax.set_yticks(range(len(report.subs)), [f"{s.index}: {s.label}" for s in report.subs])
    ax.set_xlabel("time (cycles)")
    ax.set_ylabel("sub-accelerator")
    ax.set_xlim(0, max(report.latency_cycles, 1))
    ax.set_title(f"{' + '.join(report.networks)}: makespan {report.latency_cycles:,} cycles")
    for name, colour in colours.items():
        ax.bar(0, 0, color=colour, label=name)
    ax.legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def pareto_scatter(points: Sequence[dict[str, Any]], front: Sequence[int], specs: Specs | None = None,
                   path: str | Path | None = None, *, highlight: dict[str, dict[str, Any]] | None = None) -> Figure:
    """Energy against latency of every evaluated design (colour: area), the Pareto front joined by a line, the
    specs as dashed lines, and named designs (``highlight``: label -> metrics) marked."""
    fig = Figure(figsize=(7.5, 5))
    ax = fig.subplots()
    lat = [p["latency_cycles"] for p in points]
    energy = [p["energy_nj"] / 1e3 for p in points]
    area = [p["area_um2"] / 1e6 for p in points]
    sc = ax.scatter(lat, energy, c=area, s=14, cmap="viridis", alpha=0.7)
    fig.colorbar(sc, ax=ax, label="area (mm²)")
    on_front = sorted((lat[i], energy[i]) for i in front)
    if on_front:
        ax.plot(*zip(*on_front), "k.-", lw=1, label="Pareto front (latency, energy, area)")
    if specs is not None:
        if specs.latency_cycles is not None:
            ax.axvline(specs.latency_cycles, ls="--", c="red", lw=1, label="latency spec")
        if specs.energy_nj is not None:
            ax.axhline(specs.energy_nj / 1e3, ls="--", c="orange", lw=1, label="energy spec")
    for i, (label, m) in enumerate((highlight or {}).items()):
        ax.plot(m["latency_cycles"], m["energy_nj"] / 1e3, marker="**Dsv^"[i % 6], ms=11, ls="none", label=label,
                mec="black")
    ax.set_xlabel("latency (cycles)")
    ax.set_ylabel("energy (µJ)")
    ax.legend(fontsize="small")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
