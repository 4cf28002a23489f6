"""The fast engine over many design points at once: one network on many systolic arrays, vectorised over designs.

A sweep keeps one row of whole-network numbers per design (:data:`hwsim.report.systolic.METRICS`).
:func:`simulate_batch` computes those rows for thousands of designs without a Python loop over designs: designs
that share a dataflow and a precision form a :class:`DesignGroup` whose numbers (rows, columns, SRAM sizes,
bandwidth, output width, clock) are arrays, and each layer is evaluated for the whole group by the same
elementwise formulas :func:`hwsim.sim.engine.simulate` uses (:func:`hwsim.sim.engine.gemm_counts`,
:mod:`hwsim.sim.compute`, :mod:`hwsim.sim.memory`, :mod:`hwsim.cost`). There is one implementation of the model;
this module only groups designs, adds layers up and prices the totals.

Energy is linear in the counts of a layer (actions times prices, leakage times cycles), so the batch prices the
network's totals once instead of each layer: the same numbers up to floating-point rounding (about 1e-15
relative). Everything else is the same arithmetic on the same values, so counts are equal exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Sequence

import numpy as np

from hwsim.arch.systolic import SystolicArray
from hwsim.cost.area import systolic_area
from hwsim.cost.energy import layer_energy
from hwsim.cost.tech import Technology
from hwsim.io.tech import load_technology
from hwsim.errors import InputError
from hwsim.report.systolic import METRICS, LayerReport
from hwsim.sim.compute import map_gemm
from hwsim.sim.engine import gemm_counts, ifmap_unique, memory_layer
from hwsim.sim.memory import check_fits, fits
from hwsim.types import Dataflow
from hwsim.workload.network import LayerStats, Network

INT_METRICS = ("Total Cycles", "Compute Cycles", "Stall Cycles", "MACs", "SRAM Reads", "SRAM Writes", "DRAM Bytes")
"""The metrics that are counts (``int64`` arrays); the others are ``float64``."""

_CHUNK = 1024  # designs evaluated together: bounds the working arrays (designs x 75 fold slots) to a few MB each
_SUMMED = ("macs", "compute_cycles", "stall_cycles", "ifmap_sram_reads", "filter_sram_reads", "ofmap_sram_writes",
           "ofmap_sram_reads", "ifmap_dram_read_bytes", "filter_dram_read_bytes", "ofmap_dram_write_bytes",
           "ofmap_dram_read_bytes")


@dataclass(frozen=True, eq=False)
class DesignGroup:
    """Systolic arrays that share a dataflow and a precision, their numbers as arrays (one entry per design).

    The attribute names are :class:`~hwsim.arch.systolic.SystolicArray`'s, so the engine, memory and cost
    formulas take a group in place of one array and evaluate every design at once.
    """

    dataflow: Dataflow
    precision: str
    ifmap_bits: int
    filter_bits: int
    rows: np.ndarray
    cols: np.ndarray
    ofmap_bits: np.ndarray
    ifmap_sram_kib: np.ndarray
    filter_sram_kib: np.ndarray
    ofmap_sram_kib: np.ndarray
    dram_bandwidth_bytes_per_cycle: np.ndarray
    clock_mhz: np.ndarray

    @classmethod
    def of(cls, archs: Sequence[SystolicArray]) -> "DesignGroup":
        """The group of ``archs``, which must share dataflow and precision."""
        first = archs[0]
        if any((a.dataflow, a.precision) != (first.dataflow, first.precision) for a in archs):
            raise ValueError("a design group shares one dataflow and one precision")
        column = lambda name, dtype: np.array([getattr(a, name) for a in archs], dtype=dtype)  # noqa: E731
        return cls(
            dataflow=first.dataflow, precision=first.precision, ifmap_bits=first.ifmap_bits,
            filter_bits=first.filter_bits, rows=column("rows", np.int64), cols=column("cols", np.int64),
            ofmap_bits=column("ofmap_bits", np.int64),
            **{name: column(name, np.float64) for name in ("ifmap_sram_kib", "filter_sram_kib", "ofmap_sram_kib",
                                                           "dram_bandwidth_bytes_per_cycle", "clock_mhz")},
        )

    @property
    def pes(self) -> np.ndarray:
        return self.rows * self.cols

    def __len__(self) -> int:
        return len(self.rows)

    def take(self, keep: np.ndarray) -> "DesignGroup":
        """The designs where ``keep`` (a boolean mask or indices)."""
        return DesignGroup(**{f.name: getattr(self, f.name)[keep] if isinstance(getattr(self, f.name), np.ndarray)
                              else getattr(self, f.name) for f in fields(self)})


@dataclass(frozen=True, eq=False)
class BatchResult:
    """Whole-network numbers of one network on many designs.

    Attributes
    ----------
    archs
        The designs, in the order given.
    metrics
        One read-only array per :data:`~hwsim.report.systolic.METRICS` key, one entry per design: ``int64`` for
        the counts (:data:`INT_METRICS`), ``float64`` for the rest. A design that cannot run has 0 in its counts
        and NaN in its other numbers.
    errors
        Per design, ``None``, or the message :func:`hwsim.sim.engine.simulate` raises for it (a fold that does not
        fit its SRAM).
    """

    archs: tuple[SystolicArray, ...]
    metrics: dict[str, np.ndarray]
    errors: tuple[str | None, ...]

    def rows(self) -> list[dict[str, Any]]:
        """One dict per design for writers: the metrics as Python numbers (``None`` where the design cannot run)
        and ``"Error"`` (``None`` or the message)."""
        columns = {name: values.tolist() for name, values in self.metrics.items()}
        return [{**{name: None if error else columns[name][i] for name in METRICS}, "Error": error}
                for i, error in enumerate(self.errors)]


def simulate_batch(network: Network, archs: Sequence[SystolicArray], *,
                   tech: Technology | str = "45nm") -> BatchResult:
    """Whole-network metrics of ``network`` on every design of ``archs``, vectorised over designs.

    Each design's numbers are those of ``simulate(network, arch, tech=tech).metrics()``
    (:func:`hwsim.sim.engine.simulate` in its native mode: no ``compat``, no ``pack``, which is what sweeps use):
    counts equal, energies equal to floating-point rounding (module docstring). A design on which some layer
    cannot run gets the error ``simulate`` would raise, in :attr:`BatchResult.errors`, instead of numbers.

    Parameters
    ----------
    network
        The workload.
    archs
        The designs; rows, columns, dataflow, precision, SRAM sizes, bandwidth, output width and clock may all
        differ between them.
    tech
        The technology that prices energy and area: a bundled node name or a loaded table.

    Returns
    -------
    BatchResult
        The metrics as arrays, one entry per design, and the errors.
    """
    archs = tuple(archs)
    for i, arch in enumerate(archs):
        if not isinstance(arch, SystolicArray):
            raise InputError("must be a SystolicArray", field=f"archs[{i}]", value=arch)
    technology = load_technology(tech) if isinstance(tech, str) else tech
    metrics = {name: np.zeros(len(archs), np.int64 if name in INT_METRICS else np.float64) for name in METRICS}
    errors: list[str | None] = [None] * len(archs)
    groups: dict[tuple[Dataflow, str], list[int]] = {}
    for i, arch in enumerate(archs):
        groups.setdefault((arch.dataflow, arch.precision), []).append(i)
    for members in groups.values():
        for start in range(0, len(members), _CHUNK):
            index = np.array(members[start:start + _CHUNK])
            _run_group(network, [archs[i] for i in index], index, technology, metrics, errors)
    for values in metrics.values():
        values.flags.writeable = False
    return BatchResult(archs=archs, metrics=metrics, errors=tuple(errors))


def _run_group(network: Network, archs: list[SystolicArray], index: np.ndarray, technology: Technology,
               metrics: dict[str, np.ndarray], errors: list[str | None]) -> None:
    """Fill ``metrics`` and ``errors`` at ``index`` for ``archs``, which share dataflow and precision."""
    group = DesignGroup.of(archs)
    alive = np.arange(len(archs))  # the designs still running, as positions in ``archs``
    totals = {name: np.zeros(len(archs), np.int64) for name in _SUMMED}
    for stats in network:
        if stats.gemm is None:
            layer = memory_layer(network, stats, group)
            compute = None
        else:
            ok = fits(map_gemm(stats.gemm, group.rows, group.cols, group.dataflow), group)
            if not np.all(ok):
                for position in alive[~ok]:
                    errors[index[position]] = _fit_error(stats, archs[position])
                group, alive = group.take(ok), alive[ok]
                totals = {name: values[ok] for name, values in totals.items()}
                if not len(alive):
                    break
            compute, layer = gemm_counts(stats.gemm, group, a_unique=ifmap_unique(network, stats))
        _accumulate(totals, compute, layer, stats)
    failed = np.setdiff1d(np.arange(len(archs)), alive)
    for name, values in metrics.items():
        values[index[failed]] = 0 if name in INT_METRICS else np.nan
    if len(alive):
        for name, values in _metrics(totals, group, technology).items():
            metrics[name][index[alive]] = values


def _accumulate(totals: dict[str, np.ndarray], compute, memory, stats: LayerStats) -> None:
    """Add one layer's counts (arrays over the group, or numbers the same for all) to ``totals``."""
    if compute is not None:
        totals["macs"] += stats.gemm.macs
        totals["compute_cycles"] += compute.cycles
        totals["ifmap_sram_reads"] += compute.ifmap_reads
        totals["filter_sram_reads"] += compute.filter_reads
        totals["ofmap_sram_writes"] += compute.ofmap_writes
        totals["ofmap_sram_reads"] += compute.ofmap_reads
    for name in ("stall_cycles", "ifmap_dram_read_bytes", "filter_dram_read_bytes", "ofmap_dram_write_bytes",
                 "ofmap_dram_read_bytes"):
        totals[name] += getattr(memory, name)


