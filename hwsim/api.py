"""What notebooks import: pure functions from descriptions to results."""

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hwsim.arch.sat import SAT_ASSUMPTIONS, SatArray
from hwsim.arch.systolic import SystolicArray
from hwsim.io.load import load_workload
from hwsim.report.pareto import pareto_front
from hwsim.report.plots import rtl_vs_model as plot_rtl_vs_model, sat_training as plot_sat_training
from hwsim.report.systolic import LayerReport, Report
from hwsim.report.workload import layer_rows, network_summary
from hwsim.sim.batch import BatchResult, simulate_batch
from hwsim.sim.engine import simulate
from hwsim.sim.training import TrainingReport, simulate_training
from hwsim.sweep import SweepInterrupted, SweepResult, SweepSpec, sweep
from hwsim.workload import Network, NetworkBuilder, lower
from hwsim.workload.training import Pass
from hwsim.workload.zoo import ZOO, build as bundled_network

# ---- for rtl/ only: the cycle models and sizes the RTL benches and co-simulation judge the hardware against ------
from hwsim.sim.compute import gemm_compute
from hwsim.sim.sparse import compressed_rows, simulate_sparse_gemm
from hwsim.sim.stepped import simulate_gemm
from hwsim.workload.lowering import GemmDims
# ---- end of the rtl/ block ---------------------------------------------------------------------------------------

if TYPE_CHECKING:
    from rtl.cosim import GemmRecord

__all__ = ["SAT_ASSUMPTIONS", "ZOO", "LayerReport", "Network", "NetworkBuilder", "Report", "SatArray", "SystolicArray",
           "TrainingReport", "bundled_network", "layer_rows", "load_workload", "lower", "network_summary", "simulate",
           "simulate_training", "Pass", "plot_rtl_vs_model", "plot_sat_training", "rtl_compare",
           "SweepInterrupted", "SweepResult", "SweepSpec", "pareto_front", "sweep", "BatchResult", "simulate_batch",
           # for rtl/ only (see the block above)
           "GemmDims", "compressed_rows", "gemm_compute", "simulate_gemm", "simulate_sparse_gemm"]


def rtl_compare(arch: SystolicArray, shapes: "Sequence[tuple[int, int, int]]", *, seed: int,
                build_root: "str | Path | None" = None,
                progress: "Callable[[str], None] | None" = None) -> "list[GemmRecord]":
    """Run GEMMs on ``arch``'s generated RTL under Verilator and on both cycle models (:func:`rtl.cosim.run_gemms`).

    Parameters
    ----------
    arch
        The array: rows, cols, dataflow (ws, os, is); int8.
    shapes
        GEMM shapes ``(M, N, K)``, run back to back in this order.
    seed
        Seed of the random int8 operands, >= 0.
    build_root
        Folder holding ``build/rtl/`` (the Verilator build, reused when unchanged); default: the hwsim source
        checkout when hwsim runs from one, else the project folder at or above the current directory.
    progress
        Called with a short message as each stage (generate, build, simulate) starts.

    Returns
    -------
    list of rtl.cosim.GemmRecord
        Per shape: ``rtl_cycles``, ``stepped_cycles``, ``engine_cycles``, ``outputs_match`` (the RTL's product equals
        NumPy's ``A @ B``) and ``agrees``.
    """
    from rtl.cosim import run_gemms  # Amaranth, cocotb and Verilator load only for this call

    return run_gemms(arch, shapes, seed=seed, build_root=build_root, progress=progress)
