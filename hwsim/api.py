"""What notebooks and the ``hwsim`` command import: pure functions from descriptions to results.

Every name here is looked up on first use (PEP 562), so ``import hwsim.api`` costs almost nothing and a command
or notebook loads only what it touches: ``hwsim run`` never imports networkx, jsonschema, matplotlib, SciPy,
Amaranth or cocotb. :data:`_EXPORTS` is the whole table, in the order the data flows.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from hwsim.arch.systolic import SystolicArray
    from rtl.cosim import GemmRecord

_EXPORTS = {
    # vocabulary and errors
    "InputError": "hwsim.errors:InputError",
    "ArrayShape": "hwsim.types:ArrayShape",
    "Dataflow": "hwsim.types:Dataflow",
    "Operand": "hwsim.types:Operand",
    # workloads: layers, networks, sparsity, the bundled networks and the loaders of every workload format
    "Network": "hwsim.workload.network:Network",
    "NetworkBuilder": "hwsim.workload.builder:NetworkBuilder",
    "lower": "hwsim.workload.lowering:lower",
    "NMSparsity": "hwsim.workload.sparsity:NMSparsity",
    "Pass": "hwsim.workload.training:Pass",
    "Scheme": "hwsim.workload.training:Scheme",
    "ZOO": "hwsim.workload.zoo:ZOO",
    "bundled_network": "hwsim.workload.zoo:build",
    "load_workload": "hwsim.io.load:load_workload",
    "dump_network": "hwsim.io.workload_json:dump_network",
    "write_topology": "hwsim.io.scalesim_csv:write_topology",
    # hardware descriptions and their files
    "SystolicArray": "hwsim.arch.systolic:SystolicArray",
    "SatArray": "hwsim.arch.sat:SatArray",
    "SAT_ASSUMPTIONS": "hwsim.arch.sat:SAT_ASSUMPTIONS",
    "read_arch_json": "hwsim.io.arch_config:read_arch_json",
    "read_scalesim_cfg": "hwsim.io.arch_config:read_scalesim_cfg",
    # NASAIC hardware: templates, sub-accelerators, the heterogeneous chip and its specs
    "Template": "hwsim.arch.templates:Template",
    "SubAccelerator": "hwsim.arch.templates:SubAccelerator",
    "Heterogeneous": "hwsim.arch.heterogeneous:Heterogeneous",
    "Specs": "hwsim.arch.heterogeneous:Specs",
    "load_template": "hwsim.io.template_spec:load_template",
    # mappings: how a dataflow lays a GEMM on an array
    "MAPPINGS": "hwsim.mapping:MAPPINGS",
    "Mapping": "hwsim.mapping:Mapping",
    "LayerMapping": "hwsim.mapping:LayerMapping",
    "FoldMapping": "hwsim.mapping:FoldMapping",
    "GemmDims": "hwsim.workload.lowering:GemmDims",
    "lay": "hwsim.mapping:lay",
    "mapping": "hwsim.mapping:mapping",
    "fold_mapping": "hwsim.mapping:fold_mapping",
    "compressed_rows": "hwsim.mapping:compressed_rows",
    # cycle models: the closed form of one laid GEMM, the cycle-stepped references (dense and N:M, and memory)
    "gemm_compute": "hwsim.sim.compute:gemm_compute",
    "simulate_gemm": "hwsim.sim.stepped:simulate_gemm",
    "simulate_sparse_gemm": "hwsim.sim.sparse:simulate_sparse_gemm",
    "step_memory": "hwsim.sim.stepped_memory:step_memory",
    "SteppedResult": "hwsim.sim.stepped:SteppedResult",
    "SparseSteppedResult": "hwsim.sim.sparse:SparseSteppedResult",
    "DemandTrace": "hwsim.sim.stepped:DemandTrace",
    "BUBBLE": "hwsim.sim.stepped:BUBBLE",
    # the composed models
    "simulate": "hwsim.compose:simulate",
    "simulate_best": "hwsim.compose:simulate_best",
    "OBJECTIVES": "hwsim.report.systolic:OBJECTIVES",
    "simulate_batch": "hwsim.compose:simulate_batch",
    "BatchResult": "hwsim.report.batch:BatchResult",
    "simulate_training": "hwsim.compose:simulate_training",
    "TrainingReport": "hwsim.report.training:TrainingReport",
    "schedule": "hwsim.compose:schedule",
    "HeteroReport": "hwsim.report.hetero:HeteroReport",
    # energy and area
    "load_technology": "hwsim.io.tech:load_technology",
    "Technology": "hwsim.cost.tech:Technology",
    "systolic_area": "hwsim.cost.area:systolic_area",
    # reports, tables and plots
    "Report": "hwsim.report.systolic:Report",
    "LayerCounts": "hwsim.sim.counts:LayerCounts",
    "REPORT_COLUMNS": "hwsim.report.systolic:COLUMNS",
    "REPORT_TABLE_COLUMNS": "hwsim.report.systolic:TABLE_COLUMNS",
    "LAYER_COLUMNS": "hwsim.report.workload:LAYER_COLUMNS",
    "layer_rows": "hwsim.report.workload:layer_rows",
    "network_summary": "hwsim.report.workload:network_summary",
    "format_table": "hwsim.report.table:format_table",
    "write_csv": "hwsim.report.table:write_csv",
    "write_json": "hwsim.report.table:write_json",
    "pareto_front": "hwsim.report.pareto:pareto_front",
    "plot_roofline": "hwsim.report.plots:roofline",
    "plot_sat_training": "hwsim.report.plots:sat_training",
    "plot_rtl_vs_model": "hwsim.report.plots:rtl_vs_model",
    "plot_pareto_scatter": "hwsim.report.explore_plots:pareto_scatter",
    "plot_gantt": "hwsim.report.explore_plots:gantt",
    # design-space sweeps
    "sweep": "hwsim.sweep.run:sweep",
    "SweepSpec": "hwsim.sweep.spec:SweepSpec",
    "SweepResult": "hwsim.sweep.result:SweepResult",
    "SweepInterrupted": "hwsim.sweep.run:SweepInterrupted",
    "sweep_summary_lines": "hwsim.sweep.summary:summary_lines",
    "sweep_summary_document": "hwsim.sweep.summary:summary_document",
    "sweep_pareto_rows": "hwsim.sweep.summary:pareto_table_rows",
    "Progress": "hwsim.sweep.progress:Progress",
    "progress_wanted": "hwsim.sweep.progress:wanted",
    # NASAIC co-exploration
    "explore": "hwsim.explore.coexplore:explore",
    "search_space": "hwsim.explore.coexplore:search_space",
    "ExploreSpec": "hwsim.explore.coexplore:ExploreSpec",
    "ExploreResult": "hwsim.explore.coexplore:ExploreResult",
    "EXPLORE_OBJECTIVES": "hwsim.explore.coexplore:OBJECTIVES",
    "read_explore_spec": "hwsim.io.explore_json:read_explore_spec",
    "explore_spec_from_dict": "hwsim.io.explore_json:explore_spec_from_dict",
    "Space": "hwsim.explore.space:Space",
    "Choice": "hwsim.explore.space:Choice",
    "NetworkSpace": "hwsim.explore.netspace:NetworkSpace",
    "AccuracyTable": "hwsim.explore.accuracy:AccuracyTable",
    "callable_evaluator": "hwsim.explore.accuracy:callable_evaluator",
    "synthetic_accuracy_proxy": "hwsim.explore.accuracy:synthetic_accuracy_proxy",
    "exhaustive": "hwsim.explore.search:exhaustive",
    "evolutionary": "hwsim.explore.search:evolutionary",
    "reinforce": "hwsim.explore.search:reinforce",
    # RTL (Amaranth, cocotb and Verilator load only when one of these is used)
    "rtl_generate": "rtl.generate:generate",
    "rtl_default_shapes": "rtl.cosim:default_shapes",
    "CosimError": "rtl.cosim:CosimError",
}

__all__ = sorted([*_EXPORTS, "rtl_compare"])


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _EXPORTS[name].split(":")
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # later look-ups find it directly and skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def rtl_compare(arch: SystolicArray, shapes: Sequence[tuple[int, int, int]], *, seed: int,
                build_root: str | Path | None = None,
                progress: Callable[[str], None] | None = None) -> list[GemmRecord]:
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

    Raises
    ------
    rtl.cosim.CosimError
        The design could not be built or simulated (also ``hwsim.api.CosimError``).
    """
    from rtl.cosim import run_gemms  # Amaranth, cocotb and Verilator load only for this call

    return run_gemms(arch, shapes, seed=seed, build_root=build_root, progress=progress)