def _metrics(totals: dict[str, np.ndarray], group: DesignGroup, technology: Technology) -> dict[str, np.ndarray]:
    """:meth:`hwsim.report.systolic.Report.metrics` of the network totals, for every design of ``group``."""
    total = LayerReport(layer="total", kind="", m=0, n=0, k=0, repeat=0, folds=0, prefetch_cycles=0,
                        drain_cycles=0, pes=group.pes, used_pe_folds=0.0, busy_pe_folds=0.0, **totals)
    area = systolic_area(group, technology)
    energy = layer_energy(total, group, technology, area)
    cycles = total.total_cycles
    with np.errstate(divide="ignore", invalid="ignore"):
        utilization = np.where(cycles > 0, total.macs / (cycles * group.pes), 0.0)
    return {
        "Total Cycles": cycles, "Compute Cycles": total.compute_cycles, "Stall Cycles": total.stall_cycles,
        "Latency us": cycles / group.clock_mhz, "MACs": total.macs, "Overall Util %": 100 * utilization,
        "SRAM Reads": total.ifmap_sram_reads + total.filter_sram_reads + total.ofmap_sram_reads,
        "SRAM Writes": total.ofmap_sram_writes, "DRAM Bytes": total.dram_bytes,
        "Energy pJ": energy.total_pj, "Energy MAC pJ": energy.mac_pj, "Energy RF pJ": energy.register_pj,
        "Energy NoC pJ": energy.noc_pj,
        "Energy SRAM pJ": energy.sram_ifmap_pj + energy.sram_filter_pj + energy.sram_ofmap_pj,
        "Energy DRAM pJ": energy.dram_pj, "Energy Leakage pJ": energy.leakage_pj, "Area um2": area.total_um2,
    }


def _fit_error(stats: LayerStats, arch: SystolicArray) -> str:
    """The message :func:`hwsim.sim.engine.simulate` raises for ``arch`` at this layer (one design)."""
    try:
        check_fits(map_gemm(stats.gemm, arch.rows, arch.cols, arch.dataflow), arch, stats.name)
    except InputError as err:
        return str(err)
    raise RuntimeError(f"layer {stats.name!r}: the batch found a fold that does not fit, one design alone does not")
