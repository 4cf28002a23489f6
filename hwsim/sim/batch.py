"""The fast engine over many design points at once: one network on many systolic arrays, vectorised over designs.

A sweep keeps one row of whole-network numbers per design (:data:`hwsim.report.systolic.METRICS`).
:func:`batch_counts` counts a network on thousands of designs without a Python loop over designs: designs that
share a dataflow, a precision and a partial-sum width form a :class:`DesignGroup` whose numbers (rows, columns, SRAM
sizes, bandwidth, output width, clock) are arrays, and each layer is laid (:func:`hwsim.mapping.lay`) and counted for
the whole group by the same elementwise formulas :func:`hwsim.sim.engine.simulate_layers` uses
(:func:`hwsim.sim.engine.gemm_counts`). There is one implementation of the model; this module only groups designs
and adds layers up. :func:`hwsim.report.batch.assemble` prices the totals.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Sequence

import numpy as np

from hwsim.arch.systolic import SystolicArray
from hwsim.errors import InputError
from hwsim.mapping import lay
from hwsim.sim.counts import LayerCounts
from hwsim.sim.engine import gemm_counts, ifmap_unique, memory_layer
from hwsim.sim.memory import check_fits, fits
from hwsim.types import Dataflow
from hwsim.workload.network import LayerStats, Network

_CHUNK = 1024  # designs evaluated together: bounds the working arrays (designs x 75 fold slots) to a few MB each
_SUMMED = ("macs", "compute_cycles", "stall_cycles", "ifmap_sram_reads", "filter_sram_reads", "ofmap_sram_writes",
           "ofmap_sram_reads", "ifmap_dram_read_bytes", "filter_dram_read_bytes", "ofmap_dram_write_bytes",
           "ofmap_dram_read_bytes")


@dataclass(frozen=True, eq=False)
class DesignGroup:
    """Systolic arrays that share a dataflow, a precision and a partial-sum width, their numbers as arrays (one entry
    per design).

    The attribute names are :class:`~hwsim.arch.systolic.SystolicArray`'s, so the engine, memory and cost
    formulas take a group in place of one array and evaluate every design at once.
    """

    dataflow: Dataflow
    precision: str
    ifmap_bits: int
    filter_bits: int
    psum_bits: int
    rows: np.ndarray
    cols: np.ndarray
    ofmap_bits: np.ndarray
    ifmap_sram_kib: np.ndarray
    filter_sram_kib: np.ndarray
    ofmap_sram_kib: np.ndarray
    dram_bandwidth_bytes_per_cycle: np.ndarray
    clock_mhz: np.ndarray
    dram_latency_cycles: np.ndarray
    interface_bandwidth: str

    @classmethod
    def of(cls, archs: Sequence[SystolicArray]) -> "DesignGroup":
        """The group of ``archs``, which must share dataflow, precision and partial-sum width."""
        first = archs[0]
        if any(_group_key(a) != _group_key(first) for a in archs):
            raise ValueError("a design group shares one dataflow, one precision, one partial-sum width and one interface bandwidth mode")
        column = lambda name, dtype: np.array([getattr(a, name) for a in archs], dtype=dtype)  # noqa: E731
        return cls(
            dataflow=first.dataflow, precision=first.precision, ifmap_bits=first.ifmap_bits,
            filter_bits=first.filter_bits, psum_bits=first.psum_bits, rows=column("rows", np.int64), cols=column("cols", np.int64),
            ofmap_bits=column("ofmap_bits", np.int64),
            dram_latency_cycles=column("dram_latency_cycles", np.int64),
            interface_bandwidth=first.interface_bandwidth,
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


def _group_key(arch: SystolicArray) -> tuple[Dataflow, str, int, str]:
    return arch.dataflow, arch.precision, arch.psum_bits, arch.interface_bandwidth


@dataclass(frozen=True, eq=False)
class GroupCounts:
    """A network's totals on the designs of one group that can run it.

    ``index`` are the designs' positions among all designs given, ``group`` their numbers, ``total`` their counts
    summed over layers (arrays, one entry per design).
    """

    index: np.ndarray
    group: DesignGroup
    total: LayerCounts


@dataclass(frozen=True, eq=False)
class BatchCounts:
    """A network's totals on many designs: per group of designs that ran, and per design the error that stopped it."""

    archs: tuple[SystolicArray, ...]
    groups: tuple[GroupCounts, ...]
    errors: tuple[str | None, ...]


def batch_counts(network: Network, archs: Sequence[SystolicArray]) -> BatchCounts:
    """Whole-network counts of ``network`` on every design of ``archs``, vectorised over designs.

    Each design's totals are those of the layers :func:`hwsim.sim.engine.simulate_layers` counts in its native mode
    (no ``compat``, no ``pack``, which is what sweeps use), summed. A design on which some layer cannot run gets the
    error ``simulate_layers`` would raise, in :attr:`BatchCounts.errors`, instead of counts.
    """
    archs = tuple(archs)
    for i, arch in enumerate(archs):
        if not isinstance(arch, SystolicArray):
            raise InputError("must be a SystolicArray", field=f"archs[{i}]", value=arch)
    errors: list[str | None] = [None] * len(archs)
    members: dict[tuple[Dataflow, str, int, str], list[int]] = {}
    for i, arch in enumerate(archs):
        members.setdefault(_group_key(arch), []).append(i)
    groups = []
    for chosen in members.values():
        for start in range(0, len(chosen), _CHUNK):
            index = np.array(chosen[start:start + _CHUNK])
            counted = _run_group(network, [archs[i] for i in index], index, errors)
            if counted is not None:
                groups.append(counted)
    return BatchCounts(archs=archs, groups=tuple(groups), errors=tuple(errors))


def _run_group(network: Network, archs: list[SystolicArray], index: np.ndarray,
               errors: list[str | None]) -> GroupCounts | None:
    """The totals of the designs of ``archs`` (one group) that run ``network``; ``errors`` filled for the others."""
    group = DesignGroup.of(archs)
    alive = np.arange(len(archs))  # the designs still running, as positions in ``archs``
    totals = {name: np.zeros(len(archs), np.int64) for name in _SUMMED}
    for stats in network:
        if stats.gemm is None:
            layer = memory_layer(network, stats, group)
            compute = None
        else:
            lm = lay(stats.gemm, group)
            ok = fits(lm.fold, group)
            if not np.all(ok):
                for position in alive[~ok]:
                    errors[index[position]] = _fit_error(stats, archs[position])
                group, alive = group.take(ok), alive[ok]
                totals = {name: values[ok] for name, values in totals.items()}
                if not len(alive):
                    return None
                lm = lay(stats.gemm, group)
            compute, layer = gemm_counts(lm, group, a_unique=ifmap_unique(network, stats))
        _accumulate(totals, compute, layer, stats)
    total = LayerCounts(layer="total", kind="", dataflow=group.dataflow.value, m=0, n=0, k=0, repeat=0, folds=0, prefetch_cycles=0,
                        drain_cycles=0, pes=group.pes, used_pe_folds=0.0, busy_pe_folds=0.0, **totals)
    return GroupCounts(index=index[alive], group=group, total=total)


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


def _fit_error(stats: LayerStats, arch: SystolicArray) -> str:
    """The message :func:`hwsim.sim.engine.simulate_layers` raises for ``arch`` at this layer (one design)."""
    try:
        check_fits(lay(stats.gemm, arch).fold, arch, stats.name)
    except InputError as err:
        return str(err)
    raise RuntimeError(f"layer {stats.name!r}: the batch found a fold that does not fit, one design alone does not")
