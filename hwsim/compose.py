"""The stages composed: counts from :mod:`hwsim.sim`, prices from :mod:`hwsim.cost`, assembled by :mod:`hwsim.report`.

Each function here is what a user (through :mod:`hwsim.api`), a sweep or an exploration calls to go from
descriptions to a report. A technology may be named (``"45nm"``, a table file): it is loaded here, at the edge,
and passed down; nothing below reads a file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from hwsim.arch.systolic import SystolicArray
from hwsim.cost import Technology
from hwsim.mapping import MAPPINGS, lay
from hwsim.report import systolic as systolic_report
from hwsim.report.systolic import Report
from hwsim.sim.engine import simulate_layers
from hwsim.sim.memory import check_fits
from hwsim.workload.network import Network

if TYPE_CHECKING:
    from hwsim.arch.heterogeneous import Heterogeneous
    from hwsim.arch.sat import SatArray
    from hwsim.report.batch import BatchResult
    from hwsim.report.hetero import HeteroReport
    from hwsim.report.training import TrainingReport
    from hwsim.workload.sparsity import NMSparsity
    from hwsim.workload.training import Scheme

# The batch, training and NASAIC models are imported by the functions that run them: `hwsim run` of a systolic
# array loads none of them (start-up time, benchmarks/bench_startup.py).


def technology(tech: Technology | str | Path) -> Technology:
    """``tech`` itself, or the bundled node or ``hwsim-tech`` table it names, loaded."""
    if isinstance(tech, Technology):
        return tech
    from hwsim.io.tech import load_technology  # io sits beside compose; imported here, where a name is read

    return load_technology(tech)


def simulate(network: Network, arch: SystolicArray, *, compat: str | None = None, pack: bool = False,
             tech: Technology | str = "45nm") -> Report:
    """Cycles, utilisation, SRAM and DRAM traffic, and energy of every layer of ``network`` on ``arch``, and the
    array's area.

    Parameters
    ----------
    compat
        ``"scalesim"``: SCALE-Sim 3.0.0's conventions (:func:`hwsim.sim.engine.simulate_layers`).
    pack
        Run grouped and depthwise layers with several groups per fold (:func:`hwsim.mapping.pack_groups`).
    tech
        The technology that prices energy and area: a bundled node name, a table file or a loaded table.
    """
    layers = simulate_layers(network, arch, compat=compat, pack=pack)
    return systolic_report.assemble(network.name, arch, layers, technology(tech), compat)


def simulate_best(network: Network, arch: SystolicArray, *, objective: str = "cycles", compat: str | None = None,
                  pack: bool = False, tech: Technology | str = "45nm") -> Report:
    """Like :func:`simulate`, but each layer runs on the registered mapping best for it (``--dataflow best``).

    Every mapping of :data:`hwsim.mapping.MAPPINGS` lays every layer; per layer the one with the fewest cycles
    (``objective="cycles"``) or the least energy (``"energy"``) is kept, ties to the registry's order. A layer
    that fits no mapping's SRAMs is the error the first mapping raises for it. (SAT's offline scheduling makes the
    same choice per training GEMM.)
    """
    systolic_report.check_objective(objective)
    priced_by = technology(tech)
    candidates = {name: simulate_layers(network, replace(arch, dataflow=name), compat=compat, pack=pack,
                                        skip_unfit=True) for name in MAPPINGS}
    for stats, options in zip(network, zip(*candidates.values())):
        if all(counts is None for counts in options):
            first = replace(arch, dataflow=next(iter(MAPPINGS)))
            check_fits(lay(stats.gemm, first, pack=pack).fold, first, stats.name)
    return systolic_report.assemble_best(network.name, arch, candidates, priced_by, objective, compat)


def simulate_batch(network: Network, archs: Sequence[SystolicArray], *,
                   tech: Technology | str = "45nm") -> BatchResult:
    """Whole-network metrics of ``network`` on every design of ``archs``, vectorised over designs.

    Each design's numbers are those of ``simulate(network, arch, tech=tech).metrics()`` in the native mode (no
    ``compat``, no ``pack``, which is what sweeps use): counts equal, energies equal to floating-point rounding. A
    design on which some layer cannot run gets the error ``simulate`` would raise, in
    :attr:`~hwsim.report.batch.BatchResult.errors`, instead of numbers.
    """
    from hwsim.report import batch as batch_report
    from hwsim.sim.batch import batch_counts

    return batch_report.assemble(batch_counts(network, archs), technology(tech))


def simulate_training(network: Network, sat: SatArray | None = None, *, scheme: Scheme | str = "bdwp",
                      sparsity: NMSparsity | str | None = None, tech: Technology | str = "45nm") -> TrainingReport:
    """One training step of ``network`` (its batch) on ``sat`` under ``scheme``, with the dense step beside it."""
    from hwsim.report import training as training_report
    from hwsim.sim.training import training_counts

    counts = training_counts(network, sat, scheme=scheme, sparsity=sparsity)
    return training_report.assemble(counts, technology(tech))


def schedule(networks: Sequence[Network], design: Heterogeneous, mapping: Mapping[str, int], *,
             tech: Technology | str = "28nm", cost: str = "hwsim") -> HeteroReport:
    """Run ``networks`` together on ``design``: the schedule, latency, energy, area and use of each sub-accelerator.

    Parameters
    ----------
    mapping
        Network name -> sub-accelerator index; ``"network/layer"`` keys override single layers.
    tech
        The technology of hwsim's cost model (NASAIC's numbers are 28 nm).
    cost
        ``"hwsim"`` or ``"maestro"``: which model's energy and area the report's totals use (both are computed).
    """
    from hwsim.report import hetero as hetero_report
    from hwsim.sim.schedule import schedule_layers

    hetero_report.check_cost_model(cost)  # before the schedule runs
    return hetero_report.assemble(design, schedule_layers(networks, design, mapping), technology(tech), cost)
