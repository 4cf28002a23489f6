"""Plots drawn from report data (matplotlib, no screen needed)."""

from __future__ import annotations

from pathlib import Path

from hwsim.report.systolic import Report


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
